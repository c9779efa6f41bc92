// Canonical JSON of schema-valid records, compiled from the schema: member
// order is known in advance (the sorted field names), so no keys are sorted
// or checked per record. This is a fast path only: for any record that passed
// validateRecord (or an event that passed validateEvent) the output is
// byte-identical to canonicalize() (RFC 8785), which the property tests in
// test/record-codec.test.ts check against the general implementation.
import { canonicalize } from './jcs.js';
import { EVENT_FIELDS, RECORD_LOG_FIELDS } from './record.js';
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

/** Canonical JSON of a schema-valid producer event (validateEvent returned no errors). */
export const canonicalEvent: Serializer = compile({ kind: 'object', fields: EVENT_FIELDS });
