// A corpus of hostile POST /v1/events bodies (wrong types, huge strings, deep
// nesting, invalid UTF-8, duplicate names, unknown fields, bad addresses and
// hashes, reserved fields, broken syntax), each with the problem code and the
// field its answer must name. The HTTP test sends them to a real server; the
// ingest thread test checks that a thread answers each exactly as the event
// loop does.
import { richEvent } from './events.js';

export interface HostileRequest {
  readonly body: string | Uint8Array;
  readonly type?: string;
  /** Expected problem code. */
  readonly code: string;
  /** The field the answer must name (in `field` or in one of `errors[].path`); undefined when the fault has no field (syntax). */
  readonly field?: string;
}

const enc = new TextEncoder();
const json = (v: unknown): string => JSON.stringify(v);

function set(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    at[p] ??= {};
    at = at[p] as Record<string, unknown>;
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) Reflect.deleteProperty(at, last);
  else at[last] = value;
  return copy;
}

function deep(levels: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < levels; i++) v = { d: v };
  return v;
}

const STRING_FIELDS = ['actor.id', 'actor.name', 'target.path', 'target.name', 'source.user_agent', 'authorization.policy.name', 'transfer.peer'];
const WRONG_TYPES: [string, unknown][] = [
  ['time', 12345],
  ['outcome', true],
  ['actor', 'alice'],
  ['actor.mfa', 'yes'],
  ['source.port', '22'],
  ['target.size', '100'],
  ['target.tags', 'PII'],
  ['transfer.bytes', [1]],
  ['authorization.grants', {}],
  ['context', []],
  ['id', null],
  ['action', { a: 1 }],
];
const BAD_IPS = ['256.1.1.1', '1.2.3', '01.2.3.4', '::g', '1.2.3.4.5', 'localhost', '2001:db8::1::2', ' 1.2.3.4'];
const BAD_HASHES = ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), 'g'.repeat(64), `${'0'.repeat(62)}-1`];
const RESERVED = ['seq', 'tenant', 'mac', 'prev_hash', 'received_at', 'mac_key_id', 'v'];

/** The i-th hostile request: each kind of fault (16 kinds, i % 16), varied by i. */
export function hostileRequest(i: number): HostileRequest {
  const ev = { ...richEvent(i), id: `h-${i}` } as unknown as Record<string, unknown>;
  const k = i % 16;
  const j = Math.floor(i / 16);
  switch (k) {
    case 0: {
      const [path, value] = WRONG_TYPES[j % WRONG_TYPES.length]!;
      return { body: json(set(ev, path, value)), code: 'EVENT_INVALID', field: path };
    }
    case 1: {
      const path = STRING_FIELDS[j % STRING_FIELDS.length]!;
      return { body: json(set(ev, path, 'x'.repeat(5000 + (j % 7) * 3000))), code: 'EVENT_INVALID', field: path };
    }
    case 2:
      // Deeper than the parser's limit: rejected before validation.
      return { body: json(set(ev, 'context', deep(40 + (j % 20)))), code: 'JSON_TOO_DEEP', field: 'context' };
    case 3:
      return { body: json(set(ev, 'context', deep(9 + (j % 10)))), code: 'EVENT_INVALID', field: 'context' };
    case 4: {
      // Invalid UTF-8 inside a string: a lone continuation byte, an overlong form, a surrogate encoded in UTF-8.
      const bad = [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf5, 0x80, 0x80, 0x80]][j % 4]!;
      const text = json(set(ev, 'actor.name', 'MARK'));
      const at = text.indexOf('MARK');
      const bytes = enc.encode(text);
      return { body: new Uint8Array([...bytes.subarray(0, at), ...bad, ...bytes.subarray(at + 4)]), code: 'INVALID_UTF8' };
    }
    case 5: {
      const text = json(ev);
      const member = ['"id":"dup",', '"action":"file.delete",', '"outcome":"success",'][j % 3]!;
      return { body: `{${member}${text.slice(1)}`, code: 'JSON_DUPLICATE_KEY', field: member.slice(1, member.indexOf('"', 1)) };
    }
    case 6: {
      const path = ['foo', 'actor.role', 'source.country', 'target.acl', 'transfer.speed'][j % 5]!;
      return { body: json(set(ev, path, 'x')), code: 'EVENT_INVALID', field: path };
    }
    case 7:
      return { body: json(set(ev, 'source.ip', BAD_IPS[j % BAD_IPS.length])), code: 'EVENT_INVALID', field: 'source.ip' };
    case 8:
      return { body: json(set(ev, 'target.sha256', BAD_HASHES[j % BAD_HASHES.length])), code: 'EVENT_INVALID', field: 'target.sha256' };
    case 9: {
      const f = RESERVED[j % RESERVED.length]!;
      return { body: json(set(ev, f, f === 'seq' || f === 'v' ? 1 : 'x')), code: 'EVENT_INVALID', field: f };
    }
    case 10: {
      const [path, value] = (
        [
          ['time', '2026-13-01T00:00:00Z'],
          ['time', 'yesterday'],
          ['action', 'File.Download'],
          ['action', 'trailseal.log.genesis'],
          ['outcome', 'maybe'],
          ['actor.email', 'not-an-email'],
          ['source.hostname', '-bad-.example'],
          ['transfer.protocol', 'carrier-pigeon'],
        ] as const
      )[j % 8]!;
      return { body: json(set(ev, path, value)), code: 'EVENT_INVALID', field: path };
    }
    case 11: {
      const text = json(ev);
      const broken = [text.slice(0, text.length - 1 - (j % 50)), `${text.slice(0, -1)},}`, text.replace(/"outcome":"[a-z]+"/, '"outcome":NaN'), text.replace(/"id":"[^"]*"/, '"id":"\\ud800"'), `${text}x`][j % 5]!;
      const code = broken.includes('\\ud800') ? 'JSON_LONE_SURROGATE' : 'JSON_SYNTAX';
      return { body: broken, code };
    }
    case 12: {
      const [path, value] = (
        [
          ['source.port', 70000],
          ['target.size', -1],
          ['transfer.bytes', 1.5],
        ] as const
      )[j % 3]!;
      return { body: json(set(ev, path, value)), code: 'EVENT_INVALID', field: path };
    }
    case 13: {
      const text = json(ev).replace(/"size":\d+/, j % 2 === 0 ? '"size":1e400' : '"size":9007199254740993');
      return { body: text, code: 'JSON_NUMBER_RANGE', field: 'target.size' };
    }
    case 14: {
      // A batch with one bad event in position p: the path carries the index.
      const p = j % 5;
      const batch = Array.from({ length: 5 }, (_, n) => ({ ...richEvent(i * 10 + n), id: `b-${i}-${n}` })) as unknown as Record<string, unknown>[];
      batch[p] = set(batch[p]!, 'actor.type', 'robot');
      return { body: json(batch), code: 'EVENT_INVALID', field: `[${p}].actor.type` };
    }
    default: {
      const [body, code, field] = (
        [
          ['"just a string"', 'EVENT_INVALID', ''],
          ['42', 'EVENT_INVALID', ''],
          ['[1,2]', 'EVENT_INVALID', '[0]'],
          [json(set(ev, 'id', undefined)), 'EVENT_INVALID', 'id'],
          [json(set(ev, 'id', 'x'.repeat(129))), 'EVENT_INVALID', 'id'],
        ] as const
      )[j % 5]!;
      return { body, code, ...(field !== '' ? { field } : {}) };
    }
  }
}

