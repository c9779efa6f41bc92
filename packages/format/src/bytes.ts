// Byte helpers shared by every codec. Hex is lowercase (record fields), base64
// is RFC 4648 section 4 with padding (C2SP notes, checkpoints and proofs).
import { TrailsealError } from './errors.js';

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, rejecting invalid sequences instead of substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array, field = 'input'): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new TrailsealError('INVALID_UTF8', `${field} is not valid UTF-8`, { field });
  }
}

// The two ASCII digits of each byte value, laid out in a scratch buffer and
// decoded at once. Appending digit pairs to a string (`out += ...`) made a
// chain of cons strings, one object per byte past the 13th character: a
// 32-byte hash was 26 string objects, and the receipts of a batch held 1000
// such chains through the commit (a heap snapshot of the event loop under
// load). The decoded string is flat, and this is about four times as fast.
const HEX_DIGITS = new Uint8Array(512);
for (let i = 0; i < 256; i++) {
  const pair = i.toString(16).padStart(2, '0');
  HEX_DIGITS[2 * i] = pair.charCodeAt(0);
  HEX_DIGITS[2 * i + 1] = pair.charCodeAt(1);
}
const asciiDecoder = new TextDecoder();
// Synchronous, so one scratch buffer is safe to reuse; larger inputs get their own.
const hexScratch = new Uint8Array(4096);

export function toHex(bytes: Uint8Array): string {
  const n = 2 * bytes.length;
  const out = n <= hexScratch.length ? hexScratch : new Uint8Array(n);
  return asciiDecoder.decode(hexDigits(bytes, out).subarray(0, n));
}

function hexDigits(bytes: Uint8Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) {
    const b = 2 * bytes[i]!;
    out[2 * i] = HEX_DIGITS[b]!;
    out[2 * i + 1] = HEX_DIGITS[b + 1]!;
  }
  return out;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses lowercase hex. Uppercase is rejected: the format has one spelling. */
export function fromHex(text: string, field = 'hex'): Uint8Array {
  if (text.length % 2 !== 0) {
    throw new TrailsealError('INVALID_HEX', `${field} has an odd number of hex digits`, { field });
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(text.charCodeAt(2 * i));
    const lo = hexNibble(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new TrailsealError('INVALID_HEX', `${field} is not lowercase hex`, { field });
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + '=';
  }
  return out;
}

/**
 * Strict RFC 4648 section 4 decoding: padding required, no whitespace, no
 * non-zero trailing bits. One byte string has exactly one accepted spelling,
 * so a verifier cannot be fooled by an alternative encoding of the same hash.
 */
export function fromBase64(text: string, field = 'base64'): Uint8Array {
  const bad = (why: string): TrailsealError =>
    new TrailsealError('INVALID_BASE64', `${field} is not canonical base64: ${why}`, { field });
  if (text.length % 4 !== 0) throw bad('length is not a multiple of 4');
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const outLen = (text.length / 4) * 3 - pad;
  const out = new Uint8Array(outLen);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const v: number[] = [];
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      if (last && c === 61 /* = */ && j >= 4 - pad) {
        v.push(0);
        continue;
      }
      const d = c < 128 ? B64_INDEX[c]! : -1;
      if (d < 0) throw bad(`unexpected character at offset ${i + j}`);
      v.push(d);
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    out[o++] = n >> 16;
    if (o < outLen) out[o++] = (n >> 8) & 255;
    if (o < outLen) out[o++] = n & 255;
    if (last && pad > 0) {
      const spare = pad === 2 ? n & 0xffff : n & 0xff;
      if (spare !== 0) throw bad('non-zero padding bits');
    }
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
