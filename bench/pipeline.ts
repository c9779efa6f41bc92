// The append pipeline on one core: validate, canonicalize, chain, MAC, tree.
// Printed beside the bare crypto the pipeline cannot avoid (chain hash, leaf
// hash and HMAC over the same record bytes), measured in the same run.
//
//   npx tsc -b && node bench/dist/pipeline.js
import { createHmac, hash } from 'node:crypto';
import { DEFAULT_JSON_LIMITS, LogSealer, RecordBytesBatch, parseEvent, readEvents, type EventV1 } from '@trailseal/format';
import { richEvent } from '../test-support/events.js';
import { compare, isMain, printTable, type BenchResult } from './measure.js';

export function benchPipeline(): BenchResult[] {
  const key = new Uint8Array(32).fill(7);
  const sealer = new LogSealer({ tenant: 'bench', origin: 'bench.example/tenants/bench', tenantKey: key, signingSeed: key });
  sealer.genesis(Date.now());
  const events: EventV1[] = Array.from({ length: 1024 }, (_, i) => richEvent(i));
  const sample = sealer.append(events[0]!, Date.now()).canonical;
  const bytes = Buffer.byteLength(sample);
  const now = Date.now();

  // Digests as binary strings: Node.js 20's cheapest output form (a Buffer
  // costs about 0.6 us more per call), and the one the pipeline itself uses.
  const shaName = `raw one-shot SHA-256 of a ${bytes}-byte record`;
  const sha = (i: number): unknown => hash('sha256', sample + (i & 1), 'binary');
  const floorName = 'bare crypto per record (SHA-256 x2 + HMAC-SHA256)';
  const floor = (i: number): unknown => {
    const s = sample + (i & 1);
    hash('sha256', s, 'binary');
    hash('sha256', `\u0000${s}`, 'binary');
    return createHmac('sha256', key).update(s).digest('binary');
  };
  const seal = (i: number): unknown => sealer.append(events[i & 1023]!, now);
  // What the event loop does for POST /v1/events: the runs readEvents cut
  // from a body, sealed into a batch of record bytes, a new batch per 1024
  // records (a group commit).
  const fromBody = new LogSealer({ tenant: 'bench', origin: 'bench.example/tenants/bench', tenantKey: key, signingSeed: key });
  fromBody.genesis(Date.now());
  const prepared = readEvents(Buffer.from(JSON.stringify(events)), 'json', { ...DEFAULT_JSON_LIMITS, maxBytes: 16 * 1024 * 1024, maxMembers: 10_000, maxBatchEvents: 10_000 });
  if (prepared === undefined) throw new Error('readEvents declined the bench events');
  fromBody.collectInto(new RecordBytesBatch(2048 * 1024));
  const sealPrepared = (i: number): unknown => {
    if ((i & 1023) === 0) fromBody.collectInto(new RecordBytesBatch(2048 * 1024));
    return fromBody.appendPrepared(prepared, i & 1023, now);
  };
  return [
    compare('seal prepared runs into a record batch', sealPrepared, floorName, floor),
    compare('seal: canonicalize + chain + MAC + tree', seal, shaName, sha),
    compare('seal: canonicalize + chain + MAC + tree', seal, floorName, floor),
    compare('validate + seal', (i) => sealer.append(parseEvent(events[i & 1023]), now), floorName, floor),
  ];
}

if (isMain(import.meta.url)) printTable('append pipeline, one core', benchPipeline());
