// The embedded store: one SQLite database (better-sqlite3) in WAL mode with
// synchronous=FULL. Life of an event: docs/stores.md.
//
// Reads run on the event loop through one connection (WAL readers never wait
// for the writer). Writes run in a writer thread through another connection
// (sqlite-writer.ts), so the fsync of a commit does not stall the API while
// the next requests are parsed, validated and sealed.
//
// Appends are optimistic: the plan is built on the head as read, then the
// writer, holding the write lock (BEGIN IMMEDIATE), checks that the head is
// still the one the plan extends and writes it, or answers "conflict" and
// the plan is rebuilt on the new head. Another process writing the same
// database (the `trailseal tenant create --data` command) is the usual cause.
import { RecordBytesBatch, TrailsealError, utf8, type NodeId } from '@trailseal/format';
import { NONE_KNOWN, checkPlan, nodeMissing, packRecordNodes, storeFailure } from './common.js';
import { SqliteEngine, type AppendOutcome, type WritePlan } from './sqlite-engine.js';
import { ThreadClient, reviveTrailsealError, type SerializedError } from '../thread.js';
import type { AppendReply, WriterOp } from './sqlite-writer.js';
import type { ApiKeyRow, AppendBuilder, AppendPlan, AppendResult, CheckpointRow, HeadRow, ReceiptRow, RecordQuery, SinkPatch, SinkRow, Store, StoredRecord, TenantRow } from './types.js';

export interface SqliteStoreOptions {
  /** Path of the database file. */
  readonly path: string;
  /** How long a writer waits for another process's write lock, in ms. */
  readonly busyTimeoutMs?: number;
}

/** Attempts before an append gives up on a head that keeps moving (other processes writing). */
const MAX_CONFLICTS = 50;

/**
 * An append handed to the writer thread and not answered yet: the head it
 * leaves, so that the tenant's next append can be built on it (Store.append,
 * `handedOff`), and its event ids. `below` is the append it was built on, while
 * that one is in flight too.
 */
interface InFlight {
  /** Order of creation, across tenants: see #staleUpTo. */
  readonly serial: number;
  readonly head: HeadRow;
  readonly ids: ReadonlySet<string>;
  /** Resolves when the writer thread has answered (committed, conflict or failure). */
  readonly answered: Promise<void>;
  below: InFlight | undefined;
}

/** Whether an append in flight at or below `f` holds one of `ids`. */
function holdsAny(f: InFlight | undefined, ids: readonly string[]): boolean {
  for (; f !== undefined; f = f.below) for (const id of ids) if (f.ids.has(id)) return true;
  return false;
}

function revive(e: SerializedError): unknown {
  return reviveTrailsealError(e) ?? storeFailure(Object.assign(new Error(e.message), e.code !== undefined ? { code: e.code } : {}), 'SQLite write failed');
}

export function writePlanOf(plan: AppendPlan): WritePlan {
  const n = plan.records.length;
  const seqs = new Float64Array(n);
  const receivedMs = new Float64Array(n);
  const eventIds: (string | null)[] = new Array<string | null>(n);
  let bytes = plan.bytes;
  if (bytes === undefined) {
    bytes = new RecordBytesBatch();
    for (const r of plan.records) bytes.add(utf8(r.sealed.canonical));
  }
  let count = 0;
  for (const r of plan.records) count += r.sealed.nodes.length;
  const nodes = new Uint8Array(count * 32);
  const nodeEnds = new Float64Array(n);
  let at = 0;
  // The records of a commit share their received_at, and Date.parse costs about 0.25 us.
  let lastAt = '';
  let lastMs = NaN;
  for (let i = 0; i < n; i++) {
    const { sealed, eventId } = plan.records[i]!;
    seqs[i] = sealed.seq;
    if (sealed.receivedAt !== lastAt) lastMs = Date.parse((lastAt = sealed.receivedAt));
    receivedMs[i] = lastMs;
    eventIds[i] = eventId;
    nodeEnds[i] = at = packRecordNodes(sealed.nodes, nodes, at);
  }
  return { seqs, receivedMs, eventIds, bodies: bytes.data, bodyEnds: Float64Array.from(bytes.ends), nodes, nodeEnds, head: plan.head };
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #path: string;
  readonly #busyTimeoutMs: number;
  readonly #reader: SqliteEngine;
  readonly #writer: ThreadClient;
  /** Per tenant, the newest append handed to the writer thread and not answered yet. */
  readonly #inFlight = new Map<string, InFlight>();
  #serial = 0;
  /**
   * Per tenant, the serial of the newest append in flight when one of the
   * tenant's appends failed or met a moved head: that one and every append
   * before it were built, directly or not, on what did not commit. A retry
   * waits for them to be answered instead of building on them, or two
   * retries would keep building on each other's stale heads.
   */
  readonly #staleUpTo = new Map<string, number>();
  /**
   * Per tenant, the head this store's newest committed append left. The next
   * append with none in flight builds on it rather than reading the head: a
   * read transaction less per commit on the event loop. If another process
   * appended meanwhile, the writer thread finds the head moved and answers
   * "conflict", the entry goes, and the append is built again on the head
   * read from the database, as after any conflict. (Every change of a head
   * appends records, so its size and last hash, which the writer checks,
   * name it whole.)
   */
  readonly #committed = new Map<string, HeadRow>();
  #closed = false;

  constructor(opts: SqliteStoreOptions) {
    this.#path = opts.path;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 10_000;
    this.#reader = new SqliteEngine(opts.path, this.#busyTimeoutMs);
    this.#writer = new ThreadClient({
      script: 'store/sqlite-writer.js',
      workerData: { path: this.#path, busyTimeoutMs: this.#busyTimeoutMs },
      stopped: (why) => new TrailsealError('STORE_UNAVAILABLE', `the SQLite writer thread stopped: ${why}`),
      revive,
    });
  }

  #call<T>(op: WriterOp, ...args: unknown[]): Promise<T> {
    return this.#post(op, args, []);
  }

  /** Sends a request to the writer thread, handing over (not copying) the `transfer` buffers. */
  #post<T>(op: WriterOp, args: unknown[], transfer: ArrayBuffer[]): Promise<T> {
    if (this.#closed) return Promise.reject(new TrailsealError('STORE_UNAVAILABLE', 'the store is closed'));
    return this.#writer.post<T>(op, args, transfer);
  }

  async migrate(): Promise<void> {
    await this.#call('migrate');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#writer.close('close');
    this.#closed = true;
    this.#reader.close();
  }

  async ping(): Promise<void> {
    this.#reader.ping();
  }

  async createTenant(tenant: TenantRow, plan: AppendPlan): Promise<void> {
    checkPlan({ size: 0, prevHash: '0'.repeat(64), range: [], macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: 0 }, plan);
    await this.#call('createTenant', tenant, writePlanOf(plan));
  }

  async getTenant(id: string): Promise<TenantRow | undefined> {
    return this.#reader.tenant(id);
  }

  async listTenants(): Promise<TenantRow[]> {
    return this.#reader.tenants();
  }

  async append(tenant: string, eventIds: readonly string[], build: AppendBuilder, handedOff?: () => void): Promise<AppendResult> {
    // Built first assuming none of the ids is stored, as a producer re-sends
    // rarely: looking them up on the event loop cost it 2.8% of its time with
    // one event per request (a read after every commit, on pages the writer
    // changed; bench/README.md, eighth session). The unique index refuses a
    // plan that stores an id again ('known'), and the append is built again
    // with the ids looked up.
    let lookUp = false;
    let refused = false;
    for (let attempt = 0; ; attempt++) {
      // The writer thread runs appends in the order they are posted, so one
      // built on the newest append in flight is written right after it: it
      // commits if that one did, and finds the head moved if not.
      let below = this.#inFlight.get(tenant);
      // Not on an append that is bound to fail (see #staleUpTo); and a
      // re-sent id of an append in flight gets its receipt from the store
      // once that append is answered (rare: a client retrying early).
      while (below !== undefined) {
        const holds = holdsAny(below, eventIds);
        if (!holds && below.serial > (this.#staleUpTo.get(tenant) ?? -1)) break;
        // Once it is answered, the ids it held are stored: look them up.
        if (holds) lookUp = true;
        await below.answered;
        below = this.#inFlight.get(tenant);
      }
      const head = below?.head ?? this.#committed.get(tenant) ?? this.#reader.head(tenant);
      if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
      const { packed, result } = this.#plan(tenant, head, lookUp ? this.#reader.known(tenant, eventIds) : NONE_KNOWN, build);
      let answer!: () => void;
      const mine: InFlight = { serial: ++this.#serial, head: result.head, ids: new Set(eventIds), answered: new Promise<void>((r) => (answer = r)), below };
      this.#inFlight.set(tenant, mine);
      // Built again after the index refused an id: a builder that stores an
      // id again whatever it is told would be refused again, so no append is
      // built on this one until it is answered.
      if (refused) this.#staleUpTo.set(tenant, mine.serial);
      let outcome: AppendOutcome = 'conflict';
      try {
        // The batch's buffers are the plan's alone: they move to the writer thread.
        const posted = this.#post<AppendReply>('append', [tenant, { size: head.size, prevHash: head.prevHash }, packed, lookUp], [packed.bodies.buffer as ArrayBuffer, packed.nodes.buffer as ArrayBuffer]);
        handedOff?.();
        const reply = await posted;
        outcome = reply.outcome;
        RecordBytesBatch.recycle(reply.spare);
      } finally {
        mine.below = undefined;
        if (this.#inFlight.get(tenant) === mine) this.#inFlight.delete(tenant);
        // Appends commit in the order they were posted: the newest commit leaves the stored head.
        if (outcome === 'committed') this.#committed.set(tenant, result.head);
        else {
          this.#committed.delete(tenant);
          // The appends built on this one are bound to fail as well.
          this.#staleUpTo.set(tenant, this.#serial);
        }
        answer();
      }
      if (outcome === 'committed') return result;
      if (outcome === 'known') lookUp = refused = true;
      if (attempt >= MAX_CONFLICTS) {
        throw new TrailsealError('STORE_UNAVAILABLE', `tenant ${tenant}: the head moved under ${MAX_CONFLICTS} attempts in a row (other writers on this database)`);
      }
    }
  }

  /**
   * Builds and packs an append. Synchronous, so that the plan is not a local
   * of append() and nothing holds it while the writer thread commits: the
   * sealed records held through the commit survived young-generation
   * collections, and garbage collection took 16.5% of the event loop with
   * them held (four 1000-event bodies queued) and 13-14.5% without.
   */
  #plan(tenant: string, head: HeadRow, known: ReadonlyMap<string, ReceiptRow>, build: AppendBuilder): { packed: WritePlan; result: AppendResult } {
    const plan = build(head, known);
    checkPlan(head, plan);
    return { packed: writePlanOf(plan), result: { head: plan.head, records: plan.records.length } };
  }

  /** The database's page size in bytes (SQLITE_PAGE_SIZE for one this build created). */
  pageSize(): number {
    return this.#reader.pageSize();
  }

  async getHead(tenant: string): Promise<HeadRow | undefined> {
    return this.#reader.head(tenant);
  }

  async getRecord(tenant: string, seq: number): Promise<StoredRecord | undefined> {
    return this.#reader.record(tenant, seq);
  }

  async listRecords(tenant: string, q: RecordQuery): Promise<StoredRecord[]> {
    return this.#reader.records(tenant, q.fromSeq, q.toSeq ?? Number.MAX_SAFE_INTEGER, q.limit);
  }

  async seqAtTime(tenant: string, ms: number): Promise<number> {
    return this.#reader.seqAtTime(tenant, ms);
  }

  async getNodes(tenant: string, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    const hashes = this.#reader.nodes(tenant, ids);
    return ids.map(({ level, index }, i) => {
      const h = hashes[i];
      if (h === undefined) throw nodeMissing(tenant, level, index);
      return h;
    });
  }

  async putCheckpoint(tenant: string, cp: CheckpointRow): Promise<void> {
    await this.#call('putCheckpoint', tenant, cp);
  }

  async latestCheckpoint(tenant: string): Promise<CheckpointRow | undefined> {
    return this.#reader.latestCheckpoint(tenant);
  }

  async checkpointAt(tenant: string, size: number): Promise<CheckpointRow | undefined> {
    return this.#reader.checkpointAt(tenant, size);
  }

  async putApiKey(key: ApiKeyRow): Promise<void> {
    await this.#call('putApiKey', key);
  }

  async putFirstOperatorKey(key: ApiKeyRow): Promise<boolean> {
    return this.#call<boolean>('putFirstOperatorKey', key);
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    return this.#reader.apiKey(id);
  }

  async listApiKeys(tenant: string | null): Promise<ApiKeyRow[]> {
    return this.#reader.apiKeys(tenant);
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    return this.#call<boolean>('revokeApiKey', id, at);
  }

  async putSink(sink: SinkRow): Promise<void> {
    await this.#call('putSink', sink);
  }

  async getSink(id: string): Promise<SinkRow | undefined> {
    return this.#reader.sink(id);
  }

  async listSinks(tenant: string | null): Promise<SinkRow[]> {
    return this.#reader.sinks(tenant);
  }

  async patchSink(id: string, patch: SinkPatch): Promise<boolean> {
    return this.#call<boolean>('patchSink', id, patch);
  }

  async deleteSink(id: string): Promise<boolean> {
    return this.#call<boolean>('deleteSink', id);
  }

  async leaseSink(id: string, owner: string, nowMs: number, ttlMs: number): Promise<boolean> {
    return this.#call<boolean>('leaseSink', id, owner, nowMs, ttlMs);
  }

  async releaseSink(id: string, owner: string): Promise<void> {
    await this.#call('releaseSink', id, owner);
  }
}
