import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogSealer, canonicalEvent, canonicalize, recordForms, validateEvent, validateRecord } from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';

describe('compiled record serializer', () => {
  it('the arbitrary produces only valid events', () => {
    fc.assert(
      fc.property(validEvent, (e) => {
        expect(validateEvent(e)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives exactly the RFC 8785 bytes of the general canonicalizer, for events and sealed records', () => {
    const key = new Uint8Array(32).fill(3);
    const sealer = new LogSealer({ tenant: 't', origin: 'example.com/tenants/t', tenantKey: key, signingSeed: key });
    sealer.genesis(0);
    fc.assert(
      fc.property(validEvent, fc.integer({ min: 0, max: 4e12 }), (e, at) => {
        expect(canonicalEvent(e)).toBe(canonicalize(e));
        const sealed = sealer.append(e, at);
        expect(validateRecord(sealed.record)).toEqual([]);
        expect(sealed.canonical).toBe(canonicalize(sealed.record));
        expect(recordForms(sealed.record as unknown as Record<string, unknown>).full).toBe(sealed.canonical);
      }),
      { numRuns: 500 },
    );
  });
});
