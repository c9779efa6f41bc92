// The SQLite engine: one better-sqlite3 connection, its prepared statements
// and synchronous operations. The store (sqlite.ts) reads through one engine
// on the event loop and writes through another in a writer thread
// (sqlite-writer.ts), so that a commit's fsync never stalls the API.
//
// Writes take plain, structured-clonable data (WritePlan) because they cross
// the thread boundary. Every write transaction is BEGIN IMMEDIATE: it takes
// the database write lock before it reads, so the head it checks is the head
// it extends, whichever process or thread wrote last.
import Database from 'better-sqlite3';
import { TrailsealError, logTimestamp } from '@trailseal/format';
import { joinHashes, nodeHome, nodeMissing, seqAtTimeResult, seqAtTimeSql, storeFailure } from './common.js';
import { SINK_COLUMNS, headOf, keyOf, sinkOf, sinkPatchColumns, sinkValues, tenantOf, type HeadSql, type KeySql, type SinkSql, type TenantSql } from './rows.js';
import type { ApiKeyRow, CheckpointRow, HeadRow, ReceiptRow, Scope, SinkPatch, SinkRow, StoredRecord, TenantRow } from './types.js';

export const SCHEMA_VERSION = 2;

// A record's row also holds the hashes of the tree nodes its append
// completed (nodeHome in common.ts): its leaf hash, then each perfect subtree
// it closed, 32 bytes each. Schema version 1 kept them in a table of their
// own, one row per node: about two more B-tree inserts per record, which cost
// the writer about a third of its time (bench/README.md, fourth session).
// `nodes` comes before `body` so that reading it never walks a large body's
// overflow pages.
const RECORDS_COLUMNS = `
  tenant TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT, received_ms INTEGER NOT NULL, nodes BLOB NOT NULL,
  body TEXT NOT NULL, PRIMARY KEY (tenant, seq)`;
const RECORDS_INDEXES = `
CREATE UNIQUE INDEX IF NOT EXISTS records_event_id ON records (tenant, event_id) WHERE event_id IS NOT NULL;`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, origin TEXT NOT NULL,
  wrapped_key BLOB NOT NULL, key_wrapper TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heads (
  tenant TEXT PRIMARY KEY REFERENCES tenants(id), size INTEGER NOT NULL, prev_hash TEXT NOT NULL,
  range BLOB NOT NULL, mac_generation INTEGER NOT NULL, signing_generation INTEGER NOT NULL,
  last_received_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (${RECORDS_COLUMNS});
${RECORDS_INDEXES}
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant TEXT NOT NULL, size INTEGER NOT NULL, note TEXT NOT NULL, PRIMARY KEY (tenant, size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sinks (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(id), name TEXT NOT NULL, kind TEXT NOT NULL,
  config TEXT NOT NULL, secret BLOB, filter TEXT NOT NULL, format TEXT NOT NULL, state TEXT NOT NULL,
  cursor INTEGER NOT NULL, created_at TEXT NOT NULL, last_error TEXT, last_error_at TEXT, paused_reason TEXT,
  lease_owner TEXT, lease_until INTEGER);
CREATE INDEX IF NOT EXISTS sinks_tenant ON sinks (tenant, created_at, id);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, tenant TEXT, name TEXT NOT NULL, scopes TEXT NOT NULL, secret_hash BLOB NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
`;

/**
 * What a writer stores for one append, packed in a few flat values so that
 * handing it to the writer thread clones a few objects, not a few per record.
 * The record bodies are their bytes back to back (a buffer the thread is
 * handed, not a copy), record i ending at bodyEnds[i].
 */
export interface WritePlan {
  readonly seqs: Float64Array;
  readonly receivedMs: Float64Array;
  /** Producer event ids; null for records the log writes itself. */
  readonly eventIds: readonly (string | null)[];
  readonly bodies: Uint8Array;
  readonly bodyEnds: Float64Array;
  /** The hashes of the tree nodes each record completed (packRecordNodes), back to back, record i's ending at nodeEnds[i]. */
  readonly nodes: Uint8Array;
  readonly nodeEnds: Float64Array;
  readonly head: HeadRow;
}

/** 'known': nothing written, the plan stores an event id again (see append). */
export type AppendOutcome = 'committed' | 'conflict' | 'known';

/**
 * The page size of a database this build creates. A commit appends each page
 * it changed to the WAL, one frame (two writes) per page, and a B-tree insert
 * pays per page it touches: with 1.5 KB records, 16 KiB pages cut the writer
 * thread's CPU per record by about two fifths against SQLite's default of
 * 4 KiB (bench/README.md, sixth session). SQLite applies it only to a
 * database that has no content yet (https://www.sqlite.org/pragma.html#pragma_page_size):
 * an older database keeps its page size until it is rebuilt
 * (docs/operations.md, "SQLite page size").
 */
export const SQLITE_PAGE_SIZE = 16384;

/**
 * The connection settings of every SQLite database of the service (and of
 * the benchmarks' plain baseline, which must run on the same settings):
 * docs/stores.md, "Durability settings".
 */
export function configureSqlite(db: Database.Database, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Before WAL mode: the page size of a WAL database cannot change.
  db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
  db.pragma('journal_mode = WAL');
  // A COMMIT returns only after the WAL is fsynced (https://www.sqlite.org/pragma.html#pragma_synchronous).
  db.pragma('synchronous = FULL');
}

/**
 * Rebuilds a database whose pages are smaller than SQLITE_PAGE_SIZE with
 * pages of that size (`trailseal store rebuild`; docs/operations.md, "SQLite
 * page size"): VACUUM copies every row into a new file, so the records, their
 * order and their bytes are unchanged. It needs the database to itself: with
 * any other connection open, SQLite refuses to leave WAL mode, and nothing
 * changes (STORE_UNAVAILABLE).
 */
export function rebuildWithPageSize(path: string): { before: number; after: number } {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (e) {
    throw new TrailsealError('CONFIG_INVALID', `no SQLite database at ${path}`, { cause: e instanceof Error ? e.message : String(e) });
  }
  try {
    const before = db.pragma('page_size', { simple: true }) as number;
    if (before >= SQLITE_PAGE_SIZE) return { before, after: before };
    db.exec(`PRAGMA journal_mode = DELETE; PRAGMA page_size = ${SQLITE_PAGE_SIZE}; VACUUM; PRAGMA journal_mode = WAL;`);
    return { before, after: db.pragma('page_size', { simple: true }) as number };
  } catch (e) {
    throw storeFailure(e, `cannot rebuild ${path} (stop the service and every command using it first)`);
  } finally {
    db.close();
  }
}

export class SqliteEngine {
  readonly db: Database.Database;
  readonly #s: ReturnType<typeof prepare>;
  readonly #appendTx: Database.Transaction<(tenant: string, expect: { size: number; prevHash: string }, plan: WritePlan) => AppendOutcome>;
  readonly #createTx: Database.Transaction<(tenant: TenantRow, plan: WritePlan) => void>;
  readonly #firstKeyTx: Database.Transaction<(k: ApiKeyRow) => boolean>;

  constructor(path: string, busyTimeoutMs = 10_000) {
    try {
      this.db = new Database(path);
      configureSqlite(this.db, busyTimeoutMs);
      this.db.pragma('foreign_keys = ON');
      this.db.exec(SCHEMA);
      upgradeFromVersion1(this.db);
      // Earlier builds kept an index on (tenant, received_ms) for seqAtTime,
      // which now searches the primary key (seqAtTimeSql): the index only
      // cost every insert. Gone at the first open by this build; an older
      // build that opens the database again recreates it, harmlessly.
      this.db.exec('DROP INDEX IF EXISTS records_received');
    } catch (e) {
      throw storeFailure(e, `cannot open the SQLite database ${path}`);
    }
    this.#s = prepare(this.db);
    const s = this.#s;
    this.#appendTx = this.db.transaction((tenant, expect, plan) => {
      const head = s.getHead.get(tenant) as HeadSql | undefined;
      if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
      // Optimistic concurrency: the plan was built on a head read without the
      // lock; another writer may have moved it since. A plan that stores an
      // event id again (built assuming none stored, or by a faulty builder)
      // is refused by the unique index (see append).
      if (head.size !== expect.size || head.prev_hash !== expect.prevHash) return 'conflict';
      this.#writePlan(tenant, plan);
      return 'committed';
    });
    this.#firstKeyTx = this.db.transaction((k) => {
      if (s.listOperatorKeys.get() !== undefined) return false;
      s.insertKey.run(k.id, k.tenant, k.name, k.scopes.join(','), Buffer.from(k.secretHash), k.createdAt, k.expiresAt, k.revokedAt);
      return true;
    });
    this.#createTx = this.db.transaction((tenant, plan) => {
      if (s.getTenant.get(tenant.id) !== undefined) throw new TrailsealError('TENANT_EXISTS', `tenant ${tenant.id} exists`, { field: 'id' });
      s.insertTenant.run(tenant.id, tenant.name, tenant.origin, Buffer.from(tenant.wrappedKey), tenant.keyWrapper, tenant.createdAt);
      s.insertHead.run(tenant.id, 0, '0'.repeat(64), Buffer.alloc(0), 0, 0, 0);
      this.#writePlan(tenant.id, plan);
    });
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // --- writes (the writer thread) ---------------------------------------------

  migrate(): void {
    this.#write(() => {
      const row = this.db.prepare('SELECT value FROM meta WHERE name = ?').get('schema_version') as { value: string } | undefined;
      if (row === undefined) this.db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
      else if (Number(row.value) > SCHEMA_VERSION) {
        throw new TrailsealError('CONFIG_INVALID', `the database has schema version ${row.value}; this build understands up to ${SCHEMA_VERSION}`);
      }
    });
  }

  createTenant(tenant: TenantRow, plan: WritePlan): void {
    this.#write(() => this.#createTx.immediate(tenant, plan));
  }

  /**
   * Writes the plan if the head is still `expect`; 'conflict' (nothing
   * written) otherwise. `idsLookedUp`: the plan was built knowing which of
   * its event ids are stored; when it was built assuming none is, the unique
   * index refusing one answers 'known' (nothing written) rather than the
   * error, and the caller builds again with the ids looked up.
   */
  append(tenant: string, expect: { size: number; prevHash: string }, plan: WritePlan, idsLookedUp: boolean): AppendOutcome {
    return this.#write(() => {
      try {
        return this.#appendTx.immediate(tenant, expect, plan);
      } catch (e) {
        // Only the event-id index is UNIQUE; the primary key reports SQLITE_CONSTRAINT_PRIMARYKEY.
        if (!idsLookedUp && typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') return 'known';
        throw e;
      }
    });
  }

  #writePlan(tenant: string, plan: WritePlan): void {
    const s = this.#s;
    const n = plan.seqs.length;
    const ends = plan.bodyEnds;
    const nodeEnds = plan.nodeEnds;
    if (ends.length !== n || (n > 0 && ends[n - 1] !== plan.bodies.length) || plan.eventIds.length !== n || nodeEnds.length !== n || (n > 0 && nodeEnds[n - 1] !== plan.nodes.length)) {
      throw new TrailsealError('INTERNAL', 'malformed write plan');
    }
    const bodies = Buffer.from(plan.bodies.buffer, plan.bodies.byteOffset, plan.bodies.byteLength);
    const nodes = Buffer.from(plan.nodes.buffer, plan.nodes.byteOffset, plan.nodes.byteLength);
    for (let i = 0, start = 0, nodesStart = 0; i < n; start = ends[i]!, nodesStart = nodeEnds[i++]!) {
      s.insertRecord.run(tenant, plan.seqs[i], plan.eventIds[i], plan.receivedMs[i], nodes.subarray(nodesStart, nodeEnds[i]), bodies.subarray(start, ends[i]));
    }
    const h = plan.head;
    s.updateHead.run(h.size, h.prevHash, joinHashes(h.range), h.macGeneration, h.signingGeneration, h.lastReceivedAtMs, tenant);
  }

  putCheckpoint(tenant: string, cp: CheckpointRow): void {
    this.#write(() => this.#s.insertCheckpoint.run(tenant, cp.size, cp.note));
  }

  putApiKey(k: ApiKeyRow): void {
    this.#write(() => this.#s.insertKey.run(k.id, k.tenant, k.name, k.scopes.join(','), Buffer.from(k.secretHash), k.createdAt, k.expiresAt, k.revokedAt));
  }

  putFirstOperatorKey(k: ApiKeyRow): boolean {
    return this.#write(() => this.#firstKeyTx.immediate(k));
  }

  revokeApiKey(id: string, at: string): boolean {
    return this.#write(() => this.#s.revokeKey.run(at, id).changes === 1);
  }

  putSink(k: SinkRow): void {
    this.#write(() => this.#s.insertSink.run(...sinkValues(k)));
  }

  patchSink(id: string, patch: SinkPatch): boolean {
    const cols = sinkPatchColumns(patch);
    if (cols.length === 0) return this.sink(id) !== undefined;
    return this.#write(() => this.db.prepare(`UPDATE sinks SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE id = ?`).run(...cols.map(([, v]) => v), id).changes === 1);
  }

  deleteSink(id: string): boolean {
    return this.#write(() => this.#s.deleteSink.run(id).changes === 1);
  }

  leaseSink(id: string, owner: string, nowMs: number, ttlMs: number): boolean {
    return this.#write(() => this.#s.leaseSink.run(owner, nowMs + ttlMs, id, owner, nowMs).changes === 1);
  }

  releaseSink(id: string, owner: string): void {
    this.#write(() => this.#s.releaseSink.run(id, owner));
  }

  #write<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storeFailure(e, 'SQLite write failed');
    }
  }

  // --- reads (the event loop) ----------------------------------------------------

  ping(): void {
    this.#read(() => this.db.prepare('SELECT 1').get());
  }

  tenant(id: string): TenantRow | undefined {
    const row = this.#read(() => this.#s.getTenant.get(id) as TenantSql | undefined);
    return row === undefined ? undefined : tenantOf(row);
  }

  tenants(): TenantRow[] {
    return this.#read(() => (this.#s.listTenants.all() as TenantSql[]).map(tenantOf));
  }

  pageSize(): number {
    return this.#read(() => this.db.pragma('page_size', { simple: true }) as number);
  }

  head(tenant: string): HeadRow | undefined {
    const r = this.#read(() => this.#s.getHead.get(tenant) as HeadSql | undefined);
    return r === undefined ? undefined : headOf(r);
  }

  known(tenant: string, ids: readonly string[]): Map<string, ReceiptRow> {
    const known = new Map<string, ReceiptRow>();
    if (ids.length === 0) return known;
    const rows = this.#read(() => this.#s.known.all({ tenant, ids: JSON.stringify(ids) }) as { event_id: string; seq: number; received_ms: number; body: string; hash: Buffer }[]);
    for (const r of rows) known.set(r.event_id, { seq: r.seq, leafHash: new Uint8Array(r.hash), receivedAt: logTimestamp(r.received_ms), record: r.body });
    return known;
  }

  record(tenant: string, seq: number): StoredRecord | undefined {
    const r = this.#read(() => this.#s.getRecord.get(tenant, seq) as { body: string } | undefined);
    return r === undefined ? undefined : { seq, canonical: r.body };
  }

  records(tenant: string, from: number, to: number, limit: number): StoredRecord[] {
    const rows = this.#read(() => this.#s.listRecords.all(tenant, from, to, limit) as { seq: number; body: string }[]);
    return rows.map((r) => ({ seq: r.seq, canonical: r.body }));
  }

  seqAtTime(tenant: string, ms: number): number {
    return seqAtTimeResult(tenant, this.#read(() => this.#s.seqAtTime.get({ tenant, ms }) as { lo: number; hi: number } | undefined));
  }

  /**
   * The stored hashes of tree nodes, in the order asked; undefined where one
   * is not stored. One statement for all of them: a tile asks for 256.
   */
  nodes(tenant: string, ids: readonly { readonly level: number; readonly index: number }[]): (Uint8Array | undefined)[] {
    const homes = ids.map(({ level, index }) => nodeHome(level, index) ?? -1);
    const rows = this.#read(() => this.#s.getNodes.all({ tenant, seqs: JSON.stringify(homes) }) as { seq: number; nodes: Buffer }[]);
    const bySeq = new Map<number, Buffer>();
    for (const r of rows) bySeq.set(r.seq, r.nodes);
    return ids.map(({ level }, i) => {
      const held = bySeq.get(homes[i]!);
      if (held === undefined || held.length < 32 * (level + 1)) return undefined;
      return new Uint8Array(held.subarray(32 * level, 32 * (level + 1)));
    });
  }

  latestCheckpoint(tenant: string): CheckpointRow | undefined {
    return this.#read(() => this.#s.latestCheckpoint.get(tenant) as CheckpointRow | undefined);
  }

  checkpointAt(tenant: string, size: number): CheckpointRow | undefined {
    return this.#read(() => this.#s.checkpointAt.get(tenant, size) as CheckpointRow | undefined);
  }

  apiKey(id: string): ApiKeyRow | undefined {
    const r = this.#read(() => this.#s.getKey.get(id) as KeySql<string> | undefined);
    return r === undefined ? undefined : keyOf(r, scopesOf(r.scopes));
  }

  apiKeys(tenant: string | null): ApiKeyRow[] {
    const rows = this.#read(() => (tenant === null ? this.#s.listOperatorKeys.all() : this.#s.listKeys.all(tenant)) as KeySql<string>[]);
    return rows.map((r) => keyOf(r, scopesOf(r.scopes)));
  }

  sink(id: string): SinkRow | undefined {
    const r = this.#read(() => this.#s.getSink.get(id) as SinkSql | undefined);
    return r === undefined ? undefined : sinkOf(r);
  }

  sinks(tenant: string | null): SinkRow[] {
    return this.#read(() => (tenant === null ? this.#s.allSinks.all() : this.#s.listSinks.all(tenant)) as SinkSql[]).map(sinkOf);
  }

  #read<T>(fn: () => T): T {
    if (!this.db.open) throw new TrailsealError('STORE_UNAVAILABLE', 'the SQLite database is closed');
    try {
      return fn();
    } catch (e) {
      throw storeFailure(e, 'SQLite read failed');
    }
  }
}

/**
 * Schema version 1 to 2: the node hashes move from the `nodes` table into
 * their records' rows (see RECORDS_COLUMNS). The first connection of this
 * build to open a version 1 database does it, in one transaction under the
 * write lock, so another process sees either version whole; a connection
 * that waited for the lock finds the work done. Record bodies are copied
 * inside SQLite, byte for byte; a node missing from the old table stops the
 * upgrade (TREE_NODE_MISSING) and leaves the database as it was.
 */
function upgradeFromVersion1(db: Database.Database): void {
  const upgraded = (): boolean => db.prepare(`SELECT 1 FROM pragma_table_info('records') WHERE name = 'nodes'`).get() !== undefined;
  if (upgraded()) return;
  db.transaction(() => {
    if (upgraded()) return;
    db.exec(`CREATE TABLE records_v2 (${RECORDS_COLUMNS})`);
    const page = db.prepare('SELECT tenant, seq FROM records WHERE (tenant, seq) > (?, ?) ORDER BY tenant, seq LIMIT 1000');
    const node = db.prepare('SELECT hash FROM nodes WHERE tenant = ? AND level = ? AND idx = ?').pluck();
    const copy = db.prepare('INSERT INTO records_v2 (tenant, seq, event_id, received_ms, nodes, body) SELECT tenant, seq, event_id, received_ms, ?, body FROM records WHERE tenant = ? AND seq = ?');
    let after: { tenant: string; seq: number } = { tenant: '', seq: -1 };
    for (;;) {
      const rows = page.all(after.tenant, after.seq) as { tenant: string; seq: number }[];
      if (rows.length === 0) break;
      for (const { tenant, seq } of rows) {
        const hashes: Buffer[] = [];
        for (let level = 0; nodeHome(level, Math.floor(seq / 2 ** level)) === seq; level++) {
          const index = Math.floor(seq / 2 ** level);
          const h = node.get(tenant, level, index) as Buffer | undefined;
          if (h === undefined) throw nodeMissing(tenant, level, index, 'cannot upgrade the SQLite schema');
          hashes.push(h);
        }
        copy.run(Buffer.concat(hashes), tenant, seq);
      }
      after = rows[rows.length - 1]!;
    }
    db.exec(`DROP TABLE records; ALTER TABLE records_v2 RENAME TO records; ${RECORDS_INDEXES} DROP TABLE nodes;`);
    db.prepare(`INSERT INTO meta (name, value) VALUES ('schema_version', '2') ON CONFLICT (name) DO UPDATE SET value = excluded.value`).run();
  }).immediate();
}

function prepare(db: Database.Database) {
  return {
    getTenant: db.prepare('SELECT * FROM tenants WHERE id = ?'),
    listTenants: db.prepare('SELECT * FROM tenants ORDER BY id'),
    insertTenant: db.prepare('INSERT INTO tenants (id, name, origin, wrapped_key, key_wrapper, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    insertHead: db.prepare(
      'INSERT INTO heads (tenant, size, prev_hash, range, mac_generation, signing_generation, last_received_ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    getHead: db.prepare('SELECT * FROM heads WHERE tenant = ?'),
    updateHead: db.prepare(
      'UPDATE heads SET size = ?, prev_hash = ?, range = ?, mac_generation = ?, signing_generation = ?, last_received_ms = ? WHERE tenant = ?',
    ),
    known: db.prepare(
      // Driven from the ids (CROSS JOIN fixes the order) through the partial
      // unique index, which the planner only considers with "event_id IS NOT
      // NULL" spelled out; otherwise it scans the tenant's leaves.
      `SELECT r.event_id, r.seq, r.received_ms, r.body, substr(r.nodes, 1, 32) AS hash FROM json_each(@ids) AS j
       CROSS JOIN records r ON r.tenant = @tenant AND r.event_id = j.value AND r.event_id IS NOT NULL`,
    ),
    // The body is bound as its UTF-8 bytes and stored as TEXT: a cast from BLOB
    // reinterprets the bytes in the database encoding (UTF-8) without a copy
    // through a JavaScript string (https://www.sqlite.org/lang_expr.html#castexpr).
    insertRecord: db.prepare('INSERT INTO records (tenant, seq, event_id, received_ms, nodes, body) VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT))'),
    getRecord: db.prepare('SELECT body FROM records WHERE tenant = ? AND seq = ?'),
    listRecords: db.prepare('SELECT seq, body FROM records WHERE tenant = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT ?'),
    seqAtTime: db.prepare(seqAtTimeSql('@tenant', '@ms')),
    // Driven from the seqs (CROSS JOIN fixes the order): one primary-key probe each.
    getNodes: db.prepare('SELECT r.seq, r.nodes FROM json_each(@seqs) AS j CROSS JOIN records r ON r.tenant = @tenant AND r.seq = j.value'),
    insertCheckpoint: db.prepare('INSERT OR IGNORE INTO checkpoints (tenant, size, note) VALUES (?, ?, ?)'),
    latestCheckpoint: db.prepare('SELECT size, note FROM checkpoints WHERE tenant = ? ORDER BY size DESC LIMIT 1'),
    checkpointAt: db.prepare('SELECT size, note FROM checkpoints WHERE tenant = ? AND size = ?'),
    insertKey: db.prepare(
      'INSERT INTO api_keys (id, tenant, name, scopes, secret_hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    getKey: db.prepare('SELECT * FROM api_keys WHERE id = ?'),
    listKeys: db.prepare('SELECT * FROM api_keys WHERE tenant = ? ORDER BY created_at, id'),
    listOperatorKeys: db.prepare('SELECT * FROM api_keys WHERE tenant IS NULL ORDER BY created_at, id'),
    revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
    insertSink: db.prepare(`INSERT INTO sinks (${SINK_COLUMNS}) VALUES (${SINK_COLUMNS.split(',').map(() => '?').join(', ')})`),
    getSink: db.prepare(`SELECT ${SINK_COLUMNS} FROM sinks WHERE id = ?`),
    listSinks: db.prepare(`SELECT ${SINK_COLUMNS} FROM sinks WHERE tenant = ? ORDER BY created_at, id`),
    allSinks: db.prepare(`SELECT ${SINK_COLUMNS} FROM sinks ORDER BY tenant, created_at, id`),
    deleteSink: db.prepare('DELETE FROM sinks WHERE id = ?'),
    leaseSink: db.prepare('UPDATE sinks SET lease_owner = ?, lease_until = ? WHERE id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_until < ?)'),
    releaseSink: db.prepare('UPDATE sinks SET lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?'),
  };
}

/** SQLite keeps scopes as comma-separated text. */
function scopesOf(text: string): Scope[] {
  return text === '' ? [] : (text.split(',') as Scope[]);
}
