// The recognizer's control-character checks read four bytes at a time, from
// aligned words in the middle and byte by byte at the ends; each must agree
// with a plain look at every unit, wherever the bytes lie in their buffer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hasControlByteIn, hasControlCharacter } from '../src/control-chars.js';

// Mostly printable, with control characters and the bytes around 0x20 now and then.
const unit = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) }, fc.constantFrom(0x00, 0x0a, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0x9f, 0xe9, 0xff));

describe('hasControlByteIn', () => {
  it('finds a byte below 0x20 anywhere, at any offset in any buffer', () => {
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 300 }), fc.nat(31), fc.nat(31), fc.constantFrom(0x00, 0x41), (units, offset, after, filler) => {
        const buffer = new Uint8Array(offset + units.length + after).fill(filler);
        buffer.set(units, offset);
        const bytes = buffer.subarray(offset, offset + units.length);
        expect(hasControlByteIn(bytes)).toBe(units.some((b) => b < 0x20));
      }),
      { numRuns: 3000 },
    );
  });

  it('finds a single control byte at every position of a long line', () => {
    const buffer = new Uint8Array(400).fill(0x41);
    for (const offset of [0, 1, 3, 13]) {
      for (let at = 0; at < 300; at++) {
        const bytes = buffer.subarray(offset, offset + 300);
        bytes[at] = 0x1f;
        expect(hasControlByteIn(bytes), `offset ${offset}, byte ${at}`).toBe(true);
        bytes[at] = 0x41;
        expect(hasControlByteIn(bytes)).toBe(false);
      }
    }
  });
});

describe('hasControlCharacter', () => {
  it('finds U+0000..U+001F anywhere, in short strings and in strings longer than one piece', () => {
    const text = fc.array(unit, { maxLength: 200 }).map((us) => String.fromCharCode(...us));
    fc.assert(
      fc.property(text, fc.boolean(), (s, long) => {
        const t = long ? 'x'.repeat(16_380) + s + '\u00e9'.repeat(16_384) + s : s;
        expect(hasControlCharacter(t)).toBe([...t].some((c) => c.charCodeAt(0) < 0x20));
      }),
      { numRuns: 300 },
    );
  });
});
