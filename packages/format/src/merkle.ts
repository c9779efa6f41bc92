// The per-tenant log is an RFC 6962 / RFC 9162 Merkle tree; docs/spec/merkle-tree.md
// is the normative description. The parts:
//   merkle/hash.ts     leaf and node hashing (RFC 9162 section 2.1.1)
//   merkle/compact.ts  node ids and compact ranges (appending, roots)
//   merkle/proof.ts    proof planning (node ids) and assembly, node readers
//   merkle/verify.ts   proof verification (RFC 9162 sections 2.1.3.2, 2.1.4.2)
//   merkle/store.ts    an in-memory node store
export { HASH_SIZE, emptyRoot, leafHash, nodeHash } from './merkle/hash.js';
export { MAX_TREE_SIZE } from './merkle/bits.js';
export { CompactRange, rangeNodes, type NodeId, type NodeVisitor } from './merkle/compact.js';
export {
  consistencyProof,
  consistencyProofAsync,
  consistencyProofFromNodes,
  consistencyProofNodes,
  inclusionProof,
  inclusionProofAsync,
  inclusionProofFromNodes,
  inclusionProofNodes,
  rootAt,
  rootAtAsync,
  rootFromNodes,
  rootNodes,
  type AsyncNodeReader,
  type NodeReader,
} from './merkle/proof.js';
export { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle/verify.js';
export { MemoryNodeStore } from './merkle/store.js';
