import '../src/node/index.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromBase64, toBase64, utf8 } from '../src/bytes.js';
import { cryptoProvider, setCryptoProvider } from '../src/crypto/provider.js';
import { nobleProvider } from '../src/crypto/noble.js';
import { isTrailsealError } from '../src/errors.js';
import {
  addSignatures,
  ed25519KeyId,
  formatSignerKey,
  formatVerifierKey,
  isValidKeyName,
  newEd25519Signer,
  newEd25519Verifier,
  NOTE_MAX_SIGNATURES,
  openNote,
  parseNoteUnverified,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from '../src/note.js';
import { codeOf, flipByte } from '../../../test-support/errors.js';

// Known answers from golang.org/x/mod/sumdb/note (note_test.go and the package
// documentation in note.go), the reference implementation of c2sp.org/signed-note.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const sigBytes = (line: string): Uint8Array => fromBase64(line.trimEnd().split(' ')[2]!).slice(4);

// A real signed tree head of sum.golang.org (the Go checksum database) with its
// published verifier key, as pinned in cmd/go; the note is from
// transparency-dev/trillian-tessera internal/parse/parse_test.go.
const SUMDB_VKEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
const SUMDB_NOTE =
  'go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n' +
  '\u2014 sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn/C3YI8oW9/C8DJ87F61QqspBYwM=\n';

const seedOf = (label: string): Uint8Array => cryptoProvider().sha256(label);
const be32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];

describe('keys: golang.org/x/mod/sumdb/note vectors', () => {
  for (const provider of ['node', 'noble'] as const) {
    it(`derives the PeterNeumann verifier key from its signer key (${provider} provider)`, () => {
      const before = cryptoProvider();
      if (provider === 'noble') setCryptoProvider(nobleProvider);
      try {
        const s = parseSignerKey(PETER_SKEY);
        expect(s.name).toBe('PeterNeumann');
        expect(s.keyId).toBe(0xc74f20a3);
        expect(s.verifierKey).toBe(PETER_VKEY);
        // Ed25519 is deterministic, so our signer must reproduce Go's TestSign output.
        expect(signNote(TEXT, [s])).toBe(`${TEXT}\n${PETER_SIG}`);
      } finally {
        setCryptoProvider(before);
      }
    });
  }

  it('formats the same signer and verifier keys from the raw seed and public key', () => {
    const seed = fromBase64('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz').slice(1);
    const pub = fromBase64('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW').slice(1);
    expect(formatSignerKey('PeterNeumann', seed)).toBe(PETER_SKEY);
    expect(formatVerifierKey('PeterNeumann', pub)).toBe(PETER_VKEY);
    expect(ed25519KeyId('PeterNeumann', pub)).toBe(0xc74f20a3);
    expect(newEd25519Signer('PeterNeumann', seed).publicKey).toEqual(pub);
  });

  it('parses verifier keys and checks their key IDs', () => {
    expect(parseVerifierKey(PETER_VKEY)).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3, verifierKey: PETER_VKEY });
    expect(parseVerifierKey(ENOCH_VKEY)).toMatchObject({ name: 'EnochRoot', keyId: 0xaf0cfe78 });
    // The key data of sum.golang.org contains '+', which is also the field separator.
    expect(parseVerifierKey(SUMDB_VKEY)).toMatchObject({ name: 'sum.golang.org', keyId: 0x033de0ae, verifierKey: SUMDB_VKEY });
  });

  it('rejects every proper substring and every one-character change of a verifier key (TestNewVerifier)', () => {
    for (let i = 0; i <= PETER_VKEY.length; i++) {
      for (let j = i + 1; j <= PETER_VKEY.length; j++) {
        if (i === 0 && j === PETER_VKEY.length) continue;
        expect(codeOf(() => parseVerifierKey(PETER_VKEY.slice(i, j)))).toBe('VERIFIER_KEY_MALFORMED');
      }
    }
    for (let i = 0; i < PETER_VKEY.length; i++) {
      const k = PETER_VKEY.slice(0, i) + String.fromCharCode(PETER_VKEY.charCodeAt(i) + 1) + PETER_VKEY.slice(i + 1);
      expect(codeOf(() => parseVerifierKey(k))).toBe('VERIFIER_KEY_MALFORMED');
    }
    // Wrong key length and unknown algorithm, each with a key hash adjusted to match (Go vectors).
    expect(codeOf(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='))).toBe('VERIFIER_KEY_MALFORMED');
    expect(codeOf(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'))).toBe('VERIFIER_KEY_MALFORMED');
    // One spelling: the key ID is lowercase hex.
    expect(codeOf(() => parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'C74F20A3')))).toBe('VERIFIER_KEY_MALFORMED');
  });

  it('rejects every proper substring and every one-character change of a signer key (TestNewSigner)', () => {
    for (let i = 0; i <= PETER_SKEY.length; i++) {
      for (let j = i + 1; j <= PETER_SKEY.length; j++) {
        if (i === 0 && j === PETER_SKEY.length) continue;
        expect(codeOf(() => parseSignerKey(PETER_SKEY.slice(i, j)))).toBe('SIGNER_KEY_MALFORMED');
      }
    }
    for (let i = 0; i < PETER_SKEY.length; i++) {
      const k = PETER_SKEY.slice(0, i) + String.fromCharCode(PETER_SKEY.charCodeAt(i) + 1) + PETER_SKEY.slice(i + 1);
      expect(codeOf(() => parseSignerKey(k))).toBe('SIGNER_KEY_MALFORMED');
    }
  });

  it('never puts the secret key in a signer key error', () => {
    const bad = PETER_SKEY.replace('c74f20a3', 'c74f20a4');
    try {
      parseSignerKey(bad);
      expect.unreachable();
    } catch (e) {
      expect(isTrailsealError(e, 'SIGNER_KEY_MALFORMED')).toBe(true);
      expect(JSON.stringify([(e as Error).message, (e as { details: unknown }).details])).not.toContain('AYEKFALV');
    }
  });

  it('validates key names: non-empty, no Unicode spaces, no plus', () => {
    expect(isValidKeyName('log.example.com/tenants/acme')).toBe(true);
    expect(isValidKeyName('caf\u00e9\u{1f600}')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\tb', 'a\u00a0b', 'a\u2003b', 'a\u3000b', 'a\u2028b', 'a\ud800b']) {
      expect(isValidKeyName(bad)).toBe(false);
    }
    const pub = newEd25519Signer('x', seedOf('k')).publicKey;
    expect(codeOf(() => formatVerifierKey('a+b', pub))).toBe('VERIFIER_KEY_MALFORMED');
    expect(codeOf(() => newEd25519Signer('a b', seedOf('k')))).toBe('SIGNER_KEY_MALFORMED');
    expect(codeOf(() => newEd25519Verifier('ok', pub.slice(1)))).toBe('VERIFIER_KEY_MALFORMED');
    expect(codeOf(() => newEd25519Signer('ok', new Uint8Array(31)))).toBe('SIGNER_KEY_MALFORMED');
  });
});

describe('openNote: golang.org/x/mod/sumdb/note TestOpen vectors', () => {
  const peter = parseVerifierKey(PETER_VKEY);
  const enoch = parseVerifierKey(ENOCH_VKEY);
  const peterSig = { name: 'PeterNeumann', keyId: 0xc74f20a3, signature: sigBytes(PETER_SIG) };
  const enochSig = { name: 'EnochRoot', keyId: 0xaf0cfe78, signature: sigBytes(ENOCH_SIG) };
  const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;

  it('verifies the trusted signature and reports the other one as unverified', () => {
    const n = openNote(both, [peter]);
    expect(n.text).toBe(TEXT);
    expect(n.verified).toEqual([peterSig]);
    expect(n.unverified).toEqual([enochSig]);
  });

  it('verifies both when both keys are trusted', () => {
    const n = openNote(both, [peter, enoch]);
    expect(n.verified).toEqual([peterSig, enochSig]);
    expect(n.unverified).toEqual([]);
  });

  it('rejects a note with no trusted signature', () => {
    expect(codeOf(() => openNote(both, []))).toBe('NOTE_NO_VALID_SIGNATURE');
    expect(codeOf(() => openNote(`${TEXT}\n${ENOCH_SIG}`, [peter]))).toBe('NOTE_NO_VALID_SIGNATURE');
  });

  it('rejects a corrupted signature by a trusted key', () => {
    // Go inserts "ABCD" at byte 60; the em dash is 3 UTF-8 bytes but 1 UTF-16 unit.
    const bad = `${TEXT}\n${PETER_SIG.slice(0, 58)}ABCD${PETER_SIG.slice(58)}`;
    expect(codeOf(() => openNote(bad, [peter]))).toBe('NOTE_BAD_SIGNATURE');
  });

  it('collapses repeated signatures and keeps distinct unknown ones', () => {
    const enochABCD = `${ENOCH_SIG.slice(0, 58)}ABCD${ENOCH_SIG.slice(58)}`;
    const n = openNote(`${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${enochABCD}`, [peter]);
    expect(n.verified).toEqual([peterSig]);
    expect(n.unverified).toEqual([enochSig, { name: 'EnochRoot', keyId: 0xaf0cfe78, signature: sigBytes(enochABCD) }]);
  });

  it('rejects the malformed messages of TestOpen', () => {
    const bad = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\u0001${TEXT}\n${PETER_SIG}`,
      // Go uses the byte 0xff; a JavaScript string with no UTF-8 form is a lone surrogate.
      `\ud800${TEXT}\n${PETER_SIG}`,
      `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
    ];
    for (const msg of bad) expect(codeOf(() => openNote(msg, [peter]))).toBe('NOTE_MALFORMED');
  });

  it('limits the number of signature lines (101 lines, as in TestOpen)', () => {
    const many = `${TEXT}\n${PETER_SIG.repeat(NOTE_MAX_SIGNATURES + 1)}`;
    expect(codeOf(() => openNote(many, [peter]))).toBe('NOTE_TOO_LARGE');
    expect(codeOf(() => openNote(many, []))).toBe('NOTE_TOO_LARGE');
    expect(openNote(many, [peter], { maxSignatures: 200 }).verified).toEqual([peterSig]);
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(NOTE_MAX_SIGNATURES)}`, [peter]).verified).toEqual([peterSig]);
    // signed-note, Format: verifiers MUST accept at least 16 signatures.
    expect(() => openNote(many, [peter], { maxSignatures: 15 })).toThrow(RangeError);
  });

  it('verifies a real sum.golang.org signed tree head', () => {
    const n = openNote(SUMDB_NOTE, [parseVerifierKey(SUMDB_VKEY)]);
    expect(n.text).toBe('go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n');
    expect(n.verified.map((s) => s.keyId)).toEqual([0x033de0ae]);
    expect(codeOf(() => openNote(SUMDB_NOTE.replace('31700353', '31700354'), [parseVerifierKey(SUMDB_VKEY)]))).toBe('NOTE_BAD_SIGNATURE');
  });
});

describe('signed-note rules', () => {
  const log = newEd25519Signer('log.example.com/tenants/acme', seedOf('note test log'));
  const witness = newEd25519Signer('witness.example.net', seedOf('note test witness'));
  const logV = parseVerifierKey(log.verifierKey);
  const witnessV = parseVerifierKey(witness.verifierKey);
  const text = 'log.example.com/tenants/acme\n7\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
  const note = signNote(text, [log]);

  it('signs the text including its final newline, then a blank line, then em-dash lines', () => {
    const sig = log.sign(utf8(text));
    expect(note).toBe(`${text}\n\u2014 ${log.name} ${toBase64(new Uint8Array([...be32(log.keyId), ...sig]))}\n`);
    expect(openNote(note, [logV]).text).toBe(text);
  });

  it('ignores witness cosignatures from unknown keys and verifies them when trusted', () => {
    const cosigned = addSignatures(note, [witness]);
    expect(cosigned.startsWith(note)).toBe(true);
    expect(openNote(cosigned, [logV]).unverified.map((s) => s.name)).toEqual([witness.name]);
    expect(openNote(cosigned, [logV, witnessV]).verified.map((s) => s.name)).toEqual([log.name, witness.name]);
    // A witness key alone is a trusted key too; which keys a checkpoint needs is policy.
    expect(openNote(cosigned, [witnessV]).verified.map((s) => s.name)).toEqual([witness.name]);
    // A tlog-cosignature/v1 line (type 0x04: 8-byte timestamp + 64-byte signature) is just another unknown key.
    const cosig = `\u2014 witness2.example ${toBase64(new Uint8Array(4 + 72).fill(7))}\n`;
    expect(openNote(cosigned + cosig, [logV]).unverified).toHaveLength(2);
  });

  it('replaces an existing signature by the same key when cosigning again', () => {
    const once = addSignatures(note, [witness]);
    expect(addSignatures(once, [witness])).toBe(once);
    expect(addSignatures(once, [log])).toBe(`${text}\n${once.split('\n').slice(-2)[0]}\n${note.split('\n').slice(-2)[0]}\n`);
  });

  it('ignores keys sharing only the name or only the key ID with a trusted key', () => {
    const rotated = newEd25519Signer(log.name, seedOf('rotated'));
    const sameIdOtherName = `\u2014 other.example ${note.trimEnd().split(' ').pop()!}\n`;
    const n = openNote(`${text}\n${signNote(text, [rotated]).split('\n\n')[1]!}${sameIdOtherName}${note.split('\n\n')[1]!}`, [logV]);
    expect(n.verified).toHaveLength(1);
    expect(n.unverified.map((s) => s.name)).toEqual([log.name, 'other.example']);
  });

  it('rejects the note when any signature by a trusted key fails, even if another verifies', () => {
    const forged = `\u2014 ${log.name} ${toBase64(new Uint8Array([...be32(log.keyId), ...new Uint8Array(64)]))}\n`;
    expect(codeOf(() => openNote(note + forged, [logV]))).toBe('NOTE_BAD_SIGNATURE');
  });

  it('rejects two different trusted keys with the same name and key ID', () => {
    const a = { name: 'n', keyId: 1, verify: () => true };
    const b = { name: 'n', keyId: 1, verify: () => false };
    expect(codeOf(() => openNote(note, [a, b]))).toBe('VERIFIER_KEY_MALFORMED');
    expect(openNote(note, [logV, parseVerifierKey(log.verifierKey)]).verified).toHaveLength(1);
  });

  it('accepts text with empty lines, separated by the last blank line', () => {
    for (const t of ['\n', 'a\n\nb\n', 'a\n\n', 'a\n\n\n', '\u2014 looks like a signature line\n']) {
      const n = signNote(t, [log]);
      expect(openNote(n, [logV]).text).toBe(t);
    }
  });

  it('rejects malformed notes with the right code', () => {
    const body = note.slice(text.length + 1);
    const cases: [string, string][] = [
      ['missing final newline', note.slice(0, -1)],
      ['missing blank line', text + body],
      ['no signature lines', `${text}\n`],
      ['bad base64', note.replace(/ ([A-Za-z0-9+/]+=*)\n$/, ' $1!\n')],
      ['non-canonical base64 padding bits', `${text}\n\u2014 ${log.name} AAAAAAB=\n`],
      ['hyphen instead of em dash', note.replace('\u2014 ', '- ')],
      ['en dash instead of em dash', note.replace('\u2014 ', '\u2013 ')],
      ['em dash without space', note.replace('\u2014 ', '\u2014')],
      ['name with plus', note.replace(`${log.name} `, 'a+b ')],
      ['name with no-break space', note.replace(`${log.name} `, 'a\u00a0b ')],
      ['empty name', note.replace(`${log.name} `, ' ')],
      ['no signature after name', `${text}\n\u2014 ${log.name}\n`],
      ['signature too short (key ID only)', `${text}\n\u2014 ${log.name} AAAAAA==\n`],
      ['CRLF line endings', note.replaceAll('\n', '\r\n')],
      ['CR in text', note.replace('\n7\n', '\n7\r\n')],
      ['tab in text', note.replace('\n7\n', '\n\t7\n')],
      ['NUL', `\u0000${note}`],
      ['lone surrogate', note.replace('\n7\n', '\n\udc007\n')],
    ];
    for (const [why, bad] of cases) expect([why, codeOf(() => openNote(bad, [logV]))]).toEqual([why, 'NOTE_MALFORMED']);
  });

  it('rejects oversized notes', () => {
    expect(codeOf(() => openNote(`${'a'.repeat(1024 * 1024)}\n${note}`, [logV]))).toBe('NOTE_TOO_LARGE');
    expect(codeOf(() => openNote(`${'\u00e9'.repeat(600 * 1024)}\n${note}`, [logV]))).toBe('NOTE_TOO_LARGE');
  });

  it('refuses to sign what it would refuse to open', () => {
    expect(codeOf(() => signNote('no newline', [log]))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => signNote('', [log]))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => signNote('a\r\n', [log]))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => signNote('\ud800\n', [log]))).toBe('NOTE_MALFORMED');
    expect(codeOf(() => signNote(text, []))).toBe('NOTE_MALFORMED');
    const plus: NoteSigner = { name: 'a+b', keyId: 1, sign: () => new Uint8Array(64) };
    expect(codeOf(() => signNote(text, [plus]))).toBe('SIGNER_KEY_MALFORMED');
    expect(codeOf(() => signNote(text, [log, log]))).toBe('SIGNER_KEY_MALFORMED');
    const many = Array.from({ length: NOTE_MAX_SIGNATURES + 1 }, (_, i): NoteSigner => ({ name: `s${i}`, keyId: i, sign: () => new Uint8Array(1) }));
    expect(codeOf(() => signNote(text, many))).toBe('NOTE_TOO_LARGE');
  });

  it('accepts 16 signatures from 16 trusted keys (the spec minimum)', () => {
    const signers = Array.from({ length: 16 }, (_, i) => newEd25519Signer(`w${i}.example`, seedOf(`w${i}`)));
    const n = signNote(text, signers);
    expect(openNote(n, signers.map((s) => parseVerifierKey(s.verifierKey)), { maxSignatures: 16 }).verified).toHaveLength(16);
  });

  it('parses without verifying for tools that only list signatures', () => {
    const p = parseNoteUnverified(addSignatures(note, [witness]));
    expect(p.text).toBe(text);
    expect(p.signatures.map((s) => [s.name, s.keyId])).toEqual([
      [log.name, log.keyId],
      [witness.name, witness.keyId],
    ]);
  });
});

describe('signed-note properties', () => {
  const log = newEd25519Signer('log.example.com/tenants/acme', seedOf('property log'));
  const logV = newEd25519Verifier(log.name, log.publicKey);
  // Any text with a UTF-8 form and no control characters but newline, ending in newline.
  const noteText = fc
    .string({ unit: 'binary', maxLength: 200 })
    .map((s) => `${Array.from(s, (ch) => (ch < ' ' && ch !== '\n' ? ' ' : ch)).join('')}\n`);

  it('round-trips: openNote(signNote(text)) gives back the text', () => {
    fc.assert(
      fc.property(noteText, (t) => {
        const n = openNote(signNote(t, [log]), [logV]);
        expect(n.text).toBe(t);
        expect(n.verified).toHaveLength(1);
      }),
    );
  });

  it('rejects any note with one byte changed', () => {
    fc.assert(
      fc.property(noteText, fc.nat(), fc.integer({ min: 1, max: 255 }), (t, at, mask) => {
        const changed = flipByte(signNote(t, [log]), at, mask);
        // No longer UTF-8: rejected before it is a note at all.
        if (changed === undefined) return;
        expect(['NOTE_MALFORMED', 'NOTE_BAD_SIGNATURE', 'NOTE_NO_VALID_SIGNATURE']).toContain(codeOf(() => openNote(changed, [logV])));
      }),
      { numRuns: 500 },
    );
  });
});
