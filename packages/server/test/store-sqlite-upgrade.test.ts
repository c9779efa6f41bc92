// A SQLite database written by schema version 1 (test/fixtures/schema-v1,
// made by `trailseal serve` at commit d87a2e7, see its README) opened by this
// build: the node hashes move from the `nodes` table into the records' rows,
// every one of them is still served, the log continues, and its old
// checkpoint is consistent with the new ones. An upgrade that cannot finish
// leaves the database as it was.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { CompactRange, isTrailsealError, leafHash, openCheckpoint, parseVerifierKey, toHex, utf8, type NodeId } from '@trailseal/format';
import { verifyCheckpointConsistency, verifyLog, verifyReceipt } from '@trailseal/verify';
import { SqliteStore } from '../src/store/sqlite.js';
import { call, startTestService } from './support/service.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/schema-v1/', import.meta.url));
const fixture = JSON.parse(readFileSync(join(FIXTURE, 'fixture.json'), 'utf8')) as {
  rootKey: string;
  tenants: Record<'acme' | 'globex', { id: string; apiKey: string; verifierKey: string }>;
  checkpoint: { acme: string };
};
const dir = mkdtempSync(join(tmpdir(), 'trailseal-upgrade-'));
let copies = 0;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A data directory holding a fresh copy of the version 1 database and the root key it was made with. */
function v1DataDir(): string {
  const d = join(dir, `data-${++copies}`);
  mkdirSync(d);
  writeFileSync(join(d, 'trailseal.db'), gunzipSync(readFileSync(join(FIXTURE, 'trailseal.db.gz'))));
  writeFileSync(join(d, 'root.key'), `${fixture.rootKey}\n`, { mode: 0o600 });
  return d;
}

interface Shape {
  version: string | undefined;
  tables: string[];
  recordColumns: string[];
}

function shapeOf(file: string): Shape {
  const db = new Database(file, { readonly: true });
  try {
    return {
      version: (db.prepare(`SELECT value FROM meta WHERE name = 'schema_version'`).pluck().get() as string | undefined) ?? undefined,
      tables: db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).pluck().all() as string[],
      recordColumns: db.prepare(`SELECT name FROM pragma_table_info('records') ORDER BY cid`).pluck().all() as string[],
    };
  } finally {
    db.close();
  }
}

describe('SQLite schema version 1 to 2', () => {
  it('the fixture is a version 1 database with a node table', () => {
    const shape = shapeOf(join(v1DataDir(), 'trailseal.db'));
    expect(shape.version).toBe('1');
    expect(shape.tables).toContain('nodes');
    expect(shape.recordColumns).toEqual(['tenant', 'seq', 'event_id', 'received_ms', 'body']);
  });

  it('moves every node hash into its record row: each old row is served as before, and each record yields its nodes', async () => {
    const file = join(v1DataDir(), 'trailseal.db');
    const old = new Database(file, { readonly: true });
    const oldNodes = old.prepare('SELECT tenant, level, idx, hash FROM nodes ORDER BY tenant, level, idx').all() as { tenant: string; level: number; idx: number; hash: Buffer }[];
    const oldRecords = old.prepare('SELECT tenant, seq, body FROM records ORDER BY tenant, seq').all() as { tenant: string; seq: number; body: string }[];
    old.close();
    expect(oldNodes.length).toBeGreaterThan(600);

    const store = new SqliteStore({ path: file });
    try {
      await store.migrate();
      expect(shapeOf(file)).toEqual({
        version: '2',
        tables: expect.not.arrayContaining(['nodes', 'records_v2']) as unknown as string[],
        recordColumns: ['tenant', 'seq', 'event_id', 'received_ms', 'nodes', 'body'],
      });
      for (const n of oldNodes) {
        expect([n.tenant, n.level, n.idx, toHex((await store.getNodes(n.tenant, [{ level: n.level, index: n.idx }]))[0]!)]).toEqual([n.tenant, n.level, n.idx, n.hash.toString('hex')]);
      }
      // The same nodes, recomputed from the record bodies (byte for byte as before), and the heads' tree edges.
      let recomputed = 0;
      for (const t of await store.listTenants()) {
        const records = await store.listRecords(t.id, { fromSeq: 0, limit: 1_000_000 });
        expect(records.map((r) => [r.seq, r.canonical])).toEqual(oldRecords.filter((r) => r.tenant === t.id).map((r) => [r.seq, r.body]));
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
        const head = (await store.getHead(t.id))!;
        expect([head.size, head.range.map(toHex)]).toEqual([records.length, range.hashes.map(toHex)]);
        recomputed += ids.length;
      }
      expect(recomputed).toBe(oldNodes.length);
    } finally {
      await store.close();
    }
    // Opening it again finds the work done.
    const again = new SqliteStore({ path: file });
    await again.migrate();
    await again.close();
    expect(shapeOf(file).version).toBe('2');
  });

  it('an upgrade that meets a missing node stops with TREE_NODE_MISSING and leaves the database as it was', () => {
    const file = join(v1DataDir(), 'trailseal.db');
    const db = new Database(file);
    db.prepare(`DELETE FROM nodes WHERE tenant = 'acme' AND level = 2 AND idx = 40`).run();
    db.close();
    const before = shapeOf(file);
    let err: unknown;
    try {
      new SqliteStore({ path: file });
    } catch (e) {
      err = e;
    }
    expect(isTrailsealError(err, 'TREE_NODE_MISSING')).toBe(true);
    expect((err as { details: unknown }).details).toEqual({ level: 2, index: 40 });
    expect(shapeOf(file)).toEqual(before);
  });

  it('a service on an upgraded data directory continues the logs: proofs verify, and the old checkpoint is consistent with a new one', async () => {
    const svc = await startTestService({ data: v1DataDir() });
    try {
      const { acme, globex } = fixture.tenants;
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
      const older = fixture.checkpoint.acme;
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
