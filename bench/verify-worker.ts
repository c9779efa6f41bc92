// Verifies one slice of a records file (whole lines) as a segment: in a
// worker thread, posting the result back as plain data, or called directly
// on the main thread for the first slice.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fromHex, type MacKey } from '@trailseal/format';
import { LineSplitter, segmentToData, SegmentVerifier, type SegmentData } from '@trailseal/verify';

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
  // The slice goes through the LineSplitter trailseal-verify uses, as one
  // chunk: each line decoded on its own and verified with its bytes. A Buffer
  // view, so that the search for line feeds is memchr.
  const lines = new LineSplitter();
  const add = (line: string, bytes: Uint8Array): void => v.add(line, bytes);
  lines.push(Buffer.from(job.bytes, job.start, job.end - job.start), add);
  lines.end(add);
  return segmentToData(v.result());
}

// In a worker: verify the slice handed over and post the result back.
if (!isMainThread) parentPort!.postMessage(verifyJob(workerData as VerifyJob));
