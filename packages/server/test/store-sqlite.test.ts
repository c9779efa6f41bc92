// The conformance suite on a SQLite database in a temporary file (two
// connections to it for the concurrency test).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
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
