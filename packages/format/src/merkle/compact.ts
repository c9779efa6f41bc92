// Compact ranges: the O(log n) state from which a log appends leaves and
// computes roots, after the `compact` package of transparency-dev/merkle.
//
// A range [begin, end) of leaves is covered by a unique minimal list of
// perfect subtrees (NodeId below), their sizes first growing (aligned on
// `begin`) then shrinking (the binary digits of what is left). Only perfect
// subtrees are stored, because they never change once complete; the hash of an
// incomplete subtree on the right edge of a tree is recomputed from them.

import { TrailsealError } from '../errors.js';
import { MAX_TREE_SIZE, POW2, bitLength, checkSize, isOdd, shl, trailingZeros } from './bits.js';
import { HASH_SIZE, emptyRoot, foldRight, nodeHash } from './hash.js';

/** The perfect subtree of 2^level leaves that starts at leaf index * 2^level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Receives every perfect node as it becomes complete, so a store can persist it. */
export type NodeVisitor = (id: NodeId, hash: Uint8Array) => void;

/**
 * The minimal list of perfect subtrees covering leaves [begin, end), left to
 * right. rangeNodes(0, size) are the nodes the root of a tree of `size`
 * leaves is computed from.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  return pushRangeNodes(begin, end, []);
}

/** rangeNodes(begin, end), appended to `out`. */
export function pushRangeNodes(begin: number, end: number, out: NodeId[]): NodeId[] {
  checkSize('begin', begin);
  checkSize('end', end, begin);
  let pos = begin;
  // Left part: the largest block aligned on pos, while it fits.
  while (pos < end && pos !== 0) {
    const level = trailingZeros(pos);
    const size = POW2[level]!;
    if (pos + size > end) break;
    out.push({ level, index: pos / size });
    pos += size;
  }
  // Right part: pos is aligned to more than what is left, so the binary
  // digits of end - pos, highest first, give aligned blocks.
  const rest = end - pos;
  for (let level = bitLength(rest) - 1; level >= 0; level--) {
    const size = POW2[level]!;
    if (end - pos >= size) {
      out.push({ level, index: pos / size });
      pos += size;
    }
  }
  return out;
}

function checkHash(hash: Uint8Array, what: string): void {
  if (!(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
    throw new TrailsealError('TREE_NODE_MISSING', `${what} is not a ${HASH_SIZE}-byte hash`, {
      field: what,
    });
  }
}

export class CompactRange {
  #begin: number;
  #end: number;
  readonly #hashes: Uint8Array[];

  /**
   * `hashes` must be the hashes of rangeNodes(begin, end), in that order (for
   * example read back from a store to resume appending after a restart).
   */
  constructor(begin = 0, end = 0, hashes: readonly Uint8Array[] = []) {
    const ids = rangeNodes(begin, end);
    if (hashes.length !== ids.length) {
      throw new TrailsealError(
        'TREE_NODE_MISSING',
        `range [${begin}, ${end}) needs ${ids.length} hashes, got ${hashes.length}`,
        { begin, end, expected: ids.length, got: hashes.length },
      );
    }
    hashes.forEach((h, i) => checkHash(h, `hashes[${i}]`));
    this.#begin = begin;
    this.#end = end;
    this.#hashes = hashes.slice();
  }

  get begin(): number {
    return this.#begin;
  }

  get end(): number {
    return this.#end;
  }

  /** The hashes of rangeNodes(begin, end), left to right. Do not mutate. */
  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /**
   * Appends the leaf at index `end`. `visit` sees the leaf (level 0) and then
   * every parent that this leaf completes, bottom up: exactly the new perfect
   * nodes, each once. Amortized one node hash per leaf.
   */
  append(leafHash: Uint8Array, visit?: NodeVisitor): void {
    if (this.#end >= MAX_TREE_SIZE) {
      throw new TrailsealError('TREE_SIZE_INVALID', 'the tree is full (2^53-1 leaves)', { size: this.#end });
    }
    checkHash(leafHash, 'leafHash');
    const index = this.#end;
    visit?.({ level: 0, index }, leafHash);
    this.#push(0, index, leafHash, visit);
    this.#end = index + 1;
  }

  /**
   * Appends the adjacent range `other` (other.begin === this.end), so that
   * chunks of a log hashed in parallel can be joined. `visit` sees only the
   * parents created by the join: other's own nodes were complete (and
   * visited) when other was built.
   */
  appendRange(other: CompactRange, visit?: NodeVisitor): void {
    if (other.begin !== this.#end) {
      throw new TrailsealError(
        'TREE_SIZE_INVALID',
        `cannot append range [${other.begin}, ${other.end}) to [${this.#begin}, ${this.#end}): not adjacent`,
        { begin: this.#begin, end: this.#end, otherBegin: other.begin, otherEnd: other.end },
      );
    }
    const ids = rangeNodes(other.begin, other.end);
    const hashes = other.hashes;
    for (let i = 0; i < ids.length; i++) this.#push(ids[i]!.level, ids[i]!.index, hashes[i]!, visit);
    this.#end = other.end;
  }

  // Adds the perfect node (level, index), which starts at the current end, and
  // merges it with its left sibling while that sibling lies inside the range:
  // the sibling is then necessarily the last hash of the list, because the
  // last block of a minimal cover cannot be larger than the alignment of end.
  #push(level: number, index: number, hash: Uint8Array, visit: NodeVisitor | undefined): void {
    let h = hash;
    let l = level;
    let i = index;
    while (isOdd(i) && shl(i - 1, l) >= this.#begin) {
      h = nodeHash(this.#hashes.pop()!, h);
      l++;
      i = (i - 1) / 2;
      visit?.({ level: l, index: i }, h);
    }
    this.#hashes.push(h);
  }

  /** MTH of leaves [0, end) (RFC 9162 section 2.1.1); only for ranges that start at 0. */
  root(): Uint8Array {
    if (this.#begin !== 0) {
      throw new TrailsealError('TREE_SIZE_INVALID', `the range starts at ${this.#begin}, not 0: it has no root`, {
        begin: this.#begin,
        end: this.#end,
      });
    }
    if (this.#hashes.length === 0) return emptyRoot();
    return foldRight(this.#hashes, 0, this.#hashes.length);
  }

  clone(): CompactRange {
    return new CompactRange(this.#begin, this.#end, this.#hashes);
  }
}
