// Preparing POST /v1/events bodies (strict parse, validation of every event,
// canonical parts) on ingest threads. The event loop sequences and seals every
// tenant's log and cannot be split; the preparation of a body needs nothing
// but the body, so large bodies are prepared beside it, on other cores. Small
// bodies stay on the event loop: a thread's round trip costs the event loop
// 13-21 us for bodies of up to 40 events, against about 11 us per event
// prepared in place, and the thread's own work comes on top of that
// (bench/ingest.ts; docs/operations.md, "Throughput and memory").
//
// A prepared body crosses back as one string and the ends of its pieces: one
// copy, instead of a structured clone of thousands of small strings.
import { EVENT_RUN_COUNT, TrailsealError, type EventParts } from '@trailseal/format';
import { ThreadClient, reviveTrailsealError } from '../thread.js';
import { prepareEvents, type BodyKind, type BodyLimits } from './body.js';

/** Bodies smaller than this are prepared on the event loop: about a dozen typical events (bench/ingest.ts: 12 are 15 KiB). */
export const THREAD_MIN_BYTES = 16 * 1024;

/** A prepared body as it crosses threads: per event, its id and then its runs, end to end in `text`. */
export interface PackedEvents {
  readonly text: string;
  /** The end offset in `text` of every piece: (1 + EVENT_RUN_COUNT) per event. */
  readonly ends: Uint32Array;
}

const PIECES = 1 + EVENT_RUN_COUNT;

export function packEvents(events: readonly EventParts[]): PackedEvents {
  const ends = new Uint32Array(events.length * PIECES);
  // Concatenated, not joined: the message copies the text once, flattening it
  // as it goes, and a join would flatten every piece first (0.6-0.8 us less per
  // event with the copy included, measured on 1000-event bodies).
  let text = '';
  let k = 0;
  for (const e of events) {
    text += e.id;
    ends[k++] = text.length;
    for (const r of e.runs) {
      text += r;
      ends[k++] = text.length;
    }
  }
  return { text, ends };
}

export function unpackEvents(p: PackedEvents): EventParts[] {
  const n = p.ends.length / PIECES;
  if (!Number.isInteger(n) || (n > 0 && p.ends[p.ends.length - 1] !== p.text.length)) {
    throw new TrailsealError('INTERNAL', `a prepared body of ${p.text.length} characters does not match its ${p.ends.length} ends`);
  }
  const events: EventParts[] = new Array<EventParts>(n);
  let at = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const id = p.text.slice(at, (at = p.ends[k++]!));
    const runs: string[] = new Array<string>(EVENT_RUN_COUNT);
    for (let r = 0; r < EVENT_RUN_COUNT; r++) runs[r] = p.text.slice(at, (at = p.ends[k++]!));
    events[i] = { id, runs };
  }
  return events;
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
    // threads stay bounded.
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

  /** Parses and checks a body; resolves with its events in canonical parts, or rejects as prepareEvents throws. */
  async prepare(bytes: Uint8Array, kind: BodyKind): Promise<EventParts[]> {
    if (this.#threads.length === 0 || bytes.length < this.#minBytes || this.#pendingBytes + bytes.length > this.#maxPendingBytes) {
      this.prepared.eventLoop++;
      return prepareEvents(bytes, kind, this.#limits);
    }
    this.prepared.thread++;
    let thread = this.#threads[0]!;
    for (const t of this.#threads) if (t.pending < thread.pending) thread = t;
    // A copy the thread owns, handed over: Fastify's Buffer may be a view of
    // memory it shares (Buffer#slice would be another view, not a copy).
    const own = new Uint8Array(bytes);
    const size = own.length;
    this.#pendingBytes += size;
    try {
      return unpackEvents(await thread.post<PackedEvents>('prepare', [own, kind], [own.buffer]));
    } finally {
      this.#pendingBytes -= size;
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.close()));
  }
}
