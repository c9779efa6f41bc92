// The body of a 201 answer to POST /v1/events is written as bytes
// (receiptsBody): it must be exactly what JSON.stringify gives, for any
// receipts the writer hands out.
import fc from 'fast-check';
import { logTimestamp } from '@trailseal/format';
import { describe, expect, it } from 'vitest';
import { receiptsBody } from '../src/http/app.js';
import type { Receipt } from '../src/log/writer.js';

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const receipt: fc.Arbitrary<Receipt> = fc
  .record({
    seq: fc.maxSafeNat(),
    leafHash: hex64,
    receivedAt: fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }).map(logTimestamp),
    duplicate: fc.boolean(),
  })
  .map(({ duplicate, ...r }) => (duplicate ? { ...r, duplicate: true as const } : r));

describe('receiptsBody', () => {
  it('spells any receipts, duplicates among them, as JSON.stringify does', () => {
    fc.assert(
      fc.property(fc.array(receipt, { maxLength: 40 }), (receipts) => {
        expect(receiptsBody(receipts).toString('utf8')).toBe(JSON.stringify({ receipts }));
      }),
      { numRuns: 300 },
    );
  });

  it('spells a batch of 1000 with the largest seqs', () => {
    const receipts = Array.from({ length: 1000 }, (_, i) => ({ seq: Number.MAX_SAFE_INTEGER - i, leafHash: 'f'.repeat(64), receivedAt: logTimestamp(Date.UTC(2026, 10, 27)), ...(i % 7 === 0 ? { duplicate: true as const } : {}) }));
    expect(receiptsBody(receipts).toString('utf8')).toBe(JSON.stringify({ receipts }));
  });
});
