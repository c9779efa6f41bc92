// Verifies one slice of a records file (whole lines) as a segment: in a
// worker thread, posting the result back as plain data, or called directly
// on the main thread for the first slice.
import { isUtf8 } from 'node:buffer';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fromHex, type MacKey } from '@trailseal/format';
import { segmentToData, SegmentVerifier, type SegmentData } from '@trailseal/verify';
import { performance } from 'node:perf_hooks';

export interface VerifyJob {
  readonly bytes: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
  readonly firstSeq: number;
  readonly firstLine: number;
  readonly macKeys: readonly { id: string; keyHex: string }[];
}

/** Verifies the job's slice; a function (not module top level) so V8 optimizes the loop. */
export function verifyJob(job: VerifyJob): SegmentData {
  const macKeys: MacKey[] = job.macKeys.map((k) => ({ id: k.id, key: fromHex(k.keyHex) }));
  const v = new SegmentVerifier({ macKeys, firstSeq: job.firstSeq, firstLine: job.firstLine });
  // Check UTF-8 in bounded slices (SIMD), then decode line by line: one
  // string per record keeps ASCII records in V8's compact one-byte form,
  // where decoding a whole chunk with one non-ASCII character in it would
  // make every line a two-byte string (twice the memory, slower to hash).
  const SLICE = 4 * 1024 * 1024;
  const all = Buffer.from(job.bytes, job.start, job.end - job.start);
  let pos = 0;
  let decodeMs = 0;
  while (pos < all.length) {
    let cut = Math.min(pos + SLICE, all.length);
    if (cut < all.length) cut = all.indexOf(10, cut) + 1 || all.length;
    const t = performance.now();
    if (!isUtf8(all.subarray(pos, cut))) throw new Error(`bytes ${job.start + pos}..${job.start + cut} are not valid UTF-8`);
    decodeMs += performance.now() - t;
    for (let from = pos; from < cut; ) {
      let nl = all.indexOf(10, from);
      if (nl === -1 || nl >= cut) nl = cut;
      // The line's bytes too: hashed as they are and checked for control characters without a second encoding.
      v.add(all.toString('utf8', from, nl), all.subarray(from, nl));
      from = nl + 1;
    }
    pos = cut;
  }
  if (process.env['TRAILSEAL_BENCH_DEBUG']) console.error(`worker: decode ${decodeMs.toFixed(0)} ms`);
  return segmentToData(v.result());
}

// In a worker: verify the slice handed over and post the result back.
if (!isMainThread) parentPort!.postMessage(verifyJob(workerData as VerifyJob));
