// Verifies a bundle directory on every core: the main thread reads
// events.jsonl once, in order, hashing it (the manifest digest) and cutting
// it into chunks of whole lines; worker threads verify the chunks as
// segments; the segments are joined in order by finishBundle. Memory is
// bounded by the chunks in flight (two per worker), whatever the file size.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CompactRange, toBase64 } from '@trailseal/format';
import {
  EventsDigest,
  FilteredVerifier,
  LineSplitter,
  ProblemList,
  SegmentVerifier,
  bundleSegmentOptions,
  finishBundle,
  segmentFromData,
  type BundleEvents,
  type BundleReport,
  type OpenedBundle,
  type Problem,
  type SegmentData,
  type SegmentResult,
} from '@trailseal/verify';

export interface WorkerSetup {
  readonly macKeys: readonly { readonly id: string; readonly key: string }[];
}

export interface ChunkJob {
  readonly id: number;
  /** The chunk is bytes [0, length) of this buffer, transferred (not copied) to the worker. */
  readonly bytes: ArrayBuffer;
  readonly length: number;
  readonly firstSeq: number;
  readonly firstLine: number;
}

export interface PoolOptions {
  /** Worker threads (default: one per core). 0 verifies on the main thread. */
  readonly threads?: number;
  /** Bytes per chunk handed to a worker. */
  readonly chunkBytes?: number;
  /** Called as the file is read: bytes read so far and the file size. */
  readonly progress?: (done: number, total: number) => void;
}

const LF = 0x0a;
/** Problems kept for the report (all are counted). */
const PROBLEMS_KEPT = 1000;


function workerUrl(): URL {
  // Under the test runner this module is TypeScript; workers run the build.
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
}

function countLines(chunk: Uint8Array): number {
  // Buffer's indexOf is memchr; a plain Uint8Array's is a loop several times slower.
  const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  let n = 0;
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/** No record line comes near this (an event is at most 32 KiB): a longer line is hashed, not decoded. */
const MAX_LINE_BYTES = 1024 * 1024;

/** The chain and leaf hashes of a line too long to decode, fed in pieces. */
class LongLine {
  private readonly hash = createHash('sha256');
  private readonly leaf = createHash('sha256').update(Buffer.of(0));

  feed(part: Uint8Array): void {
    this.hash.update(part);
    this.leaf.update(part);
  }

  /** A one-line segment at `position` (its leaf index), reported as not a record. */
  segment(position: number, line: number): SegmentResult {
    const problems = new ProblemList();
    problems.add(longLineProblem(line));
    const range = new CompactRange(position, position, []);
    range.append(new Uint8Array(this.leaf.digest()));
    return {
      problems,
      count: 1,
      firstSeq: position,
      lastSeq: undefined,
      tenant: undefined,
      firstPrevHash: undefined,
      lastHash: this.hash.digest('hex'),
      range,
      systemRecords: [],
      macVerified: 0,
      macSkipped: 0,
      minReceivedAt: undefined,
      maxReceivedAt: undefined,
    };
  }
}

function longLineProblem(line: number): Problem {
  return { code: 'RECORD_INVALID', line, message: `line ${line} is longer than ${MAX_LINE_BYTES} bytes, more than any record can be; it was hashed, not read` };
}

/**
 * Reads `path` in chunks that end at a line feed (the last may not), calling
 * `each` in order. Each chunk starts at offset 0 of a buffer nobody else uses.
 * A line longer than MAX_LINE_BYTES is not handed on: it is hashed as it
 * streams past and given to `long` whole, so memory stays bounded.
 */
async function readChunks(
  path: string,
  chunkBytes: number,
  digest: EventsDigest,
  each: (chunk: Uint8Array, lines: number) => Promise<void>,
  long: (line: LongLine) => void,
  progress?: PoolOptions['progress'],
): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let carry = new Uint8Array(0);
    let skipping: LongLine | undefined;
    let done = 0;
    for (;;) {
      // A fresh buffer per chunk: it is transferred to a worker, not copied.
      const buf = new Uint8Array(carry.length + chunkBytes);
      buf.set(carry, 0);
      const n = readSync(fd, buf, carry.length, chunkBytes, null);
      if (n === 0) {
        if (skipping !== undefined) long(skipping);
        else if (carry.length > 0) await each(carry, 1);
        break;
      }
      // As a Buffer view, so that the digest's search for line feeds is memchr.
      const feedsBefore = digest.lineFeeds;
      digest.update(Buffer.from(buf.buffer, carry.length, n));
      done += n;
      progress?.(done, size);
      const data = buf.subarray(0, carry.length + n);
      if (skipping !== undefined) {
        const end = data.indexOf(LF);
        skipping.feed(end < 0 ? data : data.subarray(0, end));
        if (end < 0) {
          carry = new Uint8Array(0);
          continue;
        }
        long(skipping);
        skipping = undefined;
        // What follows the long line: its whole lines now, the rest as the carry.
        const rest = data.subarray(end + 1);
        const restLast = rest.lastIndexOf(LF);
        carry = rest.slice(restLast + 1);
        if (restLast >= 0) await each(rest.slice(0, restLast + 1), countLines(rest.subarray(0, restLast + 1)));
        continue;
      }
      const last = data.lastIndexOf(LF);
      if (last < 0) {
        if (data.length > MAX_LINE_BYTES) {
          skipping = new LongLine();
          skipping.feed(data);
          carry = new Uint8Array(0);
        } else carry = data.slice();
        continue;
      }
      carry = data.slice(last + 1);
      // The carry holds no line feed, so this chunk's lines are the ones the digest just counted.
      await each(data.subarray(0, last + 1), digest.lineFeeds - feedsBefore);
    }
  } finally {
    closeSync(fd);
  }
}

/** Verifies the events file of an opened bundle and finishes the report. */
export async function verifyEventsFile(opened: OpenedBundle, eventsPath: string, opts: PoolOptions = {}): Promise<BundleReport> {
  const digest = new EventsDigest();
  // Small chunks keep a worker's working set in its core's cache and the
  // memory in flight small (bench/bundle.ts: 256 KiB verified 1M records
  // faster than 4 MiB, in 160 MB instead of 450 MB).
  const chunkBytes = opts.chunkBytes ?? 256 * 1024;
  const m = opened.manifest;
  if (m === undefined || m.events.layout === 'records-with-proofs' || (opts.threads ?? availableParallelism()) === 0) {
    // Filtered exports carry a proof per record and are checked in order on this thread.
    const filtered = m?.events.layout === 'records-with-proofs' ? new FilteredVerifier(opened) : undefined;
    const options = bundleSegmentOptions(opened);
    const segments: SegmentResult[] = [];
    let segment = new SegmentVerifier(options);
    let lines = 0;
    const splitter = new LineSplitter();
    const add = (l: string, b?: Uint8Array): void => {
      lines++;
      if (filtered !== undefined) filtered.add(l);
      else segment.add(l, b);
    };
    await readChunks(
      eventsPath,
      chunkBytes,
      digest,
      async (c) => splitter.push(c, add),
      (long) => {
        lines++;
        if (filtered !== undefined) return filtered.skip(longLineProblem(lines).message);
        // The long line is a leaf of its own between two segments.
        const position = (m?.events.first_seq ?? 0) + lines - 1;
        segments.push(segment.result(), long.segment(position, lines));
        segment = new SegmentVerifier({ ...options, firstSeq: position + 1, firstLine: lines + 1, checkFirstSeq: false });
      },
      opts.progress,
    );
    splitter.end(add);
    segments.push(segment.result());
    const events: BundleEvents = filtered !== undefined ? { kind: 'filtered', verifier: filtered } : { kind: 'segments', segments };
    return finishBundle(opened, digest.result(), events);
  }

  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const setup: WorkerSetup = { macKeys: opened.macKeys.map((k) => ({ id: k.id, key: toBase64(k.key) })) };
  // A worker keeps almost nothing alive (one chunk, one segment's result, at
  // most PROBLEMS_KEPT problems): a capped old generation makes V8 collect
  // instead of growing, which keeps the process under 200 MB at any file size
  // (bench/bundle.ts, 1M records: 179-181 MB, against 190-205 MB uncapped
  // with the same 16 MiB nursery; a 4 MiB nursery used a little more CPU per
  // record in A/B runs).
  const resourceLimits = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 48 };
  const workers = Array.from({ length: threads }, () => new Worker(workerUrl(), { workerData: setup, resourceLimits }));
  const inFlight = workers.map(() => 0);
  const results = new Map<number, SegmentResult>();
  const waiting: (() => void)[] = [];
  let failure: unknown;
  workers.forEach((w, i) => {
    w.on('message', (r: { id: number; segment: SegmentData }) => {
      // Problems beyond the report's limit are counted, not kept: a file
      // corrupt everywhere must not fill memory with them.
      const items = r.segment.problems.items.slice(0, Math.max(0, PROBLEMS_KEPT - kept));
      kept += items.length;
      results.set(r.id, segmentFromData({ ...r.segment, problems: { items, total: r.segment.problems.total } }));
      inFlight[i]!--;
      waiting.shift()?.();
    });
    w.on('error', (e) => {
      failure = e;
      for (const wake of waiting.splice(0)) wake();
    });
  });
  let kept = 0;
  let id = 0;
  let seq = m.events.first_seq ?? 0;
  let line = 1;
  try {
    await readChunks(
      eventsPath,
      chunkBytes,
      digest,
      async (chunk, chunkLines) => {
        // Two chunks per worker in flight keep every core busy and memory bounded.
        for (;;) {
          if (failure !== undefined) throw failure;
          const free = inFlight.findIndex((n) => n < 2);
          if (free >= 0) {
            const lines = chunkLines;
            // Chunks start at offset 0 of a buffer of their own (readChunks), so the buffer can be transferred.
            const job: ChunkJob = { id: id++, bytes: chunk.buffer as ArrayBuffer, length: chunk.byteLength, firstSeq: seq, firstLine: line };
            inFlight[free]!++;
            workers[free]!.postMessage(job, [job.bytes]);
            seq += lines;
            line += lines;
            return;
          }
          await new Promise<void>((resolve) => waiting.push(resolve));
        }
      },
      (long) => {
        // In file order among the chunks: the long line is a leaf of its own.
        results.set(id++, long.segment(seq, line));
        seq++;
        line++;
      },
      opts.progress,
    );
    while (inFlight.some((n) => n > 0)) {
      if (failure !== undefined) throw failure;
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const segments = Array.from({ length: id }, (_, i) => results.get(i)!);
  return finishBundle(opened, digest.result(), { kind: 'segments', segments });
}
