// A verification worker: verifies the chunks of events.jsonl the main thread
// hands it, each as one segment (@trailseal/verify SegmentVerifier), and sends
// the segment results back as plain data. Chunks hold whole lines only.
import { parentPort, workerData } from 'node:worker_threads';
import { fromBase64, type MacKey } from '@trailseal/format';
import { LineSplitter, SegmentVerifier, segmentToData } from '@trailseal/verify';
import type { ChunkJob, WorkerSetup } from './pool.js';

const setup = workerData as WorkerSetup;
const macKeys: MacKey[] = setup.macKeys.map((k) => ({ id: k.id, key: fromBase64(k.key, 'mac key') }));

parentPort!.on('message', (job: ChunkJob) => {
  const v = new SegmentVerifier({ macKeys, firstSeq: job.firstSeq, firstLine: job.firstLine, checkFirstSeq: job.id === 0 });
  const lines = new LineSplitter();
  const add = (line: string, bytes?: Uint8Array): void => v.add(line, bytes);
    // A Buffer view (no copy): its indexOf is memchr, which LineSplitter's search for line feeds then uses.
  lines.push(Buffer.from(job.bytes, 0, job.length), add);
  lines.end(add);
  parentPort!.postMessage({ id: job.id, segment: segmentToData(v.result()) });
});
