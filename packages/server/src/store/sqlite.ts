// The embedded store: one SQLite database (better-sqlite3) in WAL mode with
// synchronous=FULL, so a COMMIT returns only after the WAL is fsynced
// (https://www.sqlite.org/pragma.html#pragma_synchronous). Life of an event:
// docs/stores.md.
//
// better-sqlite3 is synchronous: each call runs to completion on the event
// loop. That is what makes group commit cheap here (one fsync per batch, no
// round trips), and why batches are bounded (a large batch stalls the loop).
// Writers in other processes (the `trailseal tenant create --data` command
// while the service runs) are serialized by SQLite's write lock: every write
// transaction is BEGIN IMMEDIATE and the head is re-read under that lock.
import Database from 'better-sqlite3';
import { TrailsealError, logTimestamp, type NodeId } from '@trailseal/format';
import { checkPlan, joinHashes, splitHashes, storeFailure } from './common.js';
import type { ApiKeyRow, AppendBuilder, AppendPlan, CheckpointRow, HeadRow, ReceiptRow, RecordQuery, Scope, Store, StoredRecord, TenantRow } from './types.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, origin TEXT NOT NULL,
  wrapped_key BLOB NOT NULL, key_wrapper TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS heads (
  tenant TEXT PRIMARY KEY REFERENCES tenants(id), size INTEGER NOT NULL, prev_hash TEXT NOT NULL,
  range BLOB NOT NULL, mac_generation INTEGER NOT NULL, signing_generation INTEGER NOT NULL,
  last_received_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  tenant TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT, received_ms INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (tenant, seq));
CREATE UNIQUE INDEX IF NOT EXISTS records_event_id ON records (tenant, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_received ON records (tenant, received_ms);
CREATE TABLE IF NOT EXISTS nodes (
  tenant TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (tenant, level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant TEXT NOT NULL, size INTEGER NOT NULL, note TEXT NOT NULL, PRIMARY KEY (tenant, size)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, tenant TEXT, name TEXT NOT NULL, scopes TEXT NOT NULL, secret_hash BLOB NOT NULL,
  created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT);
`;

interface HeadSql {
  size: number;
  prev_hash: string;
  range: Buffer;
  mac_generation: number;
  signing_generation: number;
  last_received_ms: number;
}
interface TenantSql {
  id: string;
  name: string;
  origin: string;
  wrapped_key: Buffer;
  key_wrapper: string;
  created_at: string;
}
interface KeySql {
  id: string;
  tenant: string | null;
  name: string;
  scopes: string;
  secret_hash: Buffer;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface SqliteStoreOptions {
  /** Path of the database file, or ':memory:'. */
  readonly path: string;
  /** How long a writer waits for another process's write lock, in ms. */
  readonly busyTimeoutMs?: number;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #s: ReturnType<typeof prepare>;

  constructor(opts: SqliteStoreOptions) {
    try {
      this.#db = new Database(opts.path);
      this.#db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 10_000}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      this.#db.exec(SCHEMA);
    } catch (e) {
      throw storeFailure(e, `cannot open the SQLite database ${opts.path}`);
    }
    this.#s = prepare(this.#db);
  }

  async migrate(): Promise<void> {
    this.#write(() => {
      const row = this.#db.prepare('SELECT value FROM meta WHERE name = ?').get('schema_version') as { value: string } | undefined;
      if (row === undefined) this.#db.prepare('INSERT INTO meta (name, value) VALUES (?, ?)').run('schema_version', String(SCHEMA_VERSION));
      else if (Number(row.value) > SCHEMA_VERSION) {
        throw new TrailsealError('CONFIG_INVALID', `the database has schema version ${row.value}; this build understands up to ${SCHEMA_VERSION}`);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async ping(): Promise<void> {
    this.#read(() => this.#db.prepare('SELECT 1').get());
  }

  async createTenant(tenant: TenantRow, plan: AppendPlan): Promise<void> {
    this.#write(() => {
      const exists = this.#s.getTenant.get(tenant.id);
      if (exists !== undefined) throw new TrailsealError('TENANT_EXISTS', `tenant ${tenant.id} exists`, { field: 'id' });
      this.#s.insertTenant.run(tenant.id, tenant.name, tenant.origin, Buffer.from(tenant.wrappedKey), tenant.keyWrapper, tenant.createdAt);
      const empty: HeadRow = { size: 0, prevHash: '0'.repeat(64), range: [], macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: 0 };
      this.#s.insertHead.run(tenant.id, 0, empty.prevHash, Buffer.alloc(0), 0, 0, 0);
      this.#writePlan(tenant.id, empty, plan);
    });
  }

  async getTenant(id: string): Promise<TenantRow | undefined> {
    const row = this.#read(() => this.#s.getTenant.get(id) as TenantSql | undefined);
    return row === undefined ? undefined : tenantOf(row);
  }

  async listTenants(): Promise<TenantRow[]> {
    return this.#read(() => (this.#s.listTenants.all() as TenantSql[]).map(tenantOf));
  }

  async append(tenant: string, eventIds: readonly string[], build: AppendBuilder): Promise<AppendPlan> {
    return this.#write(() => {
      const head = this.#head(tenant);
      if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
      const known = new Map<string, ReceiptRow>();
      if (eventIds.length > 0) {
        for (const r of this.#s.known.all({ tenant, ids: JSON.stringify(eventIds) }) as { event_id: string; seq: number; received_ms: number; hash: Buffer }[]) {
          known.set(r.event_id, { seq: r.seq, leafHash: new Uint8Array(r.hash), receivedAt: logTimestamp(r.received_ms) });
        }
      }
      const plan = build(head, known);
      this.#writePlan(tenant, head, plan);
      return plan;
    });
  }

  #writePlan(tenant: string, head: HeadRow, plan: AppendPlan): void {
    checkPlan(head, plan);
    for (const { sealed, eventId } of plan.records) {
      this.#s.insertRecord.run(tenant, sealed.record.seq, eventId, Date.parse(sealed.record.received_at), sealed.canonical);
      for (const n of sealed.nodes) this.#s.insertNode.run(tenant, n.id.level, n.id.index, n.hash);
    }
    const h = plan.head;
    this.#s.updateHead.run(h.size, h.prevHash, joinHashes(h.range), h.macGeneration, h.signingGeneration, h.lastReceivedAtMs, tenant);
  }

  async getHead(tenant: string): Promise<HeadRow | undefined> {
    return this.#read(() => this.#head(tenant));
  }

  #head(tenant: string): HeadRow | undefined {
    const r = this.#s.getHead.get(tenant) as HeadSql | undefined;
    if (r === undefined) return undefined;
    return {
      size: r.size,
      prevHash: r.prev_hash,
      range: splitHashes(r.range),
      macGeneration: r.mac_generation,
      signingGeneration: r.signing_generation,
      lastReceivedAtMs: r.last_received_ms,
    };
  }

  async getRecord(tenant: string, seq: number): Promise<StoredRecord | undefined> {
    const r = this.#read(() => this.#s.getRecord.get(tenant, seq) as { body: string } | undefined);
    return r === undefined ? undefined : { seq, canonical: r.body };
  }

  async listRecords(tenant: string, q: RecordQuery): Promise<StoredRecord[]> {
    const rows = this.#read(() => this.#s.listRecords.all(tenant, q.fromSeq, q.toSeq ?? Number.MAX_SAFE_INTEGER, q.limit) as { seq: number; body: string }[]);
    return rows.map((r) => ({ seq: r.seq, canonical: r.body }));
  }

  async seqAtTime(tenant: string, ms: number): Promise<number> {
    return this.#read(() => {
      const r = this.#s.seqAtTime.get(tenant, ms) as { seq: number } | undefined;
      if (r !== undefined) return r.seq;
      return this.#head(tenant)?.size ?? 0;
    });
  }

  async getNodes(tenant: string, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    return this.#read(() =>
      ids.map(({ level, index }) => {
        const r = this.#s.getNode.get(tenant, level, index) as { hash: Buffer } | undefined;
        if (r === undefined) throw new TrailsealError('TREE_NODE_MISSING', `node (level ${level}, index ${index}) of tenant ${tenant} is not stored`, { level, index });
        return new Uint8Array(r.hash);
      }),
    );
  }

  async putCheckpoint(tenant: string, cp: CheckpointRow): Promise<void> {
    this.#write(() => this.#s.insertCheckpoint.run(tenant, cp.size, cp.note));
  }

  async latestCheckpoint(tenant: string): Promise<CheckpointRow | undefined> {
    return this.#read(() => this.#s.latestCheckpoint.get(tenant) as CheckpointRow | undefined);
  }

  async checkpointAt(tenant: string, size: number): Promise<CheckpointRow | undefined> {
    return this.#read(() => this.#s.checkpointAt.get(tenant, size) as CheckpointRow | undefined);
  }

  async putApiKey(k: ApiKeyRow): Promise<void> {
    this.#write(() => this.#s.insertKey.run(k.id, k.tenant, k.name, k.scopes.join(','), Buffer.from(k.secretHash), k.createdAt, k.expiresAt, k.revokedAt));
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    const r = this.#read(() => this.#s.getKey.get(id) as KeySql | undefined);
    return r === undefined ? undefined : keyOf(r);
  }

  async listApiKeys(tenant: string | null): Promise<ApiKeyRow[]> {
    const rows = this.#read(() => (tenant === null ? this.#s.listOperatorKeys.all() : this.#s.listKeys.all(tenant)) as KeySql[]);
    return rows.map(keyOf);
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    return this.#write(() => this.#s.revokeKey.run(at, id).changes === 1);
  }

  // Every write is one IMMEDIATE transaction: it takes the database write
  // lock before reading, so the head it reads is the head it extends.
  #write<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (e) {
      throw storeFailure(e, 'SQLite write failed');
    }
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw storeFailure(e, 'SQLite read failed');
    }
  }
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
      `SELECT r.event_id, r.seq, r.received_ms, n.hash FROM json_each(@ids) AS j
       JOIN records r ON r.tenant = @tenant AND r.event_id = j.value
       JOIN nodes n ON n.tenant = @tenant AND n.level = 0 AND n.idx = r.seq`,
    ),
    insertRecord: db.prepare('INSERT INTO records (tenant, seq, event_id, received_ms, body) VALUES (?, ?, ?, ?, ?)'),
    insertNode: db.prepare('INSERT INTO nodes (tenant, level, idx, hash) VALUES (?, ?, ?, ?)'),
    getRecord: db.prepare('SELECT body FROM records WHERE tenant = ? AND seq = ?'),
    listRecords: db.prepare('SELECT seq, body FROM records WHERE tenant = ? AND seq >= ? AND seq < ? ORDER BY seq LIMIT ?'),
    seqAtTime: db.prepare('SELECT seq FROM records WHERE tenant = ? AND received_ms >= ? ORDER BY received_ms, seq LIMIT 1'),
    getNode: db.prepare('SELECT hash FROM nodes WHERE tenant = ? AND level = ? AND idx = ?'),
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
  };
}

function tenantOf(r: TenantSql): TenantRow {
  return { id: r.id, name: r.name, origin: r.origin, wrappedKey: new Uint8Array(r.wrapped_key), keyWrapper: r.key_wrapper, createdAt: r.created_at };
}

function keyOf(r: KeySql): ApiKeyRow {
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    scopes: r.scopes === '' ? [] : (r.scopes.split(',') as Scope[]),
    secretHash: new Uint8Array(r.secret_hash),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}
