// Ingest threads (packages/server/src/http/ingest.ts): what preparing a POST
// /v1/events body (strict parse, validation, canonical parts) costs the event
// loop when a thread does it, against doing it in place, by body size. The
// threshold under which bodies stay on the event loop (THREAD_MIN_BYTES)
// rests on these figures: the hand-off costs the event loop about the same
// whatever the size, preparing in place grows with every event.
//
//   node bench/dist/bench/ingest.js
import { performance } from 'node:perf_hooks';
import { IngestThreads, THREAD_MIN_BYTES, prepareEvents, type BodyLimits } from '@trailseal/server';
import { richEvent } from '../test-support/events.js';
import { isMain, median, printTable, result, type BenchResult } from './measure.js';

const LIMITS: BodyLimits = { maxBytes: 16 * 1024 * 1024, maxMembers: 10_000, maxBatchEvents: 10_000 };
const SIZES = [1, 4, 12, 40, 1000];

/** Event-loop microseconds per body: active time only (the wait for the thread is idle time). */
async function threaded(t: IngestThreads, body: Buffer, reps: number): Promise<number> {
  const before = performance.eventLoopUtilization();
  for (let i = 0; i < reps; i++) await t.prepare(body, 'json');
  return (performance.eventLoopUtilization(before).active * 1000) / reps;
}

function inPlace(body: Buffer, reps: number): number {
  const start = performance.now();
  for (let i = 0; i < reps; i++) prepareEvents(body, 'json', LIMITS);
  return ((performance.now() - start) * 1000) / reps;
}

export async function benchIngest(): Promise<BenchResult[]> {
  // Every body goes to the thread here, whatever its size.
  const threads = new IngestThreads(1, LIMITS, 0);
  threads.start();
  const rows: BenchResult[] = [];
  try {
    for (const n of SIZES) {
      const body = Buffer.from(JSON.stringify(Array.from({ length: n }, (_, i) => richEvent(i))));
      const reps = Math.max(20, Math.round(4000 / n));
      await threaded(threads, body, reps);
      inPlace(body, reps);
      const a: number[] = [];
      const b: number[] = [];
      for (let s = 0; s < 5; s++) {
        a.push(await threaded(threads, body, reps));
        b.push(inPlace(body, reps));
      }
      const kib = (body.length / 1024).toFixed(1);
      const side = body.length < THREAD_MIN_BYTES ? 'stays on the event loop' : 'goes to a thread';
      rows.push(result(`${n} events (${kib} KiB, ${side}): event loop, bodies handed to a thread`, 1e6 / median(a), 'bodies prepared in place', 1e6 / median(b)));
    }
  } finally {
    await threads.close();
  }
  return rows;
}

if (isMain(import.meta.url)) {
  printTable('ingest threads: event-loop cost of a body, handed off or prepared in place', await benchIngest());
}
