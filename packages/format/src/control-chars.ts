// Whether a line holds a raw control character (U+0000..U+001F), which
// canonical JSON never does (RFC 8785 section 3.2.2.2 escapes them in
// strings, and there is no whitespace between tokens): the record
// recognizer's first check of every line (record-scan.ts), done on UTF-8
// bytes four at a time rather than code unit by code unit.

/** TextEncoder.encodeInto (every browser, Node.js >= 12.11), absent from the portable typings of this package. */
interface Utf8Encoder {
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
const encoder = new TextEncoder() as unknown as Utf8Encoder;
/** Code units encoded at a time: a long line is checked in pieces, so the buffer stays small. */
const CHUNK = 16384;
// Three bytes per code unit at most, then a group of four words of padding.
const utf8Bytes = new Uint8Array(3 * CHUNK + 16);
const utf8Words = new Int32Array(utf8Bytes.buffer);

/**
 * Whether `s` holds a raw U+0000..U+001F anywhere. Canonical JSON never does
 * (section 3.2.2.2 escapes them in strings, and it has no whitespace between
 * tokens). UTF-8 spells exactly these code points with bytes below 0x20 (the
 * bytes of longer sequences are all 0x80 or above, and a surrogate pair cut
 * in two at a piece boundary encodes as U+FFFD), so the native encoder and a
 * test of four bytes at a time replace a look at every code unit.
 */
export function hasControlCharacter(s: string): boolean {
  for (let from = 0; from < s.length; from += CHUNK) {
    if (hasControlByte(encoder.encodeInto(s.length <= CHUNK ? s : s.slice(from, from + CHUNK), utf8Bytes).written)) return true;
  }
  return false;
}

/** Whether utf8Bytes[0..written) holds a byte below 0x20. */
function hasControlByte(written: number): boolean {
  // Pad to a whole group of four words with spaces, which are not control characters.
  utf8Bytes.fill(0x20, written, written + 16);
  return wordsHoldControlByte(utf8Words, 0, ((written + 15) >> 4) << 2);
}

/** Whether words[from..to) hold a byte below 0x20; `to - from` is a multiple of 4. */
function wordsHoldControlByte(words: Int32Array<ArrayBufferLike>, from: number, to: number): boolean {
  // For each word w, (w - 0x20202020) & ~w has a byte's top bit set exactly
  // when some byte of w is below 0x20 ("hasless(w, 0x20)", exact for bounds
  // up to 0x80: a borrow from such a byte sets its top bit, which ~w keeps
  // only for bytes below 0x80). OR-ing the words spares a branch per word.
  let any = 0;
  for (let i = from; i < to; i += 4) {
    const a = words[i]!;
    const b = words[i + 1]!;
    const c = words[i + 2]!;
    const d = words[i + 3]!;
    any |= ((a - 0x20202020) & ~a) | ((b - 0x20202020) & ~b) | ((c - 0x20202020) & ~c) | ((d - 0x20202020) & ~d);
  }
  return (any & 0x80808080) !== 0;
}

// A 32-bit view of the buffer the last line's bytes lay in: a verifier hands
// over the lines of one chunk after another, so one view serves many lines.
let wordsOf: ArrayBufferLike | undefined;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);

/**
 * Whether UTF-8 `bytes` hold a byte below 0x20, which is exactly whether their
 * decoding holds U+0000..U+001F: no byte of a longer sequence is below 0x80,
 * and a decoder gives an ASCII byte that cuts a sequence short its own
 * character. Tests whole groups of four aligned words with
 * wordsHoldControlByte, and the bytes before and after them one by one.
 */
export function hasControlByteIn(bytes: Uint8Array): boolean {
  const start = bytes.byteOffset;
  const end = start + bytes.length;
  const first = (start + 15) & ~15;
  const last = end & ~15;
  if (last - first < 64) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 0x20) return true;
    return false;
  }
  for (let i = 0; i < first - start; i++) if (bytes[i]! < 0x20) return true;
  for (let i = last - start; i < bytes.length; i++) if (bytes[i]! < 0x20) return true;
  if (wordsOf !== bytes.buffer) {
    wordsOf = bytes.buffer;
    words = new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >> 2);
  }
  return wordsHoldControlByte(words, first >> 2, last >> 2);
}
