// Merkle tree throughput, each figure beside the raw one-shot SHA-256 rate of
// 64-byte inputs measured in the same run (a node hash is SHA-256 of 65
// bytes, so appends are bounded by about that rate, amortized one node hash
// per leaf).
import { hash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  CompactRange,
  MemoryNodeStore,
  inclusionProof,
  leafHash,
  rootAt,
  verifyInclusion,
  type NodeVisitor,
} from '@trailseal/format';

export interface BenchResult {
  name: string;
  opsPerSec: number;
  baselineName: string;
  baselineOpsPerSec: number;
  ratio: number;
}

/** Runs `op` in batches until `ms` milliseconds have passed; operations per second. */
function rate(op: (i: number) => void, ms = 600, batch = 256): number {
  for (let i = 0; i < batch; i++) op(i);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) op(n + i);
    n += batch;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

const STORE_LEAVES = 1 << 20;

export function benchMerkle(): BenchResult[] {
  const input = new Uint8Array(64).fill(7);
  let sink = 0;
  const sha = rate(() => {
    sink ^= hash('sha256', input, 'buffer')[0]!;
  });
  const baselineName = 'SHA-256 one-shot, 64 B';
  const row = (name: string, opsPerSec: number): BenchResult => ({
    name,
    opsPerSec,
    baselineName,
    baselineOpsPerSec: sha,
    ratio: opsPerSec / sha,
  });

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
  const prove = rate((i) => {
    sink ^= inclusionProof(store, (i * 7919) % size, size).length;
  });

  const samples = Array.from({ length: 1024 }, (_, k) => {
    const index = (k * 104729) % size;
    return { index, leaf: leafHash(`leaf ${index}`), proof: inclusionProof(store, index, size) };
  });
  const sizeRoot = rootAt(store, size);
  const verify = rate((i) => {
    const s = samples[i & 1023]!;
    verifyInclusion(s.leaf, s.index, size, s.proof, sizeRoot);
  });
  if (sink === 0.5) console.log(sink);

  return [
    row('CompactRange.append (leaf hashes/s)', append),
    row(`inclusionProof, MemoryNodeStore of ${STORE_LEAVES} leaves (proofs/s)`, prove),
    row(`verifyInclusion, tree of ${size} leaves (proofs/s)`, verify),
  ];
}

function printTable(rows: BenchResult[]): void {
  const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(w)}  ${'ops/s'.padStart(12)}  ${'SHA-256/s'.padStart(12)}  ratio`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${fmt(r.opsPerSec).padStart(12)}  ${fmt(r.baselineOpsPerSec).padStart(12)}  ${r.ratio.toFixed(3)}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(benchMerkle());
}
