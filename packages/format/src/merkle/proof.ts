// Proof construction in two steps, so that a store can fetch every node hash a
// proof needs in one batch: plan the node ids (no I/O), then assemble the
// proof from the fetched hashes. The shape follows the `proof` package of
// transparency-dev/merkle.
//
// The proofs are the RFC 9162 ones (section 2.1.3.1 PATH, section 2.1.4.1
// SUBPROOF). A proof element is the hash of a subtree of the RFC tree. All of
// them are perfect subtrees except at most one: the sibling on the right edge
// of the tree, which covers [a, size) with size - a not a power of two. That
// "ephemeral" node is never stored; its hash is folded from the perfect nodes
// covering [a, size).
//
// The ids of one plan cover pairwise disjoint leaf ranges, so a plan never
// names a node twice.

import { TrailsealError } from '../errors.js';
import { checkSize, isOdd, shl, shr, trailingZeros, xorBitLength } from './bits.js';
import { type NodeId, pushRangeNodes, rangeNodes } from './compact.js';
import { HASH_SIZE, emptyRoot, foldRight } from './hash.js';

interface Plan {
  readonly ids: NodeId[];
  /** Proof elements before the ephemeral group, one id each. */
  readonly before: number;
  /** Number of ids (0 if none) folded into the ephemeral element. */
  readonly ephemeral: number;
}

// Appends to `ids` the proof that the perfect node (level, index) is in the
// tree of `size` leaves: the RFC 9162 PATH, taken with (level, index) as the
// leaf. Requires (index + 1) * 2^level <= size.
function planPath(level: number, index: number, size: number, ids: NodeId[]): Plan {
  // `inner` levels above (level, index) its path meets the path of the last
  // leaf. Below that, the node and its ancestors are perfect, and so are
  // their siblings except the topmost, which is cut by the end of the tree.
  const inner = xorBitLength(index, shr(size - 1, level));
  for (let l = 0; l + 1 < inner; l++) {
    const i = shr(index, l);
    ids.push({ level: level + l, index: isOdd(i) ? i - 1 : i + 1 });
  }
  const before = ids.length;
  if (inner > 0) {
    // The right sibling at level + inner - 1, truncated at size: the
    // ephemeral node when [a, size) is not a whole perfect subtree.
    const a = shl(shr(index, inner - 1) + 1, level + inner - 1);
    pushRangeNodes(a, size, ids);
  }
  const ephemeral = ids.length - before;
  // Above the fork the path runs along the right edge of the RFC tree, whose
  // left children are the perfect subtrees covering [0, b), nearest first.
  const b = shl(shr(index, inner), level + inner);
  const left = rangeNodes(0, b);
  for (let i = left.length - 1; i >= 0; i--) ids.push(left[i]!);
  return { ids, before, ephemeral };
}

function checkIndex(index: number, size: number): void {
  checkSize('size', size);
  checkSize('index', index);
  if (index >= size) {
    throw new TrailsealError('TREE_SIZE_INVALID', `leaf index ${index} is not below tree size ${size}`, {
      index,
      size,
    });
  }
}

function checkSizes(size1: number, size2: number): void {
  checkSize('size1', size1);
  checkSize('size2', size2);
  if (size1 > size2) {
    throw new TrailsealError('TREE_SIZE_INVALID', `size1 ${size1} is larger than size2 ${size2}`, { size1, size2 });
  }
}

function planInclusion(index: number, size: number): Plan {
  checkIndex(index, size);
  return planPath(0, index, size, []);
}

function planConsistency(size1: number, size2: number): Plan {
  checkSizes(size1, size2);
  // Equal sizes need no proof; consistency with the empty tree is trivial
  // (RFC 9162 section 2.1.4 defines proofs for 0 < size1 < size2).
  if (size1 === size2 || size1 === 0) return { ids: [], before: 0, ephemeral: 0 };
  // SUBPROOF descends to the last perfect subtree of the first tree, the one
  // ending at size1; the proof is that node (unless size1 is a power of two:
  // then it is the whole first tree, which the verifier holds as root1)
  // followed by its inclusion path in the second tree.
  const level = trailingZeros(size1);
  const index = shr(size1 - 1, level);
  const ids: NodeId[] = index === 0 ? [] : [{ level, index }];
  return planPath(level, index, size2, ids);
}

function assemble(plan: Plan, hashes: readonly Uint8Array[]): Uint8Array[] {
  checkHashes(plan.ids, hashes);
  const { before, ephemeral } = plan;
  const out = hashes.slice(0, before);
  if (ephemeral > 0) out.push(foldRight(hashes, before, before + ephemeral));
  for (let i = before + ephemeral; i < hashes.length; i++) out.push(hashes[i]!);
  return out;
}

function checkHashes(ids: readonly NodeId[], hashes: readonly Uint8Array[]): void {
  if (!Array.isArray(hashes) || hashes.length !== ids.length) {
    const got: unknown = Array.isArray(hashes) ? hashes.length : typeof hashes;
    throw new TrailsealError('TREE_NODE_MISSING', `expected ${ids.length} node hashes, got ${String(got)}`, {
      expected: ids.length,
      got,
    });
  }
  for (let i = 0; i < hashes.length; i++) {
    const h = hashes[i];
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
      const { level, index } = ids[i]!;
      throw new TrailsealError('TREE_NODE_MISSING', `node (level ${level}, index ${index}) has no ${HASH_SIZE}-byte hash`, {
        level,
        index,
      });
    }
  }
}

/** Node ids whose hashes inclusionProofFromNodes needs for leaf `index` in a tree of `size` leaves. */
export function inclusionProofNodes(index: number, size: number): NodeId[] {
  return planInclusion(index, size).ids;
}

/** The RFC 9162 section 2.1.3.1 inclusion proof, from the hashes of inclusionProofNodes (same order). */
export function inclusionProofFromNodes(index: number, size: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  return assemble(planInclusion(index, size), hashes);
}

/** Node ids whose hashes consistencyProofFromNodes needs; none when size1 is 0 or equals size2. */
export function consistencyProofNodes(size1: number, size2: number): NodeId[] {
  return planConsistency(size1, size2).ids;
}

/** The RFC 9162 section 2.1.4.1 consistency proof, from the hashes of consistencyProofNodes (same order). */
export function consistencyProofFromNodes(size1: number, size2: number, hashes: readonly Uint8Array[]): Uint8Array[] {
  return assemble(planConsistency(size1, size2), hashes);
}

/** Node ids whose hashes rootFromNodes needs: the perfect subtrees covering [0, size). */
export function rootNodes(size: number): NodeId[] {
  return rangeNodes(0, size);
}

/** MTH of a tree of `size` leaves from the hashes of rootNodes(size). */
export function rootFromNodes(size: number, hashes: readonly Uint8Array[]): Uint8Array {
  const ids = rootNodes(size);
  checkHashes(ids, hashes);
  return ids.length === 0 ? emptyRoot() : foldRight(hashes, 0, hashes.length);
}

/** Synchronous access to stored perfect-node hashes. */
export interface NodeReader {
  /** The hashes of `ids`, in the same order. Never called with an empty list. */
  getNodes(ids: readonly NodeId[]): Uint8Array[];
}

/** Asynchronous access to stored perfect-node hashes (database stores). */
export interface AsyncNodeReader {
  getNodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
}

function read(reader: NodeReader, ids: readonly NodeId[]): Uint8Array[] {
  return ids.length === 0 ? [] : reader.getNodes(ids);
}

async function readAsync(reader: AsyncNodeReader, ids: readonly NodeId[]): Promise<Uint8Array[]> {
  return ids.length === 0 ? [] : reader.getNodes(ids);
}

export function inclusionProof(reader: NodeReader, index: number, size: number): Uint8Array[] {
  const plan = planInclusion(index, size);
  return assemble(plan, read(reader, plan.ids));
}

export function consistencyProof(reader: NodeReader, size1: number, size2: number): Uint8Array[] {
  const plan = planConsistency(size1, size2);
  return assemble(plan, read(reader, plan.ids));
}

export function rootAt(reader: NodeReader, size: number): Uint8Array {
  return rootFromNodes(size, read(reader, rootNodes(size)));
}

export async function inclusionProofAsync(reader: AsyncNodeReader, index: number, size: number): Promise<Uint8Array[]> {
  const plan = planInclusion(index, size);
  return assemble(plan, await readAsync(reader, plan.ids));
}

export async function consistencyProofAsync(reader: AsyncNodeReader, size1: number, size2: number): Promise<Uint8Array[]> {
  const plan = planConsistency(size1, size2);
  return assemble(plan, await readAsync(reader, plan.ids));
}

export async function rootAtAsync(reader: AsyncNodeReader, size: number): Promise<Uint8Array> {
  const ids = rootNodes(size);
  return rootFromNodes(size, await readAsync(reader, ids));
}
