// Sealing: how the log turns a validated event into a record, links it into
// the tenant's hash chain, MACs it and appends it to the tenant's Merkle tree
// (docs/spec/event-record.md, "Log fields", and docs/spec/keys-and-mac.md).
//
//   MAC input     = canonical JSON of the record without `mac`
//   signing input = canonical JSON of the record without `mac` and `sigs`
//   record bytes  = canonical JSON of the whole record (UTF-8)
//   prev_hash     = hex SHA-256(record bytes of the previous record)
//   leaf hash     = SHA-256(0x00 || record bytes)               (RFC 6962 section 2.1)
import { signCheckpoint } from './checkpoint.js';
import { cryptoProvider } from './crypto/provider.js';
import { TrailsealError } from './errors.js';
import { logTimestamp } from './formats.js';
import { canonicalize } from './jcs.js';
import { fromUtf8, toBase64, utf8 } from './bytes.js';
import { EVENT_RUN_COUNT, canonicalEventParts, canonicalRecordParts, joinMacInput, recordPiecesFromEvent, type EventParts } from './record-codec.js';
import { preparedRun, type PreparedEvents } from './event-reader.js';
import type { Bytes } from './crypto/provider.js';
import { macEpochOf, macKeyFor, type MacKey } from './keys.js';
import { CompactRange, type NodeId } from './merkle.js';
import type { RecordBytesBatch } from './record-batch.js';
import { newEd25519Signer, type NoteSigner } from './note.js';
import { RECORD_VERSION, SYSTEM_ACTION_PREFIX, TENANT_RE, type EventV1, type LogRecord, type RecordSignature } from './record.js';

export const GENESIS_PREV_HASH = '0'.repeat(64);
export const GENESIS_ACTION = `${SYSTEM_ACTION_PREFIX}log.genesis`;
export const KEY_ROTATION_ACTION = `${SYSTEM_ACTION_PREFIX}key.rotate`;
export const SYSTEM_ACTOR = { id: 'trailseal', type: 'system' } as const;

export interface RecordForms {
  /** Canonical JSON of the whole record: the leaf data and the chain input. */
  readonly full: string;
  /** Canonical JSON without `mac`. */
  readonly macInput: string;
  /** Canonical JSON without `mac` and `sigs`. */
  readonly signingInput: string;
}

/**
 * The three canonical forms of any record object (see the header of this
 * file), each canonicalized in full: the general path, for system records and
 * single receipts. The hot paths use canonicalRecordParts (record-codec.ts).
 */
export function recordForms(record: Readonly<Record<string, unknown>>): RecordForms {
  const { mac: _mac, ...withoutMac } = record;
  const { sigs: _sigs, ...unsigned } = withoutMac;
  return { full: canonicalize(record), macInput: canonicalize(withoutMac), signingInput: canonicalize(unsigned) };
}

/** prev_hash of the record after this one. */
export function recordHash(canonical: string): Uint8Array {
  return cryptoProvider().sha256(canonical);
}

export function computeMac(key: Uint8Array, macInput: string): string {
  return cryptoProvider().hmacSha256Hex(key, macInput);
}

/** `<name>+<8 hex key id>`: how a record's `sigs` entry names its key. */
export function signatureKeyName(signer: { name: string; keyId: number }): string {
  return `${signer.name}+${(signer.keyId >>> 0).toString(16).padStart(8, '0')}`;
}

export function signRecord(signingInput: string, signer: NoteSigner): RecordSignature {
  return { key: signatureKeyName(signer), sig: toBase64(signer.sign(utf8(signingInput))) };
}

export interface SealedRecord {
  readonly seq: number;
  /** The record's received_at. */
  readonly receivedAt: string;
  /** The record's prev_hash. */
  readonly prevHash: string;
  /** The record as an object (records sealed from EventParts parse their bytes on first use). */
  readonly record: LogRecord;
  /**
   * The record bytes (canonical JSON), decoded on first use from the bytes
   * sealed. Read it before a store takes the batch that collected them
   * (LogSealer.collectInto): once that batch's buffer is handed to another
   * thread, reading it throws.
   */
  readonly canonical: string;
  /** Lowercase hex SHA-256 of the record bytes: the next record's prev_hash. */
  readonly recordHash: string;
  readonly leafHash: Uint8Array;
  /** Perfect Merkle subtrees completed by this append: what a store persists. */
  readonly nodes: ReadonlyArray<{ readonly id: NodeId; readonly hash: Uint8Array }>;
}

class Sealed implements SealedRecord {
  #record: LogRecord | undefined;
  #canonical: string | undefined;
  /** The record bytes: a copy of its own, or record #index of the batch that collected them. */
  readonly #bytes: Uint8Array | RecordBytesBatch;
  readonly #index: number;
  constructor(
    readonly seq: number,
    readonly receivedAt: string,
    readonly prevHash: string,
    bytes: Uint8Array | RecordBytesBatch,
    index: number,
    readonly recordHash: string,
    readonly leafHash: Uint8Array,
    readonly nodes: ReadonlyArray<{ readonly id: NodeId; readonly hash: Uint8Array }>,
    record: LogRecord | undefined,
  ) {
    this.#bytes = bytes;
    this.#index = index;
    this.#record = record;
  }

  // Decoded on first use: a store that writes the bytes (SQLite) never needs the text.
  get canonical(): string {
    const b = this.#bytes;
    return (this.#canonical ??= fromUtf8(b instanceof Uint8Array ? b : b.record(this.#index), 'record'));
  }

  get record(): LogRecord {
    // The canonical JSON of a valid record parses back to that record (RFC 8785 section 3.2.2).
    return (this.#record ??= JSON.parse(this.canonical) as LogRecord);
  }
}

/** Attribution of a system event (same shapes as the event fields of those names). */
export interface SystemEventFields {
  readonly outcome?: 'success' | 'failure' | 'denied' | 'error';
  readonly actor?: Readonly<Record<string, unknown>>;
  readonly source?: Readonly<Record<string, unknown>>;
  readonly target?: Readonly<Record<string, unknown>>;
}

export interface SealerState {
  /** Records so far (the next seq). */
  readonly size: number;
  /** hex SHA-256 of the last record, or GENESIS_PREV_HASH for an empty log. */
  readonly prevHash: string;
  /** The tree's compact range [0, size). */
  readonly range: CompactRange;
  /** MAC key generation in force. */
  readonly macGeneration: number;
}

export interface SealerOptions {
  readonly tenant: string;
  /** Checkpoint origin, e.g. `audit.example.com/tenants/acme` (c2sp.org/tlog-checkpoint). */
  readonly origin: string;
  readonly tenantKey: Uint8Array;
  readonly signingSeed: Uint8Array;
  /** Resume from a stored state; omit to start an empty log (then call genesis()). */
  readonly state?: SealerState;
}

/**
 * The append pipeline for one tenant: pure and synchronous. The caller owns
 * durability (it stores each SealedRecord and its nodes in one transaction)
 * and serialization (one sealer per tenant at a time).
 */
export class LogSealer {
  readonly tenant: string;
  readonly origin: string;
  private readonly tenantKey: Uint8Array;
  private signer: ReturnType<typeof newEd25519Signer>;
  private size: number;
  private prevHash: string;
  private readonly range: CompactRange;
  private macGeneration: number;
  private readonly macKeys = new Map<string, MacKey>();
  // The MAC key of the epoch most recently used: one check per record
  // instead of a lookup (records arrive in time order, one epoch a day).
  private lastMac: { epoch: string; generation: number; key: MacKey } | undefined;
  private batch: RecordBytesBatch | undefined;

  constructor(opts: SealerOptions) {
    if (!TENANT_RE.test(opts.tenant)) {
      throw new TrailsealError('FIELD_FORMAT', `tenant id ${JSON.stringify(opts.tenant)} must match ${TENANT_RE.source}`, { field: 'tenant' });
    }
    this.tenant = opts.tenant;
    this.origin = opts.origin;
    this.tenantKey = opts.tenantKey;
    this.signer = newEd25519Signer(opts.origin, opts.signingSeed);
    this.size = opts.state?.size ?? 0;
    this.prevHash = opts.state?.prevHash ?? GENESIS_PREV_HASH;
    this.range = opts.state?.range.clone() ?? new CompactRange();
    this.macGeneration = opts.state?.macGeneration ?? 0;
  }

  /**
   * Copies the bytes of every record sealed from now on into `batch` (in
   * sealing order), until called with undefined: the bytes exactly as they
   * were hashed, for a store that writes bytes.
   */
  collectInto(batch: RecordBytesBatch | undefined): void {
    this.batch = batch;
  }

  get state(): SealerState {
    return { size: this.size, prevHash: this.prevHash, range: this.range.clone(), macGeneration: this.macGeneration };
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  /** The MAC key for an epoch under the generation in force (cached: one HKDF per day). */
  macKey(epoch: string, generation = this.macGeneration): MacKey {
    const id = `${epoch}/${generation}`;
    let k = this.macKeys.get(id);
    if (k === undefined) {
      k = macKeyFor(this.tenantKey, epoch, generation);
      if (this.macKeys.size > 64) this.macKeys.clear();
      this.macKeys.set(id, k);
    }
    return k;
  }

  /** Record 0: names the origin, the signing key and the MAC scheme, signed by that key. */
  genesis(receivedAtMs: number): SealedRecord {
    if (this.size !== 0) throw new TrailsealError('GENESIS_INVALID', 'the genesis record can only be record 0');
    const log = {
      type: 'genesis',
      origin: this.origin,
      verifier_key: this.signer.verifierKey,
      mac: { algorithm: 'HMAC-SHA256', epoch: 'utc-day', generation: this.macGeneration },
      spec: 'trailseal-record-v1',
    };
    return this.systemRecord(GENESIS_ACTION, log, receivedAtMs, [this.signer]);
  }

  /** Seals one validated producer event. `event` must have passed parseEvent(). */
  append(event: EventV1, receivedAtMs: number): SealedRecord {
    return this.appendParts(canonicalEventParts(event), receivedAtMs);
  }

  /**
   * Seals one validated producer event from its canonical parts (what
   * canonicalEventParts returns; the ingest path cuts them on other threads).
   * The record object is not built: the record bytes are the parts joined
   * with the log's members.
   */
  appendParts(event: EventParts, receivedAtMs: number): SealedRecord {
    if (event.runs.length !== EVENT_RUN_COUNT) throw new TrailsealError('INTERNAL', `event parts hold ${event.runs.length} runs, not ${EVENT_RUN_COUNT}`);
    return this.appendRuns((k) => event.runs[k]!, receivedAtMs);
  }

  /**
   * Seals event `i` of prepared events (readEvents or preparedFromParts): its
   * runs are hashed as the UTF-8 bytes they already are.
   */
  appendPrepared(events: PreparedEvents, i: number, receivedAtMs: number): SealedRecord {
    const count = events.ends.length / EVENT_RUN_COUNT;
    if (!(Number.isInteger(i) && i >= 0 && i < count)) throw new TrailsealError('INTERNAL', `no prepared event ${i} among ${count}`);
    return this.appendRuns((k) => preparedRun(events, i, k), receivedAtMs);
  }

  private appendRuns(run: (k: number) => Bytes, receivedAtMs: number): SealedRecord {
    if (this.size === 0) throw new TrailsealError('GENESIS_INVALID', 'a log starts with its genesis record');
    const at = logTimestamp(receivedAtMs);
    const mk = this.macKeyAt(at);
    const log = { v: RECORD_VERSION, tenant: this.tenant, seq: this.size, received_at: at, prev_hash: this.prevHash, mac_key_id: mk.id };
    return this.finish(recordPiecesFromEvent(run, log), mk, at, undefined);
  }

  /**
   * Rotates the checkpoint signing key. The rotation record is signed by the
   * old key (authority) and the new key (possession); checkpoints covering it
   * and later records are signed by the new key.
   */
  rotateSigningKey(newSeed: Uint8Array, receivedAtMs: number, reason = 'scheduled'): SealedRecord {
    const next = newEd25519Signer(this.origin, newSeed);
    const sealed = this.systemRecord(
      KEY_ROTATION_ACTION,
      { type: 'key_rotation', purpose: 'signing', previous_verifier_key: this.signer.verifierKey, verifier_key: next.verifierKey, reason },
      receivedAtMs,
      [this.signer, next],
    );
    this.signer = next;
    return sealed;
  }

  /** Starts a new MAC key generation (for example after a suspected key exposure). */
  rotateMacKeys(receivedAtMs: number, reason = 'scheduled'): SealedRecord {
    const generation = this.macGeneration + 1;
    // The rotation record itself is still MACed under the old generation.
    const sealed = this.systemRecord(KEY_ROTATION_ACTION, { type: 'key_rotation', purpose: 'mac', generation, reason }, receivedAtMs, [this.signer]);
    this.macGeneration = generation;
    return sealed;
  }

  /**
   * An unsigned record the service writes about itself: service start and
   * stop, reads of audit data, tenant and API key changes (docs/spec/event-record.md,
   * "System records"). `fields` may attribute it (the API key that read, from
   * which address). Key history records have their own methods above.
   */
  systemEvent(action: string, log: Record<string, unknown>, receivedAtMs: number, fields: SystemEventFields = {}): SealedRecord {
    if (this.size === 0) throw new TrailsealError('GENESIS_INVALID', 'a log starts with its genesis record');
    if (!action.startsWith(SYSTEM_ACTION_PREFIX) || action === GENESIS_ACTION || action === KEY_ROTATION_ACTION) {
      throw new TrailsealError('FIELD_FORMAT', `system event action ${JSON.stringify(action)} must be under ${SYSTEM_ACTION_PREFIX} and not a key history action`, { field: 'action' });
    }
    const at = logTimestamp(receivedAtMs);
    const body: Record<string, unknown> = { id: `${action.slice(SYSTEM_ACTION_PREFIX.length)}-${this.size}`, time: at, action, outcome: fields.outcome ?? 'success', actor: fields.actor ?? { ...SYSTEM_ACTOR } };
    if (fields.source !== undefined) body['source'] = fields.source;
    if (fields.target !== undefined) body['target'] = fields.target;
    body['log'] = log;
    return this.seal(body, at, undefined);
  }

  /** A record of the log's own, signed by `signers` (docs/spec/event-record.md, "System records"). */
  private systemRecord(action: string, log: Record<string, unknown>, receivedAtMs: number, signers: NoteSigner[]): SealedRecord {
    const at = logTimestamp(receivedAtMs);
    const id = action === GENESIS_ACTION ? 'genesis' : `key-rotation-${this.size}`;
    return this.seal({ id, time: at, action, outcome: 'success', actor: { ...SYSTEM_ACTOR }, log }, at, signers);
  }

  /** A signed c2sp.org/tlog-checkpoint note for the current tree. */
  checkpoint(): string {
    return signCheckpoint({ origin: this.origin, size: this.size, rootHash: this.range.root(), extensions: [] }, [this.signer]);
  }

  /** The MAC key for a record received at `receivedAt` (a log timestamp). */
  private macKeyAt(receivedAt: string): MacKey {
    const last = this.lastMac;
    if (last !== undefined && last.generation === this.macGeneration && receivedAt.startsWith(last.epoch)) return last.key;
    const epoch = macEpochOf(receivedAt);
    const mk = this.macKey(epoch);
    this.lastMac = { epoch, generation: this.macGeneration, key: mk };
    return mk;
  }

  private seal(body: Record<string, unknown>, receivedAt: string, signers: NoteSigner[] | undefined): SealedRecord {
    const mk = this.macKeyAt(receivedAt);
    // Object.assign, not spread syntax: V8 copies a large object many times
    // faster this way (measured in bench/pipeline.ts).
    const record: Record<string, unknown> = Object.assign({}, body);
    record['v'] = RECORD_VERSION;
    record['tenant'] = this.tenant;
    record['seq'] = this.size;
    record['received_at'] = receivedAt;
    record['prev_hash'] = this.prevHash;
    record['mac_key_id'] = mk.id;
    if (signers !== undefined) {
      const signingInput = joinMacInput(canonicalRecordParts(record));
      record['sigs'] = signers.map((s) => signRecord(signingInput, s));
    }
    const parts = canonicalRecordParts(record);
    return this.finish({ head: [parts.head], tail: [parts.tail] }, mk, receivedAt, record);
  }

  /** Digests the record bytes, appends the leaf and moves the chain on. `record`, when given, gets its `mac`. */
  private finish(parts: { head: readonly Bytes[]; tail: readonly Bytes[] }, mk: MacKey, receivedAt: string, record: Record<string, unknown> | undefined): SealedRecord {
    const { mac, encoded, hashHex: rh, leafHash: lh } = cryptoProvider().recordDigests(mk.key, parts.head, parts.tail);
    // The record refers to the copy the batch takes anyway, or keeps a copy of its own.
    const batch = this.batch;
    const index = batch !== undefined ? batch.add(encoded) : -1;
    const bytes = batch ?? new Uint8Array(encoded);
    if (record !== undefined) record['mac'] = mac;
    const nodes: { id: NodeId; hash: Uint8Array }[] = [];
    this.range.append(lh, (id, hash) => nodes.push({ id, hash }));
    const sealed = new Sealed(this.size, receivedAt, this.prevHash, bytes, index, rh, lh, nodes, record as unknown as LogRecord | undefined);
    this.size++;
    this.prevHash = rh;
    return sealed;
  }
}
