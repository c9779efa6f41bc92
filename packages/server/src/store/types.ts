// The storage contract. Each driver is written for its engine (SQLite, PostgreSQL)
// and every driver passes the one conformance suite in
// packages/server/test/store-conformance.ts. The sequencing algorithm itself is
// not here: the driver gives it a locked, consistent view of one tenant's head
// (AppendBuilder) and writes what it returns in the same transaction.
import type { NodeId, RecordBytesBatch, SealedRecord } from '@trailseal/format';

export type Scope = 'ingest' | 'read' | 'export' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'export', 'admin'];

export interface TenantRow {
  readonly id: string;
  readonly name: string;
  /** Checkpoint origin, e.g. `log.example.com/tenants/acme`. */
  readonly origin: string;
  /** The tenant key, encrypted under the root key (see keyring.ts). */
  readonly wrappedKey: Uint8Array;
  /** Which key wrapper produced wrappedKey (e.g. `local:<root key fingerprint>`). */
  readonly keyWrapper: string;
  readonly createdAt: string;
}

/** The state the sealer resumes from: everything needed to append record `size`. */
export interface HeadRow {
  readonly size: number;
  /** hex SHA-256 of record size-1. */
  readonly prevHash: string;
  /** The compact range [0, size): the tree's right edge, at most 63 hashes. */
  readonly range: readonly Uint8Array[];
  readonly macGeneration: number;
  readonly signingGeneration: number;
  /** received_at of record size-1 in ms, so that received_at never runs backwards. */
  readonly lastReceivedAtMs: number;
}

export interface ReceiptRow {
  readonly seq: number;
  readonly leafHash: Uint8Array;
  readonly receivedAt: string;
  /** The stored record bytes, so that a re-sent id can be checked against what it named. */
  readonly record: string;
}

export interface PlannedRecord {
  readonly sealed: SealedRecord;
  /** The producer's idempotency key; null for records the log writes itself. */
  readonly eventId: string | null;
}

export interface AppendPlan {
  readonly records: readonly PlannedRecord[];
  readonly head: HeadRow;
  /**
   * The records' bytes in order, as the sealer hashed them, when the builder
   * collected them (LogSealer.collectInto; writer.ts does): a driver that
   * writes bytes uses them instead of encoding each record's canonical string.
   */
  readonly bytes?: RecordBytesBatch;
}

/**
 * What an append committed. Drivers return this rather than the plan, so that
 * the sealed records (their objects and canonical strings) can be collected
 * once they are packed for the write instead of living through the commit.
 */
export interface AppendResult {
  readonly head: HeadRow;
  /** How many records the plan held. */
  readonly records: number;
}

/**
 * Builds an append on `head`, given the receipts of those of the requested
 * event ids already stored. It must be synchronous, must not perform I/O, and
 * may be called more than once: a driver either calls it with the head locked
 * and the ids looked up (PostgreSQL: SELECT ... FOR UPDATE) or calls it on a
 * head it holds (read, or left by its own last append) and writes the plan
 * only if, when it writes, the head is still the one the plan extends,
 * calling it again otherwise. Both drivers first call it with no ids known
 * (NONE_KNOWN): the unique index on event ids refuses a plan that stores one
 * again, and the driver calls it again with the stored ids. Either way what
 * is written continues the stored head exactly. If it throws, nothing is
 * written and the error propagates.
 */
export type AppendBuilder = (head: HeadRow, known: ReadonlyMap<string, ReceiptRow>) => AppendPlan;

export interface ApiKeyRow {
  /** Public part of the token, 16 lowercase hex. */
  readonly id: string;
  /** null for operator (admin) keys that act on no single tenant. */
  readonly tenant: string | null;
  readonly name: string;
  readonly scopes: readonly Scope[];
  /** SHA-256 of the secret part of the token. */
  readonly secretHash: Uint8Array;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
}

export interface StoredRecord {
  readonly seq: number;
  /** The record bytes: canonical JSON, exactly as hashed. */
  readonly canonical: string;
}

export interface RecordQuery {
  /** First seq (inclusive). */
  readonly fromSeq: number;
  /** Last seq (exclusive); the tenant's size when absent. */
  readonly toSeq?: number;
  readonly limit: number;
}

export interface CheckpointRow {
  readonly size: number;
  /** The signed note, verbatim. */
  readonly note: string;
}

export type SinkKind = 'webhook' | 'splunk' | 'sumo' | 'syslog' | 'nats';
export type SinkState = 'active' | 'paused';

/** A streaming sink of one tenant (docs/streaming.md). */
export interface SinkRow {
  readonly id: string;
  readonly tenant: string;
  readonly name: string;
  readonly kind: SinkKind;
  /** Kind-specific settings without secrets, JSON. */
  readonly config: string;
  /** The sink's signing key or token, encrypted under a data key the key wrapper wraps (stream/secrets.ts); null when it has none. */
  readonly secret: Uint8Array | null;
  /** The event filter, JSON ({} for every event). */
  readonly filter: string;
  readonly format: string;
  readonly state: SinkState;
  /** The next seq to deliver: everything below it was acknowledged by the receiver. */
  readonly cursor: number;
  readonly createdAt: string;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  /** Why the sink is paused (an operator, or the outage limit), null when active. */
  readonly pausedReason: string | null;
}

export type SinkPatch = Partial<Pick<SinkRow, 'state' | 'cursor' | 'lastError' | 'lastErrorAt' | 'pausedReason'>>;

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema; safe to run from several processes at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** A cheap round trip that fails when the store cannot serve. */
  ping(): Promise<void>;

  /** Creates the tenant and its first records (the genesis record) in one transaction; TENANT_EXISTS if the id is taken. */
  createTenant(tenant: TenantRow, plan: AppendPlan): Promise<void>;
  getTenant(id: string): Promise<TenantRow | undefined>;
  listTenants(): Promise<TenantRow[]>;

  /**
   * Appends to one tenant's log: looks up `eventIds`, calls `build` (see
   * AppendBuilder), writes the planned records, their tree nodes and the new
   * head in one transaction, and commits durably before resolving. TENANT_NOT_FOUND if the tenant does
   * not exist. The planned records must continue the head exactly (seq =
   * head.size, head.size + 1, ...); the driver rejects anything else.
   *
   * A driver that pipelines (SQLite) calls `handedOff` once the plan is with
   * its durable writer, before the commit: the caller may then start the
   * tenant's next append, which the driver builds on this plan's head while
   * this one commits (an append holding one of this plan's event ids waits
   * for this one's answer instead). Should this one fail, the next finds the
   * head moved and is rebuilt on the committed head. A driver that does not
   * pipeline never calls it.
   */
  append(tenant: string, eventIds: readonly string[], build: AppendBuilder, handedOff?: () => void): Promise<AppendResult>;
  getHead(tenant: string): Promise<HeadRow | undefined>;
  getRecord(tenant: string, seq: number): Promise<StoredRecord | undefined>;
  listRecords(tenant: string, q: RecordQuery): Promise<StoredRecord[]>;
  /** The first seq whose received_at is at or after `ms` (the size if none): for time-range queries. */
  seqAtTime(tenant: string, ms: number): Promise<number>;
  /** Hashes of stored tree nodes, in the order asked (an AsyncNodeReader). TREE_NODE_MISSING if one is absent. */
  getNodes(tenant: string, ids: readonly NodeId[]): Promise<Uint8Array[]>;

  /** Stores a signed checkpoint; storing one for a size that has one already is a no-op. */
  putCheckpoint(tenant: string, cp: CheckpointRow): Promise<void>;
  latestCheckpoint(tenant: string): Promise<CheckpointRow | undefined>;
  /** The checkpoint of exactly this size, if one was signed. */
  checkpointAt(tenant: string, size: number): Promise<CheckpointRow | undefined>;

  putApiKey(key: ApiKeyRow): Promise<void>;
  /**
   * Stores `key` (an operator key, tenant null) only if no operator key
   * exists, atomically across processes; false when one did. How the first
   * start creates the admin token exactly once when several start together.
   */
  putFirstOperatorKey(key: ApiKeyRow): Promise<boolean>;
  getApiKey(id: string): Promise<ApiKeyRow | undefined>;
  listApiKeys(tenant: string | null): Promise<ApiKeyRow[]>;
  /** Marks the key revoked; false if there is no such key or it was revoked already. */
  revokeApiKey(id: string, at: string): Promise<boolean>;

  /** Streaming sinks: created, changed and read by the API and the delivery engine. */
  putSink(sink: SinkRow): Promise<void>;
  getSink(id: string): Promise<SinkRow | undefined>;
  /** One tenant's sinks, or every tenant's (null), oldest first. */
  listSinks(tenant: string | null): Promise<SinkRow[]>;
  /** Changes a sink; false when there is none with this id. */
  patchSink(id: string, patch: SinkPatch): Promise<boolean>;
  deleteSink(id: string): Promise<boolean>;
  /**
   * Takes or renews the delivery lease of a sink for `owner` until
   * nowMs + ttlMs; true when `owner` holds it now (it was free, expired or
   * already this owner's). One process delivers a sink at a time.
   */
  leaseSink(id: string, owner: string, nowMs: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, if `owner` holds it. */
  releaseSink(id: string, owner: string): Promise<void>;
  /**
   * Calls `listener` with the tenant after commits by any process on this
   * store, where the store can tell (PostgreSQL LISTEN/NOTIFY); resolves
   * with the function that stops listening. Stores without it return undefined.
   */
  subscribeCommits?(listener: (tenant: string) => void): Promise<() => Promise<void>>;
}
