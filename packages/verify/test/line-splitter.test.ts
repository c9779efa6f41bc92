// LineSplitter decodes each line on its own. Its claim: whatever the chunking,
// the lines (text and bytes) are those of the whole file split at its line
// feeds, and the texts are what decoding the whole file as one stream gives,
// split at U+000A, invalid UTF-8 included (a line feed never sits inside a
// UTF-8 sequence, so replacement characters fall the same way).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '@trailseal/verify';

const lineBytes = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => new TextEncoder().encode(s.replaceAll('\n', ''))),
  // Arbitrary bytes: invalid UTF-8, sequences cut short, stray continuation bytes.
  fc.uint8Array({ maxLength: 40 }).map((b) => b.map((x) => (x === 0x0a ? 0x41 : x))),
);

function join(lines: Uint8Array[], finalNewline: boolean): Uint8Array {
  const parts = lines.flatMap((l, i) => (i < lines.length - 1 || finalNewline ? [l, Uint8Array.of(0x0a)] : [l]));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('LineSplitter', () => {
  it('gives the lines of the whole file, with their bytes, for any chunking, even when the caller reuses its chunk buffer', () => {
    fc.assert(
      fc.property(fc.array(lineBytes, { minLength: 1, maxLength: 12 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), (lines, finalNewline, sizes) => {
        const file = join(lines, finalNewline);
        const got: { text: string; bytes: number[] }[] = [];
        const out = (text: string, bytes: Uint8Array): void => {
          got.push({ text, bytes: [...bytes] });
        };
        const splitter = new LineSplitter();
        const reused = new Uint8Array(64);
        for (let at = 0, k = 0; at < file.length; k++) {
          const n = Math.min(sizes[k % sizes.length]!, file.length - at);
          reused.set(file.subarray(at, at + n));
          // Node.js hands out Buffers, whose slice() is a view, not a copy.
          splitter.push(k % 2 === 0 ? reused.subarray(0, n) : Buffer.from(reused.buffer, 0, n), out);
          reused.fill(0x58);
          at += n;
        }
        splitter.end(out);

        // After the last line feed comes a last line only if it is not empty.
        const whole = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true }).decode(file).split('\n');
        const wanted = [...lines];
        if (finalNewline || lines[lines.length - 1]!.length === 0) {
          whole.pop();
          if (!finalNewline) wanted.pop();
        }
        expect(got.map((g) => g.text)).toEqual(whole);
        expect(got.map((g) => g.bytes)).toEqual(wanted.map((l) => [...l]));
      }),
      { numRuns: 400 },
    );
  });
});
