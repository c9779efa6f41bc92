// Worker for bench/verify.ts: verifies one slice of a records file (whole
// lines) as a segment and posts the result back as plain data.
import { parentPort, workerData } from 'node:worker_threads';
import { fromHex, type MacKey } from '@trailseal/format';
import { segmentToData, SegmentVerifier } from '@trailseal/verify';

export interface VerifyJob {
  readonly bytes: SharedArrayBuffer;
  readonly start: number;
  readonly end: number;
  readonly firstSeq: number;
  readonly firstLine: number;
  readonly macKeys: readonly { id: string; keyHex: string }[];
}

const job = workerData as VerifyJob;
const macKeys: MacKey[] = job.macKeys.map((k) => ({ id: k.id, key: fromHex(k.keyHex) }));
const v = new SegmentVerifier({ macKeys, firstSeq: job.firstSeq, firstLine: job.firstLine });
const view = new Uint8Array(job.bytes, job.start, job.end - job.start);
const decoder = new TextDecoder('utf-8', { fatal: true });
// Decode in bounded slices at line boundaries: constant extra memory per worker.
const SLICE = 4 * 1024 * 1024;
let pos = 0;
while (pos < view.length) {
  let cut = Math.min(pos + SLICE, view.length);
  if (cut < view.length) cut = view.indexOf(10, cut) + 1 || view.length;
  const text = decoder.decode(view.subarray(pos, cut));
  let from = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
    v.add(text.slice(from, nl));
    from = nl + 1;
  }
  if (from < text.length) v.add(text.slice(from));
  pos = cut;
}
parentPort!.postMessage(segmentToData(v.result()));
