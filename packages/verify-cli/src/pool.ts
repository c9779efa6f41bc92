// Verifies a bundle directory on every core: the main thread reads
// events.jsonl once, in order, hashing it (the manifest digest) and cutting
// it into chunks of whole lines; worker threads verify the chunks as
// segments; the segments are joined in order by finishBundle. Memory is
// bounded by the chunks in flight (two per worker), whatever the file size.
import { closeSync, openSync, readSync, fstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { toBase64 } from '@trailseal/format';
import {
  EventsDigest,
  FilteredVerifier,
  LineSplitter,
  SegmentVerifier,
  bundleSegmentOptions,
  finishBundle,
  segmentFromData,
  type BundleReport,
  type OpenedBundle,
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

function workerUrl(): URL {
  // Under the test runner this module is TypeScript; workers run the build.
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../dist/worker.js', here) : new URL('./worker.js', here);
}

function countLines(b: Uint8Array): number {
  let n = 0;
  for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, i + 1)) n++;
  return n;
}

/**
 * Reads `path` in chunks that end at a line feed (the last may not), calling
 * `each` in order. Each chunk starts at offset 0 of a buffer nobody else uses.
 */
async function readChunks(path: string, chunkBytes: number, digest: EventsDigest, each: (chunk: Uint8Array) => Promise<void>, progress?: PoolOptions['progress']): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    let carry = new Uint8Array(0);
    let done = 0;
    for (;;) {
      // A fresh buffer per chunk: it is transferred to a worker, not copied.
      const buf = new Uint8Array(carry.length + chunkBytes);
      buf.set(carry, 0);
      const n = readSync(fd, buf, carry.length, chunkBytes, null);
      if (n === 0) {
        if (carry.length > 0) await each(carry);
        break;
      }
      digest.update(buf.subarray(carry.length, carry.length + n));
      done += n;
      progress?.(done, size);
      const data = buf.subarray(0, carry.length + n);
      const last = data.lastIndexOf(LF);
      if (last < 0) {
        carry = data.slice();
        continue;
      }
      carry = data.slice(last + 1);
      await each(data.subarray(0, last + 1));
    }
  } finally {
    closeSync(fd);
  }
}

/** Verifies the events file of an opened bundle and finishes the report. */
export async function verifyEventsFile(opened: OpenedBundle, eventsPath: string, opts: PoolOptions = {}): Promise<BundleReport> {
  const digest = new EventsDigest();
  const chunkBytes = opts.chunkBytes ?? 4 * 1024 * 1024;
  const m = opened.manifest;
  if (m === undefined || m.events.layout === 'records-with-proofs' || (opts.threads ?? availableParallelism()) === 0) {
    // Filtered exports carry a proof per record and are checked in order on this thread.
    const filtered = m?.events.layout === 'records-with-proofs' ? new FilteredVerifier(opened) : undefined;
    const segment = filtered === undefined ? new SegmentVerifier(bundleSegmentOptions(opened)) : undefined;
    const lines = new LineSplitter();
    const add = (l: string): void => (filtered ?? segment)!.add(l);
    await readChunks(eventsPath, chunkBytes, digest, async (c) => lines.push(c, add), opts.progress);
    lines.end(add);
    return finishBundle(opened, digest.result(), filtered !== undefined ? { kind: 'filtered', verifier: filtered } : { kind: 'segments', segments: [segment!.result()] });
  }

  const threads = Math.max(1, opts.threads ?? availableParallelism());
  const setup: WorkerSetup = { macKeys: opened.macKeys.map((k) => ({ id: k.id, key: toBase64(k.key) })) };
  const workers = Array.from({ length: threads }, () => new Worker(workerUrl(), { workerData: setup }));
  const inFlight = workers.map(() => 0);
  const results = new Map<number, SegmentResult>();
  const waiting: (() => void)[] = [];
  let failure: unknown;
  workers.forEach((w, i) => {
    w.on('message', (r: { id: number; segment: SegmentData }) => {
      results.set(r.id, segmentFromData(r.segment));
      inFlight[i]!--;
      waiting.shift()?.();
    });
    w.on('error', (e) => {
      failure = e;
      for (const wake of waiting.splice(0)) wake();
    });
  });
  let id = 0;
  let seq = m.events.first_seq ?? 0;
  let line = 1;
  try {
    await readChunks(
      eventsPath,
      chunkBytes,
      digest,
      async (chunk) => {
        // Two chunks per worker in flight keep every core busy and memory bounded.
        for (;;) {
          if (failure !== undefined) throw failure;
          const free = inFlight.findIndex((n) => n < 2);
          if (free >= 0) {
            const lines = countLines(chunk) + (chunk[chunk.length - 1] === LF ? 0 : 1);
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
