// The append pipeline on one core: validate, canonicalize, chain, MAC, tree.
// Printed beside the bare crypto the pipeline cannot avoid (chain hash, leaf
// hash and HMAC over the same record bytes), measured in the same run.
//
//   npx tsc -b && node bench/dist/pipeline.js
import { createHash, createHmac, hash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { LogSealer, parseEvent, type EventV1 } from '@trailseal/format';
import { richEvent } from './events.js';
import { measure, printTable, type BenchResult } from './measure.js';

export function benchPipeline(): BenchResult[] {
  const key = new Uint8Array(32).fill(7);
  const sealer = new LogSealer({ tenant: 'bench', origin: 'bench.example/tenants/bench', tenantKey: key, signingSeed: key });
  sealer.genesis(Date.now());
  const events: EventV1[] = Array.from({ length: 1024 }, (_, i) => richEvent(i));
  const sample = sealer.append(events[0]!, Date.now()).canonical;
  const bytes = Buffer.byteLength(sample);
  const now = Date.now();

  const sha = measure(`raw one-shot SHA-256 of a ${bytes}-byte record`, (i) => hash('sha256', sample + (i & 1), 'buffer'));
  const floor = measure('bare crypto per record (SHA-256 x2 + HMAC-SHA256)', (i) => {
    const s = sample + (i & 1);
    hash('sha256', s, 'buffer');
    createHash('sha256').update('\u0000').update(s).digest();
    createHmac('sha256', key).update(s).digest();
  });
  const seal = measure('seal: canonicalize + chain + MAC + tree', (i) => sealer.append(events[i & 1023]!, now));
  const full = measure('validate + seal', (i) => sealer.append(parseEvent(events[i & 1023]), now));
  return [
    { ...seal, baselineName: sha.name, baselineOpsPerSec: sha.opsPerSec, ratio: seal.opsPerSec / sha.opsPerSec },
    { ...seal, baselineName: floor.name, baselineOpsPerSec: floor.opsPerSec, ratio: seal.opsPerSec / floor.opsPerSec },
    { ...full, baselineName: floor.name, baselineOpsPerSec: floor.opsPerSec, ratio: full.opsPerSec / floor.opsPerSec },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTable('append pipeline, one core', benchPipeline());
