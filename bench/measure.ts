// Shared timing for the benchmarks: warm up, then run for a fixed wall time.
import { performance } from 'node:perf_hooks';

export interface BenchResult {
  name: string;
  opsPerSec: number;
  baselineName: string;
  baselineOpsPerSec: number;
  /** opsPerSec / baselineOpsPerSec: above 1 is faster than the baseline. */
  ratio: number;
}

export function measure(name: string, fn: (i: number) => unknown, seconds = 1): { name: string; opsPerSec: number } {
  for (let i = 0; i < 2000; i++) fn(i);
  let n = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let now = start;
  while (now < until) {
    for (let k = 0; k < 256; k++) fn(n++);
    now = performance.now();
  }
  return { name, opsPerSec: (n * 1000) / (now - start) };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export function printTable(title: string, rows: readonly BenchResult[]): void {
  console.log(`\n## ${title}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(52)} ${fmt(r.opsPerSec).padStart(12)} /s   vs ${r.baselineName}: ${fmt(r.baselineOpsPerSec)} /s   ratio ${r.ratio.toFixed(2)}`);
  }
}
