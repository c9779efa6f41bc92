// One tenant's sequencer: a queue of pending appends, drained by group
// commits. Jobs that arrive while a commit is running (or in the same turn of
// the event loop) are sealed together and written in one transaction, as
// Tessera batches entries before integrating them; on a store that pipelines
// (SQLite), the next batch is sealed while the last one commits. Receipts are
// handed out only after the store's commit returned: an acknowledged event is
// durable.
//
// The sealer (chain, MAC, tree state) is a cache of a head: the stored one,
// or the one an append in flight leaves. It is used only inside an
// AppendBuilder, which the store calls with the head the plan must extend and
// writes only if that head is the stored one when the plan's turn comes; it is
// rebuilt whenever it does not stand exactly on the head it is given (a failed
// commit, another process appended), so what it seals continues the head the
// store will check.
import { CompactRange, LOG_FIELDS, LogSealer, RecordBytesBatch, TrailsealError, canonicalize, deriveSigningSeed, joinEventParts, macKeyFor, newEd25519Signer, parseMacKeyId, preparedEvent, toHex, type PreparedEvents, type SealedRecord } from '@trailseal/format';
import type { AppendPlan, AppendResult, HeadRow, PlannedRecord, ReceiptRow, Store, TenantRow } from '../store/types.js';

export interface Receipt {
  readonly seq: number;
  /** hex SHA-256(0x00 || record bytes): the record's RFC 6962 leaf hash. */
  readonly leafHash: string;
  readonly receivedAt: string;
  /** Present when the event's id was stored before: this is the original receipt. */
  readonly duplicate?: true;
}

/** Builds service records with the sealer's systemEvent / rotate* methods; returns what it sealed. */
export type SystemMaker = (sealer: LogSealer, receivedAtMs: number, head: HeadRow) => { records: SealedRecord[]; signingRotated?: boolean };

type Job =
  | { kind: 'events'; events: PreparedEvents; resolve: (r: Receipt[]) => void; reject: (e: unknown) => void }
  | { kind: 'system'; make: SystemMaker; resolve: (r: Receipt[]) => void; reject: (e: unknown) => void }
  | { kind: 'checkpoint'; resolve: (r: { size: number; note: string }) => void; reject: (e: unknown) => void };

export interface WriterOptions {
  /** At most this many events per transaction. */
  readonly maxBatch: number;
  /** Extra wait before a commit to gather more jobs, in ms (0: the current turn of the event loop only). */
  readonly batchWindowMs: number;
  readonly now?: () => number;
}

export interface CommitStats {
  readonly events: number;
  readonly records: number;
  readonly ms: number;
}

export interface WriterHooks {
  /** Called after every successful commit. */
  committed(tenant: string, stats: CommitStats): void;
  /** Called with the number of events that left the queue (committed or failed). */
  dequeued(events: number): void;
}

export class TenantWriter {
  readonly tenant: TenantRow;
  readonly #store: Store;
  readonly #tenantKey: Uint8Array;
  readonly #opts: WriterOptions;
  readonly #hooks: WriterHooks;
  readonly #now: () => number;
  #sealer: LogSealer | undefined;
  #sealerSigningGeneration = 0;
  #queue: Job[] = [];
  #draining = false;
  #scheduled = false;
  /** Size of the newest checkpoint this writer stored. */
  lastCheckpointSize = -1;
  lastCheckpointAt = 0;
  /** Size after this writer's newest commit. */
  committedSize = 0;

  constructor(store: Store, tenant: TenantRow, tenantKey: Uint8Array, opts: WriterOptions, hooks: WriterHooks) {
    this.#store = store;
    this.tenant = tenant;
    this.#tenantKey = tenantKey;
    this.#opts = opts;
    this.#hooks = hooks;
    this.#now = opts.now ?? Date.now;
  }

  get queuedEvents(): number {
    let n = 0;
    for (const j of this.#queue) n += j.kind === 'events' ? j.events.ids.length : 1;
    return n;
  }

  /** The Ed25519 seed of a signing key generation (docs/spec/keys-and-mac.md). */
  signingSeed(generation: number): Uint8Array {
    return deriveSigningSeed(this.#tenantKey, generation);
  }

  /** The verifier key (note form) that signs checkpoints under a signing key generation. */
  verifierKeyAt(generation: number): string {
    return newEd25519Signer(this.tenant.origin, this.signingSeed(generation)).verifierKey;
  }

  /** The MAC epoch key a record names by its mac_key_id (docs/spec/keys-and-mac.md), for disclosure in an export. */
  macKeyById(id: string): Uint8Array {
    const { epoch, generation } = parseMacKeyId(id);
    const k = macKeyFor(this.#tenantKey, epoch, generation);
    if (k.id !== id) throw new TrailsealError('KEY_ID_MALFORMED', `${id} is not a MAC key of this tenant`);
    return k.key;
  }

  /** Appends validated producer events (prepared); resolves with one receipt per event, in order, after the commit. */
  append(events: PreparedEvents): Promise<Receipt[]> {
    return new Promise((resolve, reject) => this.#push({ kind: 'events', events, resolve, reject }));
  }

  /** Appends records the log writes about itself. */
  appendSystem(make: SystemMaker): Promise<Receipt[]> {
    return new Promise((resolve, reject) => this.#push({ kind: 'system', make, resolve, reject }));
  }

  /** Signs and stores a checkpoint of the committed head (the store's, which may be ahead of this process). */
  checkpoint(): Promise<{ size: number; note: string }> {
    return new Promise((resolve, reject) => this.#push({ kind: 'checkpoint', resolve, reject }));
  }

  #push(job: Job): void {
    this.#queue.push(job);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#draining || this.#scheduled) return;
    this.#scheduled = true;
    const run = (): void => {
      this.#scheduled = false;
      void this.#drain();
    };
    if (this.#opts.batchWindowMs > 0) setTimeout(run, this.#opts.batchWindowMs);
    else setImmediate(run);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    // The append before the one being built: at most two are with the store,
    // one committing while the next is sealed (a store that pipelines builds
    // the next on the head the previous leaves; Store.append).
    let previous: Promise<void> | undefined;
    try {
      while (this.#queue.length > 0) {
        const first = this.#queue[0]!;
        if (first.kind === 'checkpoint') {
          // A checkpoint signs the committed head: let every append land first.
          await previous;
          previous = undefined;
          this.#queue.shift();
          await this.#checkpoint(first);
          continue;
        }
        const batch = this.#takeBatch();
        let handedOff!: () => void;
        const withStore = new Promise<void>((r) => (handedOff = r));
        const committed = this.#commit(batch, handedOff);
        await Promise.race([withStore, committed]);
        await previous;
        previous = committed;
        // Let requests that arrived meanwhile join the next batch.
        if (this.#queue.length > 0) await new Promise<void>((r) => setImmediate(r));
      }
      await previous;
    } finally {
      this.#draining = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }

  #takeBatch(): Exclude<Job, { kind: 'checkpoint' }>[] {
    const batch: Exclude<Job, { kind: 'checkpoint' }>[] = [];
    let n = 0;
    while (this.#queue.length > 0) {
      const j = this.#queue[0]!;
      if (j.kind === 'checkpoint') break;
      const size = j.kind === 'events' ? j.events.ids.length : 1;
      if (batch.length > 0 && n + size > this.#opts.maxBatch) break;
      this.#queue.shift();
      batch.push(j);
      n += size;
    }
    return batch;
  }

  /**
   * The sealer for `head` (the stored head, or the head an append in flight
   * leaves), reusing the cached one when it stands exactly there: the same
   * size and last record hash (so the same chain and tree), key generations.
   */
  #sealerFor(head: HeadRow): LogSealer {
    const s = this.#sealer;
    if (s !== undefined && this.#sealerSigningGeneration === head.signingGeneration) {
      const st = s.state;
      if (st.size === head.size && st.prevHash === head.prevHash && st.macGeneration === head.macGeneration) return s;
    }
    const sealer = new LogSealer({
      tenant: this.tenant.id,
      origin: this.tenant.origin,
      tenantKey: this.#tenantKey,
      signingSeed: this.signingSeed(head.signingGeneration),
      state: { size: head.size, prevHash: head.prevHash, range: new CompactRange(0, head.size, head.range), macGeneration: head.macGeneration },
    });
    this.#sealer = sealer;
    this.#sealerSigningGeneration = head.signingGeneration;
    return sealer;
  }

  /** Appends a batch and settles its jobs; never rejects. `handedOff`: see Store.append. */
  async #commit(batch: Exclude<Job, { kind: 'checkpoint' }>[], handedOff: () => void): Promise<void> {
    const started = performance.now();
    const ids: string[] = [];
    let events = 0;
    for (const j of batch) {
      if (j.kind !== 'events') continue;
      events += j.events.ids.length;
      for (const id of j.events.ids) ids.push(id);
    }
    const receipts: Receipt[][] = [];
    const refused = new Map<number, TrailsealError>();
    let done: AppendResult;
    try {
      done = await this.#store.append(this.tenant.id, ids, (head, known) => this.#build(head, known, batch, receipts, refused), handedOff);
    } catch (e) {
      // The sealer may hold records that were not committed.
      this.#sealer = undefined;
      this.#hooks.dequeued(events);
      for (const j of batch) j.reject(e);
      return;
    }
    this.committedSize = done.head.size;
    this.#hooks.dequeued(events);
    this.#hooks.committed(this.tenant.id, { events, records: done.records, ms: performance.now() - started });
    batch.forEach((j, i) => {
      const no = refused.get(i);
      if (no !== undefined) j.reject(no);
      else j.resolve(receipts[i]!);
    });
  }

  #build(head: HeadRow, known: ReadonlyMap<string, ReceiptRow>, batch: Exclude<Job, { kind: 'checkpoint' }>[], receipts: Receipt[][], refused: Map<number, TrailsealError>): AppendPlan {
    receipts.length = 0;
    refused.clear();
    const sealer = this.#sealerFor(head);
    // received_at never runs backwards, even if the clock does.
    const now = Math.max(this.#now(), head.lastReceivedAtMs);
    const records: PlannedRecord[] = [];
    // The bytes the sealer hashes are the bytes the store writes. Sized for
    // typical records (a rich event seals to about 1.5 KB; it grows if need
    // be), not for the largest: a commit of a few events should not allocate
    // and clear a large buffer.
    let expected = 0;
    for (const j of batch) expected += j.kind === 'events' ? j.events.ids.length : 2;
    const bytes = new RecordBytesBatch(2048 * expected);
    const fresh = new Map<string, { receipt: Receipt; events: PreparedEvents; index: number }>();
    let signingGeneration = head.signingGeneration;
    sealer.collectInto(bytes);
    try {
      batch.forEach((job, index) => {
        const out: Receipt[] = [];
        receipts.push(out);
        if (job.kind === 'system') {
          const made = job.make(sealer, now, head);
          for (const sealed of made.records) {
            records.push({ sealed, eventId: null });
            out.push(receiptOf(sealed));
          }
          if (made.signingRotated === true) signingGeneration++;
          return;
        }
        // A request is all or nothing: its ids are checked before any of its events is sealed.
        const conflict = idConflict(job.events, known, fresh);
        if (conflict !== undefined) {
          refused.set(index, conflict);
          return;
        }
        const evs = job.events;
        for (let i = 0; i < evs.ids.length; i++) {
          const id = evs.ids[i]!;
          const old = known.get(id);
          if (old !== undefined) {
            out.push({ seq: old.seq, leafHash: toHex(old.leafHash), receivedAt: old.receivedAt, duplicate: true });
            continue;
          }
          const again = fresh.get(id);
          if (again !== undefined) {
            out.push({ ...again.receipt, duplicate: true });
            continue;
          }
          const sealed = sealer.appendPrepared(evs, i, now);
          records.push({ sealed, eventId: id });
          const r = receiptOf(sealed);
          fresh.set(id, { receipt: r, events: evs, index: i });
          out.push(r);
        }
      });
    } finally {
      sealer.collectInto(undefined);
    }
    const st = sealer.state;
    this.#sealerSigningGeneration = signingGeneration;
    return {
      records,
      bytes,
      head: {
        size: st.size,
        prevHash: st.prevHash,
        range: st.range.hashes,
        macGeneration: st.macGeneration,
        signingGeneration,
        lastReceivedAtMs: records.length > 0 ? now : head.lastReceivedAtMs,
      },
    };
  }

  async #checkpoint(job: Extract<Job, { kind: 'checkpoint' }>): Promise<void> {
    try {
      const head = await this.#store.getHead(this.tenant.id);
      if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${this.tenant.id}`);
      let cp = await this.#store.checkpointAt(this.tenant.id, head.size);
      if (cp === undefined) {
        cp = { size: head.size, note: this.#sealerFor(head).checkpoint() };
        await this.#store.putCheckpoint(this.tenant.id, cp);
      }
      this.lastCheckpointSize = cp.size;
      this.lastCheckpointAt = this.#now();
      job.resolve(cp);
    } catch (e) {
      this.#sealer = undefined;
      job.reject(e);
    }
  }
}

const LOG_FIELD_NAMES: readonly string[] = LOG_FIELDS;

/** The producer's event inside a stored record: the record without the fields the log set. */
function storedEvent(record: string): string {
  const r = JSON.parse(record) as Record<string, unknown>;
  for (const f of LOG_FIELD_NAMES) Reflect.deleteProperty(r, f);
  return canonicalize(r);
}

/**
 * An id is the idempotency key: re-sending it with the same event returns the
 * original receipt, but an id stored (or earlier in the batch) with different
 * content is refused rather than answered with a receipt for another event.
 * Only re-sent ids pay for the comparison.
 */
function idConflict(events: PreparedEvents, known: ReadonlyMap<string, ReceiptRow>, fresh: ReadonlyMap<string, { events: PreparedEvents; index: number }>): TrailsealError | undefined {
  const inRequest = new Map<string, number>();
  const text = (p: PreparedEvents, i: number): string => joinEventParts(preparedEvent(p, i));
  const n = events.ids.length;
  for (let i = 0; i < n; i++) {
    const id = events.ids[i]!;
    const old = known.get(id);
    const here = inRequest.get(id);
    const before = here === undefined ? fresh.get(id) : undefined;
    const same =
      old !== undefined
        ? storedEvent(old.record) === text(events, i)
        : here !== undefined
          ? text(events, here) === text(events, i)
          : before !== undefined
            ? text(before.events, before.index) === text(events, i)
            : true;
    if (!same) {
      const where = old !== undefined ? `record ${old.seq}` : 'an earlier event of this batch';
      return new TrailsealError('IDEMPOTENCY_CONFLICT', `event id ${JSON.stringify(id)} is already used by ${where} with different content`, {
        field: n > 1 ? `[${i}].id` : 'id',
        ...(old !== undefined ? { seq: old.seq } : {}),
      });
    }
    if (here === undefined) inRequest.set(id, i);
  }
  return undefined;
}

function receiptOf(s: SealedRecord): Receipt {
  return { seq: s.seq, leafHash: toHex(s.leafHash), receivedAt: s.receivedAt };
}
