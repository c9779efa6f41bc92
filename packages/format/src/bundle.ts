// Evidence bundles (docs/spec/bundle.md): the manifest, its detached signature
// and the events file an auditor verifies offline. This file holds the format
// (what the service writes and every verifier reads); @trailseal/verify holds
// the checks.
import { canonicalize } from './jcs.js';
import { isLogTimestamp } from './formats.js';
import { parseJson } from './json.js';
import { TrailsealError } from './errors.js';
import { isPlainObject } from './schema.js';
import { TENANT_RE } from './record.js';
import { signNote, type NoteSigner } from './note.js';

export const BUNDLE_SPEC = 'trailseal-bundle-v1';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.trailseal.bundle.v1+json';
export const BUNDLE_FILES = { manifest: 'manifest.json', signature: 'manifest.sig', events: 'events.jsonl' } as const;
/** A filter names at most this many values per member. */
export const FILTER_MAX_VALUES = 100;
/** manifest.json larger than this is not a bundle (it travels inside a signed note). */
export const MANIFEST_MAX_BYTES = 1024 * 1024;

/** Which events a filtered export holds: every member given must match (AND); within a member any value (OR). */
export interface EventFilter {
  /** Action names; `x.*` matches every action under `x.`. */
  readonly actions?: readonly string[];
  /** actor.id values. */
  readonly actor_ids?: readonly string[];
  readonly outcomes?: readonly string[];
  /** Any of these tags (the record's `target.tags`: the data classification of what was acted on). */
  readonly tags?: readonly string[];
}

export type Selection =
  | { readonly type: 'all' }
  | { readonly type: 'seq'; readonly from_seq: number; readonly to_seq: number }
  | { readonly type: 'time'; readonly from: string; readonly to: string }
  | { readonly type: 'filter'; readonly filter: EventFilter; readonly from_seq: number; readonly to_seq: number };

export type EventsLayout = 'records' | 'records-with-proofs';

export interface BundleManifest {
  readonly spec: typeof BUNDLE_SPEC;
  readonly media_type: typeof BUNDLE_MEDIA_TYPE;
  readonly origin: string;
  readonly tenant: string;
  readonly selection: Selection;
  readonly events: {
    readonly file: typeof BUNDLE_FILES.events;
    readonly layout: EventsLayout;
    readonly count: number;
    readonly bytes: number;
    /** Lowercase hex SHA-256 of the events file bytes. */
    readonly sha256: string;
    readonly first_seq: number | null;
    readonly last_seq: number | null;
  };
  /** prev_hash of the first record (null when there are none). */
  readonly first_prev_hash: string | null;
  /** The signed c2sp.org/tlog-checkpoint note every proof of the bundle leads to. */
  readonly checkpoint: string;
  /**
   * Contiguous layouts: base64 hashes of the compact ranges [0, L) and [R, size)
   * around the leaves the verifier hashes itself (the records, with the
   * completeness neighbours of a time selection).
   */
  readonly tree?: { readonly left: readonly string[]; readonly right: readonly string[] };
  /** Time selections: the records just outside the window, null where the log holds none. */
  readonly completeness?: { readonly before: string | null; readonly after: string | null };
  /** The genesis record and every signing-key rotation inside the checkpoint, each with its inclusion proof. */
  readonly key_history: readonly { readonly record: string; readonly proof: readonly string[] }[];
  /** A consistency proof from an earlier checkpoint the requester named. */
  readonly consistency?: { readonly checkpoint: string; readonly proof: readonly string[] };
  /** Disclosed MAC epoch keys (base64), only when the requester asked for them. */
  readonly mac_keys?: readonly { readonly id: string; readonly key: string }[];
  readonly exported_at: string;
  /** seq of the record that logs this export (outside the bundle's checkpoint). */
  readonly export_seq: number;
}

function invalid(field: string, message: string): TrailsealError {
  return new TrailsealError('MANIFEST_INVALID', `manifest ${field}: ${message}`, { field });
}

function unusable(message: string): TrailsealError {
  return new TrailsealError('BUNDLE_UNUSABLE', message);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Reads manifest members by name, each with its type, naming the field in errors. */
class Fields {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly path: string,
  ) {}

  private at(k: string): string {
    return this.path === '' ? k : `${this.path}.${k}`;
  }

  raw(k: string): unknown {
    return this.o[k];
  }

  has(k: string): boolean {
    return this.o[k] !== undefined;
  }

  str(k: string, test?: (s: string) => boolean): string {
    const v = this.o[k];
    if (typeof v !== 'string') throw invalid(this.at(k), 'must be a string');
    if (test !== undefined && !test(v)) throw invalid(this.at(k), `malformed value ${JSON.stringify(v.slice(0, 80))}`);
    return v;
  }

  nullableStr(k: string, test?: (s: string) => boolean): string | null {
    return this.o[k] === null ? null : this.str(k, test);
  }

  int(k: string): number {
    const v = this.o[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(this.at(k), 'must be a non-negative integer');
    return v;
  }

  nullableInt(k: string): number | null {
    return this.o[k] === null ? null : this.int(k);
  }

  obj(k: string): Fields {
    const v = this.o[k];
    if (!isPlainObject(v)) throw invalid(this.at(k), 'must be an object');
    return new Fields(v, this.at(k));
  }

  arr(k: string): unknown[] {
    const v = this.o[k];
    if (!Array.isArray(v)) throw invalid(this.at(k), 'must be an array');
    return v;
  }

  strings(k: string, test?: (s: string) => boolean): string[] {
    return this.arr(k).map((v, i) => {
      if (typeof v !== 'string' || (test !== undefined && !test(v))) throw invalid(`${this.at(k)}[${i}]`, 'must be a well-formed string');
      return v;
    });
  }

  objects(k: string): Fields[] {
    return this.arr(k).map((v, i) => {
      if (!isPlainObject(v)) throw invalid(`${this.at(k)}[${i}]`, 'must be an object');
      return new Fields(v, `${this.at(k)}[${i}]`);
    });
  }

  only(allowed: readonly string[]): void {
    for (const k of Object.keys(this.o)) if (!allowed.includes(k)) throw invalid(this.at(k), 'is not a member of this object');
  }
}

const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

/** Validates an event filter (from a manifest or an export request); `path` prefixes field names. */
export function parseEventFilter(v: unknown, path = 'filter', error: (field: string, message: string) => TrailsealError = invalid): EventFilter {
  if (!isPlainObject(v)) throw error(path, 'must be an object');
  const out: Record<string, string[]> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k !== 'actions' && k !== 'actor_ids' && k !== 'outcomes' && k !== 'tags') throw error(`${path}.${k}`, 'is not a filter member (actions, actor_ids, outcomes, tags)');
    if (!Array.isArray(val) || val.length === 0 || val.length > FILTER_MAX_VALUES) throw error(`${path}.${k}`, `must be an array of 1 to ${FILTER_MAX_VALUES} strings`);
    val.forEach((s, i) => {
      if (typeof s !== 'string' || s.length === 0 || s.length > 256) throw error(`${path}.${k}[${i}]`, 'must be a string of 1 to 256 characters');
    });
    out[k] = val as string[];
  }
  if (Object.keys(out).length === 0) throw error(path, 'names nothing to match: give actions, actor_ids, outcomes or tags');
  return out;
}

/** What a filter looks at in a record. */
export interface FilterFacts {
  readonly action: string;
  readonly actorId: string | undefined;
  readonly outcome: string;
  readonly tags: readonly unknown[];
}

export function filterFacts(record: Record<string, unknown>): FilterFacts {
  const actor = record['actor'];
  const id = isPlainObject(actor) && typeof actor['id'] === 'string' ? actor['id'] : undefined;
  const target = record['target'];
  const tags = isPlainObject(target) ? target['tags'] : undefined;
  return { action: String(record['action']), actorId: id, outcome: String(record['outcome']), tags: Array.isArray(tags) ? tags : [] };
}

export function filterMatches(filter: EventFilter, r: FilterFacts): boolean {
  if (filter.actions !== undefined && !filter.actions.some((a) => (a.endsWith('.*') ? r.action.startsWith(a.slice(0, -1)) : r.action === a))) return false;
  if (filter.actor_ids !== undefined && (r.actorId === undefined || !filter.actor_ids.includes(r.actorId))) return false;
  if (filter.outcomes !== undefined && !filter.outcomes.includes(r.outcome)) return false;
  if (filter.tags !== undefined && !filter.tags.some((t) => r.tags.includes(t))) return false;
  return true;
}

function parseSelection(f: Fields): Selection {
  const type = f.str('type');
  switch (type) {
    case 'all':
      f.only(['type']);
      return { type };
    case 'seq': {
      f.only(['type', 'from_seq', 'to_seq']);
      const from = f.int('from_seq');
      const to = f.int('to_seq');
      if (to < from) throw invalid('selection.to_seq', 'is before from_seq');
      return { type, from_seq: from, to_seq: to };
    }
    case 'time': {
      f.only(['type', 'from', 'to']);
      const from = f.str('from', isLogTimestamp);
      const to = f.str('to', isLogTimestamp);
      if (to < from) throw invalid('selection.to', 'is before from');
      return { type, from, to };
    }
    case 'filter': {
      f.only(['type', 'filter', 'from_seq', 'to_seq']);
      const from = f.int('from_seq');
      const to = f.int('to_seq');
      if (to < from) throw invalid('selection.to_seq', 'is before from_seq');
      return { type, filter: parseEventFilter(f.raw('filter'), 'selection.filter'), from_seq: from, to_seq: to };
    }
    default:
      throw invalid('selection.type', `unknown selection type ${JSON.stringify(type)}`);
  }
}

const MANIFEST_MEMBERS = [
  'spec',
  'media_type',
  'origin',
  'tenant',
  'selection',
  'events',
  'first_prev_hash',
  'checkpoint',
  'tree',
  'completeness',
  'key_history',
  'consistency',
  'mac_keys',
  'exported_at',
  'export_seq',
] as const;

/**
 * Parses manifest.json: RFC 8785 canonical JSON followed by one line feed,
 * every member checked. BUNDLE_UNUSABLE when it is not a Trailseal manifest
 * at all (not JSON, another spec); MANIFEST_INVALID naming the field when a
 * member is wrong.
 */
export function parseManifest(text: string): BundleManifest {
  if (text.length > MANIFEST_MAX_BYTES) throw unusable(`manifest.json is larger than ${MANIFEST_MAX_BYTES} bytes`);
  let value: unknown;
  try {
    value = parseJson(text.endsWith('\n') ? text.slice(0, -1) : text, { maxBytes: MANIFEST_MAX_BYTES });
  } catch (e) {
    throw unusable(`manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(value) || value['spec'] !== BUNDLE_SPEC) {
    throw unusable(`manifest.json is not a ${BUNDLE_SPEC} manifest (its "spec" member must be ${JSON.stringify(BUNDLE_SPEC)})`);
  }
  if (`${canonicalize(value)}\n` !== text) throw invalid('(document)', 'is not RFC 8785 canonical JSON followed by one line feed');
  const f = new Fields(value, '');
  f.only(MANIFEST_MEMBERS);
  if (f.str('media_type') !== BUNDLE_MEDIA_TYPE) throw invalid('media_type', `must be ${BUNDLE_MEDIA_TYPE}`);
  const ev = f.obj('events');
  ev.only(['file', 'layout', 'count', 'bytes', 'sha256', 'first_seq', 'last_seq']);
  if (ev.str('file') !== BUNDLE_FILES.events) throw invalid('events.file', `must be ${BUNDLE_FILES.events}`);
  const layout = ev.str('layout');
  if (layout !== 'records' && layout !== 'records-with-proofs') throw invalid('events.layout', 'must be "records" or "records-with-proofs"');
  const selection = parseSelection(f.obj('selection'));
  if ((selection.type === 'filter') !== (layout === 'records-with-proofs')) {
    throw invalid('events.layout', 'must be "records-with-proofs" exactly when the selection is a filter');
  }
  const hashList = (g: Fields, k: string): string[] => g.strings(k, (s) => B64_HASH.test(s));
  const manifest: BundleManifest = {
    spec: BUNDLE_SPEC,
    media_type: BUNDLE_MEDIA_TYPE,
    origin: f.str('origin'),
    tenant: f.str('tenant', (s) => TENANT_RE.test(s)),
    selection,
    events: {
      file: BUNDLE_FILES.events,
      layout,
      count: ev.int('count'),
      bytes: ev.int('bytes'),
      sha256: ev.str('sha256', (s) => HEX64.test(s)),
      first_seq: ev.nullableInt('first_seq'),
      last_seq: ev.nullableInt('last_seq'),
    },
    first_prev_hash: f.nullableStr('first_prev_hash', (s) => HEX64.test(s)),
    checkpoint: f.str('checkpoint'),
    key_history: f.objects('key_history').map((k) => {
      k.only(['record', 'proof']);
      return { record: k.str('record'), proof: hashList(k, 'proof') };
    }),
    exported_at: f.str('exported_at', isLogTimestamp),
    export_seq: f.int('export_seq'),
  };
  const { first_seq: first, last_seq: last, count } = manifest.events;
  if ((first === null) !== (count === 0) || (last === null) !== (count === 0) || (first !== null && last !== null && last < first)) {
    throw invalid('events', 'first_seq and last_seq must be null exactly when count is 0, and in order');
  }
  if (layout === 'records' && first !== null && last !== null && last - first + 1 !== count) {
    throw invalid('events.count', 'must be last_seq - first_seq + 1 for a contiguous layout');
  }
  const extra: { -readonly [K in keyof BundleManifest]?: BundleManifest[K] } = {};
  if (f.has('tree')) {
    const t = f.obj('tree');
    t.only(['left', 'right']);
    extra.tree = { left: hashList(t, 'left'), right: hashList(t, 'right') };
  } else if (layout === 'records') throw invalid('tree', 'is required for a contiguous layout');
  if (f.has('completeness')) {
    const c = f.obj('completeness');
    c.only(['before', 'after']);
    extra.completeness = { before: c.nullableStr('before'), after: c.nullableStr('after') };
  }
  if ((selection.type === 'time') !== (extra.completeness !== undefined)) throw invalid('completeness', 'is required for, and only for, a time selection');
  if (f.has('consistency')) {
    const c = f.obj('consistency');
    c.only(['checkpoint', 'proof']);
    extra.consistency = { checkpoint: c.str('checkpoint'), proof: hashList(c, 'proof') };
  }
  if (f.has('mac_keys')) {
    extra.mac_keys = f.objects('mac_keys').map((k) => {
      k.only(['id', 'key']);
      return { id: k.str('id'), key: k.str('key', (s) => B64_HASH.test(s)) };
    });
  }
  return { ...manifest, ...extra };
}

/** manifest.json bytes: the canonical manifest and a line feed (it is the text of a signed note). */
export function formatManifest(m: BundleManifest): string {
  return `${canonicalize(m)}\n`;
}

/**
 * manifest.sig: the signature lines of a c2sp.org/signed-note whose text is
 * exactly manifest.json. The note is manifest.json, a blank line, then this.
 */
export function signManifest(manifestText: string, signers: readonly NoteSigner[]): string {
  return signNote(manifestText, signers).slice(manifestText.length + 1);
}

/** The signed note a detached manifest signature stands for. */
export function manifestNote(manifestText: string, signature: string): string {
  return `${manifestText}\n${signature}`;
}

const PROOF_PREFIX = '{"proof":';
const RECORD_MEMBER = ',"record":';

/**
 * One line of a records-with-proofs events file: {"proof": <tlog-proof text>,
 * "record": <record>}, itself canonical because the record is.
 */
export function proofLine(recordLine: string, tlogProof: string): string {
  return `${PROOF_PREFIX}${canonicalize(tlogProof)}${RECORD_MEMBER}${recordLine}}`;
}

/**
 * Splits a records-with-proofs line into the record bytes and the proof text;
 * undefined when the line does not have exactly that shape (canonical
 * members, in that order, nothing else).
 */
export function splitProofLine(line: string): { record: string; proof: string } | undefined {
  if (!line.startsWith(PROOF_PREFIX) || !line.endsWith('}')) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!isPlainObject(v) || typeof v['proof'] !== 'string' || Object.keys(v).length !== 2 || !isPlainObject(v['record'])) return undefined;
  const head = `${PROOF_PREFIX}${canonicalize(v['proof'])}${RECORD_MEMBER}`;
  if (!line.startsWith(head)) return undefined;
  return { record: line.slice(head.length, -1), proof: v['proof'] };
}
