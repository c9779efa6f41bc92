// PostgreSQL for tests: a server at PG_ADMIN_URL (trust auth, superuser
// postgres) and one throwaway database per test file. Without a server the
// PostgreSQL suites skip with a loud notice, except under CI or with
// TRAILSEAL_REQUIRE_PG=1, where a missing server fails the run.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Override with TRAILSEAL_TEST_PG_URL (a superuser connection: the tests create databases). */
export const PG_ADMIN_URL = process.env['TRAILSEAL_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/** True when PG_ADMIN_URL accepts a connection within 2 s. */
export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable TRAILSEAL_TEST_PG_URL)';
  }
}

function pgRequired(): boolean {
  const ci = process.env['CI'];
  return (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') || process.env['TRAILSEAL_REQUIRE_PG'] === '1';
}

/**
 * For the top of a test file (top-level await): true when PostgreSQL is
 * reachable. When it is not, throws under CI or TRAILSEAL_REQUIRE_PG=1, and
 * otherwise warns loudly and returns false (use describe.skipIf(!ok)).
 */
export async function requirePg(suite: string): Promise<boolean> {
  if (await pgAvailable()) return true;
  const where = redacted(PG_ADMIN_URL);
  if (pgRequired()) {
    throw new Error(`PostgreSQL not reachable at ${where}: ${suite} cannot run, and CI or TRAILSEAL_REQUIRE_PG=1 requires it`);
  }
  console.warn(
    `\n${'!'.repeat(78)}\n!! PostgreSQL not reachable at ${where}: skipping ${suite}.\n!! Start one (trust auth, user postgres, database test) or set TRAILSEAL_TEST_PG_URL;\n!! set TRAILSEAL_REQUIRE_PG=1 to fail instead.\n${'!'.repeat(78)}\n`,
  );
  return false;
}

export interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  /** Terminates every connection to it, then drops it. */
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2_000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Creates an empty database trailseal_t_<random> on the test server. */
export async function freshDatabase(): Promise<FreshDatabase> {
  const name = `trailseal_t_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: u.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin(async (c) => {
        // A pool may reconnect between the two statements: try a few times.
        for (let attempt = 1; ; attempt++) {
          await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            return;
          } catch (e) {
            // 55006: object_in_use.
            if (attempt >= 5 || (e as { code?: unknown }).code !== '55006') throw e;
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      });
    },
  };
}
