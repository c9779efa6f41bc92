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
