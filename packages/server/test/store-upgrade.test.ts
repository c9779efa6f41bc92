// Databases written by schema version 1 (test/fixtures/schema-v1, made by
// `trailseal serve` at commit d87a2e7, see its README), opened by this build,
// on SQLite and on PostgreSQL: the node hashes move from the `nodes` table
// into the records' rows, every one of them is still served, the logs
// continue, and the old checkpoint is consistent with a new one. An upgrade
// that cannot finish leaves the database as it was.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CompactRange, isTrailsealError, leafHash, openCheckpoint, parseVerifierKey, toHex, utf8, type NodeId } from '@trailseal/format';
import { verifyCheckpointConsistency, verifyLog, verifyReceipt } from '@trailseal/verify';
import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { Store } from '../src/store/types.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { call, startTestService } from './support/service.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/schema-v1/', import.meta.url));
interface Made {
  tenants: Record<'acme' | 'globex', { id: string; apiKey: string; verifierKey: string }>;
  checkpoint: { acme: string };
}
const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as { rootKey: string; sqlite: Made; postgres: Made };
const dir = mkdtempSync(join(tmpdir(), 'trailseal-upgrade-'));
const databases: FreshDatabase[] = [];
let copies = 0;

afterAll(async () => {
  for (const d of databases) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A data directory holding the root key the fixtures were made with (and, for SQLite, a fresh copy of the version 1 database). */
function dataDir(withSqlite: boolean): string {
  const d = join(dir, `data-${++copies}`);
  mkdirSync(d);
  if (withSqlite) writeFileSync(join(d, 'trailseal.db'), gunzipSync(readFileSync(join(FIXTURE, 'trailseal.db.gz'))));
  writeFileSync(join(d, 'root.key'), `${fixture.rootKey}\n`, { mode: 0o600 });
  return d;
}

/** A fresh PostgreSQL database restored from the version 1 dump (pg_dump --inserts). */
async function v1Postgres(): Promise<FreshDatabase> {
  const db = await freshDatabase();
  databases.push(db);
  await withClient(db.url, (c) => c.query(gunzipSync(readFileSync(join(FIXTURE, 'postgres.sql.gz'))).toString('utf8')));
  return db;
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface OldNode {
  tenant: string;
  level: number;
  idx: number;
  hash: string;
}
interface OldRecord {
  tenant: string;
  seq: number;
  body: string;
}
interface Shape {
  version: string | undefined;
  tables: string[];
  recordColumns: string[];
  /** The named indexes on records (not the primary key's). */
  recordIndexes: string[];
  /** Tables with row-level security enabled and forced (PostgreSQL). */
  forcedRls: string[];
}

/** How to look inside each kind of version 1 database, and to open it with this build. */
interface Kind {
  name: 'sqlite' | 'postgres';
  /** A fresh version 1 database: what the store opens, and its data directory. */
  fresh(): Promise<{ target: string; data: string }>;
  shape(target: string): Promise<Shape>;
  rows(target: string): Promise<{ nodes: OldNode[]; records: OldRecord[] }>;
  exec(target: string, sql: string): Promise<void>;
  /** Opens and migrates a store (the SQLite upgrade runs when the store opens, PostgreSQL's in migrate). */
  open(target: string): Promise<Store>;
  flags(target: string, data: string): Record<string, string>;
}

const NODES_SQL = 'SELECT tenant, level, idx, hash FROM nodes ORDER BY tenant, level, idx';
const RECORDS_SQL = 'SELECT tenant, seq, body FROM records ORDER BY tenant, seq';

const sqlite: Kind = {
  name: 'sqlite',
  async fresh() {
    const data = dataDir(true);
    return { target: join(data, 'trailseal.db'), data };
  },
  async shape(file) {
    const db = new Database(file, { readonly: true });
    try {
      return {
        version: db.prepare(`SELECT value FROM meta WHERE name = 'schema_version'`).pluck().get() as string | undefined,
        tables: db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[],
        recordColumns: db.prepare(`SELECT name FROM pragma_table_info('records') ORDER BY cid`).pluck().all() as string[],
        recordIndexes: db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records' AND sql IS NOT NULL ORDER BY name`).pluck().all() as string[],
        forcedRls: [],
      };
    } finally {
      db.close();
    }
  },
  async rows(file) {
    const db = new Database(file, { readonly: true });
    try {
      const nodes = (db.prepare(NODES_SQL).all() as { tenant: string; level: number; idx: number; hash: Buffer }[]).map((n) => ({ ...n, hash: n.hash.toString('hex') }));
      return { nodes, records: db.prepare(RECORDS_SQL).all() as OldRecord[] };
    } finally {
      db.close();
    }
  },
  async exec(file, sql) {
    const db = new Database(file);
    db.exec(sql);
    db.close();
  },
  async open(file) {
    const store = new SqliteStore({ path: file });
    await store.migrate();
    return store;
  },
  flags: (_file, data) => ({ data }),
};

const postgres: Kind = {
  name: 'postgres',
  async fresh() {
    return { target: (await v1Postgres()).url, data: dataDir(false) };
  },
  shape: (url) =>
    withClient(url, async (c) => ({
      version: (await c.query<{ value: string }>(`SELECT value FROM meta WHERE name = 'schema_version'`)).rows[0]?.value,
      tables: (await c.query<{ t: string }>(`SELECT relname AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace ORDER BY relname`)).rows.map((r) => r.t),
      recordColumns: (await c.query<{ c: string }>(`SELECT attname AS c FROM pg_attribute WHERE attrelid = 'records'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`)).rows.map((r) => r.c),
      recordIndexes: (await c.query<{ i: string }>(`SELECT indexname AS i FROM pg_indexes WHERE tablename = 'records' AND indexname <> 'records_pkey' ORDER BY indexname`)).rows.map((r) => r.i),
      forcedRls: (await c.query<{ t: string }>(`SELECT relname AS t FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relrowsecurity AND relforcerowsecurity ORDER BY relname`)).rows.map((r) => r.t),
    })),
  rows: (url) =>
    withClient(url, async (c) => {
      // As the owner, outside any tenant's scope: forced row-level security would hide every row.
      await c.query('ALTER TABLE records NO FORCE ROW LEVEL SECURITY; ALTER TABLE nodes NO FORCE ROW LEVEL SECURITY');
      try {
        const nodes = (await c.query<{ tenant: string; level: number; idx: string; hash: Buffer }>(NODES_SQL)).rows.map((n) => ({ tenant: n.tenant, level: n.level, idx: Number(n.idx), hash: n.hash.toString('hex') }));
        const records = (await c.query<{ tenant: string; seq: string; body: string }>(RECORDS_SQL)).rows.map((r) => ({ ...r, seq: Number(r.seq) }));
        return { nodes, records };
      } finally {
        await c.query('ALTER TABLE records FORCE ROW LEVEL SECURITY; ALTER TABLE nodes FORCE ROW LEVEL SECURITY');
      }
    }),
  exec: (url, sql) => withClient(url, async (c) => void (await c.query(sql))),
  async open(url) {
    const store = await PostgresStore.connect({ url, poolSize: 2 });
    try {
      await store.migrate();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  },
  flags: (url, data) => ({ data, store: url }),
};

const havePg = await requirePg('the PostgreSQL schema upgrade tests (packages/server/test/store-upgrade.test.ts)');

for (const kind of havePg ? [sqlite, postgres] : [sqlite]) {
  const made = fixture[kind.name];

  describe(`${kind.name}: schema version 1 to 2`, () => {
    it('the fixture is a version 1 database with a node table', async () => {
      const shape = await kind.shape((await kind.fresh()).target);
      expect(shape.version).toBe('1');
      expect(shape.tables).toContain('nodes');
      expect(shape.recordColumns).toEqual(['tenant', 'seq', 'event_id', 'received_ms', 'body']);
      expect(shape.recordIndexes).toEqual(['records_event_id', 'records_received']);
    });

    it('moves every node hash into its record row: each old row is served as before, and each record yields its nodes', async () => {
      const { target } = await kind.fresh();
      const old = await kind.rows(target);
      expect(old.nodes.length).toBe(684);
      const store = await kind.open(target);
      try {
        const shape = await kind.shape(target);
        expect(shape.version).toBe('2');
        expect(shape.tables).not.toContain('nodes');
        expect(shape.tables).not.toContain('records_v2');
        expect([...shape.recordColumns].sort()).toEqual(['body', 'event_id', 'nodes', 'received_ms', 'seq', 'tenant']);
        // The index on received_ms is dropped: seqAtTime searches the primary key.
        expect(shape.recordIndexes).toEqual(['records_event_id']);
        // The upgrade lifts forced row-level security for itself only.
        expect(shape.forcedRls).toEqual(kind.name === 'postgres' ? ['checkpoints', 'heads', 'records'] : []);
        for (const n of old.nodes) {
          expect([n.tenant, n.level, n.idx, toHex((await store.getNodes(n.tenant, [{ level: n.level, index: n.idx }]))[0]!)]).toEqual([n.tenant, n.level, n.idx, n.hash]);
        }
        // The same nodes, recomputed from the record bodies (byte for byte as before), and the heads' tree edges.
        let recomputed = 0;
        for (const t of await store.listTenants()) {
          const records = await store.listRecords(t.id, { fromSeq: 0, limit: 1_000_000 });
          expect(records.map((r) => [r.seq, r.canonical])).toEqual(old.records.filter((r) => r.tenant === t.id).map((r) => [r.seq, r.body]));
          const range = new CompactRange(0, 0, []);
          const ids: NodeId[] = [];
          const hashes: string[] = [];
          for (const r of records) {
            range.append(leafHash(utf8(r.canonical)), (id, h) => {
              ids.push(id);
              hashes.push(toHex(h));
            });
          }
          expect((await store.getNodes(t.id, ids)).map(toHex)).toEqual(hashes);
          // Time queries answer as a scan of the old rows' received_at would.
          const received = records.map((r) => Date.parse((JSON.parse(r.canonical) as { received_at: string }).received_at));
          for (const ms of new Set(received.flatMap((at) => [at - 1, at, at + 1]))) {
            const first = received.findIndex((at) => at >= ms);
            expect([ms, await store.seqAtTime(t.id, ms)]).toEqual([ms, first === -1 ? records.length : first]);
          }
          const head = (await store.getHead(t.id))!;
          expect([head.size, head.range.map(toHex)]).toEqual([records.length, range.hashes.map(toHex)]);
          recomputed += ids.length;
        }
        expect(recomputed).toBe(old.nodes.length);
      } finally {
        await store.close();
      }
      // Opening it again finds the work done.
      await (await kind.open(target)).close();
      expect((await kind.shape(target)).version).toBe('2');
    });

    it('an upgrade that meets a missing node stops with TREE_NODE_MISSING and leaves the database as it was', async () => {
      const { target } = await kind.fresh();
      await kind.exec(target, `DELETE FROM nodes WHERE tenant = 'acme' AND level = 2 AND idx = 40`);
      const before = { shape: await kind.shape(target), rows: await kind.rows(target) };
      const err = await kind.open(target).then(
        async (s) => {
          await s.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(isTrailsealError(err, 'TREE_NODE_MISSING')).toBe(true);
      expect((err as { details: unknown }).details).toEqual({ level: 2, index: 40 });
      expect({ shape: await kind.shape(target), rows: await kind.rows(target) }).toEqual(before);
    });

    it('a service on an upgraded database continues the logs: proofs verify, and the old checkpoint is consistent with a new one', async () => {
      const { target, data } = await kind.fresh();
      const svc = await startTestService(kind.flags(target, data));
      try {
        const { acme, globex } = made.tenants;
        const get = (token: string, path: string) => call(svc.url, 'GET', path, { token });
        const post = (token: string, body: unknown) => call(svc.url, 'POST', '/v1/events', { token, body: JSON.stringify(body) });
        // A re-sent id of version 1 gets its original receipt, leaf hash included.
        const again = await post(acme.apiKey, { id: 'a-5', time: '2026-11-20T00:00:05.000Z', action: 'file.download', outcome: 'success', actor: { id: 'u5', type: 'user' }, target: { type: 'file', id: 'f5' } });
        expect(again.status).toBe(201);
        const receipt = again.json<{ receipts: { seq: number; leafHash: string }[] }>().receipts[0]!;
        const stored = (await get(acme.apiKey, `/v1/events/${receipt.seq}`)).text;
        expect(JSON.parse(stored)).toMatchObject({ id: 'a-5' });
        expect(receipt.leafHash).toBe(toHex(leafHash(utf8(stored))));

        const fresh = await post(acme.apiKey, [1, 2, 3].map((i) => ({ id: `after-upgrade-${i}`, time: '2026-11-27T00:00:00Z', action: 'file.read', outcome: 'success', actor: { id: 'u', type: 'user' } })));
        expect(fresh.status).toBe(201);
        const newer = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
        const older = made.checkpoint.acme;
        const v = [parseVerifierKey(acme.verifierKey)];
        const from = openCheckpoint(older, v).size;
        const to = openCheckpoint(newer, v).size;
        expect(to).toBeGreaterThan(from + 3);
        const cons = await get(acme.apiKey, `/v1/consistency?from=${from}&to=${to}`);
        expect(verifyCheckpointConsistency(older, newer, cons.text.split('\n').filter((l) => l !== ''), { trustedKeys: [acme.verifierKey] }).ok).toBe(true);

        for (const seq of [0, 1, 2, 5, 127, 255, 302, to - 1]) {
          const line = (await get(acme.apiKey, `/v1/events/${seq}`)).text;
          const proof = (await get(acme.apiKey, `/v1/events/${seq}/proof`)).text;
          expect([seq, verifyReceipt(line, proof, { trustedKeys: [acme.verifierKey] }).ok]).toEqual([seq, true]);
        }
        for (const t of [acme, globex]) {
          // Taken first: reading the records adds records of the reads (PCI DSS 10.2.1.3).
          const cp = (await call(svc.url, 'POST', '/v1/checkpoint', { token: t.apiKey })).text;
          const lines: string[] = [];
          for (let path: string | null = '/v1/events?limit=1000'; path !== null; ) {
            const page: { records: unknown[]; next: string | null } = (await get(t.apiKey, path)).json();
            // RFC 8785 writes strings and integers as JSON.stringify does, and JSON.parse keeps member order: the stored bytes.
            for (const rec of page.records) lines.push(JSON.stringify(rec));
            path = page.next === null ? null : `/v1/events?cursor=${page.next}&limit=1000`;
          }
          const report = verifyLog(lines.slice(0, openCheckpoint(cp, [parseVerifierKey(t.verifierKey)]).size), { trustedKeys: [t.verifierKey], checkpoint: cp });
          expect([t.id, report.problems]).toEqual([t.id, []]);
        }
      } finally {
        await svc.stop();
      }
    });
  });
}
