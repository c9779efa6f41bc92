import {
  leafHash,
  fromBase64,
  openCheckpoint,
  verifyConsistency,
  isTrailsealError,
  parseRecord,
  parseVerifierKey,
  recordForms,
  toBase64,
  verifyTlogProof,
  type Checkpoint,
  type MacKey,
  type OpenedCheckpoint,
} from '@trailseal/format';
import { epochProblem, MacChecker, macProblem } from './mac.js';
import { combineSegments, type LogReport, type VerifyLogOptions } from './combine.js';
import type { Problem } from './problems.js';
import { verifySegment, type SegmentOptions } from './segment.js';

/**
 * Verifies records (canonical JSON lines, in order) against the caller's
 * trusted keys and, if given, a signed checkpoint. Reports every problem.
 */
export function verifyLog(lines: Iterable<string>, opts: VerifyLogOptions & Omit<SegmentOptions, 'firstSeq'>): LogReport {
  const segment = verifySegment(lines, { ...opts, ...(opts.start ? { firstSeq: opts.start.seq } : {}) });
  return combineSegments([segment], opts);
}

export interface ReceiptOptions {
  /** Verifier keys the caller trusts for the checkpoint in the proof. */
  readonly trustedKeys: readonly string[];
  readonly expectedOrigin?: string;
  /** A disclosed MAC key, to also check the record's MAC. */
  readonly macKeys?: readonly MacKey[];
}

export interface ReceiptReport {
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  readonly seq: number | undefined;
  readonly leafHash: string;
  readonly checkpoint: Checkpoint | undefined;
  readonly macVerified: boolean;
}

/**
 * Checks one event in isolation: the record line is canonical and well formed,
 * its leaf is included (c2sp.org/tlog-proof@v1) in a checkpoint signed by a
 * trusted key, its index is its seq, and (with a disclosed key) its MAC holds.
 */
export function verifyReceipt(recordLine: string, proofText: string, opts: ReceiptOptions): ReceiptReport {
  const problems: Problem[] = [];
  const leaf = leafHash(recordLine);
  let seq: number | undefined;
  let macVerified = false;
  let checkpoint: Checkpoint | undefined;
  const fail = (e: unknown, prefix: string): void => {
    if (!isTrailsealError(e)) throw e;
    problems.push({ code: e.code, ...(seq !== undefined ? { seq } : {}), message: `${prefix}${e.message}` });
  };
  try {
    const record = parseRecord(JSON.parse(recordLine) as unknown);
    seq = record.seq;
    const forms = recordForms(record as unknown as Record<string, unknown>);
    if (forms.full !== recordLine) {
      problems.push({ code: 'RECORD_NOT_CANONICAL', seq, message: 'the record is not in canonical form' });
    }
    const macs = new MacChecker(opts.macKeys);
    if (!macs.epochMatches(record.mac_key_id, record.received_at)) problems.push({ ...epochProblem(record.mac_key_id), seq });
    const status = macs.check(record.mac_key_id, record.mac, [forms.macInput]);
    macVerified = status === 'verified' || status === 'mismatch';
    const problem = macProblem(status, record.mac_key_id);
    if (problem !== undefined) problems.push({ ...problem, seq });
  } catch (e) {
    if (e instanceof SyntaxError) problems.push({ code: 'RECORD_INVALID', message: 'the record is not JSON' });
    else fail(e, 'record: ');
  }
  try {
    const verifiers = opts.trustedKeys.map((k) => parseVerifierKey(k));
    const r = verifyTlogProof(leaf, proofText, verifiers, opts.expectedOrigin);
    checkpoint = r.checkpoint;
    if (seq !== undefined && r.index !== seq) {
      problems.push({ code: 'PROOF_ROOT_MISMATCH', seq, message: `the proof is for leaf index ${r.index}, the record claims seq ${seq}` });
    }
  } catch (e) {
    fail(e, 'proof: ');
  }
  return { ok: problems.length === 0, problems, seq, leafHash: toBase64(leaf), checkpoint, macVerified };
}

export interface ConsistencyReport {
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  readonly older: OpenedCheckpoint | undefined;
  readonly newer: OpenedCheckpoint | undefined;
}

/**
 * Checks that the tree of an earlier checkpoint (one the verifier kept, from
 * an earlier audit) is a prefix of a later one: nothing it covered was
 * rewritten or forked away since (RFC 9162 section 2.1.4). Both checkpoints
 * must be signed by a trusted key and have the same origin.
 */
export function verifyCheckpointConsistency(older: string, newer: string, proof: readonly string[], opts: { readonly trustedKeys: readonly string[]; readonly expectedOrigin?: string }): ConsistencyReport {
  const problems: Problem[] = [];
  const verifiers = opts.trustedKeys.map((k) => parseVerifierKey(k));
  const open = (note: string, which: string): OpenedCheckpoint | undefined => {
    try {
      return openCheckpoint(note, verifiers, opts.expectedOrigin);
    } catch (e) {
      if (!isTrailsealError(e)) throw e;
      problems.push({ code: e.code, message: `${which} checkpoint: ${e.message}` });
      return undefined;
    }
  };
  const a = open(older, 'earlier');
  const b = open(newer, 'later');
  if (a !== undefined && b !== undefined) {
    if (a.origin !== b.origin) {
      problems.push({ code: 'CHECKPOINT_ORIGIN_MISMATCH', message: `the checkpoints are of different logs: ${a.origin} and ${b.origin}` });
    } else if (a.size > b.size) {
      problems.push({ code: 'PROOF_INCONSISTENT', message: `the earlier checkpoint (size ${a.size}) is larger than the later one (size ${b.size}): the log was truncated` });
    } else {
      try {
        verifyConsistency(a.size, b.size, proof.map((h, i) => fromBase64(h, `proof[${i}]`)), a.rootHash, b.rootHash);
      } catch (e) {
        if (!isTrailsealError(e)) throw e;
        problems.push({ code: e.code === 'INVALID_BASE64' ? 'PROOF_INCONSISTENT' : e.code, message: `consistency ${a.size} -> ${b.size}: ${e.message}` });
      }
    }
  }
  return { ok: problems.length === 0, problems, older: a, newer: b };
}
