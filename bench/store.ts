// The SQLite store's write path alone, without HTTP, parsing or sealing:
// SqliteStore.append of plans sealed beforehand (1000 richEvent records
// each, with the bytes the sealer collected, as the service's writer builds
// them), one after another, each a durable commit in the store's writer
// thread: the plan check, packing, the hand-off, the inserts of the records
// with their tree nodes, the head update and the fsync. Baseline: the same
// record bodies inserted into a plain table (`id INTEGER PRIMARY KEY, body
// TEXT`) of a database with the same settings (configureSqlite: page size,
// WAL, synchronous=FULL), 1000 per transaction, in this thread. Both report records per second and CPU
// microseconds per record (every thread of this process), sampled
// interleaved.
//
//   node bench/dist/bench/store.js
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { LogSealer, RecordBytesBatch, deriveSigningSeed } from '@trailseal/format';
import { SqliteStore, configureSqlite, type AppendPlan, type HeadRow, type TenantRow } from '@trailseal/server';
import { richEvent } from '../test-support/events.js';
import { isMain, median, printTable, result, type BenchResult } from './measure.js';

const BATCH = 1000;
const PLANS_PER_SAMPLE = 8;
const SAMPLES = 5;
const KEY = new Uint8Array(32).fill(5);
const T0 = Date.UTC(2026, 10, 27);

function headOf(sealer: LogSealer, at: number): HeadRow {
  const st = sealer.state;
  return { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: st.macGeneration, signingGeneration: 0, lastReceivedAtMs: at };
}

/** The genesis plan and `count` plans of BATCH records that follow it, sealed in order. */
function sealPlans(row: TenantRow, count: number): { genesis: AppendPlan; plans: AppendPlan[] } {
  const sealer = new LogSealer({ tenant: row.id, origin: row.origin, tenantKey: KEY, signingSeed: deriveSigningSeed(KEY, 0) });
  const g = sealer.genesis(T0);
  const genesis: AppendPlan = { records: [{ sealed: g, eventId: null }], head: headOf(sealer, T0) };
  const plans: AppendPlan[] = [];
  for (let p = 0; p < count; p++) {
    const bytes = new RecordBytesBatch();
    sealer.collectInto(bytes);
    const at = T0 + 1000 * (p + 1);
    const records = Array.from({ length: BATCH }, (_, i) => {
      const id = `e-${p}-${i}`;
      return { sealed: sealer.append({ ...richEvent(p * BATCH + i), id }, at), eventId: id };
    });
    sealer.collectInto(undefined);
    plans.push({ records, bytes, head: headOf(sealer, at) });
  }
  return { genesis, plans };
}

interface Sample {
  perSec: number;
  cpuUsPerRecord: number;
}

async function timed(records: number, fn: () => Promise<void> | void): Promise<Sample> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { perSec: records / seconds, cpuUsPerRecord: (used.user + used.system) / records };
}

export async function benchStore(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'trailseal-bench-store-'));
  const row: TenantRow = { id: 'bench', name: 'bench', origin: 'bench.example/tenants/bench', wrappedKey: new Uint8Array(60), keyWrapper: 'test:plain', createdAt: new Date(T0).toISOString() };
  // One warm-up sample of each, then SAMPLES interleaved.
  const { genesis, plans } = sealPlans(row, (SAMPLES + 1) * PLANS_PER_SAMPLE);
  const store = new SqliteStore({ path: join(dir, 'trailseal.db') });
  const plain = new Database(join(dir, 'plain.db'));
  try {
    await store.migrate();
    await store.createTenant(row, genesis);
    configureSqlite(plain, 10_000);
    plain.exec('CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const insert = plain.prepare('INSERT INTO events (body) VALUES (?)');
    const insertAll = plain.transaction((bodies: readonly string[]) => {
      for (const b of bodies) insert.run(b);
    });
    let next = 0;
    const ours: Sample[] = [];
    const base: Sample[] = [];
    for (let s = 0; s <= SAMPLES; s++) {
      const mine = plans.slice(next, (next += PLANS_PER_SAMPLE));
      // The same texts for the plain insert, read before the store takes the plans' bytes to its thread.
      const bodies = mine.map((p) => p.records.map((r) => r.sealed.canonical));
      const a = await timed(mine.length * BATCH, async () => {
        for (const plan of mine) await store.append(row.id, [], () => plan);
      });
      const b = await timed(mine.length * BATCH, () => {
        for (const batch of bodies) insertAll.immediate(batch);
      });
      if (s > 0) {
        ours.push(a);
        base.push(b);
      }
    }
    const size = (await store.getHead(row.id))!.size;
    if (size !== 1 + plans.length * BATCH) throw new Error(`the store holds ${size} records, not ${1 + plans.length * BATCH}`);
    const cpu = (xs: Sample[]): string => median(xs.map((x) => x.cpuUsPerRecord)).toFixed(1);
    return [
      result(
        `SqliteStore.append, plans of ${BATCH} (CPU ${cpu(ours)} us/record)`,
        median(ours.map((x) => x.perSec)),
        `plain INSERT of the bodies (CPU ${cpu(base)} us/record)`,
        median(base.map((x) => x.perSec)),
      ),
    ];
  } finally {
    await store.close();
    plain.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) printTable('SQLite store write path: durable appends of sealed plans', await benchStore());
