// The delivery engine (docs/streaming.md): one runner per active sink, each
// with a durable cursor (the next seq to deliver, stored with the sink). A
// runner reads committed records from the store in seq order, keeps those
// the sink's filter matches, and hands them to the sink's transport in
// batches; only when the receiver acknowledges a batch does the cursor move
// past it. Delivery is therefore at least once, in seq order per sink; a
// receiver dedupes by event id (or tenant and seq).
//
// Runners are woken by the writer as soon as records commit (in process) and
// poll the store as a fallback (another process appended). A failing sink
// retries with exponential backoff and full jitter; after `pauseAfterMs` of
// failures it is paused and a `trailseal.sink.paused` record is written to
// the tenant's log. Runners share nothing but the store: a slow or failing
// sink holds back neither ingest nor another sink.
import { TrailsealError, filterFacts, filterMatches, leafHash, toHex, type EventFilter, type LogRecord } from '@trailseal/format';
import type { Store, SinkRow } from '../store/types.js';

/** What a runner hands a transport: the records of one batch, in seq order, with what a receiver needs to verify them. */
export interface DeliveryBatch {
  readonly sink: SinkRow;
  readonly origin: string;
  readonly records: readonly { readonly seq: number; readonly canonical: string; readonly record: LogRecord; readonly leafHash: string }[];
}

export interface Heartbeat {
  readonly sink: SinkRow;
  readonly origin: string;
  readonly size: number;
  /** The latest signed checkpoint (c2sp.org/tlog-checkpoint note). */
  readonly checkpoint: string;
}

/** Sends to one kind of receiver. Resolves when the receiver acknowledged; rejects with the reason otherwise. */
export interface Transport {
  deliver(batch: DeliveryBatch): Promise<void>;
  heartbeat(beat: Heartbeat): Promise<void>;
  /** Releases connections; called once when the runner stops (sink paused, deleted, or the service stopping). */
  close?(): Promise<void>;
}

export interface EngineOptions {
  /** Records per batch at most. */
  readonly batchMax?: number;
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  /** Failing this long pauses the sink and writes an alert record. */
  readonly pauseAfterMs?: number;
  /** A signed checkpoint is delivered this often while a sink is caught up (0: never). */
  readonly heartbeatMs?: number;
  /** How often runners look at the store without being woken (records appended by another process). */
  readonly pollMs?: number;
  /**
   * How long a process's claim to deliver a sink lasts unrenewed: when it
   * dies, another takes the sink over after at most this long.
   */
  readonly leaseMs?: number;
  readonly now?: () => number;
}

export interface EngineHooks {
  readonly store: Store;
  /** The transport for a sink (it may unwrap the sink's secret). */
  transport(sink: SinkRow): Promise<Transport>;
  origin(tenant: string): string;
  /** Writes a service record to the tenant's log (sink paused after an outage). */
  alert(tenant: string, action: string, log: Record<string, unknown>): Promise<void>;
  /** Background failures (store errors) for the operator's log. */
  reportError(message: string, err: unknown): void;
  readonly metrics?: {
    delivered(sink: SinkRow, n: number): void;
    failed(sink: SinkRow): void;
  };
}

export interface SinkHealth {
  readonly state: SinkRow['state'];
  /** Committed records not yet delivered (or skipped by the filter). */
  readonly lag: number;
  readonly cursor: number;
  readonly lastDeliveredSeq: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly failingSince: string | null;
  readonly pausedReason: string | null;
}

const DEFAULTS = { batchMax: 500, retryBaseMs: 200, retryMaxMs: 30_000, pauseAfterMs: 15 * 60_000, heartbeatMs: 10_000, pollMs: 1000, leaseMs: 15_000 };

export class DeliveryEngine {
  readonly #hooks: EngineHooks;
  readonly #o: typeof DEFAULTS & { now: () => number };
  readonly #runners = new Map<string, SinkRunner>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #unsubscribe: (() => Promise<void>) | undefined;
  #stopped = false;
  /** This process, as a holder of sink leases. */
  readonly owner = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

  constructor(hooks: EngineHooks, opts: EngineOptions = {}) {
    this.#hooks = hooks;
    this.#o = { ...DEFAULTS, ...opts, now: opts.now ?? Date.now };
  }

  /**
   * Starts a runner for every active sink, the poll that picks up changes
   * made elsewhere, and (where the store can) the subscription to commits of
   * other processes.
   */
  async start(): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => void this.sync().catch((e: unknown) => this.#hooks.reportError('sink sync failed', e)), this.#o.pollMs);
    this.#timer.unref();
    this.#unsubscribe = await this.#hooks.store.subscribeCommits?.((tenant) => this.notify(tenant)).catch((e: unknown) => {
      this.#hooks.reportError('listening for commits failed; runners poll instead', e);
      return undefined;
    });
  }

  /** Reconciles runners with the stored sinks (created, changed, paused, deleted) and wakes them all. */
  async sync(): Promise<void> {
    if (this.#stopped) return;
    const sinks = await this.#hooks.store.listSinks(null);
    const seen = new Set<string>();
    for (const s of sinks) {
      seen.add(s.id);
      const r = this.#runners.get(s.id);
      if (s.state !== 'active') {
        if (r !== undefined) await this.#drop(s.id);
      } else if (r === undefined) {
        this.#runners.set(s.id, new SinkRunner(s, this.#hooks, this.#o, this.owner));
      } else {
        r.update(s);
      }
    }
    for (const id of [...this.#runners.keys()]) if (!seen.has(id)) await this.#drop(id);
    for (const r of this.#runners.values()) r.wake();
  }

  /** Delivers a sink's records again from `seq` (the store's cursor is moved by its runner, or here when none runs). */
  async replay(sinkId: string, seq: number): Promise<void> {
    const r = this.#runners.get(sinkId);
    if (r !== undefined) r.replay(seq);
    else await this.#hooks.store.patchSink(sinkId, { cursor: seq });
  }

  /** Called when records of `tenant` committed in this process. */
  notify(tenant: string): void {
    for (const r of this.#runners.values()) if (r.tenant === tenant) r.wake();
  }

  /** Health of a sink as this process sees it (runner state when it runs the sink, the stored row otherwise). */
  async health(sink: SinkRow): Promise<SinkHealth> {
    const head = await this.#hooks.store.getHead(sink.tenant);
    const r = this.#runners.get(sink.id);
    const cursor = r?.cursor ?? sink.cursor;
    return {
      state: sink.state,
      lag: Math.max(0, (head?.size ?? 0) - cursor),
      cursor,
      lastDeliveredSeq: r?.lastDeliveredSeq ?? null,
      // A running runner knows better than the stored row, which it updates after the fact.
      lastError: r !== undefined ? r.lastError : sink.lastError,
      lastErrorAt: r !== undefined ? r.lastErrorAt : sink.lastErrorAt,
      failingSince: r?.failingSince === undefined ? null : new Date(r.failingSince).toISOString(),
      pausedReason: sink.pausedReason,
    };
  }

  /** Lag of every sink this process runs, for /metrics. */
  lags(): { tenant: string; sink: string; lag: number; lastDeliveredSeq: number | null; failing: boolean }[] {
    return [...this.#runners.values()].map((r) => ({ tenant: r.tenant, sink: r.id, lag: r.lag, lastDeliveredSeq: r.lastDeliveredSeq, failing: r.failingSince !== undefined }));
  }

  async #drop(id: string): Promise<void> {
    const r = this.#runners.get(id);
    this.#runners.delete(id);
    await r?.stop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#unsubscribe?.().catch(() => undefined);
    await Promise.all([...this.#runners.keys()].map((id) => this.#drop(id)));
  }
}

type Options = typeof DEFAULTS & { now: () => number };

function parseFilter(json: string): EventFilter | undefined {
  const f = JSON.parse(json) as EventFilter;
  return Object.keys(f).length === 0 ? undefined : f;
}

class SinkRunner {
  #sink: SinkRow;
  #filter: EventFilter | undefined;
  readonly #hooks: EngineHooks;
  readonly #o: Options;
  #wake: (() => void) | undefined;
  #woken = false;
  #stopping = false;
  readonly #done: Promise<void>;
  cursor: number;
  lag = 0;
  lastDeliveredSeq: number | null = null;
  lastError: string | null = null;
  lastErrorAt: string | null = null;
  failingSince: number | undefined;
  #lastBeat = 0;
  /** A replay asked for while a batch may be in flight: applied before the next step. */
  #replayTo: number | undefined;

  readonly #owner: string;
  /** Until when this process holds the sink's lease (0: not held). */
  #leaseUntil = 0;

  constructor(sink: SinkRow, hooks: EngineHooks, o: Options, owner: string) {
    this.#owner = owner;
    this.#sink = sink;
    this.#filter = parseFilter(sink.filter);
    this.#hooks = hooks;
    this.#o = o;
    this.cursor = sink.cursor;
    this.#done = this.#run();
  }

  get id(): string {
    return this.#sink.id;
  }

  get tenant(): string {
    return this.#sink.tenant;
  }

  /** The stored row changed (name, filter, format, error fields). The cursor is the runner's own, but for replay(). */
  update(s: SinkRow): void {
    this.#sink = { ...s, cursor: this.cursor };
    this.#filter = parseFilter(s.filter);
  }

  /** Delivers again from `seq`, once the batch in flight (if any) is done. */
  replay(seq: number): void {
    this.#replayTo = seq;
    this.wake();
  }

  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#done;
  }

  #sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve();
      };
      timer = setTimeout(done, ms);
      timer.unref();
      this.#wake = done;
    });
  }

  async #run(): Promise<void> {
    let transport: Transport | undefined;
    try {
      await this.#loop((t) => (transport = t));
    } finally {
      await transport?.close?.().catch((e: unknown) => this.#hooks.reportError(`sink ${this.#sink.id}: closing its transport failed`, e));
      if (this.#leaseUntil > 0) await this.#hooks.store.releaseSink(this.#sink.id, this.#owner).catch(() => undefined);
    }
  }

  /**
   * Holds the sink's lease, renewing it when a third of it is left: one
   * process delivers a sink at a time, so its order holds across processes.
   * False while another process holds it.
   */
  async #lease(): Promise<boolean> {
    const now = this.#o.now();
    if (this.#leaseUntil - now > this.#o.leaseMs / 3) return true;
    const held = await this.#hooks.store.leaseSink(this.#sink.id, this.#owner, now, this.#o.leaseMs);
    this.#leaseUntil = held ? now + this.#o.leaseMs : 0;
    return held;
  }

  async #loop(opened: (t: Transport) => void): Promise<void> {
    let transport: Transport | undefined;
    let attempt = 0;
    while (!this.#stopping) {
      try {
        if (!(await this.#lease())) {
          // Another process delivers this sink; take over if it stops renewing.
          await this.#sleep(Math.min(this.#o.pollMs, this.#o.leaseMs / 3));
          continue;
        }
        if (transport === undefined) {
          transport = await this.#hooks.transport(this.#sink);
          opened(transport);
        }
        await this.#beat(transport);
        const progressed = await this.#step(transport);
        if (this.failingSince !== undefined) await this.#recovered();
        attempt = 0;
        if (!progressed) await this.#sleep(this.#o.heartbeatMs > 0 ? Math.min(this.#o.pollMs, this.#o.heartbeatMs) : this.#o.pollMs);
      } catch (e) {
        if (this.#stopping) break;
        const paused = await this.#failed(e);
        if (paused) return;
        // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter").
        const cap = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(attempt++, 20));
        await this.#sleep(Math.random() * cap);
      }
    }
  }

  /** Delivers the next batch (or a heartbeat); false when there was nothing to do. */
  async #step(transport: Transport): Promise<boolean> {
    const s = this.#sink;
    if (this.#replayTo !== undefined) {
      const to = this.#replayTo;
      this.#replayTo = undefined;
      await this.#hooks.store.patchSink(s.id, { cursor: to });
      this.cursor = to;
    }
    const head = await this.#hooks.store.getHead(s.tenant);
    const size = head?.size ?? 0;
    this.lag = Math.max(0, size - this.cursor);
    if (this.cursor >= size) return false;
    const rows = await this.#hooks.store.listRecords(s.tenant, { fromSeq: this.cursor, toSeq: size, limit: this.#o.batchMax });
    if (rows.length === 0) return false;
    const picked = [];
    for (const r of rows) {
      const record = JSON.parse(r.canonical) as LogRecord;
      if (this.#filter !== undefined && !filterMatches(this.#filter, filterFacts(record as unknown as Record<string, unknown>))) continue;
      picked.push({ seq: r.seq, canonical: r.canonical, record, leafHash: toHex(leafHash(r.canonical)) });
    }
    const next = rows[rows.length - 1]!.seq + 1;
    if (picked.length > 0) {
      await transport.deliver({ sink: s, origin: this.#hooks.origin(s.tenant), records: picked });
      this.lastDeliveredSeq = picked[picked.length - 1]!.seq;
      this.#hooks.metrics?.delivered(s, picked.length);
    }
    // Acknowledged (or filtered out): the cursor moves past the batch, durably
    // (unless a replay was asked for meanwhile: the next step applies it).
    if (this.#replayTo !== undefined) return true;
    if (!(await this.#hooks.store.patchSink(s.id, { cursor: next }))) {
      // The sink was deleted.
      this.#stopping = true;
      return false;
    }
    this.cursor = next;
    this.lag = Math.max(0, size - next);
    return true;
  }

  /**
   * The latest signed checkpoint, every heartbeatMs, in line with the
   * records: a receiver verifies what it holds once it holds the records
   * below the checkpoint's size (they may still be on their way).
   */
  async #beat(transport: Transport): Promise<void> {
    if (this.#o.heartbeatMs <= 0) return;
    const now = this.#o.now();
    if (now - this.#lastBeat < this.#o.heartbeatMs) return;
    const cp = await this.#hooks.store.latestCheckpoint(this.#sink.tenant);
    if (cp === undefined) return;
    await transport.heartbeat({ sink: this.#sink, origin: this.#hooks.origin(this.#sink.tenant), size: cp.size, checkpoint: cp.note });
    this.#lastBeat = now;
  }

  /** Records a failure; pauses the sink (true) once it has failed for pauseAfterMs. */
  async #failed(e: unknown): Promise<boolean> {
    const now = this.#o.now();
    this.failingSince ??= now;
    this.lastError = e instanceof Error ? e.message.slice(0, 500) : String(e).slice(0, 500);
    this.lastErrorAt = new Date(now).toISOString();
    this.#hooks.metrics?.failed(this.#sink);
    try {
      await this.#hooks.store.patchSink(this.#sink.id, { lastError: this.lastError, lastErrorAt: this.lastErrorAt });
      if (now - this.failingSince < this.#o.pauseAfterMs) return false;
      const reason = `failing since ${new Date(this.failingSince).toISOString()}: ${this.lastError}`;
      // The alert record is committed before the sink shows as paused: whoever
      // sees the pause finds it in the log. Should the state change then fail,
      // the next failure pauses again and writes a second alert: a pause is
      // recorded at least once, never silently.
      await this.#hooks.alert(this.#sink.tenant, 'trailseal.sink.paused', { type: 'sink', sink_id: this.#sink.id, name: this.#sink.name, reason: reason.slice(0, 256), cursor: this.cursor });
      await this.#hooks.store.patchSink(this.#sink.id, { state: 'paused', pausedReason: reason });
      this.#stopping = true;
      return true;
    } catch (err) {
      if (!(err instanceof TrailsealError)) throw err;
      this.#hooks.reportError(`sink ${this.#sink.id}: recording a delivery failure failed`, err);
      return false;
    }
  }

  async #recovered(): Promise<void> {
    this.failingSince = undefined;
    this.lastError = null;
    this.lastErrorAt = null;
    await this.#hooks.store.patchSink(this.#sink.id, { lastError: null, lastErrorAt: null });
  }
}
