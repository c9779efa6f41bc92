// The conformance suite on a SQLite database in a temporary file (two
// connections to it for the concurrency test), plus the SQLite write lock.
//
// better-sqlite3 is synchronous, so the suite's two connections in this one
// thread never hold the lock at the same moment; the test below holds it from
// a third connection to see what a writer in another process meets.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isTrailsealError } from '@trailseal/format';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/sqlite.js';
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
      let built = false;
      const appendErr = await store
        .append('x', [], () => {
          built = true;
          throw new Error('not reached: the lock comes first');
        })
        .catch((e: unknown) => e);
      expect(isTrailsealError(appendErr, 'STORE_UNAVAILABLE')).toBe(true);
      expect(built).toBe(false);
      other.exec('ROLLBACK');
      expect(await store.getApiKey('0000000000000001')).toBeUndefined();
      expect(await store.revokeApiKey('0000000000000001', 'now')).toBe(false);
    } finally {
      other.close();
      await store.close();
    }
  });
});
