// The verifier's per-record parse-and-check step on one core: the single-pass
// recognizer (packages/format/src/record-scan.ts) against the reference path
// it short-cuts (parse, validate, re-serialize and compare), and against
// JSON.parse alone. Records are sealed from richEvent, about 1.5 KiB each, and
// read the way a verifier reads them: slices of one decoded text.
//
// The recognizer remembers the last value of each nested object and checked
// string, which consecutive richEvents repeat (only `id` differs). The last
// rows use records in which every nested object differs from the previous
// record's, so each is matched member by member.
//
//   npx tsc -b && node bench/dist/bench/scan.js
import { LogSealer, canonicalRecordParts, joinRecordBytes, scanRecord, validateRecord, type EventV1 } from '@trailseal/format';
import { richEvent } from '../test-support/events.js';
import { compare, isMain, printTable, type BenchResult } from './measure.js';

/** richEvent(i) with a value in every nested object that changes from record to record. */
export function variedEvent(i: number): EventV1 {
  const e = richEvent(i);
  return {
    ...e,
    actor: { ...e.actor, session_id: `sess-${i}`, federation: { ...e.actor.federation!, subject: `00u${i}` } },
    source: { ...e.source, port: 1024 + (i % 60000) },
    target: { ...e.target!, size: 1000 + i, tags: ['PII', `batch-${i}`] },
    transfer: { ...e.transfer!, bytes: 1000 + i },
    authorization: {
      policy: { name: 'finance-data-access', version: `2026.${i}` },
      grants: e.authorization!.grants!.map((g) => ({ ...g, grant_id: `g-${i}` })),
    },
    context: { ...e.context, request_id: `req-${i}` },
  };
}

/** Record lines as the log writes them (genesis first), cut from one text as a verifier cuts its input. */
export function sealedLines(count: number, event: (i: number) => EventV1 = richEvent): string[] {
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
  const rich = sealedLines(1024);
  const varied = sealedLines(1024, variedEvent);
  for (const lines of [rich, varied]) {
    if (acceptance(lines) !== 1) throw new Error(`scanRecord accepted ${acceptance(lines) * 100}% of the sealed records`);
  }
  const referenceName = 'JSON.parse + validateRecord + canonicalRecordParts';
  return [
    compare('scanRecord', (i) => scanRecord(rich[i & 1023]!), referenceName, (i) => reference(rich[i & 1023]!)),
    compare('scanRecord', (i) => scanRecord(rich[i & 1023]!), 'JSON.parse alone', (i) => JSON.parse(rich[i & 1023]!)),
    compare('scanRecord, nested values differ', (i) => scanRecord(varied[i & 1023]!), referenceName, (i) => reference(varied[i & 1023]!)),
    compare('scanRecord, nested values differ', (i) => scanRecord(varied[i & 1023]!), 'JSON.parse alone', (i) => JSON.parse(varied[i & 1023]!)),
  ];
}

if (isMain(import.meta.url)) {
  const sample = sealedLines(2)[1]!;
  console.log(`record: ${sample.length} characters; ${process.version}`);
  const rows = benchScan();
  printTable('record recognizer, one core', rows);
  const us = (opsPerSec: number): string => `${(1e6 / opsPerSec).toFixed(2)} µs`;
  for (const r of rows) console.log(`${r.name}: ${us(r.opsPerSec)} per record; ${r.baselineName}: ${us(r.baselineOpsPerSec)}`);
}
