import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, fromUtf8, toBase64, toHex } from '@trailseal/format';

describe('byte encodings', () => {
  it('round-trips hex and base64 and agrees with Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(toHex(b)).toBe(Buffer.from(b).toString('hex'));
        expect(toBase64(b)).toBe(Buffer.from(b).toString('base64'));
        expect(fromHex(toHex(b))).toEqual(b);
        expect(fromBase64(toBase64(b))).toEqual(b);
      }),
    );
  });

  it('toHex agrees with Buffer at every size, through its scratch buffer and past it, also on views into larger buffers', () => {
    // Sizes around the scratch buffer's size (4096 digits), and views that start inside their buffer.
    const sizes = [0, 1, 63, 64, 65, 2047, 2048, 2049, 5000];
    const order = [...sizes, ...[...sizes].reverse()];
    const outputs: string[] = [];
    for (const n of order) {
      const backing = Uint8Array.from({ length: n + 7 }, (_, i) => (i * 131 + n) & 255);
      const view = backing.subarray(3, 3 + n);
      const hex = toHex(view);
      outputs.push(hex);
      expect([n, hex]).toEqual([n, Buffer.from(view).toString('hex')]);
    }
    // Earlier results are unchanged by later calls that reuse the scratch buffer.
    expect(outputs.map((h) => [h.length, h.slice(0, 6)])).toEqual(order.map((n) => [2 * n, Buffer.from(Uint8Array.from({ length: Math.min(n, 3) }, (_, i) => ((i + 3) * 131 + n) & 255)).toString('hex')]));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 100, maxLength: 3000 }), (b) => {
        expect(toHex(b)).toBe(Buffer.from(b).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it.each(['A', 'AA', 'AAA', 'AA=A', 'AB==', 'AAB=', '====', 'AA==AA==', ' AAA', 'AA\nA'])('rejects non-canonical base64 %j', (s) => {
    expect(() => fromBase64(s)).toThrow(expect.objectContaining({ code: 'INVALID_BASE64' }));
  });

  it.each(['0', 'AB', 'zz', '0g'])('rejects hex %j', (s) => {
    expect(() => fromHex(s)).toThrow(expect.objectContaining({ code: 'INVALID_HEX' }));
  });

  it('rejects invalid UTF-8 instead of replacing it', () => {
    expect(() => fromUtf8(Uint8Array.of(0x61, 0xff))).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }));
    expect(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toThrow(expect.objectContaining({ code: 'INVALID_UTF8' }));
    expect(fromUtf8(Uint8Array.of(0xe2, 0x82, 0xac))).toBe('€');
  });
});
