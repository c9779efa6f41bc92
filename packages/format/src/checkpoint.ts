// Checkpoints, c2sp.org/tlog-checkpoint: a signed note whose text is
//
//   <origin>\n
//   <tree size, decimal, no leading zeroes>\n
//   <base64 RFC 6962 root hash>\n
//   <extension line>\n   (zero or more, opaque, non-empty)
//
// Parsing is strict: a checkpoint has exactly one spelling, so two parties who
// agree on (origin, size, root, extensions) agree on the signed bytes.

import { fromBase64, toBase64 } from './bytes.js';
import { isTrailsealError, TrailsealError } from './errors.js';
import { isNoteText, openNote, signNote, type NoteSignature, type NoteSigner, type NoteVerifier } from './note.js';

export interface Checkpoint {
  /** Unique identifier of the log; Trailseal logs use `<host>/tenants/<tenant-id>`. */
  origin: string;
  /** Number of leaves. Sizes above Number.MAX_SAFE_INTEGER are rejected. */
  size: number;
  /** RFC 6962 root hash, 32 bytes (SHA-256). */
  rootHash: Uint8Array;
  /** Opaque extension lines (tlog-checkpoint, Note text, item 4); NOT RECOMMENDED by the spec. */
  extensions: string[];
}

export interface OpenedCheckpoint extends Checkpoint {
  /** The signed note exactly as given. */
  note: string;
  /** Signatures by trusted keys that verified (the log's and/or witnesses'). */
  verified: NoteSignature[];
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function malformed(message: string, field: string): TrailsealError {
  return new TrailsealError('CHECKPOINT_MALFORMED', message, { field });
}

/** The single line check every checkpoint line shares: non-empty, no newline. */
function checkLine(line: unknown, field: string): asserts line is string {
  if (typeof line !== 'string' || line.length === 0) throw malformed(`checkpoint ${field} must be a non-empty line`, field);
  if (line.includes('\n')) throw malformed(`checkpoint ${field} must be a single line`, field);
}

/** The note text of a checkpoint (tlog-checkpoint, Note text). */
export function formatCheckpoint(cp: Checkpoint): string {
  checkLine(cp.origin, 'origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw malformed('checkpoint size must be a non-negative safe integer', 'size');
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== 32) throw malformed('checkpoint root hash must be 32 bytes', 'rootHash');
  cp.extensions.forEach((e, i) => checkLine(e, `extensions[${i}]`));
  let body = `${cp.origin}\n${cp.size}\n${toBase64(cp.rootHash)}\n`;
  for (const e of cp.extensions) body += `${e}\n`;
  // The body becomes note text: no control characters, valid UTF-8.
  if (!isNoteText(body)) throw malformed('checkpoint has a control character or text with no UTF-8 form', 'origin');
  return body;
}

/**
 * Parses checkpoint note text. The origin is taken as opaque bytes (the spec
 * says clients MUST NOT assume it is a URL); size and root have one spelling.
 */
export function parseCheckpoint(body: string): Checkpoint {
  if (typeof body !== 'string' || !isNoteText(body)) {
    throw malformed('checkpoint text must end in a newline and contain no control characters other than newlines', 'text');
  }
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed('checkpoint has fewer than three lines (origin, size, root hash)', 'text');
  const empty = lines.findIndex((l) => l.length === 0);
  if (empty >= 0) throw malformed(`checkpoint line ${empty + 1} is empty`, empty < 3 ? ['origin', 'size', 'rootHash'][empty]! : `extensions[${empty - 3}]`);
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (!DECIMAL.test(sizeText)) throw malformed('checkpoint size is not a decimal with no leading zeroes', 'size');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw malformed('checkpoint size exceeds 2^53 - 1', 'size');
  let rootHash: Uint8Array;
  try {
    rootHash = fromBase64(rootText, 'rootHash');
  } catch (e) {
    if (isTrailsealError(e, 'INVALID_BASE64')) throw malformed('checkpoint root hash is not canonical base64', 'rootHash');
    throw e;
  }
  if (rootHash.length !== 32) throw malformed('checkpoint root hash is not 32 bytes', 'rootHash');
  return { origin, size, rootHash, extensions: lines.slice(3) };
}

/** Signs a checkpoint; the log's key name SHOULD equal the origin (tlog-checkpoint, Signatures). */
export function signCheckpoint(cp: Checkpoint, signers: readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(cp), signers);
}

/**
 * Verifies a signed checkpoint and parses it. Signatures come first: the
 * signed-note spec says the text MUST be ignored until a trusted signature
 * verifies. Then, if given, the origin must equal `expectedOrigin` exactly.
 */
export function openCheckpoint(signedNote: string, verifiers: readonly NoteVerifier[], expectedOrigin?: string): OpenedCheckpoint {
  const opened = openNote(signedNote, verifiers);
  const cp = parseCheckpoint(opened.text);
  if (expectedOrigin !== undefined && cp.origin !== expectedOrigin) {
    throw new TrailsealError('CHECKPOINT_ORIGIN_MISMATCH', `checkpoint origin is ${JSON.stringify(cp.origin)}, expected ${JSON.stringify(expectedOrigin)}`, {
      origin: cp.origin,
      expected: expectedOrigin,
    });
  }
  return { ...cp, note: signedNote, verified: opened.verified };
}
