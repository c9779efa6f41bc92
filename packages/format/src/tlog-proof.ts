// Inclusion receipts, c2sp.org/tlog-proof@v1 (section Format):
//
//   c2sp.org/tlog-proof@v1\n
//   extra <base64 opaque data>\n        (only if there is extra data)
//   index <leaf index, decimal, no leading zeroes>\n
//   <base64 SHA-256 hash>\n             (zero or more: RFC 6962 inclusion proof,
//                                        leaf's sibling first, root's child last)
//   \n
//   <the checkpoint signed note, verbatim>
//
// Self-contained and verifiable offline against the log's origin and a set of
// trusted log and witness keys.

import { fromBase64, toBase64 } from './bytes.js';
import { openCheckpoint, type OpenedCheckpoint } from './checkpoint.js';
import { isTrailsealError, TrailsealError } from './errors.js';
import { verifyInclusion } from './merkle.js';
import { NOTE_MAX_BYTES, parseNoteUnverified, type NoteVerifier } from './note.js';

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';
/** An RFC 6962 inclusion proof in a tree of at most 2^63 leaves has at most 63 hashes. */
export const TLOG_PROOF_MAX_HASHES = 63;
/** Limit on everything before the checkpoint (header, extra, index, hashes), in bytes. */
export const TLOG_PROOF_MAX_HEADER_BYTES = 64 * 1024;

export interface TlogProof {
  /** Zero-based index of the entry in the log. */
  index: number;
  /** Opaque, UNAUTHENTICATED extra data; absent when there is none (never empty). */
  extra?: Uint8Array;
  /** Inclusion proof hashes, 32 bytes each, leaf's sibling first. */
  proof: Uint8Array[];
  /** The checkpoint signed note, verbatim. */
  checkpoint: string;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function malformed(message: string, details: Record<string, unknown> = {}): TrailsealError {
  return new TrailsealError('TLOG_PROOF_MALFORMED', message, details);
}

function decode(b64: string, field: string): Uint8Array {
  try {
    return fromBase64(b64, field);
  } catch (e) {
    if (isTrailsealError(e, 'INVALID_BASE64')) throw malformed(`tlog-proof ${field} is not canonical base64`, { field });
    throw e;
  }
}

export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) throw malformed('tlog-proof index must be a non-negative safe integer', { field: 'index' });
  if (p.proof.length > TLOG_PROOF_MAX_HASHES) throw malformed(`tlog-proof has more than ${TLOG_PROOF_MAX_HASHES} hashes`, { field: 'proof' });
  let out = `${TLOG_PROOF_HEADER}\n`;
  if (p.extra !== undefined) {
    // "If no extra data is present, this line is omitted": an empty `extra`
    // line would be a second spelling of "no extra data".
    if (!(p.extra instanceof Uint8Array) || p.extra.length === 0) throw malformed('tlog-proof extra must be non-empty bytes when present', { field: 'extra' });
    out += `extra ${toBase64(p.extra)}\n`;
  }
  out += `index ${p.index}\n`;
  p.proof.forEach((h, i) => {
    if (!(h instanceof Uint8Array) || h.length !== 32) throw malformed(`tlog-proof hash ${i} is not 32 bytes`, { field: `proof[${i}]` });
    out += `${toBase64(h)}\n`;
  });
  if (out.length + 1 > TLOG_PROOF_MAX_HEADER_BYTES) throw malformed(`tlog-proof header exceeds ${TLOG_PROOF_MAX_HEADER_BYTES} bytes`);
  // Structure only; trust is checked by verifyTlogProof.
  parseNoteUnverified(p.checkpoint);
  return `${out}\n${p.checkpoint}`;
}

/**
 * Parses a tlog-proof text. The embedded checkpoint is checked to be a
 * well-formed signed note (NOTE_* codes) but is not verified or interpreted.
 */
export function parseTlogProof(text: string): TlogProof {
  if (typeof text !== 'string') throw malformed('tlog-proof must be a string');
  if (text.length > TLOG_PROOF_MAX_HEADER_BYTES + NOTE_MAX_BYTES) throw malformed('tlog-proof is too large');
  // The proof lines are non-empty, so the first empty line ends them.
  const end = text.indexOf('\n\n');
  if (end < 0) throw malformed('tlog-proof has no empty line before the checkpoint');
  if (end + 2 > TLOG_PROOF_MAX_HEADER_BYTES) throw malformed(`tlog-proof header exceeds ${TLOG_PROOF_MAX_HEADER_BYTES} bytes`);
  const lines = text.slice(0, end).split('\n');
  const checkpoint = text.slice(end + 2);
  if (lines[0] !== TLOG_PROOF_HEADER) throw malformed(`tlog-proof does not start with the line ${TLOG_PROOF_HEADER}`, { line: 1 });
  let i = 1;
  let extra: Uint8Array | undefined;
  if (lines[i]?.startsWith('extra ')) {
    extra = decode(lines[i]!.slice('extra '.length), 'extra');
    if (extra.length === 0) throw malformed('tlog-proof extra line is empty; it must be omitted instead', { line: i + 1 });
    i++;
  }
  const indexLine = lines[i];
  if (indexLine === undefined || !indexLine.startsWith('index ')) throw malformed('tlog-proof has no index line', { line: i + 1 });
  const indexText = indexLine.slice('index '.length);
  if (!DECIMAL.test(indexText)) throw malformed('tlog-proof index is not a decimal with no leading zeroes', { line: i + 1 });
  const index = Number(indexText);
  if (!Number.isSafeInteger(index)) throw malformed('tlog-proof index exceeds 2^53 - 1', { line: i + 1 });
  i++;
  const hashLines = lines.slice(i);
  if (hashLines.length > TLOG_PROOF_MAX_HASHES) throw malformed(`tlog-proof has more than ${TLOG_PROOF_MAX_HASHES} hashes`);
  const proof = hashLines.map((l, j) => {
    const h = decode(l, `proof[${j}]`);
    if (h.length !== 32) throw malformed(`tlog-proof hash on line ${i + j + 1} is not 32 bytes`, { line: i + j + 1 });
    return h;
  });
  parseNoteUnverified(checkpoint);
  const p: TlogProof = { index, proof, checkpoint };
  if (extra !== undefined) p.extra = extra;
  return p;
}

/**
 * Verifies a tlog-proof for a leaf hash (RFC 6962 leaf hash, 0x00 || entry):
 * the checkpoint must carry a verifying signature by one of `verifiers` and
 * (if given) have origin `expectedOrigin`, and the inclusion proof must lead
 * from the leaf at `index` to its root. Throws on any failure. The extra data
 * is not authenticated and is not returned; use parseTlogProof for it.
 */
export function verifyTlogProof(
  leafHash: Uint8Array,
  text: string,
  verifiers: readonly NoteVerifier[],
  expectedOrigin?: string,
): { checkpoint: OpenedCheckpoint; index: number } {
  const p = parseTlogProof(text);
  const checkpoint = openCheckpoint(p.checkpoint, verifiers, expectedOrigin);
  verifyInclusion(leafHash, p.index, checkpoint.size, p.proof, checkpoint.rootHash);
  return { checkpoint, index: p.index };
}
