// A deliberately naive Merkle tree straight from RFC 6962 section 2.1, used as
// the oracle for the real implementation. It recurses on the leaf data exactly
// as the RFC's definitions do and shares nothing with src/merkle/ except the
// SHA-256 provider. The only addition is a cache of MTH by leaf range, since
// the tests ask for the same subtrees of one leaf list many times.

import { cryptoProvider } from '../../src/crypto/provider.js';

const sha256 = (...parts: Uint8Array[]): Uint8Array => cryptoProvider().sha256(...parts);
const LEAF = new Uint8Array([0x00]);
const NODE = new Uint8Array([0x01]);

/** The largest power of two smaller than n (n > 1). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The leaves D[0:n] of one log; every method works on a prefix D[0:n]. */
export class ReferenceTree {
  readonly leaves: readonly Uint8Array[];
  readonly #mth = new Map<string, Uint8Array>();

  constructor(leaves: readonly Uint8Array[]) {
    this.leaves = leaves;
  }

  /** MTH(D[start:end]). */
  mth(start: number, end: number): Uint8Array {
    const key = `${start}:${end}`;
    let h = this.#mth.get(key);
    if (h !== undefined) return h;
    const n = end - start;
    if (n === 0) {
      h = sha256();
    } else if (n === 1) {
      h = sha256(LEAF, this.leaves[start]!);
    } else {
      const k = splitPoint(n);
      h = sha256(NODE, this.mth(start, start + k), this.mth(start + k, end));
    }
    this.#mth.set(key, h);
    return h;
  }

  /** PATH(m, D[0:n]): the audit path of leaf m. */
  path(m: number, n: number): Uint8Array[] {
    return this.#path(m, 0, n);
  }

  // PATH(m, D[start:end]), m relative to start.
  #path(m: number, start: number, end: number): Uint8Array[] {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    if (m < k) return [...this.#path(m, start, start + k), this.mth(start + k, end)];
    return [...this.#path(m - k, start + k, end), this.mth(start, start + k)];
  }

  /** PROOF(m, D[0:n]): the consistency proof between sizes m and n, 0 < m <= n. */
  proof(m: number, n: number): Uint8Array[] {
    return this.#subproof(m, 0, n, true);
  }

  // SUBPROOF(m, D[start:end], b), m relative to start.
  #subproof(m: number, start: number, end: number, b: boolean): Uint8Array[] {
    const n = end - start;
    if (m === n) return b ? [] : [this.mth(start, end)];
    const k = splitPoint(n);
    if (m <= k) return [...this.#subproof(m, start, start + k, b), this.mth(start + k, end)];
    return [...this.#subproof(m - k, start + k, end, false), this.mth(start, start + k)];
  }
}
