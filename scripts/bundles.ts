// Evidence-bundle test vectors (docs/spec/bundle.md, "Test vectors"): good
// bundles of every selection over the golden log, and altered copies with the
// verdict and the exact problem codes a verifier must give.
//
// The writer below is a second, independent implementation of the producer
// side, written from the specification: it does not use the service
// (packages/server) nor the format package's tree, proof, note or manifest
// code. Hashes, the RFC 6962 tree and proofs, the compact-range
// decomposition, canonical JSON of the manifest, the tlog-proof text and the
// Ed25519 signed-note lines are all computed here with node:crypto. From the
// format package it takes only the HKDF key derivation, to obtain the golden
// TEST-ONLY signing seeds. The committed bundles therefore test the verifier
// against the specification, not against the service's own code.
import { createHash, createPrivateKey, createPublicKey, sign as ed25519Sign, type KeyObject } from 'node:crypto';
import { deriveSigningSeed, deriveTenantKey } from '@trailseal/format';
import type { GoldenLog } from './golden.js';

// --- hashing and the RFC 6962 tree (docs/spec/merkle-tree.md) ---------------

function sha256(...parts: (Uint8Array | string)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const leafHash = (line: string): Buffer => sha256(Buffer.of(0), Buffer.from(line, 'utf8'));
const nodeHash = (l: Buffer, r: Buffer): Buffer => sha256(Buffer.of(1), l, r);

/** The largest power of two smaller than n (n > 1). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 section 2.1 MTH of the leaves [a, b), from their leaf hashes. */
function mth(leaves: readonly Buffer[], a: number, b: number): Buffer {
  if (b === a) return sha256();
  if (b - a === 1) return leaves[a]!;
  const k = split(b - a);
  return nodeHash(mth(leaves, a, a + k), mth(leaves, a + k, b));
}

/**
 * The compact range of [begin, end): the fewest perfect subtrees covering
 * those leaves, left to right. Greedy: at each position take the largest
 * subtree that starts there (aligned to its size) and fits before `end`.
 */
function rangeNodes(begin: number, end: number): { level: number; index: number }[] {
  const out: { level: number; index: number }[] = [];
  for (let pos = begin; pos < end; ) {
    let size = 1;
    let level = 0;
    while (pos % (size * 2) === 0 && pos + size * 2 <= end) {
      size *= 2;
      level++;
    }
    out.push({ level, index: pos / size });
    pos += size;
  }
  return out;
}

function rangeHashes(leaves: readonly Buffer[], begin: number, end: number): string[] {
  return rangeNodes(begin, end).map(({ level, index }) => b64(mth(leaves, index * 2 ** level, (index + 1) * 2 ** level)));
}

/** RFC 6962 section 2.1.1 PATH(m, D[a:b]). */
function inclusionPath(leaves: readonly Buffer[], m: number, a: number, b: number): Buffer[] {
  if (b - a <= 1) return [];
  const k = split(b - a);
  if (m < k) return [...inclusionPath(leaves, m, a, a + k), mth(leaves, a + k, b)];
  return [...inclusionPath(leaves, m - k, a + k, b), mth(leaves, a, a + k)];
}

/** RFC 6962 section 2.1.2 SUBPROOF(m, D[a:b], complete). */
function subproof(leaves: readonly Buffer[], m: number, a: number, b: number, complete: boolean): Buffer[] {
  if (m === b - a) return complete ? [] : [mth(leaves, a, b)];
  const k = split(b - a);
  if (m <= k) return [...subproof(leaves, m, a, a + k, complete), mth(leaves, a + k, b)];
  return [...subproof(leaves, m - k, a + k, b, false), mth(leaves, a, a + k)];
}

// --- Ed25519 signed notes (docs/spec/checkpoints-and-proofs.md) --------------

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** An Ed25519 signed-note key: name, key ID and signature lines. */
class NoteKey {
  readonly verifierKey: string;
  private readonly keyId: Buffer;
  private readonly key: KeyObject;

  constructor(
    readonly name: string,
    seed: Uint8Array,
  ) {
    this.key = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.key).export({ format: 'der', type: 'spki' });
    const publicKey = spki.subarray(spki.length - 32);
    this.keyId = sha256(name, '\n', Buffer.of(1), publicKey).subarray(0, 4);
    this.verifierKey = `${name}+${this.keyId.toString('hex')}+${b64(Buffer.concat([Buffer.of(1), publicKey]))}`;
  }

  /** The signature line of a signed note whose text is `text`. */
  signatureLine(text: string): string {
    const sig = ed25519Sign(null, Buffer.from(text, 'utf8'), this.key);
    return `\u2014 ${this.name} ${b64(Buffer.concat([this.keyId, sig]))}\n`;
  }

  /** A c2sp.org/tlog-checkpoint signed note; the key name is the origin. */
  checkpoint(size: number, root: Uint8Array): string {
    const text = `${this.name}\n${size}\n${b64(root)}\n`;
    return `${text}\n${this.signatureLine(text)}`;
  }
}

// --- canonical JSON of the manifest (RFC 8785) --------------------------------

type Json = string | number | boolean | null | readonly Json[] | { readonly [k: string]: Json | undefined };

/**
 * RFC 8785 for the values a manifest holds: strings (ECMAScript JSON string
 * serialization), safe integers, null, arrays, and objects with members
 * sorted by their UTF-16 code units (JavaScript's default sort).
 */
function canonical(v: Json): string {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new Error(`not an integer: ${v}`);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${(v as readonly Json[]).map(canonical).join(',')}]`;
  const o = v as { readonly [k: string]: Json | undefined };
  const members = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k]!)}`);
  return `{${members.join(',')}}`;
}

// --- the golden log as a producer sees it -------------------------------------

interface Source {
  readonly tenant: string;
  readonly origin: string;
  readonly records: readonly string[];
  readonly parsed: readonly Record<string, unknown>[];
  readonly leaves: readonly Buffer[];
  /** Signing keys by generation. */
  readonly keys: readonly NoteKey[];
  readonly macKeys: ReadonlyMap<string, string>;
  /** The checkpoint every bundle is exported against: the golden log's last (size 19). */
  readonly checkpoint: { readonly size: number; readonly note: string };
  readonly checkpoints: readonly { readonly size: number; readonly note: string }[];
}

function source(g: GoldenLog): Source {
  const tenantKey = deriveTenantKey(Buffer.from(g.rootKeyHex, 'hex'), g.tenant);
  const keys = g.verifierKeys.map((_, gen) => new NoteKey(g.origin, deriveSigningSeed(tenantKey, gen)));
  keys.forEach((k, gen) => {
    if (k.verifierKey !== g.verifierKeys[gen]) throw new Error(`signing key ${gen}: ${k.verifierKey} is not the golden ${g.verifierKeys[gen]}`);
  });
  const leaves = g.records.map(leafHash);
  const src: Source = {
    tenant: g.tenant,
    origin: g.origin,
    records: g.records,
    parsed: g.records.map((l) => JSON.parse(l) as Record<string, unknown>),
    leaves,
    keys,
    macKeys: new Map(g.macKeys.map((k) => [k.id, b64(Buffer.from(k.keyHex, 'hex'))])),
    checkpoint: g.checkpoints[g.checkpoints.length - 1]!,
    checkpoints: g.checkpoints,
  };
  // Every golden checkpoint is what this writer would sign itself (Ed25519 is deterministic).
  for (const cp of g.checkpoints) {
    const own = keyInForce(src, cp.size).checkpoint(cp.size, mth(leaves, 0, cp.size));
    if (own !== cp.note) throw new Error(`golden checkpoint of size ${cp.size} differs from this writer's`);
  }
  return src;
}

const GENESIS = 'trailseal.log.genesis';
const ROTATION = 'trailseal.key.rotate';

/** seqs of the genesis record and the signing-key rotations below `size`. */
function keyHistorySeqs(src: Source, size: number): number[] {
  return src.parsed
    .slice(0, size)
    .filter((r) => r['action'] === GENESIS || (r['action'] === ROTATION && (r['log'] as { purpose?: string }).purpose === 'signing'))
    .map((r) => r['seq'] as number);
}

/** The key that signs checkpoints of `size`: the one after the last signing rotation below it. */
function keyInForce(src: Source, size: number): NoteKey {
  return src.keys[keyHistorySeqs(src, size).length - 1]!;
}

// --- the writer ----------------------------------------------------------------

interface Filter {
  readonly actions?: readonly string[];
  readonly actor_ids?: readonly string[];
  readonly outcomes?: readonly string[];
}

type Selection =
  | { readonly type: 'all' }
  | { readonly type: 'seq'; readonly from_seq: number; readonly to_seq: number }
  | { readonly type: 'time'; readonly from: string; readonly to: string }
  | { readonly type: 'filter'; readonly filter: Filter; readonly from_seq: number; readonly to_seq: number };

/** What POST /v1/exports takes (times here already in the log's millisecond UTC form). */
interface ExportRequest {
  readonly from_seq?: number;
  readonly to_seq?: number;
  readonly from?: string;
  readonly to?: string;
  readonly filter?: Filter;
  readonly since_checkpoint?: string;
  readonly disclose_mac_keys?: boolean;
}

/** A selection resolved to records: the export reads [begin, end); a time selection adds its neighbours. */
interface Plan {
  readonly selection: Selection;
  readonly begin: number;
  readonly end: number;
  readonly before?: number | null;
  readonly after?: number | null;
  readonly since?: string;
  readonly discloseMacKeys?: boolean;
}

/** Fixed for every vector: as if the export were logged as the next record, one second after the last. */
const EXPORTED_AT = '2026-11-27T00:00:11.000Z';

function filterMatches(f: Filter, r: Record<string, unknown>): boolean {
  const action = r['action'] as string;
  const actorId = (r['actor'] as { id?: string } | undefined)?.id;
  if (f.actions !== undefined && !f.actions.some((a) => (a.endsWith('.*') ? action.startsWith(a.slice(0, -1)) : action === a))) return false;
  if (f.actor_ids !== undefined && (actorId === undefined || !f.actor_ids.includes(actorId))) return false;
  if (f.outcomes !== undefined && !f.outcomes.includes(r['outcome'] as string)) return false;
  return true;
}

function resolve(src: Source, req: ExportRequest): Plan {
  const n = src.checkpoint.size;
  const common = { ...(req.since_checkpoint !== undefined ? { since: req.since_checkpoint } : {}), ...(req.disclose_mac_keys ? { discloseMacKeys: true } : {}) };
  if (req.from !== undefined && req.to !== undefined) {
    // The first record received at or after a time (received_at never decreases along the log).
    const at = (t: string): number => {
      const i = src.parsed.slice(0, n).findIndex((r) => (r['received_at'] as string) >= t);
      return i < 0 ? n : i;
    };
    const begin = at(req.from);
    const end = at(req.to);
    return { selection: { type: 'time', from: req.from, to: req.to }, begin, end, before: begin > 0 ? begin - 1 : null, after: end < n ? end : null, ...common };
  }
  const begin = req.from_seq ?? 0;
  const end = req.to_seq ?? n;
  if (req.filter !== undefined) return { selection: { type: 'filter', filter: req.filter, from_seq: begin, to_seq: end }, begin, end, ...common };
  const selection: Selection = req.from_seq === undefined && req.to_seq === undefined ? { type: 'all' } : { type: 'seq', from_seq: begin, to_seq: end };
  return { selection, begin, end, ...common };
}

interface Bundle {
  readonly manifest: string;
  readonly signature: string;
  readonly events: string;
}

function tlogProof(src: Source, seq: number): string {
  const n = src.checkpoint.size;
  const hashes = inclusionPath(src.leaves, seq, 0, n).map((h) => `${b64(h)}\n`);
  return `c2sp.org/tlog-proof@v1\nindex ${seq}\n${hashes.join('')}\n${src.checkpoint.note}`;
}

/** manifest.json and events.jsonl of a plan. */
function assemble(src: Source, plan: Plan): { manifest: string; events: string } {
  const n = src.checkpoint.size;
  const sel = plan.selection;
  const filtered = sel.type === 'filter';
  const seqs: number[] = [];
  for (let s = plan.begin; s < plan.end; s++) if (!filtered || filterMatches(sel.filter, src.parsed[s]!)) seqs.push(s);
  const lines = seqs.map((s) => (filtered ? `{"proof":${JSON.stringify(tlogProof(src, s))},"record":${src.records[s]!}}` : src.records[s]!));
  const events = lines.map((l) => `${l}\n`).join('');
  const first = seqs[0];
  const last = seqs[seqs.length - 1];
  const manifest: Json = {
    spec: 'trailseal-bundle-v1',
    media_type: 'application/vnd.trailseal.bundle.v1+json',
    origin: src.origin,
    tenant: src.tenant,
    selection: sel as Json,
    events: {
      file: 'events.jsonl',
      layout: filtered ? 'records-with-proofs' : 'records',
      count: seqs.length,
      bytes: Buffer.byteLength(events, 'utf8'),
      sha256: sha256(events).toString('hex'),
      first_seq: first ?? null,
      last_seq: last ?? null,
    },
    first_prev_hash: first === undefined ? null : (src.parsed[first]!['prev_hash'] as string),
    checkpoint: src.checkpoint.note,
    tree: filtered
      ? undefined
      : (() => {
          const left = plan.before ?? plan.begin;
          const right = plan.after !== undefined && plan.after !== null ? plan.after + 1 : plan.end;
          return { left: rangeHashes(src.leaves, 0, left), right: rangeHashes(src.leaves, right, n) };
        })(),
    completeness:
      sel.type === 'time'
        ? {
            before: plan.before === undefined || plan.before === null ? null : src.records[plan.before]!,
            after: plan.after === undefined || plan.after === null ? null : src.records[plan.after]!,
          }
        : undefined,
    key_history: keyHistorySeqs(src, n).map((s) => ({ record: src.records[s]!, proof: inclusionPath(src.leaves, s, 0, n).map(b64) })),
    consistency:
      plan.since === undefined
        ? undefined
        : (() => {
            const m = Number(plan.since.split('\n')[1]);
            return { checkpoint: plan.since, proof: m === n ? [] : subproof(src.leaves, m, 0, n, true).map(b64) };
          })(),
    mac_keys: plan.discloseMacKeys
      ? [...new Set(seqs.map((s) => src.parsed[s]!['mac_key_id'] as string))].sort().map((id) => ({ id, key: src.macKeys.get(id)! }))
      : undefined,
    exported_at: EXPORTED_AT,
    // The export is logged before it is streamed: the record after the checkpoint.
    export_seq: n,
  };
  return { manifest: `${canonical(manifest)}\n`, events };
}

function write(src: Source, plan: Plan, signer = keyInForce(src, src.checkpoint.size)): Bundle {
  const { manifest, events } = assemble(src, plan);
  return { manifest, signature: signer.signatureLine(manifest), events };
}

// --- alterations ----------------------------------------------------------------

const linesOf = (b: Bundle): string[] => b.events.split('\n').slice(0, -1);
const withLines = (b: Bundle, lines: readonly string[]): Bundle => ({ ...b, events: lines.map((l) => `${l}\n`).join('') });

function replaceOnce(s: string, from: string, to: string): string {
  const i = s.indexOf(from);
  if (i < 0 || s.indexOf(from, i + 1) >= 0) throw new Error(`alteration: ${JSON.stringify(from)} does not occur exactly once`);
  return s.slice(0, i) + to + s.slice(i + from.length);
}

/** Flips one base64 character (A <-> B) at `offset` of the signature part of a signature line. */
function corruptSignature(sig: string, offset: number): string {
  const at = sig.lastIndexOf(' ') + 1 + offset;
  return sig.slice(0, at) + (sig[at] === 'A' ? 'B' : 'A') + sig.slice(at + 1);
}

// --- the catalogue -----------------------------------------------------------------

type Verdict = 'PASS' | 'FAIL' | 'UNUSABLE';

interface Case {
  readonly name: string;
  readonly description: string;
  /** The bundle files, or the name of the case whose directory to verify. */
  readonly bundle: Bundle | string;
  readonly trustedKeys: readonly string[];
  /** File name under bundle-checkpoints/ of the earlier checkpoint the auditor kept. */
  readonly prevCheckpoint?: string;
  readonly verdict: Verdict;
  readonly codes: readonly string[];
  /** What a PASS report states. */
  readonly report?: { count: number; first_seq: number | null; last_seq: number | null; checkpoint_size: number; complete: boolean | null; consistent_with: number | null; mac_verified: number };
}

/** A TEST-ONLY key of the same origin that is not in the golden log's key history. */
function strangerKey(origin: string): string {
  return new NoteKey(origin, sha256('trailseal test key 1')).verifierKey;
}

function catalogue(src: Source): { cases: Case[]; checkpoints: Record<string, string> } {
  const n = src.checkpoint.size;
  const [k0, k1] = [src.keys[0]!.verifierKey, src.keys[1]!.verifierKey];
  const cp9 = src.checkpoints.find((c) => c.size === 9)!;
  const cp14 = src.checkpoints.find((c) => c.size === 14)!;
  // A fork: another tree of size 9, signed by the key in force at 9.
  const forked9 = keyInForce(src, 9).checkpoint(9, sha256('a forked tree of size 9 (test only)'));
  // The true tree of size 9, but signed by the key retired at size 8.
  const retired9 = src.keys[0]!.checkpoint(9, mth(src.leaves, 0, 9));

  const seqRange = write(src, resolve(src, { from_seq: 15, to_seq: 17 }));
  const whole = write(src, resolve(src, {}));
  const macs = write(src, resolve(src, { from_seq: 5, to_seq: 10, disclose_mac_keys: true }));
  const consistent = write(src, resolve(src, { from_seq: 2, to_seq: 12, since_checkpoint: cp9.note }));
  const filter = write(src, resolve(src, { filter: { actions: ['file.*'], actor_ids: ['u-48213'] } }));
  const window = { from: '2026-11-26T23:59:58.000Z', to: '2026-11-27T00:00:04.000Z' };
  const report = (count: number, first: number | null, last: number | null, extra: Partial<NonNullable<Case['report']>> = {}): NonNullable<Case['report']> => ({
    count,
    first_seq: first,
    last_seq: last,
    checkpoint_size: n,
    complete: null,
    consistent_with: null,
    mac_verified: 0,
    ...extra,
  });
  const pass = (name: string, description: string, bundle: Bundle | string, trustedKeys: string[], r: NonNullable<Case['report']>, prev?: string): Case => ({
    name,
    description,
    bundle,
    trustedKeys,
    ...(prev !== undefined ? { prevCheckpoint: prev } : {}),
    verdict: 'PASS',
    codes: [],
    report: r,
  });
  const fail = (name: string, description: string, bundle: Bundle | string, codes: string[], opts: { keys?: string[]; prev?: string } = {}): Case => ({
    name,
    description,
    bundle,
    trustedKeys: opts.keys ?? [k0],
    ...(opts.prev !== undefined ? { prevCheckpoint: opts.prev } : {}),
    verdict: 'FAIL',
    codes: [...codes].sort(),
  });

  const cases: Case[] = [
    // --- good bundles -------------------------------------------------------------
    pass('seq-range', 'Records 15 and 16 (selection seq [15, 17)); the example of bundle.md. Trusted: the genesis key, which signed neither the checkpoint nor the manifest (the key history leads to the current key).', seqRange, [k0], report(2, 15, 16)),
    pass('whole-log', 'The whole log (selection all): records 0 to 18. Trusted: the current key.', whole, [k1], report(19, 0, 18)),
    pass(
      'time-window',
      'Records received in [23:59:58.000Z, 00:00:04.000Z): records 6 to 11, across midnight UTC and the signing-key rotation at 7. Neighbours: record 5 (received before the window) and record 12 (received exactly at its end, so outside it).',
      write(src, resolve(src, window)),
      [k0],
      report(6, 6, 11, { complete: true }),
    ),
    pass('time-window-at-start', 'A window that opens before the log: records 0 to 2; no record before it (completeness.before is null), record 3 after it.', write(src, resolve(src, { from: '2026-11-26T23:00:00.000Z', to: '2026-11-26T23:59:55.000Z' })), [k0], report(3, 0, 2, { complete: true })),
    pass('time-window-at-end', 'A window that closes after the last record: records 16 to 18; record 15 before it, none after it in the checkpoint (completeness.after is null).', write(src, resolve(src, { from: '2026-11-27T00:00:08.000Z', to: '2026-11-27T01:00:00.000Z' })), [k0], report(3, 16, 18, { complete: true })),
    pass('time-window-empty', 'A window between two records: no record, an empty events file; the neighbours, records 3 and 4, prove that none is missing.', write(src, resolve(src, { from: '2026-11-26T23:59:55.500Z', to: '2026-11-26T23:59:55.900Z' })), [k0], report(0, null, null, { complete: true })),
    pass('filter', 'Filter {"actions":["file.*"],"actor_ids":["u-48213"]} over the whole log: records 2, 3, 11, 12 and 18, each with its tlog-proof (layout records-with-proofs).', filter, [k0], report(5, 2, 18)),
    pass('filter-in-range', 'Filter {"outcomes":["denied","failure"]} over seq [0, 10): records 4 and 6 (record 18 also failed, but lies outside the range).', write(src, resolve(src, { from_seq: 0, to_seq: 10, filter: { outcomes: ['denied', 'failure'] } })), [k1], report(2, 4, 6)),
    pass('seq-range-mac-keys', 'Records 5 to 9 with the MAC keys disclosed: two epochs (2026-11-26 and 2026-11-27), every MAC checked.', macs, [k0], report(5, 5, 9, { mac_verified: 5 })),
    pass('seq-range-consistency', 'Records 2 to 11 with a consistency proof from the golden checkpoint of size 9, verified with that checkpoint as the auditor\'s earlier one.', consistent, [k0], report(10, 2, 11, { consistent_with: 9 }), 'size-9.txt'),
    pass('prev-checkpoint-same-tree', 'seq-range verified with its own checkpoint (size 19) as the earlier one: the same tree needs no proof.', 'seq-range', [k0], report(2, 15, 16, { consistent_with: 19 }), 'size-19.txt'),
    pass('seq-range-empty', 'An empty seq range [5, 5): no record; tree.left covers [0, 5) and tree.right [5, 19), which reproduce the checkpoint root on their own.', write(src, resolve(src, { from_seq: 5, to_seq: 5 })), [k0], report(0, null, null)),

    // --- alterations anyone can make -----------------------------------------------
    fail('edited-field', 'whole-log with record 5\'s outcome changed from success to failure.', withLines(whole, linesOf(whole).map((l, i) => (i === 5 ? replaceOnce(l, '"outcome":"success"', '"outcome":"failure"') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH']),
    fail('edited-field-mac-keys', 'seq-range-mac-keys with the source IP of record 6 changed: under the disclosed key its MAC no longer matches.', withLines(macs, linesOf(macs).map((l, i) => (i === 1 ? replaceOnce(l, '"ip":"198.51.100.7"', '"ip":"198.51.100.8"') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'MAC_MISMATCH', 'ROOT_MISMATCH']),
    fail('dropped-line', 'whole-log without record 10.', withLines(whole, linesOf(whole).filter((_, i) => i !== 10)), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SEQ_GAP']),
    fail('reordered-lines', 'whole-log with records 3 and 4 swapped.', withLines(whole, linesOf(whole).map((l, i, all) => (i === 3 ? all[4]! : i === 4 ? all[3]! : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SEQ_GAP', 'SEQ_REORDER', 'TIME_REORDER']),
    fail('duplicated-line', 'whole-log with record 10 twice: 20 leaves for a checkpoint of 19.', withLines(whole, linesOf(whole).flatMap((l, i) => (i === 10 ? [l, l] : [l]))), ['CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH', 'EVENTS_DIGEST_MISMATCH', 'SEQ_DUPLICATE']),
    fail('truncated-tail', 'whole-log without its last two records.', withLines(whole, linesOf(whole).slice(0, -2)), ['EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']),
    fail('crlf-line-endings', 'seq-range with every LF replaced by CR LF (as a Windows text tool would).', { ...seqRange, events: seqRange.events.replaceAll('\n', '\r\n') }, ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'EVENTS_MALFORMED', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH']),
    fail('missing-final-line-feed', 'seq-range without the LF after its last record.', { ...seqRange, events: seqRange.events.slice(0, -1) }, ['EVENTS_DIGEST_MISMATCH', 'EVENTS_MALFORMED']),
    fail('manifest-edited', 'seq-range with exported_at in manifest.json moved one day earlier.', { ...seqRange, manifest: replaceOnce(seqRange.manifest, `"exported_at":"${EXPORTED_AT}"`, '"exported_at":"2026-11-26T00:00:11.000Z"') }, ['MANIFEST_SIGNATURE_INVALID']),
    fail('manifest-not-canonical', 'seq-range with a space after the first colon of manifest.json: the same JSON value, but not its canonical form.', { ...seqRange, manifest: replaceOnce(seqRange.manifest, '{"checkpoint":', '{"checkpoint": ') }, ['MANIFEST_INVALID']),
    fail('signature-corrupted', 'seq-range with one base64 character of the Ed25519 signature in manifest.sig changed.', { ...seqRange, signature: corruptSignature(seqRange.signature, 20) }, ['MANIFEST_SIGNATURE_INVALID']),
    fail('older-checkpoint-swapped-in', 'seq-range with the checkpoint in manifest.json replaced by the golden checkpoint of size 14, which does not hold records 15 and 16.', { ...seqRange, manifest: replaceOnce(seqRange.manifest, JSON.stringify(src.checkpoint.note), JSON.stringify(cp14.note)) }, ['CHECKPOINT_SIZE_MISMATCH', 'KEY_HISTORY_INVALID', 'MANIFEST_SIGNATURE_INVALID']),
    fail('filter-proof-altered', 'filter with the first hash of the inclusion proof on its second line changed.', withLines(filter, linesOf(filter).map((l, i) => (i === 1 ? l.replace(/(\\nindex \d+\\n)(.)/, (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`) : l))), ['EVENTS_DIGEST_MISMATCH', 'PROOF_ROOT_MISMATCH']),
    fail('filter-line-dropped', 'filter without its third line (record 11): every remaining line is proven on its own, so only the digest shows the removal.', withLines(filter, linesOf(filter).filter((_, i) => i !== 2)), ['EVENTS_DIGEST_MISMATCH']),

    // --- what the auditor brings --------------------------------------------------------
    fail('wrong-key', 'seq-range verified with a TEST-ONLY key of the same origin that is not in the log\'s key history.', 'seq-range', ['NOTE_NO_VALID_SIGNATURE'], { keys: [strangerKey(src.origin)] }),
    fail('forked-prev-checkpoint', 'seq-range-consistency verified against an earlier checkpoint of size 9 with another root, signed by the key in force at 9: the log showed the auditor a fork.', 'seq-range-consistency', ['PROOF_INCONSISTENT'], { prev: 'forked-size-9.txt' }),
    fail('prev-checkpoint-without-consistency', 'seq-range (no consistency member) verified against the golden checkpoint of size 9: the bundle cannot show that its tree extends the auditor\'s.', 'seq-range', ['MANIFEST_INVALID'], { prev: 'size-9.txt' }),

    // --- producer faults (signed with the golden TEST-ONLY key) --------------------------
    fail(
      'neighbour-inside-window',
      'A producer bug: the time window of time-window, but the export starts one record late, so record 6 (received at the window\'s start) is given as the neighbour before it. Properly signed; the neighbour shows that a record of the window may be missing.',
      write(src, { selection: { type: 'time', ...window }, begin: 7, end: 12, before: 6, after: 12 }),
      ['EXPORT_INCOMPLETE'],
    ),
    fail(
      'neighbour-after-omitted',
      'A producer bug: time-window-at-end, but the export stops before record 18 and gives no neighbour after it, although the checkpoint holds record 18.',
      write(src, { selection: { type: 'time', from: '2026-11-27T00:00:08.000Z', to: '2026-11-27T01:00:00.000Z' }, begin: 16, end: 18, before: 15, after: null }),
      ['EXPORT_INCOMPLETE'],
    ),
    fail('manifest-signed-by-retired-key', 'seq-range with manifest.sig by the genesis key, retired at size 8: the manifest must be signed by the key in force at the checkpoint (size 19).', write(src, resolve(src, { from_seq: 15, to_seq: 17 }), src.keys[0]!), ['MANIFEST_SIGNATURE_INVALID']),
    fail(
      'consistency-from-retired-key-checkpoint',
      'seq-range-consistency, but its consistency.checkpoint is the true tree of size 9 signed by the genesis key, which was retired at size 8: no checkpoint of size 9 is valid under it.',
      write(src, { ...resolve(src, { from_seq: 2, to_seq: 12 }), since: retired9 }),
      ['NOTE_BAD_SIGNATURE'],
    ),

    // --- not a bundle -----------------------------------------------------------------------
    { name: 'not-a-manifest', description: 'manifest.json of another format: nothing is verified (trailseal-verify exits 2).', bundle: { ...seqRange, manifest: '{"spec":"example-bundle-v9"}\n' }, trustedKeys: [k0], verdict: 'UNUSABLE', codes: ['BUNDLE_UNUSABLE'] },
  ];
  return { cases, checkpoints: { 'size-9.txt': cp9.note, 'size-19.txt': src.checkpoint.note, 'forked-size-9.txt': forked9 } };
}

/** Every bundle vector file, by path relative to the repository root. */
export function bundleVectors(g: GoldenLog): Record<string, string> {
  const src = source(g);
  const { cases, checkpoints } = catalogue(src);
  const files: Record<string, string> = {};
  const base = 'docs/spec/vectors';
  for (const [name, note] of Object.entries(checkpoints)) files[`${base}/bundle-checkpoints/${name}`] = note;
  const index = cases.map((c) => {
    const dir = `bundles/${typeof c.bundle === 'string' ? c.bundle : c.name}`;
    if (typeof c.bundle !== 'string') {
      files[`${base}/${dir}/manifest.json`] = c.bundle.manifest;
      files[`${base}/${dir}/manifest.sig`] = c.bundle.signature;
      files[`${base}/${dir}/events.jsonl`] = c.bundle.events;
    }
    return {
      name: c.name,
      description: c.description,
      directory: dir,
      trusted_keys: c.trustedKeys,
      ...(c.prevCheckpoint !== undefined ? { prev_checkpoint: `bundle-checkpoints/${c.prevCheckpoint}` } : {}),
      verdict: c.verdict,
      codes: c.codes,
      ...(c.report !== undefined ? { report: c.report } : {}),
    };
  });
  files[`${base}/bundles.json`] = `${JSON.stringify(
    {
      note: 'TEST KEYS ONLY. Evidence bundles over the golden log (fixtures/golden), exported against its checkpoint of size 19, and altered copies. Verify the three files in `directory` (relative to this file) trusting `trusted_keys`, with the earlier checkpoint in `prev_checkpoint` when given. A verifier must reach `verdict` (PASS, FAIL, or UNUSABLE: not a bundle, nothing verified) and report exactly the problem codes in `codes` (docs/errors.md), in any order and as often as it finds them. `report` states what a PASS establishes. See docs/spec/bundle.md.',
      cases: index,
    },
    null,
    2,
  )}\n`;
  return files;
}
