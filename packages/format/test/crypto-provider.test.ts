// Both crypto providers must be interchangeable: the same bytes in, the same
// bytes out, the same verdicts. The noble provider is what browsers run.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, nobleProvider, toHex, type Bytes, type CryptoProvider } from '@trailseal/format';
import { nodeProvider } from '@trailseal/format/node';

const providers: CryptoProvider[] = [nodeProvider, nobleProvider];
const bytes = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ minLength: 600, maxLength: 700 }));
// Larger than the node provider's initial scratch buffer, which must grow.
const large = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255);
interface Ed25519Case { name: string; secret_key: string; public_key: string; message: string; signature: string }
const rfc8032 = JSON.parse(readFileSync(new URL('../../../docs/spec/vectors/ed25519-rfc8032.json', import.meta.url), 'utf8')) as { cases: Ed25519Case[] };
const asBuffer = (b: Bytes): Buffer => (typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b));

/** `text` cut in two at a code point boundary chosen by `cut`, the first part as text and the second encoded (or one piece when empty). */
function pieces(text: string, cut: number): Bytes[] {
  const points = [...text];
  if (points.length === 0) return [text];
  const at = cut % (points.length + 1);
  return [points.slice(0, at).join(''), Buffer.from(points.slice(at).join(''), 'utf8')];
}

describe.each(providers.map((p) => [p.name, p] as const))('%s provider', (_, p) => {
  it('SHA-256 of one or several parts equals node:crypto', () => {
    fc.assert(
      fc.property(fc.array(bytes, { minLength: 1, maxLength: 4 }), (parts) => {
        const h = createHash('sha256');
        for (const x of parts) h.update(asBuffer(x));
        expect(toHex(p.sha256(...parts))).toBe(h.digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('HMAC-SHA256, as bytes and as hex, equals node:crypto, for any key length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), fc.array(bytes, { maxLength: 3 }), (key, parts) => {
        const h = createHmac('sha256', key);
        for (const x of parts) h.update(asBuffer(x));
        const hex = h.digest('hex');
        expect(toHex(p.hmacSha256(key, ...parts))).toBe(hex);
        expect(p.hmacSha256Hex(key, ...parts)).toBe(hex);
      }),
      { numRuns: 200 },
    );
  });

  it('sha256AndLeafHash gives SHA-256(x) and SHA-256(0x00 || x)', () => {
    fc.assert(
      fc.property(bytes, (x) => {
        const d = p.sha256AndLeafHash(x);
        expect(d.hashHex).toBe(createHash('sha256').update(asBuffer(x)).digest('hex'));
        expect(toHex(d.leafHash)).toBe(createHash('sha256').update(Buffer.of(0)).update(asBuffer(x)).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('recordDigests: the MAC of head,tail, then both hashes of the record bytes with that MAC spliced in', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 300 });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 100 }), text, text, fc.boolean(), fc.nat(), (key, head, tail, huge, cut) => {
        // Past the scratch buffer's size now and then, so that it must grow mid-record.
        const h = huge ? head + 'é'.repeat(30_000) : head;
        // Head and tail as pieces, some of them already encoded.
        const d = p.recordDigests(key, pieces(h, cut), pieces(tail, cut));
        const mac = createHmac('sha256', key).update(`${h},${tail}`).digest('hex');
        const bytes = `${h},"mac":"${mac}",${tail}`;
        expect(d.mac).toBe(mac);
        expect(Buffer.from(d.encoded).toString('utf8')).toBe(bytes);
        expect(d.encoded.length).toBe(Buffer.byteLength(bytes));
        expect(d.hashHex).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(toHex(d.leafHash)).toBe(createHash('sha256').update(Buffer.of(0)).update(bytes).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('incremental SHA-256 over any chunking equals the one-shot digest', () => {
    fc.assert(
      fc.property(fc.array(bytes, { maxLength: 6 }), (parts) => {
        const h = p.createSha256();
        for (const x of parts) h.update(x);
        const whole = createHash('sha256');
        for (const x of parts) whole.update(asBuffer(x));
        expect(toHex(h.digest())).toBe(whole.digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it.each(rfc8032.cases.map((c) => [c.name, c] as const))('passes Ed25519 %s of RFC 8032 section 7.1', (_, c) => {
    expect(toHex(p.ed25519PublicKey(fromHex(c.secret_key)))).toBe(c.public_key);
    expect(toHex(p.ed25519Sign(fromHex(c.secret_key), fromHex(c.message)))).toBe(c.signature);
    expect(p.ed25519Verify(fromHex(c.public_key), fromHex(c.message), fromHex(c.signature))).toBe(true);
  });

  it('Ed25519 signatures are deterministic, cross-verify, and reject any change', () => {
    const other = providers.find((q) => q !== p)!;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), bytes, fc.nat(63), (seed, msg, at) => {
        const pub = p.ed25519PublicKey(seed);
        expect(toHex(pub)).toBe(toHex(other.ed25519PublicKey(seed)));
        const sig = p.ed25519Sign(seed, msg);
        expect(toHex(sig)).toBe(toHex(other.ed25519Sign(seed, msg)));
        expect(p.ed25519Verify(pub, msg, sig)).toBe(true);
        expect(other.ed25519Verify(pub, msg, sig)).toBe(true);
        const bad = Uint8Array.from(sig);
        bad[at] = bad[at]! ^ 1;
        expect(p.ed25519Verify(pub, msg, bad)).toBe(false);
        expect(p.ed25519Verify(pub, msg, sig.subarray(1))).toBe(false);
        expect(p.ed25519Verify(pub.subarray(1), msg, sig)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  it('hashes inputs larger than any internal buffer', () => {
    const text = 'é'.repeat(40_000);
    expect(toHex(p.sha256(large, text))).toBe(createHash('sha256').update(large).update(text).digest('hex'));
    expect(toHex(p.hmacSha256(large.subarray(0, 100), large, text))).toBe(createHmac('sha256', large.subarray(0, 100)).update(large).update(text).digest('hex'));
    expect(toHex(p.sha256AndLeafHash(text).leafHash)).toBe(createHash('sha256').update(Buffer.of(0)).update(text).digest('hex'));
  });

  it('returns fresh random bytes', () => {
    expect(p.randomBytes(32)).toHaveLength(32);
    expect(toHex(p.randomBytes(32))).not.toBe(toHex(p.randomBytes(32)));
  });
});
