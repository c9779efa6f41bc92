// The Merkle tree against the naive RFC 6962 reference (test/support), for
// every tree size from 0 to MAX, plus the Certificate Transparency known
// answers and the failure codes of every kind of tampered proof.
import '../src/node/index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toBase64, toHex, utf8 } from '../src/bytes.js';
import { nobleProvider } from '../src/crypto/noble.js';
import { cryptoProvider, setCryptoProvider } from '../src/crypto/provider.js';
import { TrailsealError, type ErrorCode } from '../src/errors.js';
import {
  CompactRange,
  HASH_SIZE,
  MAX_TREE_SIZE,
  MemoryNodeStore,
  consistencyProof,
  consistencyProofAsync,
  consistencyProofFromNodes,
  consistencyProofNodes,
  emptyRoot,
  inclusionProof,
  inclusionProofAsync,
  inclusionProofFromNodes,
  inclusionProofNodes,
  leafHash,
  nodeHash,
  rangeNodes,
  rootAt,
  rootAtAsync,
  rootFromInclusionProof,
  rootFromNodes,
  rootNodes,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
  type NodeReader,
} from '../src/merkle.js';
import { ReferenceTree } from './support/reference-merkle.js';
import { codeOf } from '../../../test-support/errors.js';

const MAX = 1030;

// ---------------------------------------------------------------------------
// One log of MAX leaves, built once: the reference over the leaf data, and the
// implementation's compact range and node store, with the root and the nodes
// visited recorded at every size.

// Distinct leaves (a 4-byte index, then random bytes), so that no two proof
// hashes coincide and swapping two of them always changes the result.
const leaves = fc
  .sample(fc.uint8Array({ maxLength: 44 }), { seed: 6962, numRuns: MAX })
  .map((d, i) => concatBytes(new Uint8Array([i >>> 24, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]), d));
const ref = new ReferenceTree(leaves);
const leafHashes = leaves.map((d) => leafHash(d));
const store = new MemoryNodeStore();
const rootsBySize: Uint8Array[] = [];
const visitedBySize: { id: NodeId; hash: Uint8Array }[][] = [[]];
{
  const range = new CompactRange();
  rootsBySize.push(range.root());
  for (const lh of leafHashes) {
    const visited: { id: NodeId; hash: Uint8Array }[] = [];
    range.append(lh, (id, hash) => {
      visited.push({ id, hash });
      store.put(id, hash);
    });
    visitedBySize.push(visited);
    rootsBySize.push(range.root());
  }
}

const key = (id: NodeId): string => `${id.level}/${id.index}`;
const span = (id: NodeId): [number, number] => [id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level];
const hex = (hs: readonly Uint8Array[]): string[] => hs.map(toHex);


function errorOf(f: () => unknown): TrailsealError {
  try {
    f();
  } catch (e) {
    if (e instanceof TrailsealError) return e;
    throw e;
  }
  throw new Error('expected a TrailsealError');
}

/** A few indices in [0, n): always the first and the last, plus sampled ones. */
function sampleIndices(n: number, extra: number): number[] {
  const picks = fc.sample(fc.integer({ min: 0, max: n - 1 }), { seed: n, numRuns: extra });
  return [...new Set([0, n - 1, ...picks])];
}

function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const out = h.slice();
  out[(bit >> 3) % out.length]! ^= 1 << (bit & 7);
  return out;
}

// ---------------------------------------------------------------------------

describe('hashing (RFC 6962 section 2.1)', () => {
  const sha = (...p: Uint8Array[]): Uint8Array => cryptoProvider().sha256(...p);

  it('leaf, node and empty hashes use the 0x00 / 0x01 prefixes', () => {
    expect(HASH_SIZE).toBe(32);
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const d = new Uint8Array([1, 2, 3]);
    expect(toHex(leafHash(d))).toBe(toHex(sha(new Uint8Array([0, 1, 2, 3]))));
    expect(toHex(leafHash('abc'))).toBe(toHex(leafHash(new Uint8Array([97, 98, 99]))));
    const a = leafHash('a');
    const b = leafHash('b');
    expect(toHex(nodeHash(a, b))).toBe(toHex(sha(new Uint8Array([1]), a, b)));
  });
});

describe('known answers (Certificate Transparency / transparency-dev test vectors)', () => {
  const ctLeaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(
    (h) => fromHex(h),
  );
  const ctRoots = [
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];
  const inclusion: [number, number, string[]][] = [
    [0, 1, []],
    [0, 8, [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]],
    [5, 8, [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]],
    [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
    [1, 5, [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]],
  ];
  const consistency: [number, number, string[]][] = [
    [1, 1, []],
    [1, 8, [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ]],
    [6, 8, [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ]],
    [2, 5, [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ]],
  ];
  const ctRef = new ReferenceTree(ctLeaves);
  const ctStore = new MemoryNodeStore();
  const ctRange = new CompactRange();
  const roots = [toHex(ctRange.root())];
  for (const d of ctLeaves) {
    ctRange.append(leafHash(d), (id, h) => ctStore.put(id, h));
    roots.push(toHex(ctRange.root()));
  }

  it('the reference reproduces the published vectors', () => {
    expect(ctRoots.map((_, n) => toHex(ctRef.mth(0, n)))).toEqual(ctRoots);
    for (const [m, n, p] of inclusion) expect(hex(ctRef.path(m, n))).toEqual(p);
    for (const [m, n, p] of consistency) expect(hex(ctRef.proof(m, n))).toEqual(p);
  });

  it('roots of sizes 0 to 8', () => {
    expect(roots).toEqual(ctRoots);
    for (let n = 0; n <= 8; n++) expect(toHex(rootAt(ctStore, n))).toBe(ctRoots[n]);
  });

  it('inclusion proofs', () => {
    for (const [m, n, p] of inclusion) {
      expect(hex(inclusionProof(ctStore, m, n))).toEqual(p);
      verifyInclusion(leafHash(ctLeaves[m]!), m, n, p.map((h) => fromHex(h)), fromHex(ctRoots[n]!));
    }
  });

  it('consistency proofs', () => {
    for (const [m, n, p] of consistency) {
      expect(hex(consistencyProof(ctStore, m, n))).toEqual(p);
      verifyConsistency(m, n, p.map((h) => fromHex(h)), fromHex(ctRoots[m]!), fromHex(ctRoots[n]!));
    }
  });
});

describe('worked example of docs/spec/merkle-tree.md', () => {
  it('three leaves a, b, c', () => {
    const b64 = (h: Uint8Array): string => toBase64(h);
    const [l0, l1, l2] = ['a', 'b', 'c'].map((t) => leafHash(t)) as [Uint8Array, Uint8Array, Uint8Array];
    const n01 = nodeHash(l0, l1);
    const root = nodeHash(n01, l2);
    expect([l0, l1, l2, n01, root].map(toHex)).toEqual([
      '022a6979e6dab7aa5ae4c3e5e45f7e977112a7e63593820dbec1ec738a24f93c',
      '57eb35615d47f34ec714cacdf5fd74608a5e8e102724e80b24b287c0c27b6a31',
      '597fcb31282d34654c200d3418fca5705c648ebf326ec73d8ddef11841f876d8',
      'b137985ff484fb600db93107c77b0365c80d78f5b429ded0fd97361d077999eb',
      '36642e73c2540ab121e3a6bf9545b0a24982cd830eb13d3cd19de3ce6c021ec1',
    ]);
    expect([l0, l1, l2, n01, root].map(b64)).toEqual([
      'Aippeebat6pa5MPl5F9+l3ESp+Y1k4INvsHsc4ok+Tw=',
      'V+s1YV1H807HFMrN9f10YIpejhAnJOgLJLKHwMJ7ajE=',
      'WX/LMSgtNGVMIA00GPylcFxkjr8ybsc9jd7xGEH4dtg=',
      'sTeYX/SE+2ANuTEHx3sDZcgNePW0Kd7Q/Zc2HQd5mes=',
      'NmQuc8JUCrEh46a/lUWwokmCzYMOsT080Z3jzmwCHsE=',
    ]);
    expect(b64(emptyRoot())).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    const exRef = new ReferenceTree(['a', 'b', 'c'].map((t) => utf8(t)));
    expect(toHex(exRef.mth(0, 3))).toBe(toHex(root));

    const s = new MemoryNodeStore();
    const r = new CompactRange();
    const visited: string[][] = [];
    for (const lh of [l0, l1, l2]) {
      const v: string[] = [];
      r.append(lh, (id, h) => {
        v.push(`${key(id)}=${b64(h)}`);
        s.put(id, h);
      });
      visited.push(v);
    }
    expect(visited).toEqual([[`0/0=${b64(l0)}`], [`0/1=${b64(l1)}`, `1/0=${b64(n01)}`], [`0/2=${b64(l2)}`]]);
    expect(toHex(r.root())).toBe(toHex(root));
    expect(inclusionProof(s, 0, 3).map(b64)).toEqual([b64(l1), b64(l2)]);
    expect(inclusionProof(s, 1, 3).map(b64)).toEqual([b64(l0), b64(l2)]);
    expect(inclusionProof(s, 2, 3).map(b64)).toEqual([b64(n01)]);
    expect(consistencyProof(s, 1, 3).map(b64)).toEqual([b64(l1), b64(l2)]);
    expect(consistencyProof(s, 2, 3).map(b64)).toEqual([b64(l2)]);
    expect(consistencyProof(s, 3, 3)).toEqual([]);
    verifyInclusion(l0, 0, 3, [l1, l2], root);
    verifyConsistency(2, 3, [l2], n01, root);
  });
});

describe('CompactRange', () => {
  it(`root equals MTH for every size 0..${MAX}`, () => {
    for (let n = 0; n <= MAX; n++) expect(toHex(rootsBySize[n]!), `size ${n}`).toBe(toHex(ref.mth(0, n)));
  });

  it('append visits exactly the perfect subtrees that the new leaf completes', () => {
    for (let n = 1; n <= MAX; n++) {
      const expected: string[] = [];
      for (let l = 0; n % 2 ** l === 0; l++) expected.push(`${l}/${n / 2 ** l - 1}`);
      const visited = visitedBySize[n]!;
      expect(visited.map((v) => key(v.id)), `size ${n}`).toEqual(expected);
      for (const v of visited) expect(toHex(v.hash)).toBe(toHex(ref.mth(...span(v.id))));
    }
    // All perfect subtrees of [0, MAX), each once: 2n - popcount(n) of them.
    const popcount = MAX.toString(2).replaceAll('0', '').length;
    expect(store.size).toBe(2 * MAX - popcount);
  });

  it('hashes are the minimal perfect cover of the range', () => {
    const range = new CompactRange();
    for (let n = 0; n < 300; n++) {
      const ids = rangeNodes(0, n);
      expect(hex(range.hashes)).toEqual(ids.map((id) => toHex(ref.mth(...span(id)))));
      range.append(leafHashes[n]!);
    }
  });

  it('rangeNodes is a minimal cover by perfect subtrees, also beyond 32 bits', () => {
    const bound = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.maxSafeNat());
    fc.assert(
      fc.property(bound, bound, (x, y) => {
        const [begin, end] = x <= y ? [x, y] : [y, x];
        const ids = rangeNodes(begin, end);
        let pos = begin;
        let shrinking = false;
        for (let i = 0; i < ids.length; i++) {
          const [s, e] = span(ids[i]!);
          expect(Number.isSafeInteger(e)).toBe(true);
          expect(s).toBe(pos);
          pos = e;
          if (i > 0) {
            const prev = ids[i - 1]!;
            // Two adjacent siblings would merge into their parent.
            expect(prev.level === ids[i]!.level && prev.index % 2 === 0).toBe(false);
            if (ids[i]!.level < prev.level) shrinking = true;
            else expect(shrinking).toBe(false);
          }
        }
        expect(pos).toBe(end);
        expect(ids.length).toBeLessThanOrEqual(2 * 53);
      }),
      { numRuns: 500 },
    );
  });

  it('appendRange of arbitrary chunks, merged in any order, equals sequential append', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 600 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 599 }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (n, rawCuts, order) => {
          const cuts = [0, ...rawCuts.filter((c) => c < n).sort((a, b) => a - b), n];
          const visits = new Map<string, number>();
          const visit = (id: NodeId, h: Uint8Array): void => {
            expect(toHex(h)).toBe(toHex(ref.mth(...span(id))));
            visits.set(key(id), (visits.get(key(id)) ?? 0) + 1);
          };
          const chunks: CompactRange[] = [];
          for (let c = 0; c + 1 < cuts.length; c++) {
            const r = new CompactRange(cuts[c], cuts[c]);
            for (let i = cuts[c]!; i < cuts[c + 1]!; i++) r.append(leafHashes[i]!, visit);
            chunks.push(r);
          }
          // Merge adjacent pairs in an order picked by fast-check, as a pool
          // of workers would finish them.
          for (const o of order) {
            if (chunks.length < 2) break;
            const i = o % (chunks.length - 1);
            const merged = chunks[i]!.clone();
            merged.appendRange(chunks[i + 1]!, visit);
            chunks.splice(i, 2, merged);
          }
          while (chunks.length > 1) {
            chunks[0]!.appendRange(chunks[1]!, visit);
            chunks.splice(1, 1);
          }
          const all = chunks[0]!;
          expect([all.begin, all.end]).toEqual([0, n]);
          expect(toHex(all.root())).toBe(toHex(rootsBySize[n]!));
          // Every perfect node of [0, n) was visited exactly once overall.
          const popcount = n.toString(2).replaceAll('0', '').length;
          expect(visits.size).toBe(2 * n - popcount);
          expect([...visits.values()].every((c) => c === 1)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('restores from stored nodes and rejects bad input', () => {
    const r = new CompactRange(0, 777, store.getNodes(rangeNodes(0, 777)));
    r.append(leafHashes[777]!);
    expect(toHex(r.root())).toBe(toHex(rootsBySize[778]!));
    const c = r.clone();
    c.append(leafHashes[778]!);
    expect(r.end).toBe(778);
    expect(codeOf(() => new CompactRange(0, 3, []))).toBe('TREE_NODE_MISSING');
    expect(codeOf(() => new CompactRange(5, 3))).toBe('TREE_SIZE_INVALID');
    expect(codeOf(() => new CompactRange(-1, 3))).toBe('TREE_SIZE_INVALID');
    expect(codeOf(() => new CompactRange(3, 3).root())).toBe('TREE_SIZE_INVALID');
    expect(codeOf(() => new CompactRange(0, 3, store.getNodes(rangeNodes(0, 3))).appendRange(new CompactRange(4, 4)))).toBe(
      'TREE_SIZE_INVALID',
    );
  });
});

describe('inclusion proofs', () => {
  it(`equal the reference PATH and verify, every size 1..${MAX}`, () => {
    for (let n = 1; n <= MAX; n++) {
      for (const m of sampleIndices(n, 3)) {
        const proof = inclusionProof(store, m, n);
        expect(hex(proof), `leaf ${m} of ${n}`).toEqual(hex(ref.path(m, n)));
        verifyInclusion(leafHashes[m]!, m, n, proof, rootsBySize[n]!);
        const ids = inclusionProofNodes(m, n);
        expect(new Set(ids.map(key)).size).toBe(ids.length);
        for (const id of ids) expect(span(id)[1]).toBeLessThanOrEqual(n);
      }
    }
  });

  it('plan, fetch and assemble give the same proof; async twin too', async () => {
    for (const [m, n] of [[0, 1], [6, 7], [300, 1000], [1023, 1024], [1024, 1025]] as const) {
      const ids = inclusionProofNodes(m, n);
      const proof = inclusionProofFromNodes(m, n, store.getNodes(ids));
      expect(hex(proof)).toEqual(hex(ref.path(m, n)));
      const asyncReader = { getNodes: (x: readonly NodeId[]) => Promise.resolve(store.getNodes(x)) };
      expect(hex(await inclusionProofAsync(asyncReader, m, n))).toEqual(hex(proof));
      expect(toHex(rootFromInclusionProof(leafHashes[m]!, m, n, proof))).toBe(toHex(rootsBySize[n]!));
    }
  });

  it('tampered proofs fail with the right code', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        fc.nat(),
        fc.nat(),
        ([n, m], a, b) => {
          const proof = inclusionProof(store, m, n);
          const lh = leafHashes[m]!;
          const root = rootsBySize[n]!;
          const check = (p: Uint8Array[], code: ErrorCode, idx = m, size = n, r = root, leaf = lh): void => {
            expect(codeOf(() => verifyInclusion(leaf, idx, size, p, r)), `leaf ${m} of ${n}`).toBe(code);
          };
          if (proof.length > 0) {
            const i = a % proof.length;
            check(proof.map((h, k) => (k === i ? flipBit(h, b % 256) : h)), 'PROOF_ROOT_MISMATCH');
            check(proof.filter((_, k) => k !== i), 'PROOF_WRONG_LENGTH');
            check(proof.map((h, k) => (k === i ? h.subarray(0, 31) : h)), 'PROOF_WRONG_LENGTH');
          }
          if (proof.length > 1) {
            const i = a % (proof.length - 1);
            const swapped = proof.slice();
            [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
            check(swapped, 'PROOF_ROOT_MISMATCH');
          }
          check([...proof, leafHashes[a % MAX]!], 'PROOF_WRONG_LENGTH');
          check([leafHashes[a % MAX]!, ...proof], 'PROOF_WRONG_LENGTH');
          check(proof, 'PROOF_ROOT_MISMATCH', m, n, flipBit(root, b % 256));
          check(proof, 'PROOF_ROOT_MISMATCH', m, n, root, flipBit(lh, b % 256));
          // Another index or size, against that tree's true root: the length
          // decides which check fails first.
          const m2 = (m + 1 + (a % n)) % n;
          if (m2 !== m) {
            check(proof, ref.path(m2, n).length === proof.length ? 'PROOF_ROOT_MISMATCH' : 'PROOF_WRONG_LENGTH', m2);
          }
          const n2 = 1 + ((n + (b % MAX)) % MAX);
          if (n2 !== n) {
            const code = m >= n2 ? 'TREE_SIZE_INVALID' : ref.path(m, n2).length === proof.length ? 'PROOF_ROOT_MISMATCH' : 'PROOF_WRONG_LENGTH';
            check(proof, code, m, n2, rootsBySize[n2]!);
          }
          check(proof, 'TREE_SIZE_INVALID', n, n);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('every single-bit position of every proof hash matters (sizes up to 64)', () => {
    for (let n = 1; n <= 64; n++) {
      for (const m of sampleIndices(n, 1)) {
        const proof = inclusionProof(store, m, n);
        for (let i = 0; i < proof.length; i++) {
          for (let bit = 0; bit < 256; bit += 37) {
            const bad = proof.map((h, k) => (k === i ? flipBit(h, bit) : h));
            expect(codeOf(() => verifyInclusion(leafHashes[m]!, m, n, bad, rootsBySize[n]!))).toBe('PROOF_ROOT_MISMATCH');
          }
        }
      }
    }
  });

  it('errors carry their evidence', () => {
    const proof = inclusionProof(store, 3, 10);
    const e = errorOf(() => verifyInclusion(leafHashes[4]!, 3, 10, proof, rootsBySize[10]!));
    expect(e.code).toBe('PROOF_ROOT_MISMATCH');
    expect(e.details).toMatchObject({ index: 3, size: 10, expected: expect.any(String), computed: expect.any(String) });
    const w = errorOf(() => verifyInclusion(leafHashes[3]!, 3, 10, proof.slice(1), rootsBySize[10]!));
    expect(w.details).toMatchObject({ index: 3, size: 10, proofLength: proof.length - 1, expectedLength: proof.length });
  });

  it('rejects invalid indices and sizes', () => {
    const lh = leafHashes[0]!;
    for (const [m, n] of [[0, 0], [5, 5], [6, 5], [-1, 5], [0.5, 5], [0, 2 ** 53], [0, Number.NaN]]) {
      expect(codeOf(() => verifyInclusion(lh, m!, n!, [], rootsBySize[1]!))).toBe('TREE_SIZE_INVALID');
      expect(codeOf(() => inclusionProofNodes(m!, n!))).toBe('TREE_SIZE_INVALID');
    }
  });
});

describe('consistency proofs', () => {
  it(`equal the reference PROOF and verify, every size2 0..${MAX}`, () => {
    for (let n = 0; n <= MAX; n++) {
      const size1s = new Set([0, n, ...(n > 0 ? sampleIndices(n, 3).map((i) => i + 1) : [])]);
      for (let p = 1; p <= n; p *= 2) size1s.add(p);
      for (const m of size1s) {
        const proof = consistencyProof(store, m, n);
        const expected = m === 0 ? [] : ref.proof(m, n);
        expect(hex(proof), `${m} -> ${n}`).toEqual(hex(expected));
        verifyConsistency(m, n, proof, rootsBySize[m]!, rootsBySize[n]!);
        const ids = consistencyProofNodes(m, n);
        expect(new Set(ids.map(key)).size).toBe(ids.length);
      }
    }
  });

  it('plan, fetch and assemble give the same proof; async twin too', async () => {
    for (const [m, n] of [[1, 2], [3, 7], [6, 8], [300, 1000], [511, 1025]] as const) {
      const proof = consistencyProofFromNodes(m, n, store.getNodes(consistencyProofNodes(m, n)));
      expect(hex(proof)).toEqual(hex(ref.proof(m, n)));
      const asyncReader = { getNodes: (x: readonly NodeId[]) => Promise.resolve(store.getNodes(x)) };
      expect(hex(await consistencyProofAsync(asyncReader, m, n))).toEqual(hex(proof));
    }
  });

  it('tampered proofs fail with the right code', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: MAX }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        fc.nat(),
        ([m, n], a, b) => {
          const proof = consistencyProof(store, m, n);
          const r1 = rootsBySize[m]!;
          const r2 = rootsBySize[n]!;
          const check = (p: Uint8Array[], code: ErrorCode, s1 = m, s2 = n, x1 = r1, x2 = r2): void => {
            expect(codeOf(() => verifyConsistency(s1, s2, p, x1, x2)), `${s1} -> ${s2}`).toBe(code);
          };
          const i = a % proof.length;
          check(proof.map((h, k) => (k === i ? flipBit(h, b % 256) : h)), 'PROOF_INCONSISTENT');
          check(proof.filter((_, k) => k !== i), 'PROOF_WRONG_LENGTH');
          check([...proof, leafHashes[a % MAX]!], 'PROOF_WRONG_LENGTH');
          check([leafHashes[a % MAX]!, ...proof], 'PROOF_WRONG_LENGTH');
          check(proof.map((h, k) => (k === i ? new Uint8Array(33) : h)), 'PROOF_WRONG_LENGTH');
          if (proof.length > 1) {
            const j = a % (proof.length - 1);
            const swapped = proof.slice();
            [swapped[j], swapped[j + 1]] = [swapped[j + 1]!, swapped[j]!];
            check(swapped, 'PROOF_INCONSISTENT');
          }
          check(proof, 'PROOF_INCONSISTENT', m, n, flipBit(r1, b % 256));
          check(proof, 'PROOF_INCONSISTENT', m, n, r1, flipBit(r2, b % 256));
          check(proof, 'PROOF_INCONSISTENT', m, n, r2, r1);
          // Other sizes, each with its true root.
          const m2 = 1 + ((m + (a % (n - 1))) % (n - 1));
          if (m2 !== m) {
            check(proof, ref.proof(m2, n).length === proof.length ? 'PROOF_INCONSISTENT' : 'PROOF_WRONG_LENGTH', m2, n, rootsBySize[m2]!);
          }
          const n2 = m + 1 + (b % (MAX - m));
          if (n2 !== n) {
            check(proof, ref.proof(m, n2).length === proof.length ? 'PROOF_INCONSISTENT' : 'PROOF_WRONG_LENGTH', m, n2, r1, rootsBySize[n2]!);
          }
          check(proof, 'TREE_SIZE_INVALID', n, m, r2, r1);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('edge cases: equal sizes, the empty tree, bad sizes', () => {
    const r = rootsBySize;
    verifyConsistency(5, 5, [], r[5]!, r[5]!);
    expect(codeOf(() => verifyConsistency(5, 5, [], r[5]!, r[6]!))).toBe('PROOF_INCONSISTENT');
    expect(codeOf(() => verifyConsistency(5, 5, [r[1]!], r[5]!, r[5]!))).toBe('PROOF_WRONG_LENGTH');
    // Consistency from the empty tree is trivially true (RFC 9162 section
    // 2.1.4), given an empty proof and the true empty-tree root.
    verifyConsistency(0, 0, [], emptyRoot(), emptyRoot());
    verifyConsistency(0, 9, [], emptyRoot(), r[9]!);
    expect(consistencyProofNodes(0, 9)).toEqual([]);
    expect(codeOf(() => verifyConsistency(0, 9, [r[1]!], emptyRoot(), r[9]!))).toBe('PROOF_WRONG_LENGTH');
    expect(codeOf(() => verifyConsistency(0, 9, [], r[1]!, r[9]!))).toBe('PROOF_INCONSISTENT');
    expect(codeOf(() => verifyConsistency(1, 2, [], r[1]!, r[2]!))).toBe('PROOF_WRONG_LENGTH');
    for (const [a, b] of [[3, 2], [-1, 2], [1, 2 ** 53], [1.5, 2]]) {
      expect(codeOf(() => verifyConsistency(a!, b!, [], r[1]!, r[2]!))).toBe('TREE_SIZE_INVALID');
      expect(codeOf(() => consistencyProofNodes(a!, b!))).toBe('TREE_SIZE_INVALID');
    }
    const e = errorOf(() => verifyConsistency(3, 7, consistencyProof(store, 3, 7), r[3]!, r[6]!));
    expect(e.details).toMatchObject({ size1: 3, size2: 7, expected: expect.any(String), computed: expect.any(String) });
  });
});

describe('roots and readers', () => {
  it('rootAt / rootFromNodes equal MTH', async () => {
    const asyncReader = { getNodes: (x: readonly NodeId[]) => Promise.resolve(store.getNodes(x)) };
    for (let n = 0; n <= MAX; n += 7) {
      expect(toHex(rootAt(store, n))).toBe(toHex(ref.mth(0, n)));
      expect(toHex(rootFromNodes(n, store.getNodes(rootNodes(n))))).toBe(toHex(ref.mth(0, n)));
    }
    expect(toHex(await rootAtAsync(asyncReader, 1000))).toBe(toHex(ref.mth(0, 1000)));
  });

  it('a reader returning the wrong number of hashes is TREE_NODE_MISSING', async () => {
    const short: NodeReader = { getNodes: (ids) => store.getNodes(ids).slice(1) };
    const long: NodeReader = { getNodes: (ids) => [...store.getNodes(ids), leafHashes[0]!] };
    for (const reader of [short, long]) {
      expect(codeOf(() => inclusionProof(reader, 3, 10))).toBe('TREE_NODE_MISSING');
      expect(codeOf(() => consistencyProof(reader, 3, 10))).toBe('TREE_NODE_MISSING');
      expect(codeOf(() => rootAt(reader, 10))).toBe('TREE_NODE_MISSING');
      const asyncReader = { getNodes: (x: readonly NodeId[]) => Promise.resolve(reader.getNodes(x)) };
      await expect(inclusionProofAsync(asyncReader, 3, 10)).rejects.toMatchObject({ code: 'TREE_NODE_MISSING' });
      await expect(consistencyProofAsync(asyncReader, 3, 10)).rejects.toMatchObject({ code: 'TREE_NODE_MISSING' });
      await expect(rootAtAsync(asyncReader, 10)).rejects.toMatchObject({ code: 'TREE_NODE_MISSING' });
    }
    expect(codeOf(() => inclusionProof(store, 0, MAX + 5))).toBe('TREE_NODE_MISSING');
    expect(codeOf(() => inclusionProofFromNodes(3, 10, []))).toBe('TREE_NODE_MISSING');
  });
});

describe('portable provider', () => {
  it('the pure-JS (browser) SHA-256 gives the same tree', () => {
    const node = cryptoProvider();
    setCryptoProvider(nobleProvider);
    try {
      const r = new CompactRange();
      const s = new MemoryNodeStore();
      for (let i = 0; i < 100; i++) r.append(leafHash(leaves[i]!), (id, h) => s.put(id, h));
      expect(toHex(r.root())).toBe(toHex(rootsBySize[100]!));
      verifyInclusion(leafHashes[37]!, 37, 100, inclusionProof(s, 37, 100), rootsBySize[100]!);
      verifyConsistency(37, 100, consistencyProof(s, 37, 100), rootsBySize[37]!, rootsBySize[100]!);
    } finally {
      setCryptoProvider(node);
    }
  });
});

describe('trees beyond 2^32 leaves', () => {
  // A virtual tree whose leaves all have the same hash: then every perfect
  // node at level l has the same hash P[l], so roots and proofs of any size
  // can be computed, which exercises the index arithmetic up to 2^53 - 1.
  const P: Uint8Array[] = [leafHash('x')];
  for (let l = 1; l <= 53; l++) P.push(nodeHash(P[l - 1]!, P[l - 1]!));
  const virtual: NodeReader = { getNodes: (ids) => ids.map((id) => P[id.level]!) };
  const big = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.maxSafeNat().map((x) => Math.max(1, x)));

  it('inclusion proofs verify and name only stored (perfect, complete) nodes', () => {
    fc.assert(
      fc.property(big, fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const m = Math.min(n - 1, Math.floor(f * n));
        for (const id of inclusionProofNodes(m, n)) expect(span(id)[1]).toBeLessThanOrEqual(n);
        verifyInclusion(P[0]!, m, n, inclusionProof(virtual, m, n), rootAt(virtual, n));
      }),
      { numRuns: 300 },
    );
  });

  it('consistency proofs verify', () => {
    fc.assert(
      fc.property(big, big, (x, y) => {
        const [m, n] = x <= y ? [x, y] : [y, x];
        verifyConsistency(m, n, consistencyProof(virtual, m, n), rootAt(virtual, m), rootAt(virtual, n));
      }),
      { numRuns: 300 },
    );
  });

  it('proof lengths stay within the documented limits (53 and 54 hashes)', () => {
    const n = MAX_TREE_SIZE;
    expect(inclusionProof(virtual, 0, n).length).toBe(53);
    expect(inclusionProof(virtual, n - 1, n).length).toBe(52);
    expect(consistencyProof(virtual, 3, n).length).toBe(54);
    verifyConsistency(3, n, consistencyProof(virtual, 3, n), rootAt(virtual, 3), rootAt(virtual, n));
    expect(rootNodes(n).length).toBe(53);
    const r = new CompactRange(0, n - 1, virtual.getNodes(rangeNodes(0, n - 1)));
    r.append(P[0]!);
    expect(toHex(r.root())).toBe(toHex(rootAt(virtual, n)));
    expect(codeOf(() => r.append(P[0]!))).toBe('TREE_SIZE_INVALID');
  });
});
