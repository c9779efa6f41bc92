// Canonical JSON of schema-valid records, compiled from the schema: member
// order is known in advance (the sorted field names), so no keys are sorted
// or checked per record. This is a fast path only: for any record that passed
// validateRecord (or an event that passed validateEvent) the output is
// byte-identical to canonicalize() (RFC 8785), which the property tests in
// test/record-codec.test.ts check against the general implementation.
import { canonicalize } from './jcs.js';
import { EVENT_FIELDS, RECORD_LOG_FIELDS, type EventV1 } from './record.js';
import type { Bytes } from './crypto/provider.js';
import type { Field, Schema } from './schema.js';

export { joinMacInput, joinRecordBytes } from './record-bytes.js';

type Serializer = (v: unknown) => string;

interface Member {
  readonly name: string;
  /** `"name":` */
  readonly prefix: string;
  readonly ser: Serializer;
}

// Strings of valid records are well formed (no lone surrogates), and for those
// JSON.stringify's escaping is exactly RFC 8785 section 3.2.2.2. Most strings
// need no escaping at all, and testing for that is cheaper than the call.
// eslint-disable-next-line no-control-regex -- matching the control characters JSON must escape is the point
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;
const string: Serializer = (v) => (NEEDS_ESCAPE.test(v as string) ? JSON.stringify(v) : `"${v as string}"`);
// Integers within 2^53: ECMAScript Number::toString, as section 3.2.2.3 says.
const integer: Serializer = (v) => String(v);
const boolean: Serializer = (v) => (v ? 'true' : 'false');

function members(fields: Readonly<Record<string, Field>>): Member[] {
  // Sorting JS strings compares UTF-16 code units: RFC 8785 section 3.2.3.
  return Object.keys(fields)
    .sort()
    .map((name) => ({ name, prefix: `${JSON.stringify(name)}:`, ser: compile(fields[name]!.schema) }));
}

function joinMembers(ms: readonly Member[], v: Record<string, unknown>, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const m = ms[i]!;
    const x = v[m.name];
    if (x === undefined) continue;
    out += out === '' ? m.prefix + m.ser(x) : `,${m.prefix}${m.ser(x)}`;
  }
  return out;
}

function compile(schema: Schema): Serializer {
  switch (schema.kind) {
    case 'string':
    case 'enum':
      return string;
    case 'integer':
      return integer;
    case 'boolean':
      return boolean;
    case 'array': {
      const item = compile(schema.items);
      return (v) => {
        const a = v as unknown[];
        let out = '[';
        for (let i = 0; i < a.length; i++) out += i === 0 ? item(a[i]) : `,${item(a[i])}`;
        return `${out}]`;
      };
    }
    case 'object': {
      const ms = members(schema.fields);
      return (v) => `{${joinMembers(ms, v as Record<string, unknown>, 0, ms.length)}}`;
    }
    case 'free':
      return canonicalize;
  }
}

const RECORD_MEMBERS = members({ ...EVENT_FIELDS, ...RECORD_LOG_FIELDS });
const MAC_AT = RECORD_MEMBERS.findIndex((m) => m.name === 'mac');

/**
 * The record's canonical JSON split around `mac`: `head` holds the members
 * that sort before it (action .. log) and `tail` those after it (mac_key_id ..
 * v). MAC input = `${head},${tail}`; record bytes =
 * `${head},"mac":"<mac>",${tail}`. `mac` itself is not read.
 */
export function canonicalRecordParts(record: Readonly<Record<string, unknown>>): { head: string; tail: string } {
  return {
    head: `{${joinMembers(RECORD_MEMBERS, record, 0, MAC_AT)}`,
    tail: `${joinMembers(RECORD_MEMBERS, record, MAC_AT + 1, RECORD_MEMBERS.length)}}`,
  };
}

/**
 * A producer event in canonical form, cut where the log's own members sort
 * between its members. A record's members interleave the event's (action ..
 * id, outcome, source .. target, time .. transfer) with the log's (log, mac,
 * mac_key_id | prev_hash, received_at, seq, sigs | tenant | v), so the
 * canonical event splits into one run per gap: `runs[k]` holds the event's
 * members of run k as canonical JSON without braces ('' when it has none).
 * The ingest path computes these off the sequencing thread; the sealer only
 * joins them with the log's members (recordPiecesFromEvent).
 */
export interface EventParts {
  readonly id: string;
  readonly runs: readonly string[];
}

/** A stretch of the record's members: run k of the event, or one member the log sets. */
type Slot = { readonly run: number } | { readonly member: Member };

function slotsOf(record: readonly Member[], eventNames: ReadonlySet<string>): { slots: Slot[]; runs: Array<[number, number]> } {
  const slots: Slot[] = [];
  const runs: Array<[number, number]> = [];
  let e = 0;
  for (const m of record) {
    if (!eventNames.has(m.name)) {
      slots.push({ member: m });
      continue;
    }
    const last = slots[slots.length - 1];
    if (last !== undefined && 'run' in last) runs[last.run]![1] = ++e;
    else {
      slots.push({ run: runs.length });
      runs.push([e, ++e]);
    }
  }
  return { slots, runs };
}

const EVENT_MEMBERS = members(EVENT_FIELDS);
const { slots: RECORD_SLOTS, runs: EVENT_RUNS } = slotsOf(RECORD_MEMBERS, new Set(Object.keys(EVENT_FIELDS)));
const MAC_SLOT = RECORD_SLOTS.findIndex((s) => 'member' in s && s.member.name === 'mac');

/** The canonical parts of a schema-valid producer event (validateEvent returned no errors). */
export function canonicalEventParts(event: EventV1): EventParts {
  const v = event as unknown as Record<string, unknown>;
  const runs = EVENT_RUNS.map(([from, to]) => joinMembers(EVENT_MEMBERS, v, from, to));
  return { id: event.id, runs };
}

/** How many runs EventParts holds. */
export const EVENT_RUN_COUNT = EVENT_RUNS.length;

/**
 * The event's member names in canonical order, and run k's stretch of them,
 * [from, to): for readers that cut the runs themselves (event-reader.ts).
 */
export const EVENT_RUN_LAYOUT: { readonly names: readonly string[]; readonly runs: ReadonlyArray<readonly [number, number]> } = {
  names: EVENT_MEMBERS.map((m) => m.name),
  runs: EVENT_RUNS,
};

/** Canonical JSON of the event the parts were cut from. */
export function joinEventParts(parts: EventParts): string {
  let out = '';
  for (const r of parts.runs) if (r !== '') out = out === '' ? r : `${out},${r}`;
  return `{${out}}`;
}

/** Canonical JSON of a schema-valid producer event (validateEvent returned no errors). */
export function canonicalEvent(event: EventV1): string {
  return joinEventParts(canonicalEventParts(event));
}

// The record's bytes are laid out in one buffer of this module, the head
// then the tail, and handed out as views of it: building a record as text
// made a string per log member and a list of pieces, all garbage once hashed,
// and the strings were flattened and encoded again by the hashing. Only the
// record being sealed is here: a view is read before the next call.
let layout = new Uint8Array(8 * 1024);
const utf8Encoder = new TextEncoder();
/** Per record slot, `"name":` as bytes (log members; empty for runs). */
const SLOT_PREFIX = RECORD_SLOTS.map((s) => utf8Encoder.encode('member' in s ? s.member.prefix : ''));

/** Makes room for n more bytes at o. */
function room(o: number, n: number): void {
  if (o + n <= layout.length) return;
  const bigger = new Uint8Array(Math.max(o + n, 2 * layout.length));
  bigger.set(layout.subarray(0, o));
  layout = bigger;
}

/** Writes text or bytes at o; returns the end. */
function put(o: number, x: Bytes): number {
  if (typeof x !== 'string') {
    room(o, x.length);
    layout.set(x, o);
    return o + x.length;
  }
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  room(o, 3 * x.length);
  return o + utf8Encoder.encodeInto(x, layout.subarray(o)).written;
}

/**
 * Writes a log member's value at o; returns the end. The log's strings (a
 * tenant id, times, hex hashes, key ids) are printable ASCII: written char
 * by char between quotes, as RFC 8785 section 3.2.2.2 spells a string that
 * needs no escape. Anything else goes through the member's serializer.
 */
function putValue(o: number, v: unknown, member: Member): number {
  if (typeof v === 'string') {
    const n = v.length;
    room(o, n + 2);
    let q = o;
    layout[q++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return put(o, member.ser(v));
      layout[q++] = c;
    }
    layout[q++] = 0x22;
    return q;
  }
  const text = member.ser(v);
  if (typeof v !== 'number') return put(o, text);
  // An integer's digits (section 3.2.2.3): ASCII.
  room(o, text.length);
  for (let i = 0; i < text.length; i++) layout[o++] = text.charCodeAt(i);
  return o;
}

/**
 * Writes the record's slots [from, to) at o, after `open` and before `close`
 * (a byte; -1 for none): the event's runs as `run(k)` gives them (text or
 * bytes; empty when the event has no member there) and the log's members,
 * with the commas between. Returns the end.
 */
function putSlots(o: number, run: (k: number) => Bytes, log: Readonly<Record<string, unknown>>, from: number, to: number, open: number, close: number): number {
  room(o, 1);
  if (open !== -1) layout[o++] = open;
  let any = false;
  for (let i = from; i < to; i++) {
    const s = RECORD_SLOTS[i]!;
    let value: unknown;
    let x: Bytes = '';
    if ('run' in s) {
      x = run(s.run);
      if (x.length === 0) continue;
    } else {
      value = log[s.member.name];
      if (value === undefined) continue;
    }
    const prefix = SLOT_PREFIX[i]!;
    room(o, 1 + prefix.length);
    if (any) layout[o++] = 0x2c;
    for (let j = 0; j < prefix.length; j++) layout[o++] = prefix[j]!;
    o = 'run' in s ? put(o, x) : putValue(o, value, s.member);
    any = true;
  }
  room(o, 1);
  if (close !== -1) layout[o++] = close;
  return o;
}

/**
 * The record made of an event's runs (`run(k)`: run k as text or UTF-8
 * bytes) and the log's members `log` (v, tenant, seq, received_at,
 * prev_hash, mac_key_id; `mac` is not read), split around `mac` as
 * canonicalRecordParts splits it, each side as pieces to concatenate: the
 * same bytes as canonicalRecordParts of that record object, as UTF-8. The
 * pieces are views of a buffer the next call reuses: hash them first.
 */
export function recordPiecesFromEvent(run: (k: number) => Bytes, log: Readonly<Record<string, unknown>>): { head: Bytes[]; tail: Bytes[] } {
  const headEnd = putSlots(0, run, log, 0, MAC_SLOT, 0x7b, -1);
  const end = putSlots(headEnd, run, log, MAC_SLOT + 1, RECORD_SLOTS.length, -1, 0x7d);
  return { head: [layout.subarray(0, headEnd)], tail: [layout.subarray(headEnd, end)] };
}
