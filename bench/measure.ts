// Shared timing for the benchmarks. The machines these run on are shared and
// noisy, so every figure is a median of short samples, and a figure and its
// baseline are sampled interleaved: a neighbour's burst slows both alike and
// the ratio stays meaningful.
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

export interface BenchResult {
  name: string;
  opsPerSec: number;
  baselineName: string;
  baselineOpsPerSec: number;
  /** opsPerSec / baselineOpsPerSec: above 1 is faster than the baseline. */
  ratio: number;
}

let sink = 0;

/** Keeps a result observable so the optimizer cannot drop the work. */
export function consume(v: unknown): void {
  sink ^= typeof v === 'string' ? v.length : v instanceof Uint8Array ? v[0]! : 1;
}

/** Operations per second of `fn` over about `ms` milliseconds. */
export function sample(fn: (i: number) => unknown, ms: number, offset = 0): number {
  let ops = 0;
  let batch = 1;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < batch; k++) consume(fn(offset + ops + k));
    ops += batch;
    now = performance.now();
    if (batch < 1 << 12) batch *= 2;
  }
  return ops / ((now - start) / 1000);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median rate of `fn` after a warm-up. */
export function rate(fn: (i: number) => unknown, samples = 9, ms = 120): number {
  sample(fn, 300);
  return median(Array.from({ length: samples }, (_, i) => sample(fn, ms, i * 1e6)));
}

/** `ours` against `baseline`, sampled interleaved after warming up both. */
export function compare(name: string, ours: (i: number) => unknown, baselineName: string, baseline: (i: number) => unknown, samples = 9, ms = 120): BenchResult {
  sample(ours, 300);
  sample(baseline, 300);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < samples; i++) {
    a.push(sample(ours, ms, i * 1e6));
    b.push(sample(baseline, ms, i * 1e6));
  }
  return result(name, median(a), baselineName, median(b));
}

export function result(name: string, opsPerSec: number, baselineName: string, baselineOpsPerSec: number): BenchResult {
  return { name, opsPerSec, baselineName, baselineOpsPerSec, ratio: opsPerSec / baselineOpsPerSec };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function printTable(title: string, rows: readonly BenchResult[]): void {
  console.log(`\n## ${title}`);
  const w = Math.max(...rows.map((r) => r.name.length));
  const wb = Math.max(...rows.map((r) => r.baselineName.length));
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)} ${fmt(r.opsPerSec).padStart(11)} /s | ${r.baselineName.padEnd(wb)} ${fmt(r.baselineOpsPerSec).padStart(11)} /s | ratio ${r.ratio.toFixed(2)}`);
  }
  if (sink === 0.5) console.log('unreachable: keeps results observable');
}

/** True when the module at `url` is the program's entry point. */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href;
}

/** The URL a `trailseal serve` child prints once it listens (stdout or stderr piped); rejects after 30 s. */
export function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the service did not start: ${out}`)), 30_000);
    const seen = (d: Buffer): void => {
      out += d.toString();
      const m = /listening at (http:\/\/\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', seen);
  });
}
