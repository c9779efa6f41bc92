import '../src/node/index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../src/bytes.js';
import { cryptoProvider } from '../src/crypto/provider.js';
import { isTrailsealError } from '../src/errors.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint, type Checkpoint } from '../src/checkpoint.js';
import { addSignatures, newEd25519Signer, openNote, parseVerifierKey, signNote } from '../src/note.js';
import { codeOf, flipByte } from '../../../test-support/errors.js';

const ORIGIN = 'log.example.com/tenants/acme';
const log = newEd25519Signer(ORIGIN, cryptoProvider().sha256('trailseal test key 1'));
const logV = parseVerifierKey(log.verifierKey);
const witness = newEd25519Signer('witness.example.net', cryptoProvider().sha256('checkpoint test witness'));
const witnessV = parseVerifierKey(witness.verifierKey);
const ROOT = cryptoProvider().sha256('root');
const CP: Checkpoint = { origin: ORIGIN, size: 42, rootHash: ROOT, extensions: [] };

// The example of c2sp.org/tlog-checkpoint (its key is not published).
const SPEC_EXAMPLE =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n' +
  '\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';

// A real sum.golang.org checkpoint and its pinned key (see note.test.ts).
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_NOTE =
  'go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n' +
  '\u2014 sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n';

describe('checkpoint text (c2sp.org/tlog-checkpoint)', () => {
  it('parses and re-formats the spec example byte for byte', () => {
    const body = SPEC_EXAMPLE.slice(0, SPEC_EXAMPLE.indexOf('\n\n') + 1);
    const cp = parseCheckpoint(body);
    expect(cp).toEqual({ origin: 'example.com/behind-the-sofa', size: 20852163, rootHash: fromBase64('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I='), extensions: [] });
    expect(formatCheckpoint(cp)).toBe(body);
    // Well-formed, but signed by a key we do not trust.
    expect(codeOf(() => openCheckpoint(SPEC_EXAMPLE, [logV]))).toBe('NOTE_NO_VALID_SIGNATURE');
  });

  it('matches the golang.org/x/mod/sumdb/tlog FormatTree golden text', () => {
    // TestFormatTree: size 123456789012, root = RecordHash("hello world") = SHA-256(0x00 || "hello world").
    const golden = 'go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n';
    const cp = { origin: 'go.sum database tree', size: 123456789012, rootHash: cryptoProvider().sha256(new Uint8Array([0]), 'hello world'), extensions: [] };
    expect(formatCheckpoint(cp)).toBe(golden);
    expect(parseCheckpoint(golden)).toEqual(cp);
    // TestParseTree's bad trees.
    expect(codeOf(() => parseCheckpoint('go.sum database tree\n0xabcdef\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n'))).toBe('CHECKPOINT_MALFORMED');
    expect(codeOf(() => parseCheckpoint('go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBTOOBIG=\n'))).toBe('CHECKPOINT_MALFORMED');
  });

  it('opens a real sum.golang.org checkpoint (an origin that is not a URL)', () => {
    const cp = openCheckpoint(SUMDB_NOTE, [parseVerifierKey(SUMDB_VKEY)], 'go.sum database tree');
    expect(cp.origin).toBe('go.sum database tree');
    expect(cp.size).toBe(31700353);
    expect(toBase64(cp.rootHash)).toBe('qINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=');
    expect(cp.note).toBe(SUMDB_NOTE);
    expect(codeOf(() => openCheckpoint(SUMDB_NOTE, [parseVerifierKey(SUMDB_VKEY)], 'sum.golang.org'))).toBe('CHECKPOINT_ORIGIN_MISMATCH');
  });

  it('keeps extension lines in order', () => {
    const cp = { ...CP, extensions: ['ext one', '\u2014 not a signature', 'x'] };
    const body = formatCheckpoint(cp);
    expect(body).toBe(`${ORIGIN}\n42\n${toBase64(ROOT)}\next one\n\u2014 not a signature\nx\n`);
    expect(parseCheckpoint(body)).toEqual(cp);
    expect(openCheckpoint(signCheckpoint(cp, [log]), [logV]).extensions).toEqual(cp.extensions);
  });

  it('accepts size 0 and the largest safe integer', () => {
    for (const size of [0, 1, Number.MAX_SAFE_INTEGER]) expect(parseCheckpoint(formatCheckpoint({ ...CP, size })).size).toBe(size);
  });

  it('has exactly one spelling: every other spelling is CHECKPOINT_MALFORMED', () => {
    const root = toBase64(ROOT);
    const bad = [
      `${ORIGIN}\n042\n${root}\n`,
      `${ORIGIN}\n00\n${root}\n`,
      `${ORIGIN}\n+42\n${root}\n`,
      `${ORIGIN}\n-1\n${root}\n`,
      `${ORIGIN}\n 42\n${root}\n`,
      `${ORIGIN}\n42 \n${root}\n`,
      `${ORIGIN}\n4.2e1\n${root}\n`,
      `${ORIGIN}\n\u0664\u0662\n${root}\n`,
      `${ORIGIN}\n9007199254740992\n${root}\n`,
      `${ORIGIN}\n42\n${root.replace(/=$/, '')}\n`,
      `${ORIGIN}\n42\n${root.slice(0, -2)}B=\n`,
      `${ORIGIN}\n42\n${toBase64(ROOT.slice(1))}\n`,
      `${ORIGIN}\n42\n${toBase64(new Uint8Array(33))}\n`,
      `${ORIGIN}\n42\n${root}`,
      `${ORIGIN}\n42\n${root}\n\n`,
      `${ORIGIN}\n42\n${root}\n\nextension\n`,
      `${ORIGIN}\n42\n`,
      `\n42\n${root}\n`,
      `${ORIGIN}\r\n42\r\n${root}\r\n`,
      `${ORIGIN}\t\n42\n${root}\n`,
      `${ORIGIN}\ud800\n42\n${root}\n`,
      '',
    ];
    for (const b of bad) expect([b, codeOf(() => parseCheckpoint(b))]).toEqual([b, 'CHECKPOINT_MALFORMED']);
  });

  it('refuses to format what it would refuse to parse', () => {
    const bad: Checkpoint[] = [
      { ...CP, origin: '' },
      { ...CP, origin: 'a\nb' },
      { ...CP, origin: 'a\rb' },
      { ...CP, size: -1 },
      { ...CP, size: 1.5 },
      { ...CP, size: 2 ** 53 },
      { ...CP, rootHash: new Uint8Array(31) },
      { ...CP, extensions: [''] },
      { ...CP, extensions: ['a\nb'] },
    ];
    for (const cp of bad) expect(codeOf(() => formatCheckpoint(cp))).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('signed checkpoints', () => {
  it('round-trips through signCheckpoint and openCheckpoint', () => {
    const note = signCheckpoint(CP, [log]);
    const cp = openCheckpoint(note, [logV], ORIGIN);
    expect(cp).toMatchObject(CP);
    expect(cp.note).toBe(note);
    expect(cp.verified.map((s) => s.name)).toEqual([ORIGIN]);
  });

  it('checks the origin after the signature', () => {
    const note = signCheckpoint(CP, [log]);
    expect(codeOf(() => openCheckpoint(note, [logV], 'log.example.com/tenants/other'))).toBe('CHECKPOINT_ORIGIN_MISMATCH');
    expect(codeOf(() => openCheckpoint(note, [witnessV], 'log.example.com/tenants/other'))).toBe('NOTE_NO_VALID_SIGNATURE');
  });

  it('accepts witness cosignatures and ignores unknown ones', () => {
    const cosigned = addSignatures(signCheckpoint(CP, [log]), [witness]);
    expect(openCheckpoint(cosigned, [logV]).verified.map((s) => s.name)).toEqual([ORIGIN]);
    expect(openCheckpoint(cosigned, [logV, witnessV]).verified.map((s) => s.name)).toEqual([ORIGIN, witness.name]);
  });

  it('rejects a signed note whose text is not a checkpoint', () => {
    const note = signCheckpoint(CP, [log]).replace(/^[^\n]*\n[^\n]*\n[^\n]*\n/, 'hello\n');
    expect(codeOf(() => openCheckpoint(note, [logV]))).toBe('NOTE_BAD_SIGNATURE');
    const signed = signNote('hello\n', [log]);
    expect(openNote(signed, [logV]).text).toBe('hello\n');
    expect(codeOf(() => openCheckpoint(signed, [logV]))).toBe('CHECKPOINT_MALFORMED');
  });
});

describe('checkpoint properties', () => {
  const line = fc
    .string({ unit: 'binary', minLength: 1, maxLength: 40 })
    .map((s) => Array.from(s, (ch) => (ch < ' ' ? '_' : ch)).join(''));
  const checkpoint: fc.Arbitrary<Checkpoint> = fc.record({
    origin: line,
    size: fc.oneof(fc.nat(), fc.maxSafeNat()),
    rootHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    extensions: fc.array(line, { maxLength: 4 }),
  });

  it('round-trips: parseCheckpoint(formatCheckpoint(cp)) equals cp', () => {
    fc.assert(
      fc.property(checkpoint, (cp) => {
        expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
      }),
    );
  });

  it('has one spelling: any text that parses re-formats to itself', () => {
    const text = fc.string({ unit: fc.constantFrom('\n', '0', '1', '9', 'A', 'a', '/', '+', '=', ' ', '-'), maxLength: 80 });
    fc.assert(
      fc.property(checkpoint, text, fc.nat(), (cp, junk, at) => {
        const body = formatCheckpoint(cp);
        const i = at % (body.length + 1);
        for (const candidate of [junk, body.slice(0, i) + junk + body.slice(i)]) {
          let parsed: Checkpoint;
          try {
            parsed = parseCheckpoint(candidate);
          } catch (e) {
            expect(isTrailsealError(e, 'CHECKPOINT_MALFORMED')).toBe(true);
            continue;
          }
          expect(formatCheckpoint(parsed)).toBe(candidate);
        }
      }),
    );
  });

  it('rejects a signed checkpoint with any byte changed', () => {
    fc.assert(
      fc.property(checkpoint, fc.nat(), fc.integer({ min: 1, max: 255 }), (cp, at, mask) => {
        const changed = flipByte(signCheckpoint(cp, [log]), at, mask);
        // No longer UTF-8: rejected before it is a note at all.
        if (changed === undefined) return;
        expect(codeOf(() => openCheckpoint(changed, [logV], cp.origin))).not.toBe('none');
      }),
      { numRuns: 300 },
    );
  });
});
