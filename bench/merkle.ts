// Merkle tree throughput, each figure beside the raw one-shot SHA-256 rate of
// 64-byte inputs measured in the same run (a node hash is SHA-256 of 65
// bytes, so appends are bounded by about that rate, amortized one node hash
// per leaf).
import { hash } from 'node:crypto';
import {
  CompactRange,
  MemoryNodeStore,
  inclusionProof,
  leafHash,
  rootAt,
  verifyInclusion,
  type NodeVisitor,
} from '@trailseal/format';
import { isMain, printTable, rate, result, type BenchResult } from './measure.js';

const STORE_LEAVES = 1 << 20;

export function benchMerkle(): BenchResult[] {
  const input = new Uint8Array(64).fill(7);
  const sha = rate(() => hash('sha256', input, 'binary'));
  const baselineName = 'SHA-256 one-shot, 64 B';
  const row = (name: string, opsPerSec: number): BenchResult => result(name, opsPerSec, baselineName, sha);

  // Distinct leaf hashes, made once, so the loop measures appending only.
  const leaves = Array.from({ length: 4096 }, (_, i) => leafHash(`leaf ${i}`));
  const noop: NodeVisitor = () => undefined;
  let range = new CompactRange();
  const append = rate((i) => {
    // Restart now and then so the range keeps the size of a live log's.
    if (range.end >= 1 << 22) range = new CompactRange();
    range.append(leaves[i & 4095]!, noop);
  });

  const store = new MemoryNodeStore();
  const built = new CompactRange();
  for (let i = 0; i < STORE_LEAVES; i++) built.append(leafHash(`leaf ${i}`), (id, h) => store.put(id, h));
  // A size that is not a power of two, so proofs need an ephemeral node.
  const size = STORE_LEAVES - 12345;
  const prove = rate((i) => inclusionProof(store, (i * 7919) % size, size));

  const samples = Array.from({ length: 1024 }, (_, k) => {
    const index = (k * 104729) % size;
    return { index, leaf: leafHash(`leaf ${index}`), proof: inclusionProof(store, index, size) };
  });
  const sizeRoot = rootAt(store, size);
  const verify = rate((i) => {
    const s = samples[i & 1023]!;
    verifyInclusion(s.leaf, s.index, size, s.proof, sizeRoot);
  });

  return [
    row('CompactRange.append (leaf hashes/s)', append),
    row(`inclusionProof, MemoryNodeStore of ${STORE_LEAVES} leaves (proofs/s)`, prove),
    row(`verifyInclusion, tree of ${size} leaves (proofs/s)`, verify),
  ];
}

if (isMain(import.meta.url)) printTable('Merkle tree, one core', benchMerkle());
