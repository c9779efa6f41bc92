// Proof verification: the RFC 9162 algorithms of sections 2.1.3.2 (inclusion)
// and 2.1.4.2 (consistency), step for step. Failures throw a TrailsealError
// whose details carry the evidence (sizes, the expected and the computed
// hashes in base64), so a report can show why a proof was rejected.
//
// Before hashing, the proof length is checked against the length the RFC
// algorithm consumes for these sizes (it depends on the sizes only), so a
// proof that is too short or too long is reported as such rather than as a
// root mismatch. A proof hash that is not 32 bytes is malformed and is
// reported the same way (PROOF_WRONG_LENGTH).

import { bytesEqual, toBase64 } from '../bytes.js';
import { TrailsealError } from '../errors.js';
import { POW2, checkSize, isOdd, trailingZeros } from './bits.js';
import { HASH_SIZE, emptyRoot, nodeHash } from './hash.js';

const half = (x: number): number => Math.floor(x / 2);

// RFC 9162 sections 2.1.3.2 step 4 and 2.1.4.2 step 6 without the hashing:
// the number of proof hashes consumed, one per iteration until sn reaches 0.
function steps(fn: number, sn: number): number {
  let n = 0;
  while (sn !== 0) {
    n++;
    if (fn === sn && !isOdd(fn)) {
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    }
    fn = half(fn);
    sn = half(sn);
  }
  return n;
}

/** Number of hashes in the consistency proof for 0 < size1 < size2. */
function consistencyLength(size1: number, size2: number): number {
  // Steps 3 and 4 of RFC 9162 section 2.1.4.2, then one hash for the start
  // (step 5) and one per iteration of step 6.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  const n = 1 + steps(fn, sn);
  // When size1 is a power of two the verifier prepends root1 itself (step 2).
  return isPowerOfTwo(size1) ? n - 1 : n;
}

function isPowerOfTwo(x: number): boolean {
  return x > 0 && POW2[trailingZeros(x)] === x;
}

function checkProofShape(proof: readonly Uint8Array[], expected: number, details: Record<string, unknown>): void {
  if (!Array.isArray(proof) || proof.length !== expected) {
    const got = Array.isArray(proof) ? proof.length : typeof proof;
    throw new TrailsealError('PROOF_WRONG_LENGTH', `the proof has ${String(got)} hashes, the sizes require ${expected}`, {
      ...details,
      proofLength: got,
      expectedLength: expected,
    });
  }
  for (let i = 0; i < proof.length; i++) {
    const h = proof[i];
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      throw new TrailsealError('PROOF_WRONG_LENGTH', `proof hash ${i} is not a ${HASH_SIZE}-byte hash`, {
        ...details,
        position: i,
        byteLength: h instanceof Uint8Array ? h.length : undefined,
      });
    }
  }
}

/**
 * The root that `proof` leads to from `leafHash` at `index` in a tree of
 * `size` leaves (RFC 9162 section 2.1.3.2 steps 1 to 4). Throws
 * TREE_SIZE_INVALID or PROOF_WRONG_LENGTH; comparing with a trusted root is
 * the caller's job (or use verifyInclusion).
 */
export function rootFromInclusionProof(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkSize('index', index);
  checkSize('size', size);
  // Step 1.
  if (index >= size) {
    throw new TrailsealError('TREE_SIZE_INVALID', `leaf index ${index} is not below tree size ${size}`, { index, size });
  }
  checkProofShape(proof, steps(index, size - 1), { index, size });
  // Steps 2 and 3.
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  // Step 4.
  for (const p of proof) {
    // 4a: unreachable after the length check, kept as the RFC states it.
    if (sn === 0) {
      throw new TrailsealError('PROOF_WRONG_LENGTH', 'the inclusion proof is too long', { index, size });
    }
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5, first half.
  if (sn !== 0) {
    throw new TrailsealError('PROOF_WRONG_LENGTH', 'the inclusion proof is too short', { index, size });
  }
  return r;
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with
 * root `root` (RFC 9162 section 2.1.3.2). Throws TREE_SIZE_INVALID,
 * PROOF_WRONG_LENGTH or PROOF_ROOT_MISMATCH.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafHash, index, size, proof);
  // Step 5, second half.
  if (!bytesEqual(computed, root)) {
    throw new TrailsealError('PROOF_ROOT_MISMATCH', `the inclusion proof for leaf ${index} does not lead to the root of tree size ${size}`, {
      index,
      size,
      leafHash: toBase64(leafHash),
      expected: toBase64(root),
      computed: toBase64(computed),
    });
  }
}

function inconsistent(message: string, details: Record<string, unknown>): TrailsealError {
  return new TrailsealError('PROOF_INCONSISTENT', message, details);
}

/**
 * Verifies that the tree of size1 leaves with root root1 is a prefix of the
 * tree of size2 leaves with root root2 (RFC 9162 section 2.1.4.2). Throws
 * TREE_SIZE_INVALID, PROOF_WRONG_LENGTH or PROOF_INCONSISTENT.
 *
 * Edge cases: size1 = size2 needs an empty proof and root1 = root2.
 * size1 = 0 needs an empty proof and root1 must be the empty-tree root
 * (SHA-256 of the empty string); any root2 is consistent with it, as RFC 9162
 * section 2.1.4 defines proofs only for 0 < size1 < size2 and the empty tree
 * is a prefix of every tree.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 > size2) {
    throw new TrailsealError('TREE_SIZE_INVALID', `size1 ${size1} is larger than size2 ${size2}`, { size1, size2 });
  }
  const sizes = { size1, size2 };
  if (size1 === size2 || size1 === 0) {
    checkProofShape(proof, 0, sizes);
    const [expected, what] = size1 === 0 ? [emptyRoot(), 'the empty-tree root'] : [root2, 'root2'];
    if (!bytesEqual(root1, expected)) {
      throw inconsistent(`root1 of tree size ${size1} is not ${what}`, {
        ...sizes,
        root1: toBase64(root1),
        root2: toBase64(root2),
        expected: toBase64(expected),
        computed: toBase64(root1),
      });
    }
    return;
  }
  // Step 1 (an empty path) is covered by the length check: 0 < size1 < size2
  // always needs at least one hash.
  checkProofShape(proof, consistencyLength(size1, size2), sizes);
  // Step 2.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  // Steps 3 and 4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    // 6a: unreachable after the length check, kept as the RFC states it.
    if (sn === 0) throw new TrailsealError('PROOF_WRONG_LENGTH', 'the consistency proof is too long', sizes);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  if (sn !== 0) throw new TrailsealError('PROOF_WRONG_LENGTH', 'the consistency proof is too short', sizes);
  const evidence = {
    ...sizes,
    root1: toBase64(root1),
    root2: toBase64(root2),
    computedRoot1: toBase64(fr),
    computedRoot2: toBase64(sr),
  };
  if (!bytesEqual(fr, root1)) {
    throw inconsistent(`the consistency proof does not lead to root1 of tree size ${size1}`, {
      ...evidence,
      expected: evidence.root1,
      computed: evidence.computedRoot1,
    });
  }
  if (!bytesEqual(sr, root2)) {
    throw inconsistent(`the consistency proof does not lead to root2 of tree size ${size2}`, {
      ...evidence,
      expected: evidence.root2,
      computed: evidence.computedRoot2,
    });
  }
}
