// Verification of a contiguous run of records (a "segment"). Everything that
// depends only on the segment's own bytes happens here, so segments can be
// verified in parallel (worker threads, browser workers) and then combined in
// order by combine.ts, which checks what crosses segment boundaries.
import {
  CompactRange,
  GENESIS_PREV_HASH,
  SYSTEM_ACTION_PREFIX,
  canonicalize,
  canonicalRecordParts,
  scanRecord,
  joinRecordBytes,
  cryptoProvider,
  validateRecord,
  type Bytes,
  type MacKey,
  type ScannedRecord,
} from '@trailseal/format';
import { epochProblem, MacChecker, macProblem } from './mac.js';
import { ProblemList, type Problem } from './problems.js';

export interface SegmentOptions {
  /** Disclosed MAC epoch keys. Records under other keys are counted as macSkipped. */
  readonly macKeys?: readonly MacKey[];
  /**
   * Leaf index of the first line in the tree, and the seq the first record
   * must claim (default: taken from the first record).
   */
  readonly firstSeq?: number;
  /**
   * Whether the first record's seq is checked against firstSeq (default
   * true). A chunk of a file verified in parallel starts at the position the
   * lines before it give; after a dropped or added line that differs from
   * the seqs, and the join of the segments reports it once, not each chunk.
   */
  readonly checkFirstSeq?: boolean;
  /** 1-based line number of the first line, for messages. */
  readonly firstLine?: number;
  readonly problemLimit?: number;
}

export interface SegmentResult {
  readonly problems: ProblemList;
  readonly count: number;
  /** seq claimed by the first record (its position when it claims none). */
  readonly firstSeq: number | undefined;
  readonly lastSeq: number | undefined;
  readonly tenant: string | undefined;
  /** prev_hash claimed by the first record. */
  readonly firstPrevHash: string | undefined;
  /** hex SHA-256 of the last record's bytes: the next record's expected prev_hash. */
  readonly lastHash: string | undefined;
  /** Compact range over the leaves of this segment, begin = firstSeq (or firstSeq option). */
  readonly range: CompactRange;
  /** System records (genesis, key rotation) in order, for the key-history check. */
  readonly systemRecords: { seq: number; line: string; record: Record<string, unknown> }[];
  readonly macVerified: number;
  readonly macSkipped: number;
  readonly minReceivedAt: string | undefined;
  readonly maxReceivedAt: string | undefined;
}

/** What RecordChecker.check found out about one line. */
export interface CheckedLine {
  readonly facts: Facts;
  readonly at: { readonly line: number; readonly seq?: number };
  /** hex SHA-256 of the line: what the next record's prev_hash must be. */
  readonly hash: string;
  readonly leafHash: Uint8Array;
}

/**
 * The checks every record line gets wherever it sits (a contiguous segment or
 * a filtered export): canonical form and schema, MAC, one tenant, received_at
 * never decreasing, system records collected for the key history.
 */
export class RecordChecker {
  private readonly macs: MacChecker;
  tenant: string | undefined;
  macVerified = 0;
  macSkipped = 0;
  minReceivedAt: string | undefined;
  maxReceivedAt: string | undefined;
  private lastReceivedAt: string | undefined;
  readonly systemRecords: { seq: number; line: string; record: Record<string, unknown> }[] = [];

  constructor(
    readonly problems: ProblemList,
    macKeys?: readonly MacKey[],
  ) {
    this.macs = new MacChecker(macKeys);
  }

  /** `bytes`, when the caller has them, are the line's bytes in the file: hashed as they are, not re-encoded. */
  check(line: string, lineNo: number, bytes?: Uint8Array): CheckedLine {
    // The chain and the tree commit to the exact bytes, whatever they parse to.
    const digests = cryptoProvider().sha256AndLeafHash(bytes ?? line);
    // Almost every line is a canonical, schema-valid record: the one-pass
    // recognizer proves that and extracts what the checks below need. Any
    // other line takes the reference path, which also explains what is wrong.
    const scanned = scanRecord(line, bytes);
    // Byte pieces of the MAC input only when some MAC can be checked: public
    // verification (no keys disclosed) never reads them.
    const f = scanned !== undefined ? factsOf(scanned, line, this.macs.disclosesAny ? bytes : undefined) : examineLine(line, lineNo, this.problems);
    // Explicit literals, not spread syntax, on this per-record path: spreading
    // a conditional object costs V8 a clone per call.
    const at = f.seq !== undefined ? { line: lineNo, seq: f.seq } : { line: lineNo };
    if (f.tenant !== undefined) {
      if (this.tenant === undefined) this.tenant = f.tenant;
      else if (f.tenant !== this.tenant) this.problems.add({ code: 'TENANT_MISMATCH', ...at, message: `record of tenant ${f.tenant} in the log of tenant ${this.tenant}` });
    }
    if (f.receivedAt !== undefined) {
      // The log's clock never runs backwards along the log (writer.ts clamps it).
      if (this.lastReceivedAt !== undefined && f.receivedAt < this.lastReceivedAt) {
        this.problems.add({ code: 'TIME_REORDER', ...at, message: `received_at ${f.receivedAt} is earlier than ${this.lastReceivedAt} of the record before` });
      }
      this.lastReceivedAt = f.receivedAt;
      if (this.minReceivedAt === undefined || f.receivedAt < this.minReceivedAt) this.minReceivedAt = f.receivedAt;
      if (this.maxReceivedAt === undefined || f.receivedAt > this.maxReceivedAt) this.maxReceivedAt = f.receivedAt;
    }
    if (f.mac !== undefined) this.checkMac(f.mac, at);
    if (f.systemRecord !== undefined && f.seq !== undefined) this.systemRecords.push({ seq: f.seq, line, record: f.systemRecord });
    return { facts: f, at, hash: digests.hashHex, leafHash: digests.leafHash };
  }

  private checkMac(m: MacFacts, at: { line: number; seq?: number }): void {
    if (!this.macs.epochMatches(m.keyId, m.receivedAt)) this.problems.add({ ...epochProblem(m.keyId), ...at });
    const status = this.macs.check(m.keyId, m.mac, m.input);
    if (status === 'skipped') this.macSkipped++;
    else if (status !== 'wrong-key') this.macVerified++;
    const problem = macProblem(status, m.keyId);
    if (problem !== undefined) this.problems.add({ ...problem, ...at });
  }
}

/**
 * Streaming segment verifier: feed record lines (canonical JSON, without the
 * newline) with add(), then call result(). Memory is O(log n) plus problems.
 */
export class SegmentVerifier {
  private readonly problems: ProblemList;
  private readonly records: RecordChecker;
  private range: CompactRange | undefined;
  private count = 0;
  private line: number;
  private firstSeq: number | undefined;
  private lastSeq: number | undefined;
  private firstPrevHash: string | undefined;
  private lastHash: string | undefined;

  constructor(private readonly opts: SegmentOptions = {}) {
    this.problems = new ProblemList(opts.problemLimit);
    this.records = new RecordChecker(this.problems, opts.macKeys);
    this.line = (opts.firstLine ?? 1) - 1;
    if (opts.firstSeq !== undefined) this.range = new CompactRange(opts.firstSeq, opts.firstSeq, []);
  }

  /** Adds the next line; `bytes` are its bytes in the file when the caller has them (see RecordChecker.check). */
  add(line: string, bytes?: Uint8Array): void {
    this.line++;
    this.count++;
    const { facts: f, at, hash, leafHash } = this.records.check(line, this.line, bytes);

    if (this.range === undefined) this.range = new CompactRange(f.seq ?? 0, f.seq ?? 0, []);
    if (this.firstSeq === undefined) this.firstSeq = f.seq ?? this.range.begin;
    this.range.append(leafHash);

    if (this.count > 1 || this.opts.checkFirstSeq !== false) this.checkSequence(f.seq, at);
    if (f.seq !== undefined) this.lastSeq = f.seq;
    // A record too damaged to name its seq still takes one; a blank line is no record at all.
    else if (this.lastSeq !== undefined && line !== '') this.lastSeq++;

    if (this.count === 1) {
      this.firstPrevHash = f.prevHash;
      if (f.seq === 0 && f.prevHash !== GENESIS_PREV_HASH) {
        this.problems.add({ code: 'CHAIN_BROKEN', ...at, message: 'record 0 must have the all-zero prev_hash' });
      }
    } else if (f.prevHash !== this.lastHash) {
      this.problems.add({ code: 'CHAIN_BROKEN', ...at, message: `prev_hash ${String(f.prevHash)} is not SHA-256 of the previous line (${this.lastHash ?? '?'})` });
    }
    this.lastHash = hash;
  }

  private checkSequence(seq: number | undefined, at: { line: number; seq?: number }): void {
    const expected = this.lastSeq === undefined ? this.range!.begin : this.lastSeq + 1;
    if (seq === undefined || seq === expected) return;
    if (this.lastSeq !== undefined && seq === this.lastSeq) {
      this.problems.add({ code: 'SEQ_DUPLICATE', ...at, message: `seq ${seq} appears twice in a row` });
    } else if (seq < expected) {
      this.problems.add({ code: 'SEQ_REORDER', ...at, message: `seq ${seq} follows seq ${expected - 1}` });
    } else {
      this.problems.add({ code: 'SEQ_GAP', ...at, message: `seq ${expected}..${seq - 1} missing before seq ${seq}` });
    }
  }

  result(): SegmentResult {
    return {
      problems: this.problems,
      count: this.count,
      firstSeq: this.count === 0 ? this.opts.firstSeq : this.firstSeq,
      lastSeq: this.lastSeq,
      tenant: this.records.tenant,
      firstPrevHash: this.firstPrevHash,
      lastHash: this.lastHash,
      range: this.range ?? new CompactRange(this.opts.firstSeq ?? 0, this.opts.firstSeq ?? 0, []),
      systemRecords: this.records.systemRecords,
      macVerified: this.records.macVerified,
      macSkipped: this.records.macSkipped,
      minReceivedAt: this.records.minReceivedAt,
      maxReceivedAt: this.records.maxReceivedAt,
    };
  }
}

/** What the MAC check needs of a schema-valid record. */
export interface MacFacts {
  readonly keyId: string;
  readonly receivedAt: string;
  readonly mac: string;
  /** The MAC input, in pieces to be hashed as their concatenation. */
  readonly input: readonly Bytes[];
}

/** What the per-record checks need, from whichever path read the line. */
export interface Facts {
  readonly seq?: number;
  readonly tenant?: string | undefined;
  readonly prevHash?: string | undefined;
  readonly receivedAt?: string | undefined;
  /** Present only for schema-valid records. */
  readonly mac?: MacFacts;
  readonly systemRecord?: Record<string, unknown>;
}

/** `bytes`: the line's bytes in the file, when the caller has them. */
export function factsOf(r: ScannedRecord, line: string, bytes?: Uint8Array): Facts {
  const facts: Facts = {
    seq: r.seq,
    tenant: r.tenant,
    prevHash: r.prevHash,
    receivedAt: r.receivedAt,
    mac: { keyId: r.macKeyId, receivedAt: r.receivedAt, mac: r.mac, input: macInput(r.macInputParts, line, bytes) },
  };
  // System records are rare and their signatures are checked on the parsed form.
  return r.system ? { ...facts, systemRecord: JSON.parse(line) as Record<string, unknown> } : facts;
}

/**
 * The MAC input as pieces of the line's bytes when the line is ASCII (as
 * many bytes as characters, so character offsets are byte offsets): the MAC
 * then hashes the bytes as they are, without encoding the text again. As
 * many bytes as characters also comes from bytes that are not UTF-8, each
 * decoded as one U+FFFD: those lines take the text, which is what the spec
 * MACs (a one-byte string answers the search without reading it).
 */
function macInput(parts: readonly [string, string], line: string, bytes: Uint8Array | undefined): readonly Bytes[] {
  if (bytes === undefined || bytes.length !== line.length || line.includes('\uFFFD')) return parts;
  return [bytes.subarray(0, parts[0].length), bytes.subarray(line.length - parts[1].length)];
}

/**
 * The reference path for a line the recognizer did not accept: parse it,
 * report every schema problem and whether it is canonical, and extract
 * whatever facts can still be checked.
 */
export function examineLine(line: string, lineNo: number, problems: ProblemList): Facts {
  let record: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
  } catch {
    record = undefined;
  }
  if (record === undefined) {
    problems.add({ code: 'RECORD_INVALID', line: lineNo, message: `line ${lineNo} is not a JSON object` });
    return {};
  }
  const seq = Number.isSafeInteger(record['seq']) ? (record['seq'] as number) : undefined;
  const at = { line: lineNo, ...(seq !== undefined ? { seq } : {}) };
  const fieldErrors = validateRecord(record);
  for (const e of fieldErrors) problems.add({ code: 'RECORD_INVALID', ...at, message: `${e.path || '(record)'}: ${e.code}: ${e.message}` });
  // Schema-valid records take the compiled serializer; anything else the
  // general one (slower, but it also explains what cannot be canonicalized).
  let parts: ReturnType<typeof canonicalRecordParts> | undefined;
  let canonical: string | undefined;
  try {
    parts = fieldErrors.length === 0 ? canonicalRecordParts(record) : undefined;
    canonical = parts !== undefined ? joinRecordBytes(parts, record['mac'] as string) : canonicalize(record);
  } catch (e) {
    problems.add({ code: 'RECORD_NOT_CANONICAL', ...at, message: `record cannot be canonicalized: ${(e as Error).message}` });
  }
  if (canonical !== undefined && canonical !== line) {
    problems.add({ code: 'RECORD_NOT_CANONICAL', ...at, message: 'the line is not the RFC 8785 canonical form of its content (whitespace, member order, escaping or duplicate names)' });
  }
  const str = (k: string): string | undefined => (typeof record[k] === 'string' ? (record[k] as string) : undefined);
  const action = str('action');
  return {
    ...(seq !== undefined ? { seq } : {}),
    tenant: str('tenant'),
    prevHash: str('prev_hash'),
    receivedAt: str('received_at'),
    ...(parts !== undefined ? { mac: { keyId: record['mac_key_id'] as string, receivedAt: record['received_at'] as string, mac: record['mac'] as string, input: [parts.head, `,${parts.tail}`] as const } } : {}),
    // A malformed system record is already reported; the key history skips it.
    ...(fieldErrors.length === 0 && action?.startsWith(SYSTEM_ACTION_PREFIX) ? { systemRecord: record } : {}),
  };
}

/** Verifies an array of lines as one segment. */
export function verifySegment(lines: Iterable<string>, opts: SegmentOptions = {}): SegmentResult {
  const v = new SegmentVerifier(opts);
  for (const l of lines) v.add(l);
  return v.result();
}

/** A SegmentResult as plain data: structured-clone safe (worker threads, web workers). */
export interface SegmentData extends Omit<SegmentResult, 'problems' | 'range'> {
  readonly problems: { readonly items: readonly Problem[]; readonly total: number };
  /** The range's hashes packed end to end (32 bytes each). */
  readonly range: { readonly begin: number; readonly end: number; readonly hashes: Uint8Array };
}

export function segmentToData(r: SegmentResult): SegmentData {
  // Packed into one small buffer: a hash may be a view into a larger one (a
  // host's pooled allocation), which a structured clone would copy whole.
  const hashes = new Uint8Array(32 * r.range.hashes.length);
  r.range.hashes.forEach((h, i) => hashes.set(h, 32 * i));
  return { ...r, problems: { items: r.problems.items, total: r.problems.total }, range: { begin: r.range.begin, end: r.range.end, hashes } };
}

/** Rebuilds a SegmentResult from data that crossed a thread boundary (and so is not trusted to be well formed). */
export function segmentFromData(d: SegmentData): SegmentResult {
  const problems = new ProblemList();
  for (const p of d.problems.items) problems.add(p);
  problems.total = Math.max(problems.total, d.problems.total);
  const packed = d.range.hashes;
  const hashes = Array.from({ length: Math.floor(packed.length / 32) }, (_, i) => packed.subarray(32 * i, 32 * i + 32));
  return { ...d, problems, range: new CompactRange(d.range.begin, d.range.end, hashes) };
}
