import { hkdfSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, nobleProvider, setCryptoProvider, cryptoProvider, toHex } from '@trailseal/format';
import {
  deriveMacEpochKey,
  deriveSigningSeed,
  deriveTenantKey,
  formatMacKeyId,
  hkdf,
  hkdfExpand,
  hkdfExtract,
  keyFingerprint,
  macKeyFor,
  parseMacKeyId,
} from '../src/keys.js';

interface HkdfCase { name: string; ikm: string; salt: string; info: string; length: number; prk: string; okm: string }
const vectors = JSON.parse(readFileSync(new URL('../../../docs/spec/vectors/hkdf-rfc5869.json', import.meta.url), 'utf8')) as { cases: HkdfCase[] };

describe('HKDF-SHA256 (RFC 5869)', () => {
  for (const provider of ['node', 'noble'] as const) {
    for (const c of vectors.cases) {
      it(`passes ${c.name} with the ${provider} provider`, () => {
        const before = cryptoProvider();
        if (provider === 'noble') setCryptoProvider(nobleProvider);
        try {
          expect(toHex(hkdfExtract(fromHex(c.salt), fromHex(c.ikm)))).toBe(c.prk);
          expect(toHex(hkdfExpand(fromHex(c.prk), fromHex(c.info), c.length))).toBe(c.okm);
          expect(toHex(hkdf(fromHex(c.ikm), fromHex(c.salt), fromHex(c.info), c.length))).toBe(c.okm);
        } finally {
          setCryptoProvider(before);
        }
      });
    }
  }

  it('agrees with node:crypto hkdfSync on arbitrary inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 1, max: 255 * 32 }), (ikm, salt, info, len) => {
        expect(toHex(hkdf(ikm, salt, info, len))).toBe(Buffer.from(hkdfSync('sha256', ikm, salt, info, len)).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects an output longer than 255 * HashLen', () => {
    expect(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(expect.objectContaining({ code: 'HKDF_LENGTH' }));
  });
});

describe('key hierarchy', () => {
  const root = fromHex('00'.repeat(31) + '01');
  const tenantKey = deriveTenantKey(root, 'acme');

  it('derives different keys for different tenants, epochs, generations and purposes', () => {
    const keys = [
      tenantKey,
      deriveTenantKey(root, 'acme2'),
      deriveMacEpochKey(tenantKey, '2026-11-26'),
      deriveMacEpochKey(tenantKey, '2026-11-27'),
      deriveMacEpochKey(tenantKey, '2026-11-26', 1),
      deriveSigningSeed(tenantKey),
      deriveSigningSeed(tenantKey, 1),
    ].map(toHex);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('is deterministic', () => {
    expect(toHex(deriveMacEpochKey(deriveTenantKey(root, 'acme'), '2026-11-26'))).toBe(toHex(deriveMacEpochKey(tenantKey, '2026-11-26')));
  });

  it('rejects keys of the wrong size and malformed epochs', () => {
    expect(() => deriveTenantKey(new Uint8Array(16), 'acme')).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
    expect(() => deriveMacEpochKey(tenantKey, '2026-13-01')).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
    expect(() => deriveMacEpochKey(tenantKey, '2026-11-26', -1)).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
  });

  it('names MAC keys by epoch, generation and a public fingerprint', () => {
    const k = macKeyFor(tenantKey, '2026-11-26', 2);
    expect(k.id).toBe(`mac:2026-11-26:g2:${keyFingerprint(k.key)}`);
    expect(parseMacKeyId(k.id)).toEqual({ epoch: '2026-11-26', generation: 2, fingerprint: keyFingerprint(k.key) });
    expect(formatMacKeyId('2026-11-26', 2, k.key)).toBe(k.id);
    expect(keyFingerprint(k.key)).not.toBe(keyFingerprint(deriveMacEpochKey(tenantKey, '2026-11-26', 1)));
    for (const bad of ['mac:2026-11-26:g2:abc', 'mac:2026-11-26:2:0123456789abcdef', 'MAC:2026-11-26:g0:0123456789abcdef', 'mac:2026-11-26:g01:0123456789abcdef']) {
      expect(() => parseMacKeyId(bad), bad).toThrow(expect.objectContaining({ code: 'KEY_ID_MALFORMED' }));
    }
  });
});
