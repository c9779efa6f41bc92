// Evidence bundles at scale: a tenant log of N records (default 1,000,000)
// is exported through a running service (a child process, as in production)
// and the bundle verified by trailseal-verify in another child process on
// every core. Each rate is printed beside the raw SHA-256 rate over the same
// events file measured in the same run; the verifier's peak memory (maximum
// resident set of its process, workers included) is printed too.
//
//   npx tsc -b && node bench/dist/bench/bundle.js [--records N] [--threads N] [--keep]
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { exportBundle, loadConfig, startService } from '@trailseal/server';
import { canonicalEventParts, preparedFromParts } from '@trailseal/format';
import { richEvent } from '../test-support/events.js';
import { peakRssMb } from '../test-support/memory.js';
import { isMain, listeningUrl, median, printTable, result, type BenchResult } from './measure.js';

const CLI = fileURLToPath(new URL('../../../packages/server/dist/cli/main.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./bundle-verify.js', import.meta.url));
const ROOT_KEY = 'a'.repeat(64);

/** Fills a fresh data directory with one tenant of `n` records, in this process (no HTTP: filling is not what is measured). */
async function fill(dir: string, n: number): Promise<{ apiKey: string; verifierKey: string }> {
  process.env['TRAILSEAL_ROOT_KEY'] = ROOT_KEY;
  const running = await startService(loadConfig({ data: dir, port: '0', 'log-level': 'silent', 'log-name': 'bench.trailseal.example' }, { TRAILSEAL_ROOT_KEY: ROOT_KEY }));
  try {
    const t = await running.service.createTenant('bench', 'bench');
    const batch = 1000;
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < n) {
        const from = next;
        next = Math.min(n, next + batch);
        await running.service.ingest('bench', preparedFromParts(Array.from({ length: next - from }, (_, i) => canonicalEventParts(richEvent(from + i)))));
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    return { apiKey: t.apiKey, verifierKey: t.verifierKey };
  } finally {
    await running.close();
  }
}

async function serve(dir: string): Promise<{ url: string; peakRssMb: () => number | undefined; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--data', dir, '--port', '0', '--log-level', 'warn', '--log-name', 'bench.trailseal.example'], {
    env: { ...process.env, TRAILSEAL_ROOT_KEY: ROOT_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await listeningUrl(child);
  return {
    url,
    peakRssMb: () => peakRssMb(child.pid!),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** SHA-256 of a file read in 4 MiB chunks: the floor any verifier of these bytes pays. */
async function sha256File(path: string): Promise<number> {
  const start = performance.now();
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) h.update(chunk as Buffer);
  h.digest();
  return (performance.now() - start) / 1000;
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    const b = chunk as Buffer;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`verifier child exited ${code}: ${out}`))));
  });
}

export async function benchBundle(records = 1_000_000, threads?: number, keep = false): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'trailseal-bench-bundle-'));
  try {
    const t0 = performance.now();
    const tenant = await fill(join(dir, 'data'), records);
    console.log(`filled ${records.toLocaleString('en-US')} records in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const service = await serve(join(dir, 'data'));
    const out = join(dir, 'bundle');
    let exportSecs: number;
    try {
      const before = service.peakRssMb();
      const start = performance.now();
      const r = await exportBundle({ url: service.url, apiKey: tenant.apiKey, out, request: {} });
      exportSecs = (performance.now() - start) / 1000;
      if (r.count < records) throw new Error(`exported ${r.count} of ${records}`);
      const mb = (x: number | undefined): string => (x === undefined ? '?' : x.toFixed(0));
      console.log(`service peak RSS ${mb(before)} MB before the export, ${mb(service.peakRssMb())} MB after it; this process ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
    } finally {
      await service.stop();
    }
    const events = join(out, 'events.jsonl');
    // The log also holds the genesis record and the service's own records (key issue, reads, the export).
    const lines = await countLines(events);
    const bytes = statSync(events).size;
    // The verification on every core and its baseline are each the median of
    // three runs, interleaved: on a shared machine, runs minutes apart differ
    // by a third (bench/README.md).
    const shaRuns: number[] = [];
    const verifyRuns: { secs: number; ok: boolean; count: number; maxRssMb: number; threads: number }[] = [];
    for (let i = 0; i < 3; i++) {
      shaRuns.push(await sha256File(events));
      const run = JSON.parse(await runChild([out, tenant.verifierKey, ...(threads !== undefined ? [String(threads)] : [])])) as (typeof verifyRuns)[number];
      if (!run.ok || run.count !== lines) throw new Error(`verification failed: ${JSON.stringify(run)}`);
      verifyRuns.push(run);
    }
    const shaSecs = median(shaRuns);
    const verify = { ...verifyRuns[0]!, secs: median(verifyRuns.map((r) => r.secs)), maxRssMb: Math.max(...verifyRuns.map((r) => r.maxRssMb)) };
    console.log(`verification on every core: ${verifyRuns.map((r) => `${(lines / r.secs).toFixed(0)}/s`).join(', ')}; raw SHA-256: ${shaRuns.map((s) => `${(lines / s).toFixed(0)}/s`).join(', ')}`);
    const single = JSON.parse(await runChild([out, tenant.verifierKey, '0'])) as { secs: number; ok: boolean; maxRssMb: number };
    console.log(`bundle: ${lines.toLocaleString('en-US')} records, ${(bytes / 1e6).toFixed(0)} MB; verifier peak RSS ${verify.maxRssMb.toFixed(0)} MB with ${verify.threads} worker threads, ${single.maxRssMb.toFixed(0)} MB on the main thread only`);
    const shaRate = lines / shaSecs;
    return [
      result(`export ${lines.toLocaleString('en-US')} records (HTTP stream to files)`, lines / exportSecs, 'raw SHA-256 of events.jsonl', shaRate),
      result(`trailseal-verify, ${verify.threads} worker threads`, lines / verify.secs, 'raw SHA-256 of events.jsonl', shaRate),
      result('trailseal-verify, main thread only', lines / single.secs, 'raw SHA-256 of events.jsonl', shaRate),
    ];
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { records: { type: 'string' }, threads: { type: 'string' }, keep: { type: 'boolean' } } });
  printTable('evidence bundles', await benchBundle(values.records === undefined ? undefined : Number(values.records), values.threads === undefined ? undefined : Number(values.threads), values.keep === true));
}
