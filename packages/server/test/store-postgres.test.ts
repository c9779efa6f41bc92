// The conformance suite on a fresh PostgreSQL database, plus what only
// PostgreSQL has: row-level security, concurrent migrations from several
// processes, and connection failures. Without a server at PG_ADMIN_URL the
// database tests skip loudly (or fail under CI / TRAILSEAL_REQUIRE_PG=1).
import pg from 'pg';
import { CompactRange, LogSealer, deriveSigningSeed, isTrailsealError } from '@trailseal/format';
import { afterAll, describe, expect, it } from 'vitest';
import { KNOWN_IDS_SQL, PostgresStore, TENANT_ROLE, appendValues } from '../src/store/postgres.js';
import type { AppendBuilder, AppendPlan, HeadRow, ReceiptRow, TenantRow } from '../src/store/types.js';
import { storeConformance } from './store-conformance.js';
import { PG_ADMIN_URL, freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { richEvent } from '../../../test-support/events.js';

const havePg = await requirePg('the PostgreSQL store tests (packages/server/test/store-postgres.test.ts)');
const db: FreshDatabase | undefined = havePg ? await freshDatabase() : undefined;
const dbs: FreshDatabase[] = db === undefined ? [] : [db];

afterAll(async () => {
  for (const d of dbs) await d.drop();
});

const connect = (url = db!.url): Promise<PostgresStore> => PostgresStore.connect({ url, poolSize: 4 });

async function rawClient(url = db!.url): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** A migrated store and a superuser client on a database of their own (at `url`), both closed after `fn`. */
async function onFreshDatabase(fn: (s: PostgresStore, c: pg.Client, url: string) => Promise<void>): Promise<void> {
  const fresh = await freshDatabase();
  dbs.push(fresh);
  const s = await connect(fresh.url);
  const c = await rawClient(fresh.url);
  try {
    await s.migrate();
    await fn(s, c, fresh.url);
  } finally {
    await c.end();
    await s.close();
  }
}

const KEY = new Uint8Array(32).fill(9);

async function tenantWithEvents(store: PostgresStore, id: string, n: number): Promise<void> {
  const row: TenantRow = { id, name: id, origin: `pg.example.test/${id}`, wrappedKey: new Uint8Array(8), keyWrapper: 'test', createdAt: '2026-01-01T00:00:00.000Z' };
  const sealer = new LogSealer({ tenant: id, origin: row.origin, tenantKey: KEY, signingSeed: deriveSigningSeed(KEY, 0) });
  const at = Date.UTC(2026, 0, 1);
  const genesis = sealer.genesis(at);
  const headOf = (): AppendPlan['head'] => {
    const st = sealer.state;
    return { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: st.macGeneration, signingGeneration: 0, lastReceivedAtMs: at };
  };
  await store.createTenant(row, { records: [{ sealed: genesis, eventId: null }], head: headOf() });
  const ids = Array.from({ length: n }, (_, i) => `${id}-e${i}`);
  await store.append(id, ids, () => ({ records: ids.map((eid, i) => ({ sealed: sealer.append({ ...richEvent(i), id: eid }, at), eventId: eid })), head: headOf() }));
  await store.putCheckpoint(id, { size: n + 1, note: sealer.checkpoint() });
}

/** One call of a builder: the head and the stored ids it was given. */
interface BuildCall {
  readonly head: HeadRow;
  readonly known: ReadonlyMap<string, ReceiptRow>;
}

/** A builder that seals rich events with these ids, less those it is told are stored, on whatever head it is given; notes every call. */
function sealing(tenant: string, ids: readonly string[], calls: BuildCall[]): AppendBuilder {
  const at = Date.UTC(2026, 0, 3);
  return (head, known) => {
    calls.push({ head, known });
    const sealer = new LogSealer({
      tenant,
      origin: `pg.example.test/${tenant}`,
      tenantKey: KEY,
      signingSeed: deriveSigningSeed(KEY, head.signingGeneration),
      state: { size: head.size, prevHash: head.prevHash, range: new CompactRange(0, head.size, head.range), macGeneration: head.macGeneration },
    });
    const records = ids.filter((id) => !known.has(id)).map((id, i) => ({ sealed: sealer.append({ ...richEvent(i), id }, at), eventId: id }));
    const st = sealer.state;
    return { records, head: { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: st.macGeneration, signingGeneration: head.signingGeneration, lastReceivedAtMs: at } };
  };
}

describe.skipIf(!havePg)('PostgreSQL store', () => {
  storeConformance('postgres', async () => {
    const store = await connect();
    return { store, close: () => store.close() };
  });

  describe('PostgreSQL specifics', () => {
    let store: PostgresStore;
    let raw: pg.Client;

    it('migrates a fresh database from several connections at once', async () => {
      const fresh = await freshDatabase();
      dbs.push(fresh);
      const stores = await Promise.all(Array.from({ length: 4 }, () => connect(fresh.url)));
      try {
        await Promise.all(stores.map((s) => s.migrate()));
        await Promise.all(stores.map((s) => s.migrate()));
        const c = await rawClient(fresh.url);
        try {
          const v = await c.query<{ value: string }>(`SELECT value FROM meta WHERE name = 'schema_version'`);
          expect(v.rows).toEqual([{ value: '2' }]);
          const t = await c.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
            `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
             WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace ORDER BY relname`,
          );
          expect(t.rows).toEqual(
            ['api_keys', 'checkpoints', 'heads', 'meta', 'records', 'sinks', 'tenants'].map((relname) => {
              const rls = ['checkpoints', 'heads', 'records'].includes(relname);
              return { relname, relrowsecurity: rls, relforcerowsecurity: rls };
            }),
          );
          const role = await c.query(`SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1`, [TENANT_ROLE]);
          expect(role.rows).toEqual([{ rolcanlogin: false, rolsuper: false, rolbypassrls: false }]);
        } finally {
          await c.end();
        }
        await tenantWithEvents(stores[0]!, 'fresh-one', 3);
        expect((await stores[3]!.getHead('fresh-one'))?.size).toBe(4);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('row-level security isolates tenants inside the database', async () => {
      store = await connect();
      raw = await rawClient();
      try {
        await store.migrate();
        await tenantWithEvents(store, 'rls-a', 5);
        await tenantWithEvents(store, 'rls-b', 2);
        const counts = async (tenant: string | undefined): Promise<Record<string, number>> => {
          await raw.query(`BEGIN; SET LOCAL ROLE ${TENANT_ROLE}`);
          try {
            if (tenant !== undefined) await raw.query(`SELECT set_config('trailseal.tenant', $1, true)`, [tenant]);
            const out: Record<string, number> = {};
            for (const t of ['records', 'heads', 'checkpoints']) {
              // Deliberately no WHERE clause: only the policy filters.
              const r = await raw.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`);
              out[t] = Number(r.rows[0]!.n);
            }
            const tenants = await raw.query<{ tenant: string }>('SELECT DISTINCT tenant FROM records');
            out['distinct'] = tenants.rowCount ?? 0;
            if (tenant !== undefined) expect(tenants.rows.every((r) => r.tenant === tenant)).toBe(true);
            return out;
          } finally {
            await raw.query('ROLLBACK');
          }
        };
        expect(await counts('rls-a')).toEqual({ records: 6, heads: 1, checkpoints: 1, distinct: 1 });
        expect(await counts('rls-b')).toEqual({ records: 3, heads: 1, checkpoints: 1, distinct: 1 });
        expect(await counts(undefined)).toEqual({ records: 0, heads: 0, checkpoints: 0, distinct: 0 });
        expect(await counts('no-such-tenant')).toEqual({ records: 0, heads: 0, checkpoints: 0, distinct: 0 });

        // Writing another tenant's rows, or rewriting any, is refused.
        const refused = async (sql: string): Promise<string | undefined> => {
          await raw.query(`BEGIN; SET LOCAL ROLE ${TENANT_ROLE}; SELECT set_config('trailseal.tenant', 'rls-a', true)`);
          try {
            await raw.query(sql);
            return undefined;
          } catch (e) {
            return (e as { code?: string }).code;
          } finally {
            await raw.query('ROLLBACK');
          }
        };
        expect(await refused(`INSERT INTO records (tenant, seq, event_id, received_ms, body) VALUES ('rls-b', 99, NULL, 0, '{}')`)).toBe('42501');
        expect(await refused(`INSERT INTO checkpoints (tenant, size, note) VALUES ('rls-b', 99, 'forged')`)).toBe('42501');
        expect(await refused(`UPDATE heads SET tenant = 'rls-b' WHERE tenant = 'rls-a'`)).toBe('42501');
        expect(await refused(`UPDATE records SET body = '{}' WHERE tenant = 'rls-a'`)).toBe('42501');
        expect(await refused(`DELETE FROM records WHERE tenant = 'rls-a'`)).toBe('42501');
        expect(await refused(`UPDATE records SET nodes = nodes WHERE tenant = 'rls-a'`)).toBe('42501');
        expect(await refused(`SELECT * FROM tenants`)).toBe('42501');
        // An update aimed at B's head from A's scope matches no row.
        await raw.query(`BEGIN; SET LOCAL ROLE ${TENANT_ROLE}; SELECT set_config('trailseal.tenant', 'rls-a', true)`);
        const upd = await raw.query(`UPDATE heads SET size = 0 WHERE tenant = 'rls-b'`);
        await raw.query('ROLLBACK');
        expect(upd.rowCount).toBe(0);

        // The scope ends with the transaction: the pooled connection is clean.
        await raw.query(`BEGIN; SET LOCAL ROLE ${TENANT_ROLE}; SELECT set_config('trailseal.tenant', 'rls-a', true); COMMIT`);
        const after = await raw.query<{ u: string; t: string | null }>(`SELECT current_user AS u, current_setting('trailseal.tenant', true) AS t`);
        expect(after.rows[0]!.u).toBe('postgres');
        expect(after.rows[0]!.t ?? '').toBe('');
        // The first wall: the connecting superuser bypasses RLS (which is why the store switches role).
        const all = await raw.query<{ n: string }>(`SELECT count(*) AS n FROM records WHERE tenant IN ('rls-a', 'rls-b')`);
        expect(Number(all.rows[0]!.n)).toBe(9);
      } finally {
        await raw.end();
        await store.close();
      }
    });

    it('a service role that is no superuser: CREATEROLE suffices for the first migration, and without it CONFIG_INVALID names the fix', async () => {
      const admin = await rawClient(PG_ADMIN_URL);
      const base = `trailseal_t_svc_${Math.random().toString(16).slice(2, 10)}`;
      const withCreateRole = `${base}_a`;
      const plain = `${base}_b`;
      const urlFor = (role: string): string => {
        const u = new URL(PG_ADMIN_URL);
        u.username = role;
        u.pathname = `/${role}`;
        return u.toString();
      };
      try {
        await admin.query(`CREATE ROLE ${withCreateRole} LOGIN CREATEROLE`);
        await admin.query(`CREATE ROLE ${plain} LOGIN`);
        await admin.query(`CREATE DATABASE ${withCreateRole} OWNER ${withCreateRole}`);
        await admin.query(`CREATE DATABASE ${plain} OWNER ${plain}`);

        const a = await connect(urlFor(withCreateRole));
        try {
          await a.migrate();
          await tenantWithEvents(a, 'svc-a', 2);
          expect((await a.getHead('svc-a'))?.size).toBe(3);
          expect((await a.listRecords('svc-a', { fromSeq: 0, limit: 10 })).length).toBe(3);
        } finally {
          await a.close();
        }

        const b = await connect(urlFor(plain));
        try {
          const err = await b.migrate().catch((e: unknown) => e);
          expect(isTrailsealError(err, 'CONFIG_INVALID')).toBe(true);
          expect((err as Error).message).toContain(TENANT_ROLE);
          // What an operator does instead: grant the role beforehand.
          await admin.query(`GRANT ${TENANT_ROLE} TO ${plain}`);
          await b.migrate();
          await tenantWithEvents(b, 'svc-b', 1);
          expect((await b.getHead('svc-b'))?.size).toBe(2);
        } finally {
          await b.close();
        }
      } finally {
        for (const role of [withCreateRole, plain]) {
          await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [role]);
          await admin.query(`DROP DATABASE IF EXISTS ${role}`);
          await admin.query(`DROP ROLE IF EXISTS ${role}`);
        }
        await admin.end();
      }
    });

    it("the store's own reads and writes pass through the policies (it does not rely on its superuser connection)", async () => {
      await onFreshDatabase(async (s, c) => {
        await tenantWithEvents(s, 'policed', 4);
        expect(await s.listRecords('policed', { fromSeq: 0, limit: 100 })).toHaveLength(5);
        // Narrow the read policy: the store sees exactly what the policy lets through.
        await c.query(`ALTER POLICY tenant_isolation ON records USING (tenant = current_setting('trailseal.tenant', true) AND seq < 2)`);
        expect((await s.listRecords('policed', { fromSeq: 0, limit: 100 })).map((r) => r.seq)).toEqual([0, 1]);
        expect(await s.getRecord('policed', 3)).toBeUndefined();
        // Tree nodes live in their records' rows: those of hidden records are hidden too.
        expect(await s.getNodes('policed', [{ level: 0, index: 1 }, { level: 1, index: 0 }])).toHaveLength(2);
        await expect(s.getNodes('policed', [{ level: 0, index: 3 }])).rejects.toMatchObject({ code: 'TREE_NODE_MISSING' });
        await expect(s.getNodes('policed', [{ level: 1, index: 1 }])).rejects.toMatchObject({ code: 'TREE_NODE_MISSING' });
        await c.query(`ALTER POLICY tenant_isolation ON heads USING (false)`);
        expect(await s.getHead('policed')).toBeUndefined();
        await expect(s.append('policed', [], (h) => ({ records: [], head: h }))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
        await c.query(`ALTER POLICY tenant_isolation ON heads USING (tenant = current_setting('trailseal.tenant', true))`);
        // Refuse every new record: an append fails and writes nothing.
        await c.query(`ALTER POLICY tenant_isolation ON records WITH CHECK (false)`);
        const head = (await s.getHead('policed'))!;
        const sealer = new LogSealer({
          tenant: 'policed',
          origin: 'pg.example.test/policed',
          tenantKey: KEY,
          signingSeed: deriveSigningSeed(KEY, 0),
          state: { size: head.size, prevHash: head.prevHash, range: new CompactRange(0, head.size, head.range), macGeneration: 0 },
        });
        const sealed = sealer.append({ ...richEvent(9), id: 'refused' }, Date.UTC(2026, 0, 2));
        const st = sealer.state;
        const err = await s
          .append('policed', ['refused'], () => ({
            records: [{ sealed, eventId: 'refused' }],
            head: { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: Date.UTC(2026, 0, 2) },
          }))
          .catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('42501');
        expect((await s.getHead('policed'))?.size).toBe(5);
      });
    });

    it('keeps looking up event ids through their index as a log grows, with autovacuum off', async () => {
      // Without planner statistics PostgreSQL scanned the whole tenant for
      // each batch's ids (ingest fell from 15,200 to 3,400 events/s in a
      // minute); the store analyzes as its tables grow (PostgresStore.#appended).
      await onFreshDatabase(async (s, c) => {
        await c.query('ALTER TABLE records SET (autovacuum_enabled = false)');
        await tenantWithEvents(s, 'grows', 12_000);
        const analyzed = async (): Promise<boolean> =>
          (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_user_tables WHERE relname = 'records' AND last_analyze IS NOT NULL`)).rows[0]!.n === 1;
        for (let i = 0; i < 100 && !(await analyzed()); i++) await new Promise((r) => setTimeout(r, 100));
        expect(await analyzed()).toBe(true);
        // The store's own lookup of a batch of 1000 ids, none of them stored.
        const ids = Array.from({ length: 1000 }, (_, i) => `grows-new${i}`);
        const plan = await c.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${KNOWN_IDS_SQL.replace('$1', `'grows'`).replace('$2::text[]', `'{${ids.join(',')}}'::text[]`)}`);
        const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
        expect(text).toMatch(/Index Scan using records_event_id on records/);
      });
    });

    it("appends build on the head the process's last append left, unread and unlocked, until another process appends; then under the lock until the head is where it left it", async () => {
      await onFreshDatabase(async (a, _c, url) => {
        const b = await connect(url);
        try {
          await tenantWithEvents(a, 'unlocked', 1);
          const append = async (s: PostgresStore, ids: string[]): Promise<{ calls: BuildCall[]; head: HeadRow }> => {
            const calls: BuildCall[] = [];
            const r = await s.append('unlocked', ids, sealing('unlocked', ids, calls));
            return { calls, head: r.head };
          };
          // The first append of A after its own: one call, on the very head object A's append left, no ids looked up.
          const r2 = await append(a, ['u-2']);
          expect(r2.calls).toHaveLength(1);
          const r3 = await append(a, ['u-3']);
          expect(r3.calls).toHaveLength(1);
          expect(r3.calls[0]!.head).toBe(r2.head);
          // B appends: A's head is stale. A's next append is refused by the
          // compare-and-set, then built again under the lock on the stored head.
          await append(b, ['u-4']);
          const r5 = await append(a, ['u-5']);
          expect(r5.calls.map((x) => x.head.size)).toEqual([4, 5]);
          expect(r5.calls[0]!.head).toBe(r3.head);
          // Another process writes this tenant: A stays under the lock (a fresh read) ...
          const r6 = await append(a, ['u-6']);
          expect(r6.calls).toHaveLength(1);
          expect(r6.calls[0]!.head).not.toBe(r5.head);
          expect(r6.calls[0]!.head).toEqual(r5.head);
          // ... until it finds the head where it left it.
          const r7 = await append(a, ['u-7']);
          expect(r7.calls).toHaveLength(1);
          expect(r7.calls[0]!.head).toBe(r6.head);
          // A re-sent id: the unlocked plan holds it again and the unique index
          // refuses it; the locked append finds it stored and writes only the new one.
          const r8 = await append(a, ['u-8', 'u-7']);
          expect(r8.calls.map((x) => [...x.known.keys()])).toEqual([[], ['u-7']]);
          expect(r8.head.size).toBe(9);
          const records = await a.listRecords('unlocked', { fromSeq: 0, limit: 100 });
          expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
          expect(records.slice(1).map((r) => (JSON.parse(r.canonical) as { id: string }).id)).toEqual(['unlocked-e0', 'u-2', 'u-3', 'u-4', 'u-5', 'u-6', 'u-7', 'u-8']);
          expect(await b.getHead('unlocked')).toEqual(r8.head);
        } finally {
          await b.close();
        }
      });
    });

    it('the append function keeps a durable commit and lends no privilege: it raises synchronous_commit only from off, and a role outside trailseal_tenant cannot write through it', async () => {
      await onFreshDatabase(async (s, c, url) => {
        await tenantWithEvents(s, 'fn', 1);
        const head = (await s.getHead('fn'))!;
        const calls: BuildCall[] = [];
        const plan = sealing('fn', ['fn-2'], calls)(head, new Map());
        const values = appendValues('fn', head, plan);
        const call = `SELECT trailseal_append_v1(${values.map((_, i) => `$${i + 1}`).join(', ')}) AS ok`;
        for (const [before, after] of [['off', 'on'], ['local', 'local'], ['remote_write', 'remote_write']]) {
          await c.query(`BEGIN; SET LOCAL synchronous_commit = ${before}`);
          try {
            const r = await c.query<{ ok: boolean }>(call, values);
            expect(r.rows[0]!.ok).toBe(true);
            const now = await c.query<{ v: string; u: string; t: string }>(`SELECT current_setting('synchronous_commit') AS v, current_user AS u, current_setting('trailseal.tenant') AS t`);
            expect(now.rows[0]).toEqual({ v: after, u: TENANT_ROLE, t: 'fn' });
          } finally {
            await c.query('ROLLBACK');
          }
        }
        // Called on a head that is not the stored one: false, nothing written.
        const stale = await c.query<{ ok: boolean }>(call, [values[0], 0, ...values.slice(2)]);
        expect(stale.rows[0]!.ok).toBe(false);
        expect(await s.getHead('fn')).toEqual(head);
        // A login role that is not a member of trailseal_tenant (a superuser
        // session may SET ROLE to anyone, whatever its current role).
        const outsider = `trailseal_t_out_${Math.random().toString(16).slice(2, 10)}`;
        await c.query(`CREATE ROLE ${outsider} LOGIN`);
        try {
          const u = new URL(url);
          u.username = outsider;
          const o = await rawClient(u.toString());
          try {
            const refused = await o.query(call, values).then(
              () => undefined,
              (e: unknown) => (e as { code?: string }).code,
            );
            expect(refused).toBe('42501');
          } finally {
            await o.end();
          }
        } finally {
          await c.query(`DROP ROLE ${outsider}`);
        }
        expect(await s.getHead('fn')).toEqual(head);
        // Called alone, it commits: the log goes on from there.
        const alone = await c.query<{ ok: boolean }>(call, values);
        expect(alone.rows[0]!.ok).toBe(true);
        expect((await s.getHead('fn'))!.size).toBe(3);
      });
    });

    it('migrate() creates the append function on a database of this schema version that lacks it, and leaves one it finds as it is', async () => {
      await onFreshDatabase(async (s, c) => {
        const version = async (): Promise<string | undefined> =>
          (await c.query<{ v: string }>(`SELECT xmin::text AS v FROM pg_proc WHERE proname = 'trailseal_append_v1'`)).rows[0]?.v;
        const first = await version();
        expect(first).toBeDefined();
        await s.migrate();
        expect(await version()).toBe(first);
        await c.query('DROP FUNCTION trailseal_append_v1');
        await s.migrate();
        expect(await version()).toBeDefined();
        await tenantWithEvents(s, 'refn', 2);
        expect((await s.getHead('refn'))!.size).toBe(3);
      });
    });

    it('bigint columns come back as numbers, and a dropped connection recovers', async () => {
      store = await connect();
      try {
        await store.migrate();
        await tenantWithEvents(store, 'bigint', 2);
        const head = (await store.getHead('bigint'))!;
        expect(typeof head.size).toBe('number');
        expect(typeof head.lastReceivedAtMs).toBe('number');
        expect(typeof (await store.seqAtTime('bigint', 0))).toBe('number');

        // The server ends every connection of the pool (restart, failover).
        const admin = await rawClient();
        try {
          await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'trailseal' AND pid <> pg_backend_pid()`);
        } finally {
          await admin.end();
        }
        await new Promise((r) => setTimeout(r, 100));
        // The next operations either succeed or say STORE_UNAVAILABLE, and the pool recovers.
        for (let i = 0; i < 3; i++) {
          try {
            await store.getHead('bigint');
          } catch (e) {
            expect(isTrailsealError(e, 'STORE_UNAVAILABLE')).toBe(true);
          }
        }
        expect((await store.getHead('bigint'))?.size).toBe(3);
        await store.ping();
      } finally {
        await store.close();
        await store.close();
      }
    });
  });
});

describe('PostgreSQL store without a server', () => {
  it('an unreachable server is STORE_UNAVAILABLE', async () => {
    const err = await PostgresStore.connect({ url: 'postgres://postgres@127.0.0.1:1/test', connectTimeoutMs: 2_000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTrailsealError(err, 'STORE_UNAVAILABLE')).toBe(true);
  });
});
