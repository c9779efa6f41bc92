// The verifier's per-record parse-and-check step on one core: the single-pass
// recognizer (packages/format/src/record-scan.ts) against the reference path
// it short-cuts (parse, validate, re-serialize and compare), and against
// JSON.parse alone. Records are about 1.5 KiB each, sealed by the log and
// read the way a verifier reads them: slices of one decoded text.
//
// Two logs: "varied" records from richEvent, in which consecutive records
// differ in users, files, addresses, sizes and times, as in a real log; and
// "near-constant" records from fixedEvent, which differ only in id, seq,
// times and hashes, as in a burst of one client's similar events. The
// recognizer must be fast on the first; the second shows what repeated
// values cost or save.
//
//   npx tsc -b && node bench/dist/bench/scan.js
import { LogSealer, canonicalRecordParts, joinRecordBytes, scanRecord, validateRecord, type EventV1 } from '@trailseal/format';
import { fixedEvent, richEvent } from '../test-support/events.js';
import { compare, isMain, printTable, type BenchResult } from './measure.js';

/** Record lines as the log writes them (genesis first), cut from one text as a verifier cuts its input. */
export function sealedLines(count: number, event: (i: number) => EventV1): string[] {
  const key = new Uint8Array(32).fill(7);
  const sealer = new LogSealer({ tenant: 'bench', origin: 'bench.example/tenants/bench', tenantKey: key, signingSeed: key });
  const start = Date.UTC(2026, 10, 26, 9, 15, 2);
  const records = [sealer.genesis(start).canonical];
  for (let i = 1; i < count; i++) records.push(sealer.append(event(i), start + i).canonical);
  const text = records.join('\n');
  const lines: string[] = [];
  let from = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', from)) {
    lines.push(text.slice(from, nl));
    from = nl + 1;
  }
  lines.push(text.slice(from));
  return lines;
}

/** What the verifier does per record without the recognizer: true when the line is valid and canonical. */
function reference(line: string): boolean {
  const record = JSON.parse(line) as Record<string, unknown>;
  if (validateRecord(record).length > 0) return false;
  return joinRecordBytes(canonicalRecordParts(record), record['mac'] as string) === line;
}

/** Share of `lines` that scanRecord accepts (every one, for records the log wrote). */
export function acceptance(lines: readonly string[]): number {
  return lines.filter((l) => scanRecord(l) !== undefined).length / lines.length;
}

export function benchScan(): BenchResult[] {
  const logs = [
    ['varied records (richEvent)', sealedLines(1024, richEvent)],
    ['near-constant records (fixedEvent)', sealedLines(1024, fixedEvent)],
  ] as const;
  const rows: BenchResult[] = [];
  for (const [what, lines] of logs) {
    if (acceptance(lines) !== 1) throw new Error(`scanRecord accepted ${acceptance(lines) * 100}% of the sealed ${what}`);
    const name = `scanRecord, ${what}`;
    const scan = (i: number): unknown => scanRecord(lines[i & 1023]!);
    rows.push(compare(name, scan, 'JSON.parse + validateRecord + canonicalRecordParts', (i) => reference(lines[i & 1023]!)));
    rows.push(compare(name, scan, 'JSON.parse alone', (i) => JSON.parse(lines[i & 1023]!)));
  }
  return rows;
}

if (isMain(import.meta.url)) {
  const sample = sealedLines(2, richEvent)[1]!;
  console.log(`record: ${sample.length} characters; ${process.version}`);
  const rows = benchScan();
  printTable('record recognizer, one core', rows);
  const us = (opsPerSec: number): string => `${(1e6 / opsPerSec).toFixed(2)} µs`;
  for (const r of rows) console.log(`${r.name}: ${us(r.opsPerSec)} per record; ${r.baselineName}: ${us(r.baselineOpsPerSec)}`);
}
