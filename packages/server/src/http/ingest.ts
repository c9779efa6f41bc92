// Preparing POST /v1/events bodies (strict parse, validation of every event,
// canonical parts) on ingest threads. The event loop sequences and seals every
// tenant's log and cannot be split; the preparation of a body needs nothing
// but the body, so large bodies are prepared beside it, on other cores. Small
// bodies stay on the event loop: a thread's round trip costs the event loop
// about what preparing two or three events in place costs (31-57 us for
// bodies of up to 40 events, against 16-18 us per event, on a slow day of
// the two-core machine), and the thread's own work comes on top of that
// (bench/ingest.ts; docs/operations.md, "Throughput and memory").
//
// A prepared body crosses back as its two buffers, handed over (not copied),
// and its ids as one string.
import { EVENT_RUN_COUNT, TrailsealError, type PreparedEvents } from '@trailseal/format';
import { ThreadClient, reviveTrailsealError } from '../thread.js';
import { prepareEvents, type BodyKind, type BodyLimits } from './body.js';

/** Bodies smaller than this are prepared on the event loop: about a dozen typical events (bench/ingest.ts: 12 are 15 KiB). */
export const THREAD_MIN_BYTES = 16 * 1024;

/** Prepared events as they cross threads. */
export interface PackedEvents {
  /** The ids, separated by spaces: an id is printable ASCII without spaces (docs/spec/event-record.md). */
  readonly ids: string;
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
}

export function packEvents(events: PreparedEvents): PackedEvents {
  return { ids: events.ids.join(' '), data: events.data, ends: events.ends };
}

/** The buffers of a packed result, to hand over rather than copy. */
export function packedBuffers(p: PackedEvents): ArrayBuffer[] {
  const out = [p.data.buffer as ArrayBuffer];
  if (p.ends.buffer !== p.data.buffer) out.push(p.ends.buffer as ArrayBuffer);
  return out;
}

export function unpackEvents(p: PackedEvents): PreparedEvents {
  const ids = p.ids === '' ? [] : p.ids.split(' ');
  const n = p.ends.length;
  if (ids.length === 0 || n !== ids.length * EVENT_RUN_COUNT || p.ends[n - 1] !== p.data.length) {
    throw new TrailsealError('INTERNAL', `a prepared body of ${ids.length} ids does not match its ${n} run ends over ${p.data.length} bytes`);
  }
  return { ids, data: p.data, ends: p.ends };
}

/** Where bodies were prepared: the /metrics counter trailseal_ingest_bodies_total. */
export interface PreparedCounts {
  thread: number;
  eventLoop: number;
}

export class IngestThreads {
  readonly #threads: ThreadClient[];
  readonly #limits: BodyLimits;
  readonly #minBytes: number;
  /** Bytes of the bodies the threads hold, and the most they may hold. */
  #pendingBytes = 0;
  readonly #maxPendingBytes: number;
  readonly prepared: PreparedCounts = { thread: 0, eventLoop: 0 };

  /**
   * `count` threads (0: every body is prepared on the event loop), which start
   * on first use; bodies of at least `minBytes` go to them.
   */
  constructor(count: number, limits: BodyLimits, minBytes = THREAD_MIN_BYTES) {
    this.#limits = limits;
    this.#minBytes = minBytes;
    // Four of the largest bodies per thread. Beyond that the event loop
    // prepares bodies itself, as it did before threads: it then reads fewer
    // requests, which is the backpressure, and the copies handed to the
    // threads (each twice its body's size) stay bounded.
    this.#maxPendingBytes = 4 * limits.maxBytes * count;
    this.#threads = Array.from(
      { length: count },
      () =>
        new ThreadClient({
          script: 'http/ingest-thread.js',
          workerData: limits,
          stopped: (why) => new TrailsealError('INTERNAL', `an ingest thread stopped: ${why}; nothing of the request was stored, send it again`),
          revive: (e) => reviveTrailsealError(e) ?? new TrailsealError('INTERNAL', `ingest thread: ${e.message}`),
        }),
    );
  }

  /** Starts the threads, so that the first large body does not wait for one to boot. */
  start(): void {
    for (const t of this.#threads) t.start();
  }

  /** Parses and checks a body; resolves with its events prepared, or rejects as prepareEvents throws. */
  async prepare(bytes: Uint8Array, kind: BodyKind): Promise<PreparedEvents> {
    if (this.#threads.length === 0 || bytes.length < this.#minBytes || this.#pendingBytes + bytes.length > this.#maxPendingBytes) {
      this.prepared.eventLoop++;
      return prepareEvents(bytes, kind, this.#limits);
    }
    this.prepared.thread++;
    let thread = this.#threads[0]!;
    for (const t of this.#threads) if (t.pending < thread.pending) thread = t;
    // A copy the thread owns, handed over: Fastify's Buffer may be a view of
    // memory it shares (Buffer#slice would be another view, not a copy). It
    // is twice the body's size: the thread reads the body in place and
    // writes the events after it (readEventsInPlace), so the events come
    // back in the same buffer.
    const size = bytes.length;
    const own = new Uint8Array(2 * size);
    own.set(bytes);
    this.#pendingBytes += size;
    try {
      return unpackEvents(await thread.post<PackedEvents>('prepare', [own, size, kind], [own.buffer]));
    } finally {
      this.#pendingBytes -= size;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.close()));
  }
}
