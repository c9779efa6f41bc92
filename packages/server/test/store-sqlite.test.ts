// The conformance suite on a SQLite database in a temporary file (two
// connections to it for the concurrency test), plus the SQLite write lock.
//
// Each store writes through its own writer thread, so the suite's two stores
// do contend for the database write lock; the test below also holds it from a
// third connection to see what a writer meets when another process keeps it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LogSealer, isTrailsealError, type SealedRecord } from '@trailseal/format';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
import { SQLITE_PAGE_SIZE, rebuildWithPageSize } from '../src/store/sqlite-engine.js';
import { storeConformance } from './store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'trailseal-store-'));
const path = join(dir, 'trailseal.db');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

storeConformance('sqlite', async () => {
  const store = new SqliteStore({ path });
  return { store, close: () => store.close() };
});

/** Creates tenant `id` in `store` with its genesis record sealed at `at`; returns that record. */
async function createWithGenesis(store: SqliteStore, id: string, at: number): Promise<SealedRecord> {
  const key = new Uint8Array(32).fill(9);
  const origin = `test.example/tenants/${id}`;
  const sealer = new LogSealer({ tenant: id, origin, tenantKey: key, signingSeed: key });
  const genesis = sealer.genesis(at);
  const st = sealer.state;
  await store.createTenant(
    { id, name: id, origin, wrappedKey: new Uint8Array(61), keyWrapper: 'test', createdAt: 'now' },
    { records: [{ sealed: genesis, eventId: null }], head: { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: at } },
  );
  return genesis;
}

describe('SQLite specifics', () => {
  it('a writer that cannot get the write lock within busy_timeout gets STORE_UNAVAILABLE and writes nothing', async () => {
    const file = join(dir, 'locked.db');
    const store = new SqliteStore({ path: file, busyTimeoutMs: 50 });
    const other = new Database(file);
    try {
      await store.migrate();
      other.exec('BEGIN IMMEDIATE');
      const err = await store
        .putApiKey({ id: '0000000000000001', tenant: null, name: 'k', scopes: [], secretHash: new Uint8Array(32), createdAt: 'now', expiresAt: null, revokedAt: null })
        .catch((e: unknown) => e);
      expect(isTrailsealError(err, 'STORE_UNAVAILABLE')).toBe(true);
      // A tenant created before the lock was taken: its append is built, then refused at the lock.
      other.exec('ROLLBACK');
      const key = new Uint8Array(32).fill(7);
      const sealer = new LogSealer({ tenant: 'locked', origin: 'test.example/tenants/locked', tenantKey: key, signingSeed: key });
      const genesis = sealer.genesis(Date.UTC(2026, 10, 26));
      const st = sealer.state;
      const head = { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: Date.UTC(2026, 10, 26) };
      await store.createTenant({ id: 'locked', name: 'locked', origin: 'test.example/tenants/locked', wrappedKey: new Uint8Array(61), keyWrapper: 'test', createdAt: 'now' }, { records: [{ sealed: genesis, eventId: null }], head });
      other.exec('BEGIN IMMEDIATE');
      const ev = { id: 'e-1', time: '2026-11-26T00:00:00Z', action: 'file.read', outcome: 'success' as const, actor: { id: 'u', type: 'user' as const } };
      const appendErr = await store
        .append('locked', ['e-1'], (h) => {
          const s2 = new LogSealer({ tenant: 'locked', origin: 'test.example/tenants/locked', tenantKey: key, signingSeed: key, state: sealer.state });
          const sealed = s2.append(ev, Date.UTC(2026, 10, 26, 1));
          const after = s2.state;
          return { records: [{ sealed, eventId: 'e-1' }], head: { ...h, size: after.size, prevHash: after.prevHash, range: after.range.hashes, lastReceivedAtMs: Date.UTC(2026, 10, 26, 1) } };
        })
        .catch((e: unknown) => e);
      expect(isTrailsealError(appendErr, 'STORE_UNAVAILABLE')).toBe(true);
      expect((await store.getHead('locked'))?.size).toBe(1);
      other.exec('ROLLBACK');
      expect(await store.getApiKey('0000000000000001')).toBeUndefined();
      expect(await store.revokeApiKey('0000000000000001', 'now')).toBe(false);
    } finally {
      other.close();
      await store.close();
    }
  });

  it('seqAtTime on a damaged log (a record deleted below the head) is INTERNAL naming it, not a wrong seq', async () => {
    const file = join(dir, 'gap.db');
    const t0 = Date.UTC(2026, 10, 27);
    const store = new SqliteStore({ path: file });
    try {
      await store.migrate();
      await createWithGenesis(store, 'gap', t0);
      // Rows for seqs 1 to 9, a second apart (only seq and received_ms matter to the search), then seq 5 goes.
      const raw = new Database(file);
      const put = raw.prepare('INSERT INTO records (tenant, seq, event_id, received_ms, nodes, body) VALUES (?, ?, NULL, ?, ?, ?)');
      for (let seq = 1; seq < 10; seq++) put.run('gap', seq, t0 + 1000 * seq, Buffer.alloc(32), '{}');
      raw.prepare('UPDATE heads SET size = 10 WHERE tenant = ?').run('gap');
      expect(await store.seqAtTime('gap', t0 + 3000)).toBe(3);
      raw.prepare('DELETE FROM records WHERE tenant = ? AND seq = 5').run('gap');
      raw.close();
      const err = await store.seqAtTime('gap', t0 + 3000).then(() => undefined, (e: unknown) => e);
      expect(isTrailsealError(err, 'INTERNAL')).toBe(true);
      expect((err as { details: unknown }).details).toEqual({ seq: 5 });
    } finally {
      await store.close();
    }
  });

  it('creates a database with 16 KiB pages; a database made with smaller pages keeps them and works as before', async () => {
    const pageSize = (file: string): number => {
      const db = new Database(file, { readonly: true });
      try {
        return db.pragma('page_size', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    expect(SQLITE_PAGE_SIZE).toBe(16384);
    const fresh = join(dir, 'fresh.db');
    const store = new SqliteStore({ path: fresh });
    await store.migrate();
    await store.close();
    expect(pageSize(fresh)).toBe(SQLITE_PAGE_SIZE);

    // A database an earlier build created: SQLite's default 4 KiB pages, WAL, content.
    const older = join(dir, 'older.db');
    const pre = new Database(older);
    pre.pragma('page_size = 4096');
    pre.pragma('journal_mode = WAL');
    pre.exec('CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)');
    pre.close();
    const old = new SqliteStore({ path: older });
    let genesis: SealedRecord;
    try {
      await old.migrate();
      genesis = await createWithGenesis(old, 'older', Date.UTC(2026, 10, 27));
      expect((await old.getRecord('older', 0))?.canonical).toBe(genesis.canonical);
      expect(pageSize(older)).toBe(4096);
      // `trailseal store rebuild` (docs/operations.md, "SQLite page size") while the store is open: refused, nothing changed.
      expect(() => rebuildWithPageSize(older)).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
    } finally {
      await old.close();
    }
    expect(pageSize(older)).toBe(4096);
    expect(rebuildWithPageSize(older)).toEqual({ before: 4096, after: SQLITE_PAGE_SIZE });
    expect(rebuildWithPageSize(older)).toEqual({ before: SQLITE_PAGE_SIZE, after: SQLITE_PAGE_SIZE });
    expect(pageSize(older)).toBe(SQLITE_PAGE_SIZE);
    const again = new SqliteStore({ path: older });
    try {
      await again.migrate();
      const rec = await again.getRecord('older', 0);
      expect(rec?.canonical).toBe(genesis.canonical);
      expect((await again.getHead('older'))?.size).toBe(1);
    } finally {
      await again.close();
    }
  });
});
