// Throughput of canonical JSON and strict parsing against the obvious
// baselines: the `canonicalize` npm package (a common RFC 8785 implementation)
// and the engine's own JSON.parse. Input is deterministic so runs compare.
//
//   npx tsc -b && node bench/dist/jcs.js
import { createRequire } from 'node:module';
import { canonicalize, parseJson, readEvents, type PreparedEvents } from '@trailseal/format';
import { prepareEventsStrictly } from '@trailseal/server';
import { richEvent } from '../test-support/events.js';
import { compare, isMain, printTable, type BenchResult } from './measure.js';

// The package is CommonJS with `module.exports = serialize`, while its typings
// declare an ES default export; require() gives the function either way.
const npmCanonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

/**
 * A realistic audit event of about 1 KiB: nested actor, source, target,
 * transfer and authorization (with a grants array) plus free-form context.
 * Members are in producer order, not canonical order, so sorting is measured;
 * a few strings need escaping and some are not ASCII.
 */
export function sampleEvent(i = 0): Record<string, unknown> {
  const n = String(i).padStart(6, '0');
  return {
    id: `evt_01JDQ4Z7W3K9X2M5R8T${n}`,
    time: '2025-11-26T15:04:05.123Z',
    action: 'storage.object.download',
    outcome: 'success',
    actor: {
      type: 'user',
      id: `usr_7f3a9c2e${n}`,
      name: 'Zoë Müller-Lindqvist',
      email: 'zoe.mueller@example.com',
      roles: ['auditor', 'billing.viewer'],
    },
    source: {
      ip: '203.0.113.42',
      user_agent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0',
      geo: { country: 'SE', region: 'Stockholm' },
    },
    target: {
      type: 'object',
      id: 'obj_5d41402abc4b2a76',
      name: 'reports/2025/Q3 "final" résumé.pdf',
    },
    transfer: {
      bytes: 1048576 + i,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      duration_ms: 132.75,
      direction: 'download',
    },
    authorization: {
      decision: 'allow',
      grants: [
        { permission: 'storage.objects.get', resource: 'bucket/reports/*', via: 'role:auditor' },
        { permission: 'billing.invoices.read', resource: '*', expires: '2026-01-01T00:00:00Z' },
      ],
      mfa: true,
    },
    context: {
      request_id: `req_a1b2c3d4${n}`,
      trace: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', sampled: true },
      tags: ['export', 'pii', 'quarterly'],
      note: 'Exported via CLI\tbatch 7\nreviewed by ops',
      ratio: 0.3333333333333333,
    },
  };
}

// Each side runs ten 100 ms samples, alternating with the other side, and the
// median sample counts: on a shared machine a burst of foreign load then hits
// both sides alike instead of skewing the ratio.
/** Events in one JSON array, as large as fits in 1 MiB (the default maxBytes). */
function megabyteArray(): string {
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; ; i++) {
    const s = JSON.stringify(sampleEvent(i));
    if (size + s.length + 1 > 1_000_000) break;
    parts.push(s);
    size += s.length + 1;
  }
  return `[${parts.join(',')}]`;
}

const BODY_LIMITS = { maxBytes: 16 * 1024 * 1024, maxMembers: 10_000, maxBatchEvents: 10_000 };


function readOrThrow(body: Uint8Array): PreparedEvents {
  const r = readEvents(body, 'json', BODY_LIMITS);
  if (r === undefined) throw new Error('bench: the event reader fell back on a plain body');
  return r;
}

export function benchJcs(): BenchResult[] {
  const event = sampleEvent();
  const eventJson = canonicalize(event);
  const big = megabyteArray();
  // Ingest bodies as producers send them: members in their own order, not canonical.
  const one = new TextEncoder().encode(JSON.stringify(richEvent(1)));
  const batch = new TextEncoder().encode(JSON.stringify(Array.from({ length: 1000 }, (_, i) => richEvent(i))));
  return [
    compare('canonicalize (1 KiB event)', () => canonicalize(event), 'canonicalize npm', () => npmCanonicalize(event)),
    compare('parseJson (1 KiB event)', () => parseJson(eventJson), 'JSON.parse', () => JSON.parse(eventJson)),
    compare('parseJson (1 MiB array)', () => parseJson(big), 'JSON.parse', () => JSON.parse(big)),
    compare('readEvents (one event, 1.2 KiB body)', () => readOrThrow(one), 'parse + validate + canonical parts', () => prepareEventsStrictly(one, 'json', BODY_LIMITS)),
    compare(`readEvents (1000 events, ${Math.round(batch.length / 1024)} KiB body)`, () => readOrThrow(batch), 'parse + validate + canonical parts', () => prepareEventsStrictly(batch, 'json', BODY_LIMITS)),
  ];
}

if (isMain(import.meta.url)) {
  console.log(`event: ${canonicalize(sampleEvent()).length} bytes canonical; ${process.version}`);
  printTable('canonical JSON and strict parsing, one core', benchJcs());
}
