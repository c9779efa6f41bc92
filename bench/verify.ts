// Offline verification throughput of a records file: one core (the whole file
// as one segment on this thread) and every core (worker threads, one segment
// each, combined in order), beside the raw one-shot SHA-256 rate of the same
// records measured in the same run.
//
//   npx tsc -b && node bench/dist/verify.js [records]
import { hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { LogSealer, toHex, type MacKey } from '@trailseal/format';
import { combineSegments, segmentFromData, type SegmentData } from '@trailseal/verify';
import { richEvent } from '../test-support/events.js';
import { isMain, printTable, result, type BenchResult } from './measure.js';
import { verifyJob, type VerifyJob } from './verify-worker.js';

function buildLog(n: number): { lines: string[]; checkpoint: string; key: string; macKeys: { id: string; keyHex: string }[] } {
  const k = new Uint8Array(32).fill(9);
  const sealer = new LogSealer({ tenant: 'bench', origin: 'bench.example/tenants/bench', tenantKey: k, signingSeed: k });
  const t0 = Date.UTC(2026, 10, 26, 12);
  const lines = [sealer.genesis(t0).canonical];
  const macKeys = new Map<string, MacKey>();
  for (let i = 1; i < n; i++) {
    const s = sealer.append(richEvent(i), t0 + i);
    lines.push(s.canonical);
    if (!macKeys.has(s.record.mac_key_id)) macKeys.set(s.record.mac_key_id, sealer.macKey(s.record.mac_key_id.split(':')[1]!));
  }
  return { lines, checkpoint: sealer.checkpoint(), key: sealer.verifierKey, macKeys: [...macKeys.values()].map((m) => ({ id: m.id, keyHex: toHex(m.key) })) };
}

async function parallelVerify(bytes: SharedArrayBuffer, total: number, workers: number, opts: { key: string; checkpoint: string; macKeys: VerifyJob['macKeys'] }): Promise<ReturnType<typeof combineSegments>> {
  // A Buffer view: its indexOf is memchr, a plain Uint8Array's a loop about
  // six times slower (90 ms against 14 over 200,000 records here), as
  // trailseal-verify's pool also does.
  const view = Buffer.from(bytes);
  const jobs: VerifyJob[] = [];
  let start = 0;
  let line = 0;
  for (let w = 0; w < workers; w++) {
    let end = w === workers - 1 ? view.length : view.indexOf(10, Math.floor((view.length * (w + 1)) / workers)) + 1;
    if (end <= start) end = view.length;
    jobs.push({ bytes, start, end, firstSeq: line, firstLine: line + 1, macKeys: opts.macKeys });
    for (let i = view.indexOf(10, start); i !== -1 && i < end; i = view.indexOf(10, i + 1)) line++;
    start = end;
  }
  // The main thread verifies the first slice itself while workers take the
  // rest: one isolate fewer than cores, and no idle thread.
  const pending = jobs.slice(1).map(
    (job) =>
      new Promise<SegmentData>((resolve, reject) => {
        const w = new Worker(new URL('./verify-worker.js', import.meta.url), { workerData: job });
        w.once('message', (d: SegmentData) => resolve(d));
        w.once('error', reject);
      }),
  );
  const first = verifyJob(jobs[0]!);
  const results = [first, ...(await Promise.all(pending))];
  const report = combineSegments(results.map(segmentFromData), { trustedKeys: [opts.key], checkpoint: opts.checkpoint });
  if (report.count !== total) throw new Error(`verified ${report.count} of ${total}`);
  return report;
}

export async function benchVerify(n = 200_000): Promise<BenchResult[]> {
  const log = buildLog(n);
  const text = `${log.lines.join('\n')}\n`;
  const bytes = new SharedArrayBuffer(Buffer.byteLength(text));
  const file = Buffer.from(bytes);
  file.write(text);

  // The baseline hashes each record's bytes as the file holds them (the
  // sealer's strings are ropes: hashing those would time their flattening too).
  let t = performance.now();
  for (let from = 0; from < file.length; ) {
    const nl = file.indexOf(10, from);
    hash('sha256', file.subarray(from, nl), 'binary');
    from = nl + 1;
  }
  const shaRate = n / ((performance.now() - t) / 1000);
  const base = 'raw one-shot SHA-256 of the records, one core';
  const cores = Math.max(2, availableParallelism());
  const rows: BenchResult[] = [];

  // One core and every core both read the file's bytes, as trailseal-verify
  // does (one core: the whole file as one slice, on this thread).
  for (const withMacs of [false, true]) {
    const label = withMacs ? 'with MAC keys' : 'no MAC keys';
    for (const threads of [1, cores]) {
      t = performance.now();
      const report = await parallelVerify(bytes, n, threads, { key: log.key, checkpoint: log.checkpoint, macKeys: withMacs ? log.macKeys : [] });
      const rate = n / ((performance.now() - t) / 1000);
      if (!report.ok || report.macVerified !== (withMacs ? n : 0)) throw new Error(`verification on ${threads} threads failed: ${JSON.stringify(report.problems.slice(0, 3))}`);
      rows.push(result(`verify ${n} records, ${label}, ${threads === 1 ? 'one core' : `${threads} threads`}`, rate, base, shaRate));
    }
  }
  return rows;
}

if (isMain(import.meta.url)) {
  printTable('offline verification', await benchVerify(Number(process.argv[2] ?? 200_000)));
}
