// Combines verified segments in order and checks what only the whole log can
// show: links across segment boundaries, the genesis record, the key history
// and the signed checkpoint (root and size).
import {
  CompactRange,
  GENESIS_ACTION,
  KEY_ROTATION_ACTION,
  fromBase64,
  openCheckpoint,
  parseVerifierKey,
  recordForms,
  signatureKeyName,
  toBase64,
  utf8,
  isTrailsealError,
  type NoteVerifier,
} from '@trailseal/format';
import { ProblemList, type Problem } from './problems.js';
import type { SegmentResult } from './segment.js';

export interface KeyEpoch {
  /** Verifier key in note form. */
  readonly verifierKey: string;
  /** Checkpoints of this tree size and above are signed with this key (until the next entry). */
  readonly fromSize: number;
  /** seq of the record that introduced the key. */
  readonly seq: number;
}

export interface LogStart {
  /** seq of the first record supplied. */
  readonly seq: number;
  /** prev_hash the first record must carry. */
  readonly prevHash: string;
  /** Compact range [0, seq) of the tree before the first record (base64 hashes). */
  readonly rangeHashes: readonly string[];
  /** Key history established before `seq` (from an earlier verified bundle or manifest). */
  readonly keys: readonly KeyEpoch[];
}

export interface VerifyLogOptions {
  /** Verifier keys (note form) the caller trusts; one must be in the log's key history. */
  readonly trustedKeys: readonly string[];
  /** Signed checkpoint the records must reproduce exactly (root and size). */
  readonly checkpoint?: string;
  readonly expectedOrigin?: string;
  /** When the records do not start at seq 0. */
  readonly start?: LogStart;
}

export interface LogReport {
  readonly ok: boolean;
  readonly problems: readonly Problem[];
  /** Problems found, including any beyond the reporting limit. */
  readonly problemCount: number;
  readonly tenant: string | undefined;
  readonly origin: string | undefined;
  readonly count: number;
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  readonly treeSize: number;
  /** base64 root of the tree over records [0, treeSize), if it could be computed. */
  readonly rootHash: string | undefined;
  readonly checkpointSize: number | undefined;
  readonly macVerified: number;
  readonly macSkipped: number;
  readonly timeSpan: { readonly from: string; readonly to: string } | undefined;
  readonly keyHistory: readonly KeyEpoch[];
}

interface Sig {
  key: string;
  sig: string;
}

function sigsOf(record: Record<string, unknown>): Sig[] {
  return Array.isArray(record['sigs']) ? (record['sigs'] as Sig[]) : [];
}

/** True when `record.sigs` holds a valid signature by `verifier` over the signing input. */
function signedBy(record: Record<string, unknown>, verifier: NoteVerifier): boolean {
  const name = signatureKeyName(verifier);
  let signingInput: Uint8Array;
  try {
    signingInput = utf8(recordForms(record).signingInput);
  } catch {
    return false;
  }
  return sigsOf(record).some((s) => {
    if (s.key !== name) return false;
    try {
      return verifier.verify(signingInput, fromBase64(s.sig, 'sigs[].sig'));
    } catch {
      return false;
    }
  });
}

type Verifier = ReturnType<typeof parseVerifierKey>;

function tryVerifier(vkey: unknown): Verifier | undefined {
  if (typeof vkey !== 'string') return undefined;
  try {
    return parseVerifierKey(vkey);
  } catch {
    return undefined;
  }
}

/** A parsed, schema-valid system record and its seq. */
export interface SystemRecord {
  readonly seq: number;
  readonly record: Record<string, unknown>;
}

/**
 * Walks genesis and key-rotation records in seq order (docs/spec/keys-and-mac.md,
 * "Key history"), starting from `known` keys, and returns the key history.
 * `expectGenesis`: the records start at seq 0, so record 0 must be among them.
 */
export function walkKeyHistory(
  records: readonly SystemRecord[],
  known: readonly KeyEpoch[],
  expectGenesis: boolean,
  problems: ProblemList,
): { keys: KeyEpoch[]; origin: string | undefined } {
  const keys: KeyEpoch[] = [...known];
  let origin: string | undefined;
  const add = (p: Problem): void => problems.add(p);
  let current = keys.length > 0 ? tryVerifier(keys[keys.length - 1]!.verifierKey) : undefined;
  if (expectGenesis && !records.some((r) => r.seq === 0)) {
    add({ code: 'GENESIS_INVALID', seq: 0, message: 'record 0 is not a genesis record' });
  }
  for (const { seq, record } of records) {
    const log = (record['log'] ?? {}) as Record<string, unknown>;
    if (record['action'] === GENESIS_ACTION) {
      const v = tryVerifier(log['verifier_key']);
      if (seq !== 0 || log['type'] !== 'genesis' || typeof log['origin'] !== 'string') {
        add({ code: 'GENESIS_INVALID', seq, message: 'a genesis record must be record 0 with log.type "genesis" and an origin' });
      } else if (v === undefined) {
        add({ code: 'GENESIS_INVALID', seq, message: 'log.verifier_key of the genesis record is not a valid verifier key' });
      } else if (v.name !== log['origin']) {
        add({ code: 'GENESIS_INVALID', seq, message: 'the genesis verifier key name must be the origin' });
      } else if (!signedBy(record, v)) {
        add({ code: 'GENESIS_INVALID', seq, message: 'the genesis record is not signed by the key it names' });
      } else {
        origin = log['origin'];
        current = v;
        keys.push({ verifierKey: v.verifierKey, fromSize: 1, seq });
      }
    } else if (record['action'] === KEY_ROTATION_ACTION && log['purpose'] === 'signing') {
      const next = tryVerifier(log['verifier_key']);
      if (current === undefined || log['previous_verifier_key'] !== current.verifierKey) {
        add({ code: 'KEY_HISTORY_INVALID', seq, message: 'key rotation does not name the key in force as previous_verifier_key' });
      } else if (next === undefined) {
        add({ code: 'KEY_HISTORY_INVALID', seq, message: 'key rotation names an invalid new verifier key' });
      } else if (!signedBy(record, current) || !signedBy(record, next)) {
        add({ code: 'KEY_HISTORY_INVALID', seq, message: 'key rotation must be signed by both the old and the new key' });
      } else {
        current = next;
        keys.push({ verifierKey: next.verifierKey, fromSize: seq + 1, seq });
      }
    } else if (record['action'] === KEY_ROTATION_ACTION && log['purpose'] === 'mac') {
      if (current === undefined || !signedBy(record, current)) {
        add({ code: 'KEY_HISTORY_INVALID', seq, message: 'MAC key rotation is not signed by the key in force' });
      }
    } else if (record['action'] === KEY_ROTATION_ACTION) {
      add({ code: 'KEY_HISTORY_INVALID', seq, message: `key rotation of unknown purpose ${JSON.stringify(log['purpose'])}` });
    }
  }
  if (keys.length === 0 && (records.length > 0 || expectGenesis)) {
    add({ code: 'KEY_HISTORY_INVALID', message: 'no valid genesis record and no prior key history: there is no key to check signatures with' });
  }
  // A range that starts after the genesis record takes the origin from its
  // keys: the genesis record requires the key name to be the origin.
  if (origin === undefined && keys.length > 0) origin = tryVerifier(keys[0]!.verifierKey)?.name;
  return { keys, origin };
}

/** What joining segments in order carries from one to the next. */
export interface JoinState {
  /** The tree range so far; undefined before the first leaf when there is no start state. */
  range: CompactRange | undefined;
  /** SHA-256 (hex) of the record before, which the next must name as prev_hash. */
  prevHash: string | undefined;
  prevLast: number | undefined;
  tenant: string | undefined;
  lastReceived: string | undefined;
  /** The leaves stopped being adjacent: no root can be computed. */
  broken: boolean;
}

/** Joins the next non-empty segment: seq continuity, chain link, tenant, time order and tree range across the boundary. */
export function joinSegment(st: JoinState, s: SegmentResult, problems: ProblemList): void {
  const first = s.firstSeq!;
  if (st.lastReceived !== undefined && s.minReceivedAt !== undefined && s.minReceivedAt < st.lastReceived) {
    problems.add({ code: 'TIME_REORDER', seq: first, message: `received_at ${s.minReceivedAt} in the records from seq ${first} is earlier than ${st.lastReceived} before them` });
  }
  st.lastReceived = s.maxReceivedAt ?? st.lastReceived;
  if (st.prevLast !== undefined && first !== st.prevLast + 1) {
    const code = first === st.prevLast ? 'SEQ_DUPLICATE' : first < st.prevLast ? 'SEQ_REORDER' : 'SEQ_GAP';
    problems.add({ code, seq: first, message: `seq ${first} follows seq ${st.prevLast}` });
  }
  if (st.prevHash !== undefined && s.firstPrevHash !== st.prevHash) {
    problems.add({ code: 'CHAIN_BROKEN', seq: first, message: `prev_hash of seq ${first} does not link to the record before it` });
  }
  if (s.tenant !== undefined) {
    if (st.tenant === undefined) st.tenant = s.tenant;
    else if (s.tenant !== st.tenant) problems.add({ code: 'TENANT_MISMATCH', seq: first, message: `records of tenants ${st.tenant} and ${s.tenant}` });
  }
  if (st.range === undefined) st.range = s.range.clone();
  else if (st.range.end === s.range.begin) st.range.appendRange(s.range);
  else st.broken = true;
  st.prevHash = s.lastHash;
  // A segment of lines that name no seq (damaged records) still takes as many, as within a segment.
  st.prevLast = s.lastSeq ?? (st.prevLast !== undefined ? st.prevLast + s.count : undefined);
}

/** Combines in-order segment results into one report. */
export function combineSegments(segments: readonly SegmentResult[], opts: VerifyLogOptions): LogReport {
  const problems = new ProblemList();
  for (const s of segments) problems.addAll(s.problems);
  const nonEmpty = segments.filter((s) => s.count > 0);
  const start = opts.start;

  // Boundaries: seq continuity, chain links and the tree ranges.
  const join: JoinState = {
    range: start !== undefined ? new CompactRange(0, start.seq, start.rangeHashes.map((h) => fromBase64(h, 'start.rangeHashes'))) : undefined,
    prevHash: start?.prevHash,
    prevLast: start !== undefined ? start.seq - 1 : undefined,
    tenant: undefined,
    lastReceived: undefined,
    broken: false,
  };
  for (const s of nonEmpty) {
    if (join.range === undefined && !join.broken && s.firstSeq !== 0) {
      problems.add({ code: 'SEQ_GAP', seq: s.firstSeq!, message: `records start at seq ${s.firstSeq!}, not 0, and no start state was given` });
    }
    joinSegment(join, s, problems);
  }
  const range = join.broken ? undefined : join.range;
  const tenant = join.tenant;
  if (nonEmpty.length === 0 && start === undefined) problems.add({ code: 'SEQ_GAP', message: 'no records' });

  const first = nonEmpty[0];
  const { keys, origin } =
    first === undefined && start === undefined
      ? { keys: [], origin: undefined }
      : walkKeyHistory(
          nonEmpty.flatMap((s) => s.systemRecords),
          start?.keys ?? [],
          first?.firstSeq === 0,
          problems,
        );
  const trusted = new Set(opts.trustedKeys);
  if (keys.length > 0 && !keys.some((k) => trusted.has(k.verifierKey))) {
    problems.add({ code: 'NOTE_NO_VALID_SIGNATURE', message: "none of the log's signing keys is among the trusted keys: wrong key or another log" });
  }
  if (opts.expectedOrigin !== undefined && origin !== undefined && origin !== opts.expectedOrigin) {
    problems.add({ code: 'CHECKPOINT_ORIGIN_MISMATCH', message: `log origin ${origin} is not the expected ${opts.expectedOrigin}` });
  }

  const treeSize = range?.end ?? 0;
  const rootHash = range !== undefined && range.begin === 0 ? toBase64(range.root()) : undefined;
  let checkpointSize: number | undefined;
  if (opts.checkpoint !== undefined) {
    checkpointSize = checkCheckpoint(opts.checkpoint, keys, origin ?? opts.expectedOrigin, treeSize, rootHash, problems);
  }

  const lastSeg = nonEmpty[nonEmpty.length - 1];
  const froms = nonEmpty.map((s) => s.minReceivedAt).filter((x): x is string => x !== undefined).sort();
  const tos = nonEmpty.map((s) => s.maxReceivedAt).filter((x): x is string => x !== undefined).sort();
  return {
    ok: problems.total === 0,
    problems: problems.items,
    problemCount: problems.total,
    tenant,
    origin,
    count: segments.reduce((n, s) => n + s.count, 0),
    firstSeq: nonEmpty[0]?.firstSeq,
    lastSeq: lastSeg?.lastSeq,
    treeSize,
    rootHash,
    checkpointSize,
    macVerified: segments.reduce((n, s) => n + s.macVerified, 0),
    macSkipped: segments.reduce((n, s) => n + s.macSkipped, 0),
    timeSpan: froms.length > 0 ? { from: froms[0]!, to: tos[tos.length - 1]! } : undefined,
    keyHistory: keys,
  };
}

/** The key that signs checkpoints of `size` (docs/spec/keys-and-mac.md, "Key history"). */
export function keyForSize(keys: readonly KeyEpoch[], size: number): KeyEpoch | undefined {
  let found: KeyEpoch | undefined;
  for (const k of keys) if (k.fromSize <= size) found = k;
  return found;
}

export function checkCheckpoint(
  note: string,
  keys: readonly KeyEpoch[],
  origin: string | undefined,
  treeSize: number,
  rootHash: string | undefined,
  problems: ProblemList,
): number | undefined {
  const verifiers = keys.map((k) => parseVerifierKey(k.verifierKey));
  try {
    const cp = openCheckpoint(note, verifiers, origin);
    // Any key of the history verifies the note; it must be the one in force at cp.size.
    const expected = keyForSize(keys, cp.size);
    const v = expected === undefined ? undefined : parseVerifierKey(expected.verifierKey);
    if (v === undefined || !cp.verified.some((s) => s.name === v.name && s.keyId === v.keyId)) {
      problems.add({ code: 'NOTE_BAD_SIGNATURE', message: `checkpoint of size ${cp.size} is not signed by the key in force at that size (${expected?.verifierKey ?? 'none'})` });
    }
    if (cp.size !== treeSize) {
      problems.add({
        code: 'CHECKPOINT_SIZE_MISMATCH',
        message: cp.size > treeSize ? `checkpoint covers ${cp.size} records but only ${treeSize} are present: the log was truncated` : `checkpoint covers ${cp.size} records but ${treeSize} are present: records were added after it`,
      });
    } else if (rootHash !== undefined && toBase64(cp.rootHash) !== rootHash) {
      problems.add({ code: 'ROOT_MISMATCH', message: `records hash to root ${rootHash}, the checkpoint says ${toBase64(cp.rootHash)}` });
    }
    return cp.size;
  } catch (e) {
    if (isTrailsealError(e)) problems.add({ code: e.code, message: `checkpoint: ${e.message}` });
    else throw e;
    return undefined;
  }
}
