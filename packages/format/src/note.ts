// Signed notes, c2sp.org/signed-note@v1, with Ed25519 keys (signature type
// 0x01) in the verifier/signer key encodings of golang.org/x/mod/sumdb/note.
// Checkpoints (checkpoint.ts) and tlog-proof receipts (tlog-proof.ts) are
// signed notes, so every rule here is also a checkpoint rule.
//
//   <text ending in \n>
//   \n
//   — <key name> <base64(4-byte big-endian key ID || signature)>\n   (one or more)

import { bytesEqual, concatBytes, fromBase64, toBase64, utf8 } from './bytes.js';
import { cryptoProvider } from './crypto/provider.js';
import { isTrailsealError, TrailsealError } from './errors.js';

/** Largest signed note accepted or produced, in UTF-8 bytes (about 100 of the ~5 kB post-quantum signatures the spec warns of). */
export const NOTE_MAX_BYTES = 1024 * 1024;
/** Default limit on signature lines per note; golang.org/x/mod/sumdb/note uses the same. */
export const NOTE_MAX_SIGNATURES = 100;
/** signed-note, Format: verifiers "MUST accept at least up to 16 signatures", so no lower limit may be configured. */
export const NOTE_MIN_SIGNATURE_LIMIT = 16;
/** Signature type identifier byte of Ed25519 (signed-note, Signature types). */
export const NOTE_ED25519_TYPE = 0x01;

export interface NoteSigner {
  readonly name: string;
  /** The 32-bit key ID, an unsigned integer. */
  readonly keyId: number;
  /** Signs the note text (UTF-8, including its final newline). */
  sign(msg: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `sig` (without the 4-byte key ID) is a valid signature of `msg`; never throws. */
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  readonly signature: Uint8Array;
}

export interface Ed25519NoteSigner extends NoteSigner {
  readonly publicKey: Uint8Array;
  /** `<name>+<hex key ID>+<base64(0x01 || public key)>`, to hand to verifiers. */
  readonly verifierKey: string;
}

export interface Ed25519NoteVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  readonly verifierKey: string;
}

export interface OpenNoteOptions {
  /** At most this many signature lines (default NOTE_MAX_SIGNATURES, at least NOTE_MIN_SIGNATURE_LIMIT). */
  readonly maxSignatures?: number;
}

export interface OpenedNote {
  /** The note text, including its final newline. */
  readonly text: string;
  /** Signatures by the given verifiers, all of which verified; one per key. */
  readonly verified: NoteSignature[];
  /** Signatures by keys not among the verifiers (ignored, as the spec requires); identical lines once. */
  readonly unverified: NoteSignature[];
}

const SIG_PREFIX = '\u2014 '; // em dash, space (signed-note, Format)
const SIGNER_PREFIX = 'PRIVATE+KEY+';
// Unicode White_Space is exactly the set Go's unicode.IsSpace reports, which
// sumdb/note uses for the signed-note rule "MUST NOT contain any Unicode spaces".
const SPACE_OR_PLUS = /[\p{White_Space}+]/u;
// In a `u` regexp a well-formed surrogate pair is one code point, so only an
// unpaired surrogate (a string with no UTF-8 form) matches.
const LONE_SURROGATE = /\p{Cs}/u;
const HEX8 = /^[0-9a-f]{8}$/;

/** A valid key name: non-empty, no Unicode space, no '+', well-formed UTF-16 (signed-note, Format). */
export function isValidKeyName(name: string): boolean {
  return typeof name === 'string' && name.length > 0 && !SPACE_OR_PLUS.test(name) && !LONE_SURROGATE.test(name);
}

/**
 * Offset of the first character a signed note may not contain (signed-note,
 * Format: valid UTF-8, no ASCII control character other than newline), or -1.
 */
function firstBadChar(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x0a) return i;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return i;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return i;
    }
  }
  return -1;
}

/**
 * Whether `text` can be the text of a signed note: non-empty, ends in a
 * newline, has a UTF-8 form and no control characters other than newline.
 */
export function isNoteText(text: string): boolean {
  return typeof text === 'string' && text.endsWith('\n') && firstBadChar(text) < 0;
}

function isUint32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, '0');
}

function uint32be(id: number): Uint8Array {
  return Uint8Array.of(id >>> 24, (id >>> 16) & 255, (id >>> 8) & 255, id & 255);
}

function readUint32be(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function vkeyError(message: string, details: Record<string, unknown> = {}): TrailsealError {
  return new TrailsealError('VERIFIER_KEY_MALFORMED', message, details);
}

// Never echoes the signer key: it is a secret.
function skeyError(message: string): TrailsealError {
  return new TrailsealError('SIGNER_KEY_MALFORMED', message);
}

function noteError(message: string, details: Record<string, unknown> = {}): TrailsealError {
  return new TrailsealError('NOTE_MALFORMED', message, details);
}

/**
 * Key ID of an Ed25519 key (signed-note, Ed25519 signatures):
 * SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], big-endian.
 */
export function ed25519KeyId(name: string, publicKey: Uint8Array): number {
  if (!isValidKeyName(name)) throw vkeyError('key name must be non-empty with no spaces or "+"', { name });
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw vkeyError('an Ed25519 public key is 32 bytes');
  }
  const h = cryptoProvider().sha256(utf8(name), Uint8Array.of(0x0a, NOTE_ED25519_TYPE), publicKey);
  return readUint32be(h);
}

/** `<name>+<8 lowercase hex key ID>+<base64(0x01 || 32-byte public key)>`, as sumdb/note spells it. */
export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  const id = ed25519KeyId(name, publicKey);
  return `${name}+${hex8(id)}+${toBase64(concatBytes(Uint8Array.of(NOTE_ED25519_TYPE), publicKey))}`;
}

export function newEd25519Verifier(name: string, publicKey: Uint8Array): Ed25519NoteVerifier {
  const keyId = ed25519KeyId(name, publicKey);
  // A private copy: later changes to the caller's array cannot swap the key.
  const key = publicKey.slice();
  return {
    name,
    keyId,
    publicKey: key.slice(),
    verifierKey: formatVerifierKey(name, key),
    verify(msg: Uint8Array, sig: Uint8Array): boolean {
      return sig.length === 64 && cryptoProvider().ed25519Verify(key, msg, sig);
    },
  };
}

function ed25519SeedCheck(seed: Uint8Array): void {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw skeyError('an Ed25519 seed is 32 bytes');
}

export function newEd25519Signer(name: string, seed: Uint8Array): Ed25519NoteSigner {
  if (!isValidKeyName(name)) throw skeyError('key name must be non-empty with no spaces or "+"');
  ed25519SeedCheck(seed);
  const secret = seed.slice();
  const publicKey = cryptoProvider().ed25519PublicKey(secret);
  return {
    name,
    keyId: ed25519KeyId(name, publicKey),
    publicKey: publicKey.slice(),
    verifierKey: formatVerifierKey(name, publicKey),
    sign(msg: Uint8Array): Uint8Array {
      return cryptoProvider().ed25519Sign(secret, msg);
    },
  };
}

/** `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>`; the key ID is that of the public key. */
export function formatSignerKey(name: string, seed: Uint8Array): string {
  const s = newEd25519Signer(name, seed);
  return `${SIGNER_PREFIX}${name}+${hex8(s.keyId)}+${toBase64(concatBytes(Uint8Array.of(NOTE_ED25519_TYPE), seed))}`;
}

// Splits `<name>+<hex>+<base64>`. The base64 alphabet contains '+', so only
// the first two '+' separate fields; names cannot contain '+'.
function splitKey(s: string): [string, string, string] | undefined {
  const a = s.indexOf('+');
  if (a < 0) return undefined;
  const b = s.indexOf('+', a + 1);
  if (b < 0) return undefined;
  return [s.slice(0, a), s.slice(a + 1, b), s.slice(b + 1)];
}

function decodeTypedKey(b64: string, onError: (m: string) => TrailsealError): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fromBase64(b64, 'key');
  } catch (e) {
    if (isTrailsealError(e, 'INVALID_BASE64')) throw onError('key data is not canonical base64');
    throw e;
  }
  if (raw.length === 0) throw onError('key data is empty');
  if (raw[0] !== NOTE_ED25519_TYPE) throw onError(`unsupported signature type 0x${raw[0]!.toString(16).padStart(2, '0')}; only Ed25519 (0x01) is supported`);
  if (raw.length !== 33) throw onError('Ed25519 key data is 0x01 followed by 32 bytes');
  return raw.subarray(1);
}

/**
 * Parses a verifier key `<name>+<hex key ID>+<base64(0x01 || public key)>`.
 * The key ID is spelled as 8 lowercase hex digits (as sumdb/note and this
 * module write it) and must be the key ID of the key.
 */
export function parseVerifierKey(vkey: string): Ed25519NoteVerifier {
  if (typeof vkey !== 'string') throw vkeyError('verifier key must be a string');
  const parts = splitKey(vkey);
  if (parts === undefined) throw vkeyError('verifier key is not <name>+<key id>+<key data>');
  const [name, idHex, b64] = parts;
  if (!isValidKeyName(name)) throw vkeyError('key name must be non-empty with no spaces or "+"', { name });
  if (!HEX8.test(idHex)) throw vkeyError('key id must be 8 lowercase hex digits', { name });
  const publicKey = decodeTypedKey(b64, (m) => vkeyError(m, { name }));
  const v = newEd25519Verifier(name, publicKey);
  if (hex8(v.keyId) !== idHex) {
    throw vkeyError(`key id ${idHex} does not match the key (expected ${hex8(v.keyId)})`, { name });
  }
  return v;
}

/** Parses a signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>`. */
export function parseSignerKey(skey: string): Ed25519NoteSigner {
  if (typeof skey !== 'string' || !skey.startsWith(SIGNER_PREFIX)) {
    throw skeyError('signer key does not start with PRIVATE+KEY+');
  }
  const parts = splitKey(skey.slice(SIGNER_PREFIX.length));
  if (parts === undefined) throw skeyError('signer key is not PRIVATE+KEY+<name>+<key id>+<key data>');
  const [name, idHex, b64] = parts;
  if (!isValidKeyName(name)) throw skeyError('key name must be non-empty with no spaces or "+"');
  if (!HEX8.test(idHex)) throw skeyError('key id must be 8 lowercase hex digits');
  const seed = decodeTypedKey(b64, skeyError);
  const s = newEd25519Signer(name, seed);
  // The key ID names the public key, so it can only be checked after deriving it.
  if (hex8(s.keyId) !== idHex) throw skeyError('key id does not match the key');
  return s;
}

interface SignatureLine extends NoteSignature {
  /** The line without its newline. */
  readonly line: string;
}

interface ParsedNote {
  readonly text: string;
  readonly lines: SignatureLine[];
}

function checkMaxSignatures(max: number): void {
  if (!Number.isSafeInteger(max) || max < NOTE_MIN_SIGNATURE_LIMIT) {
    throw new RangeError(`maxSignatures must be an integer >= ${NOTE_MIN_SIGNATURE_LIMIT} (c2sp.org/signed-note, Format)`);
  }
}

// A string of UTF-16 units has at least that many UTF-8 bytes, so the cheap
// length test rejects oversized input before it is encoded.
function checkNoteSize(note: string): Uint8Array {
  if (note.length > NOTE_MAX_BYTES) throw new TrailsealError('NOTE_TOO_LARGE', `signed note exceeds ${NOTE_MAX_BYTES} bytes`, { limit: NOTE_MAX_BYTES });
  const bytes = utf8(note);
  if (bytes.length > NOTE_MAX_BYTES) throw new TrailsealError('NOTE_TOO_LARGE', `signed note exceeds ${NOTE_MAX_BYTES} bytes`, { limit: NOTE_MAX_BYTES });
  return bytes;
}

function parseNote(note: string, maxSignatures: number): ParsedNote {
  if (typeof note !== 'string') throw noteError('signed note must be a string');
  checkNoteSize(note);
  const bad = firstBadChar(note);
  if (bad >= 0) {
    throw noteError('signed note has a control character other than newline, or no UTF-8 form (c2sp.org/signed-note, Format)', { offset: bad });
  }
  // signed-note, Format: "the text is separated from the signatures by the last
  // empty line in the note"; signature lines are never empty.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw noteError('signed note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0) throw noteError('signed note has no signature lines');
  if (!block.endsWith('\n')) throw noteError('signed note does not end in a newline');
  const raw = block.slice(0, -1).split('\n');
  // Counted before any line is decoded, so an oversized note costs no more work.
  if (raw.length > maxSignatures) {
    throw new TrailsealError('NOTE_TOO_LARGE', `signed note has ${raw.length} signature lines; the limit is ${maxSignatures}`, { limit: maxSignatures });
  }
  const lines: SignatureLine[] = raw.map((line, i) => {
    if (!line.startsWith(SIG_PREFIX)) {
      throw noteError(`signature line ${i + 1} does not start with an em dash (U+2014) and a space`, { line: i + 1 });
    }
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    if (!isValidKeyName(name)) throw noteError(`signature line ${i + 1} has an invalid key name`, { line: i + 1 });
    let sig: Uint8Array;
    try {
      sig = fromBase64(b64, 'signature');
    } catch (e) {
      if (isTrailsealError(e, 'INVALID_BASE64')) throw noteError(`signature line ${i + 1} is not canonical base64`, { line: i + 1 });
      throw e;
    }
    // 4-byte key ID and a signature of at least one byte.
    if (sig.length < 5) throw noteError(`signature line ${i + 1} is too short`, { line: i + 1 });
    return { name, keyId: readUint32be(sig), signature: sig.slice(4), line };
  });
  return { text, lines };
}

/**
 * Splits a signed note into its text and signature lines WITHOUT verifying
 * anything. The text MUST be ignored until openNote has verified a trusted
 * signature (c2sp.org/signed-note); this is for tools that list or forward
 * signatures.
 */
export function parseNoteUnverified(note: string, opts: OpenNoteOptions = {}): { text: string; signatures: NoteSignature[] } {
  const max = opts.maxSignatures ?? NOTE_MAX_SIGNATURES;
  checkMaxSignatures(max);
  const { text, lines } = parseNote(note, max);
  return { text, signatures: lines.map(({ name, keyId, signature }) => ({ name, keyId, signature })) };
}

function verifierTable(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const table = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    if (!isValidKeyName(v.name) || !isUint32(v.keyId)) throw vkeyError('verifier has an invalid name or key id', { name: v.name });
    const k = `${v.name}+${hex8(v.keyId)}`;
    const prev = table.get(k);
    if (prev !== undefined && prev !== v && !sameKey(prev, v)) {
      // signed-note, Signatures: the (name, key ID) pair identifies one key.
      // Two different trusted keys under one pair is a configuration error.
      throw vkeyError(`two different trusted keys share the name and key id ${k}`, { name: v.name, keyId: hex8(v.keyId) });
    }
    table.set(k, v);
  }
  return table;
}

function sameKey(a: NoteVerifier, b: NoteVerifier): boolean {
  const ka = (a as Partial<Ed25519NoteVerifier>).publicKey;
  const kb = (b as Partial<Ed25519NoteVerifier>).publicKey;
  return ka instanceof Uint8Array && kb instanceof Uint8Array && bytesEqual(ka, kb);
}

/**
 * Parses a signed note and checks its signatures against trusted verifiers
 * (c2sp.org/signed-note, Signatures): signatures by unknown (name, key ID)
 * pairs are ignored; every signature by a known pair is verified and any
 * failure rejects the whole note (NOTE_BAD_SIGNATURE); at least one must
 * verify (NOTE_NO_VALID_SIGNATURE).
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[], opts: OpenNoteOptions = {}): OpenedNote {
  const max = opts.maxSignatures ?? NOTE_MAX_SIGNATURES;
  checkMaxSignatures(max);
  const table = verifierTable(verifiers);
  const { text, lines } = parseNote(note, max);
  const msg = utf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const l of lines) {
    const k = `${l.name}+${hex8(l.keyId)}`;
    const v = table.get(k);
    const sig: NoteSignature = { name: l.name, keyId: l.keyId, signature: l.signature };
    if (v === undefined) {
      if (!seenUnverified.has(l.line)) {
        seenUnverified.add(l.line);
        unverified.push(sig);
      }
      continue;
    }
    // Every signature by a known key is checked, repeated ones included: the
    // spec says verifiers MUST verify it, and a bad one rejects the note.
    if (!v.verify(msg, l.signature)) {
      throw new TrailsealError('NOTE_BAD_SIGNATURE', `signature by ${k} does not verify`, { name: l.name, keyId: hex8(l.keyId) });
    }
    if (!seenVerified.has(k)) {
      seenVerified.add(k);
      verified.push(sig);
    }
  }
  if (verified.length === 0) {
    throw new TrailsealError('NOTE_NO_VALID_SIGNATURE', 'signed note has no signature by a trusted key', {
      signers: unverified.map((s) => `${s.name}+${hex8(s.keyId)}`),
    });
  }
  return { text, verified, unverified };
}

function signatureLines(text: string, signers: readonly NoteSigner[]): { keys: Set<string>; lines: string } {
  const msg = utf8(text);
  const keys = new Set<string>();
  let lines = '';
  for (const s of signers) {
    if (!isValidKeyName(s.name) || !isUint32(s.keyId)) throw skeyError('signer has an invalid name or key id');
    const k = `${s.name}+${hex8(s.keyId)}`;
    if (keys.has(k)) throw skeyError(`two signers share the name and key id ${k}`);
    keys.add(k);
    const sig = s.sign(msg);
    if (!(sig instanceof Uint8Array) || sig.length === 0) throw skeyError(`signer ${k} returned no signature`);
    lines += `${SIG_PREFIX}${s.name} ${toBase64(concatBytes(uint32be(s.keyId), sig))}\n`;
  }
  return { keys, lines };
}

function checkSignerCount(n: number): void {
  if (n > NOTE_MAX_SIGNATURES) {
    throw new TrailsealError('NOTE_TOO_LARGE', `a note may carry at most ${NOTE_MAX_SIGNATURES} signatures`, { limit: NOTE_MAX_SIGNATURES });
  }
}

/**
 * Signs `text` (which must end in a newline and contain no control character
 * other than newline) with each signer, in order, and returns the signed note.
 * The text may contain blank lines: the last blank line of the note is the
 * separator, and the text is always followed by one.
 */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (typeof text !== 'string' || text.length === 0) throw noteError('note text is empty');
  if (!text.endsWith('\n')) throw noteError('note text must end in a newline (c2sp.org/signed-note, Format)');
  const bad = firstBadChar(text);
  if (bad >= 0) throw noteError('note text has a control character other than newline, or no UTF-8 form', { offset: bad });
  if (signers.length === 0) throw noteError('a signed note has one or more signature lines');
  checkSignerCount(signers.length);
  const note = `${text}\n${signatureLines(text, signers).lines}`;
  checkNoteSize(note);
  return note;
}

/**
 * Adds signature lines to an existing signed note (witness cosigning). Lines
 * already in the note are kept verbatim, except a line by the same (name, key
 * ID) as a new signer, which the new one replaces. Existing signatures are not
 * verified here: a cosigner must openNote the note with its trusted keys first.
 */
export function addSignatures(note: string, signers: readonly NoteSigner[]): string {
  const { text, lines } = parseNote(note, NOTE_MAX_SIGNATURES);
  const added = signatureLines(text, signers);
  const kept = lines.filter((l) => !added.keys.has(`${l.name}+${hex8(l.keyId)}`));
  checkSignerCount(kept.length + signers.length);
  const out = `${text}\n${kept.map((l) => `${l.line}\n`).join('')}${added.lines}`;
  checkNoteSize(out);
  return out;
}
