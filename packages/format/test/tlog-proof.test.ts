import '../src/node/index.js';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromUtf8, toBase64, toHex, utf8 } from '../src/bytes.js';
import { cryptoProvider } from '../src/crypto/provider.js';
import type { ErrorCode } from '../src/errors.js';
import { signCheckpoint } from '../src/checkpoint.js';
import { CompactRange, MemoryNodeStore, inclusionProof, leafHash, rootAt } from '../src/merkle.js';
import { addSignatures, formatSignerKey, newEd25519Signer, parseVerifierKey } from '../src/note.js';
import { formatTlogProof, parseTlogProof, TLOG_PROOF_MAX_HASHES, verifyTlogProof, type TlogProof } from '../src/tlog-proof.js';
import { codeOf, flipByte } from '../../../test-support/errors.js';

const ORIGIN = 'log.example.com/tenants/acme';
const SEED = cryptoProvider().sha256('trailseal test key 1');
const log = newEd25519Signer(ORIGIN, SEED);
const logV = parseVerifierKey(log.verifierKey);
const witness = newEd25519Signer('witness.example.net', cryptoProvider().sha256('tlog-proof test witness'));
const witnessV = parseVerifierKey(witness.verifierKey);

/** A log of `n` entries "entry 0" ... "entry n-1" with a signed checkpoint. */
function makeLog(n: number, origin = ORIGIN, signer = log) {
  const store = new MemoryNodeStore();
  const range = new CompactRange();
  const leaves: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const h = leafHash(utf8(`entry ${i}`));
    leaves.push(h);
    range.append(h, (id, hash) => store.put(id, hash));
  }
  const checkpoint = signCheckpoint({ origin, size: n, rootHash: rootAt(store, n), extensions: [] }, [signer]);
  const proofFor = (index: number, extra?: Uint8Array): string => {
    const p: TlogProof = { index, proof: inclusionProof(store, index, n), checkpoint };
    if (extra !== undefined) p.extra = extra;
    return formatTlogProof(p);
  };
  return { leaves, checkpoint, proofFor };
}

// The example of c2sp.org/tlog-proof@v1 (section 1), header verbatim. Its
// signatures are elided there, so the checkpoint is re-signed with a test key.
const SPEC_HEADER =
  'c2sp.org/tlog-proof@v1\n' +
  'extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n' +
  'index 73894\n' +
  'gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n' +
  'B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n' +
  'EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n' +
  'RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n' +
  'AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n' +
  '\n';

describe('tlog-proof text (c2sp.org/tlog-proof@v1)', () => {
  it('parses the header of the spec example and formats it back byte for byte', () => {
    const fancy = newEd25519Signer('example.com/fancylog', SEED);
    const checkpoint = signCheckpoint(
      { origin: 'example.com/fancylog', size: 109482, rootHash: fromBase64('sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08='), extensions: [] },
      [fancy],
    );
    const text = SPEC_HEADER + checkpoint;
    const p = parseTlogProof(text);
    expect(p.index).toBe(73894);
    expect(p.proof).toHaveLength(5);
    expect(toBase64(p.proof[0]!)).toBe('gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=');
    expect(toBase64(p.extra!)).toBe('YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ');
    expect(p.checkpoint).toBe(checkpoint);
    expect(formatTlogProof(p)).toBe(text);
    // Its hashes are illustrative: 5 hashes cannot prove leaf 73894 of 109482.
    expect(codeOf(() => verifyTlogProof(new Uint8Array(32), text, [parseVerifierKey(fancy.verifierKey)], 'example.com/fancylog'))).toBe('PROOF_WRONG_LENGTH');
  });

  it('writes no extra line when there is no extra data, and an empty proof for a one-leaf tree', () => {
    const { checkpoint, proofFor } = makeLog(1);
    expect(proofFor(0)).toBe(`c2sp.org/tlog-proof@v1\nindex 0\n\n${checkpoint}`);
    expect(parseTlogProof(proofFor(0))).toEqual({ index: 0, proof: [], checkpoint });
    expect('extra' in parseTlogProof(proofFor(0))).toBe(false);
  });

  it('rejects malformed proofs with the right code', () => {
    const { checkpoint, proofFor } = makeLog(5);
    const good = proofFor(3);
    const [head] = good.split('\n\n');
    const h = toBase64(new Uint8Array(32));
    const cases: [string, string, ErrorCode][] = [
      ['other version', good.replace('@v1', '@v2'), 'TLOG_PROOF_MALFORMED'],
      ['header with trailing space', good.replace('@v1\n', '@v1 \n'), 'TLOG_PROOF_MALFORMED'],
      ['no header', good.slice(good.indexOf('\n') + 1), 'TLOG_PROOF_MALFORMED'],
      ['no index line', good.replace('index 3\n', ''), 'TLOG_PROOF_MALFORMED'],
      ['index with leading zero', good.replace('index 3', 'index 03'), 'TLOG_PROOF_MALFORMED'],
      ['negative index', good.replace('index 3', 'index -3'), 'TLOG_PROOF_MALFORMED'],
      ['index with two spaces', good.replace('index 3', 'index  3'), 'TLOG_PROOF_MALFORMED'],
      ['capitalised index', good.replace('index 3', 'Index 3'), 'TLOG_PROOF_MALFORMED'],
      ['index beyond 2^53 - 1', good.replace('index 3', 'index 9007199254740992'), 'TLOG_PROOF_MALFORMED'],
      ['empty extra', good.replace('\nindex', '\nextra \nindex'), 'TLOG_PROOF_MALFORMED'],
      ['extra without space', good.replace('\nindex', '\nextraAAAA\nindex'), 'TLOG_PROOF_MALFORMED'],
      ['extra not canonical base64', good.replace('\nindex', '\nextra AB==\nindex'), 'TLOG_PROOF_MALFORMED'],
      ['extra after index', good.replace('index 3\n', 'index 3\nextra AAAA\n'), 'TLOG_PROOF_MALFORMED'],
      ['short hash', `${head}\n${toBase64(new Uint8Array(31))}\n\n${checkpoint}`, 'TLOG_PROOF_MALFORMED'],
      ['hash not base64', `${head}\n${h.replace('=', '!')}\n\n${checkpoint}`, 'TLOG_PROOF_MALFORMED'],
      ['too many hashes', `c2sp.org/tlog-proof@v1\nindex 3\n${`${h}\n`.repeat(TLOG_PROOF_MAX_HASHES + 1)}\n${checkpoint}`, 'TLOG_PROOF_MALFORMED'],
      ['no empty line', good.replace('\n\n', '\n'), 'TLOG_PROOF_MALFORMED'],
      ['CRLF', good.replaceAll('\n', '\r\n'), 'TLOG_PROOF_MALFORMED'],
      ['no checkpoint', `${head}\n\n`, 'NOTE_MALFORMED'],
      ['unsigned checkpoint', `${head}\n\n${checkpoint.split('\n\n')[0]!}\n`, 'NOTE_MALFORMED'],
    ];
    for (const [why, text, code] of cases) expect([why, codeOf(() => parseTlogProof(text))]).toEqual([why, code]);
    expect(codeOf(() => formatTlogProof({ index: 0, extra: new Uint8Array(0), proof: [], checkpoint }))).toBe('TLOG_PROOF_MALFORMED');
    expect(codeOf(() => formatTlogProof({ index: -1, proof: [], checkpoint }))).toBe('TLOG_PROOF_MALFORMED');
    expect(codeOf(() => formatTlogProof({ index: 0, proof: [new Uint8Array(33)], checkpoint }))).toBe('TLOG_PROOF_MALFORMED');
    expect(codeOf(() => formatTlogProof({ index: 0, proof: [], checkpoint: 'not a note\n' }))).toBe('NOTE_MALFORMED');
  });
});

describe('verifyTlogProof', () => {
  const n = 13;
  const { leaves, checkpoint, proofFor } = makeLog(n);

  it('verifies every leaf of a log', () => {
    for (let i = 0; i < n; i++) {
      const r = verifyTlogProof(leaves[i]!, proofFor(i), [logV], ORIGIN);
      expect(r.index).toBe(i);
      expect(r.checkpoint.size).toBe(n);
      expect(r.checkpoint.note).toBe(checkpoint);
    }
  });

  it('rejects the wrong leaf, index, origin or key', () => {
    expect(codeOf(() => verifyTlogProof(leaves[4]!, proofFor(3), [logV], ORIGIN))).toBe('PROOF_ROOT_MISMATCH');
    expect(codeOf(() => verifyTlogProof(leaves[3]!, proofFor(3).replace('index 3', 'index 2'), [logV], ORIGIN))).toBe('PROOF_ROOT_MISMATCH');
    expect(codeOf(() => verifyTlogProof(leaves[3]!, proofFor(3).replace('index 3', 'index 13'), [logV], ORIGIN))).toBe('TREE_SIZE_INVALID');
    expect(codeOf(() => verifyTlogProof(leaves[3]!, proofFor(3), [logV], 'log.example.com/tenants/other'))).toBe('CHECKPOINT_ORIGIN_MISMATCH');
    expect(codeOf(() => verifyTlogProof(leaves[3]!, proofFor(3), [witnessV], ORIGIN))).toBe('NOTE_NO_VALID_SIGNATURE');
    const [head] = proofFor(3).split('\n\n');
    expect(codeOf(() => verifyTlogProof(leaves[3]!, `${head!.split('\n').slice(0, -1).join('\n')}\n\n${checkpoint}`, [logV], ORIGIN))).toBe('PROOF_WRONG_LENGTH');
  });

  it('accepts a witness-cosigned checkpoint and ignores unknown cosigners', () => {
    const cosigned = addSignatures(checkpoint, [witness]);
    const text = proofFor(5).replace(checkpoint, cosigned);
    expect(verifyTlogProof(leaves[5]!, text, [logV], ORIGIN).checkpoint.verified.map((s) => s.name)).toEqual([ORIGIN]);
    expect(verifyTlogProof(leaves[5]!, text, [logV, witnessV], ORIGIN).checkpoint.verified).toHaveLength(2);
  });

  it('does not authenticate the extra data (tlog-proof, Format)', () => {
    const a = proofFor(7, utf8('context A'));
    const b = proofFor(7, utf8('context B'));
    expect(fromUtf8(parseTlogProof(a).extra!)).toBe('context A');
    expect(verifyTlogProof(leaves[7]!, a, [logV], ORIGIN).index).toBe(7);
    expect(verifyTlogProof(leaves[7]!, b, [logV], ORIGIN).index).toBe(7);
  });
});

describe('tlog-proof properties', () => {
  const logs = new Map<number, ReturnType<typeof makeLog>>();
  const logOf = (size: number): ReturnType<typeof makeLog> => {
    let l = logs.get(size);
    if (l === undefined) logs.set(size, (l = makeLog(size)));
    return l;
  };
  const leafOf = fc.integer({ min: 1, max: 40 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));

  it('round-trips: parseTlogProof(formatTlogProof(p)) equals p, and back to the same text', () => {
    const { checkpoint } = logOf(3);
    const proof: fc.Arbitrary<TlogProof> = fc
      .record({
        index: fc.maxSafeNat(),
        extra: fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
        proof: fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: TLOG_PROOF_MAX_HASHES }),
      })
      .map(({ extra, ...rest }) => (extra === undefined ? { ...rest, checkpoint } : { ...rest, extra, checkpoint }));
    fc.assert(
      fc.property(proof, (p) => {
        const text = formatTlogProof(p);
        expect(parseTlogProof(text)).toEqual(p);
        expect(formatTlogProof(parseTlogProof(text))).toBe(text);
      }),
    );
  });

  it('verifies a proof for every leaf of every small log', () => {
    fc.assert(
      fc.property(leafOf, ([size, index]) => {
        const l = logOf(size);
        expect(verifyTlogProof(l.leaves[index]!, l.proofFor(index), [logV], ORIGIN).index).toBe(index);
      }),
    );
  });

  it('rejects a proof with any byte changed', () => {
    fc.assert(
      fc.property(leafOf, fc.nat(), fc.integer({ min: 1, max: 255 }), ([size, index], at, mask) => {
        const l = logOf(size);
        const changed = flipByte(l.proofFor(index), at, mask);
        // No longer UTF-8: rejected before it is a note at all.
        if (changed === undefined) return;
        expect(codeOf(() => verifyTlogProof(l.leaves[index]!, changed, [logV], ORIGIN))).not.toBe('none');
      }),
      { numRuns: 500 },
    );
  });
});

describe('docs/spec/checkpoints-and-proofs.md worked example', () => {
  // The document shows output of this code; this keeps the two identical.
  const doc = readFileSync(new URL('../../../docs/spec/checkpoints-and-proofs.md', import.meta.url), 'utf8');
  const { leaves, checkpoint, proofFor } = makeLog(5);

  it('shows the seed, keys, checkpoint and proof this code produces', () => {
    expect(doc).toContain(toHex(SEED));
    expect(doc).toContain(formatSignerKey(ORIGIN, SEED));
    expect(doc).toContain(log.verifierKey);
    expect(doc).toContain(toBase64(leaves[3]!));
    expect(doc).toContain(`\`\`\`\n${checkpoint}\`\`\``);
    expect(doc).toContain(`\`\`\`\n${proofFor(3)}\`\`\``);
    expect(verifyTlogProof(leaves[3]!, proofFor(3), [parseVerifierKey(log.verifierKey)], ORIGIN).checkpoint.size).toBe(5);
  });
});
