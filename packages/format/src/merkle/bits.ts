// Bit arithmetic on tree sizes and leaf indices. Sizes go up to 2^53 - 1, the
// largest integer a JS number holds exactly, but the bitwise operators only see
// 32 bits. Division and multiplication by a power of two are exact for safe
// integers, so shifts are spelled with them; a few helpers split a number into
// its high and low 32-bit halves.

import { TrailsealError } from '../errors.js';

const TWO32 = 4294967296;

/** The largest tree size (and one past the largest leaf index): 2^53 - 1. */
export const MAX_TREE_SIZE = Number.MAX_SAFE_INTEGER;

/** POW2[k] = 2^k for every level a tree of at most 2^53 - 1 leaves has. */
export const POW2: readonly number[] = Array.from({ length: 54 }, (_, k) => 2 ** k);

/** floor(x / 2^k). */
export function shr(x: number, k: number): number {
  return k === 0 ? x : Math.floor(x / POW2[k]!);
}

/** x * 2^k. */
export function shl(x: number, k: number): number {
  return x * POW2[k]!;
}

export function isOdd(x: number): boolean {
  return x % 2 === 1;
}

function bitLength32(x: number): number {
  return 32 - Math.clz32(x);
}

/** Number of bits needed to write x (0 for 0). */
export function bitLength(x: number): number {
  return x < TWO32 ? bitLength32(x) : 32 + bitLength32(Math.floor(x / TWO32));
}

/** bitLength(a XOR b) for safe integers. */
export function xorBitLength(a: number, b: number): number {
  const ah = Math.floor(a / TWO32);
  const bh = Math.floor(b / TWO32);
  if (ah !== bh) return 32 + bitLength32((ah ^ bh) >>> 0);
  return bitLength32(((a % TWO32) ^ (b % TWO32)) >>> 0);
}

/** Number of trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  const lo = x % TWO32;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  return 32 + trailingZeros(x / TWO32);
}

/** Requires a safe integer in [min, MAX_TREE_SIZE]; names the argument on failure. */
export function checkSize(name: string, value: number, min = 0): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TrailsealError(
      'TREE_SIZE_INVALID',
      `${name} must be an integer in [${min}, 2^53-1], got ${String(value)}`,
      { field: name, [name]: value },
    );
  }
}
