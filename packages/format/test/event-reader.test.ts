// Differential tests of the POST /v1/events fast path (src/event-reader.ts)
// against the reference path it stands in for: parseJsonBytes, the batch
// checks, validateEvent and canonicalEventParts. The contract is one-way: a
// result only for bodies the reference path accepts, and then byte for byte
// the reference's. The reader may decline what it cannot vouch for (escapes,
// non-integer numbers), but a reader that declines plain bodies is no fast
// path, so plain bodies must get a result too.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_JSON_LIMITS, EVENT_RUN_COUNT, LOG_FIELDS, SYSTEM_ACTION_PREFIX, joinEventParts, TrailsealError, canonicalEventParts, canonicalize, parseJsonBytes, preparedEvent, preparedFromParts, readEvents, readEventsInPlace, validateEvent } from '@trailseal/format';
import type { EventV1, PreparedEvents, ReadLimits } from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';
import { richEvent } from '../../../test-support/events.js';
import { hostileRequest } from '../../../test-support/hostile.js';

type Kind = 'json' | 'ndjson';
type Json = Record<string, unknown>;
type Gen = fc.GeneratorValue;

/** The server's limits (packages/server/src/http/app.ts): 16 MiB bodies, up to 10,000 events a batch. */
const READ_LIMITS: ReadLimits = { ...DEFAULT_JSON_LIMITS, maxBytes: 16 * 1024 * 1024, maxBatchEvents: 10_000 };
const limits = (over: Partial<ReadLimits>): ReadLimits => ({ ...READ_LIMITS, ...over });
// Batches of events shrink slowly (minutes); a failure found is still reported when shrinking stops here.
const SHRINK_LIMIT = { interruptAfterTimeLimit: 25_000 };

const enc = new TextEncoder();
const strict = new TextDecoder('utf-8', { fatal: true });
const js = (v: unknown): string => JSON.stringify(v);
const show = (bytes: Uint8Array): string => JSON.stringify(new TextDecoder().decode(bytes.subarray(0, 300)));

/** The reference path: what POST /v1/events does without the reader; undefined for every body it rejects. */
function reference(bytes: Uint8Array, kind: Kind, lim: ReadLimits): PreparedEvents | undefined {
  let items: unknown[] = [];
  try {
    if (kind === 'json') {
      const v = parseJsonBytes(bytes, lim);
      items = Array.isArray(v) ? v : [v];
    } else {
      for (let start = 0, end = 0; start < bytes.length; start = end + 1) {
        end = bytes.indexOf(0x0a, start);
        if (end < 0) end = bytes.length;
        const stop = end > start && bytes[end - 1] === 0x0d ? end - 1 : end;
        // One event object per line: a line holding an array is one (invalid) item.
        if (stop > start) items.push(parseJsonBytes(bytes.subarray(start, stop), lim));
      }
    }
  } catch (e) {
    if (e instanceof TrailsealError) return undefined;
    throw e;
  }
  if (items.length === 0 || items.length > lim.maxBatchEvents) return undefined;
  if (items.some((x) => validateEvent(x).length > 0)) return undefined;
  return preparedFromParts(items.map((x) => canonicalEventParts(x as EventV1)));
}

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): string | undefined {
  if (a.length !== b.length) return `lengths ${a.length} and ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `at ${i}: ${a[i]} and ${b[i]}`;
  return undefined;
}

function expectSame(got: PreparedEvents, want: PreparedEvents, what: string): void {
  expect([...got.ids], what).toEqual([...want.ids]);
  expect(firstDifference(got.ends, want.ends), `ends of ${what}`).toBeUndefined();
  expect(firstDifference(got.data, want.data), `data of ${what}`).toBeUndefined();
}

/**
 * readEventsInPlace of the body in a buffer of room (filled with a marker
 * beyond the body): the same outcome as readEvents, the body left as it was,
 * and the result a view of that buffer after the body.
 */
function inPlace(bytes: Uint8Array, kind: Kind, lim: ReadLimits, got: PreparedEvents | undefined): void {
  const room = new Uint8Array(2 * bytes.length + 7).fill(0xee);
  room.set(bytes);
  const there = readEventsInPlace(room, bytes.length, kind, lim);
  expect(firstDifference(room.subarray(0, bytes.length), bytes), `readEventsInPlace wrote into the body ${show(bytes)}`).toBeUndefined();
  if (got === undefined) {
    expect(there, `readEventsInPlace gave a result where readEvents did not: ${show(bytes)}`).toBeUndefined();
    return;
  }
  expect(there, `readEventsInPlace declined ${show(bytes)}`).toBeDefined();
  expectSame(there!, got, `${show(bytes)}, read in place`);
  expect(there!.data.buffer).toBe(room.buffer);
  expect(there!.data.byteOffset).toBe(bytes.length);
}

/** Runs both paths and checks the contract: a result from the reader is the reference's result; in place too. */
function agree(bytes: Uint8Array, kind: Kind = 'json', lim = READ_LIMITS): { got: PreparedEvents | undefined; want: PreparedEvents | undefined } {
  const want = reference(bytes, kind, lim);
  const got = readEvents(bytes, kind, lim);
  if (got !== undefined) {
    expect(want, `readEvents gave a result for a body the reference path rejects: ${show(bytes)}`).toBeDefined();
    expectSame(got, want!, show(bytes));
  }
  inPlace(bytes, kind, lim, got);
  return { got, want };
}

/** For bodies the fast path exists for: the reference accepts, and the reader gives its result. */
function expectRead(bytes: Uint8Array, kind: Kind = 'json', lim = READ_LIMITS): void {
  const { got, want } = agree(bytes, kind, lim);
  expect(want, `the reference path rejects ${show(bytes)}`).toBeDefined();
  expect(got, `readEvents declined ${show(bytes)}`).toBeDefined();
}

// --- spelling events as JSON text -------------------------------------------------

/** A small deterministic generator (a linear congruential one), so a whole spelling follows from one drawn integer. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

const shuffled = <T>(xs: readonly T[], rnd: () => number): T[] => xs.map((x) => [rnd(), x] as const).sort((a, b) => a[0] - b[0]).map(([, x]) => x);

/** JSON text of `v` with each object's members in a random order and random whitespace from `ws` between tokens. */
function spell(v: unknown, rnd: () => number, ws: string): string {
  const pad = (): string => (rnd() < 0.25 ? ws[Math.floor(rnd() * ws.length)]! + pad() : '');
  const go = (x: unknown): string => {
    if (typeof x !== 'object' || x === null) return JSON.stringify(x);
    const isArray = Array.isArray(x);
    const parts = isArray ? x.map(go) : shuffled(Object.keys(x), rnd).map((k) => `${JSON.stringify(k)}${pad()}:${pad()}${go((x as Json)[k])}`);
    let out = (isArray ? '[' : '{') + pad();
    parts.forEach((p, i) => (out += (i > 0 ? `,${pad()}` : '') + p + pad()));
    return out + (isArray ? ']' : '}');
  };
  return pad() + go(v) + pad();
}

/** The event with nothing in it that JSON must escape and only safe integers, with ASCII member names. */
function plain(v: unknown): unknown {
  if (typeof v === 'string') return [...v].map((c) => (c < ' ' || c === '"' || c === '\\' ? 'x' : c)).join('');
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : 7;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [[...k].map((c) => (c < ' ' || c > '~' || c === '"' || c === '\\' ? 'k' : c)).join(''), plain(x)]));
  return v;
}
const plainEvent = validEvent.map((e) => plain(e) as EventV1).filter((e) => validateEvent(e).length === 0);
const anyEvent = fc.oneof(validEvent, plainEvent);

/** Whether values of the event allow the reader to decline: a number that is not a safe integer, a member name that is not ASCII (RFC 8785 orders names by UTF-16 units). */
function mayDecline(v: unknown): boolean {
  if (typeof v === 'number') return !Number.isSafeInteger(v);
  if (typeof v !== 'object' || v === null) return false;
  return Object.entries(v).some(([k, x]) => (!Array.isArray(v) && /[\u0080-\uffff]/.test(k)) || mayDecline(x));
}

describe('preparedFromParts and preparedEvent', () => {
  it('pack the runs end to end in UTF-8 with monotone absolute ends, and give each event back', () => {
    fc.assert(
      fc.property(fc.array(validEvent, { minLength: 1, maxLength: 5 }), (events) => {
        const parts = events.map(canonicalEventParts);
        const p = preparedFromParts(parts);
        expect([...p.ids]).toEqual(events.map((e) => e.id));
        expect(p.ends).toHaveLength(events.length * EVENT_RUN_COUNT);
        expect(firstDifference(p.data, enc.encode(parts.flatMap((x) => x.runs).join('')))).toBeUndefined();
        for (let k = 0; k < p.ends.length; k++) expect(p.ends[k]).toBeGreaterThanOrEqual(k === 0 ? 0 : p.ends[k - 1]!);
        expect(p.ends[p.ends.length - 1]).toBe(p.data.length);
        parts.forEach((x, i) => {
          expect(preparedEvent(p, i)).toEqual(x);
          // The documented layout, read without preparedEvent.
          for (let r = 0; r < EVENT_RUN_COUNT; r++) {
            const k = i * EVENT_RUN_COUNT + r;
            expect(strict.decode(p.data.subarray(k === 0 ? 0 : p.ends[k - 1], p.ends[k]))).toBe(x.runs[r]);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});

// Realistic events, built once: the hot path's body, and over the default maxBytes of 1 MiB.
const RICH = Array.from({ length: 1000 }, (_, i) => richEvent(i));
const THOUSAND = enc.encode(js(RICH));

describe('readEvents on valid bodies', () => {
  it('gives the reference result for batches in any member order and whitespace, as an array, as NDJSON and as a single object', () => {
    const check = (text: string, kind: Kind, declinable: boolean): void => {
      const bytes = enc.encode(text);
      const { got, want } = agree(bytes, kind);
      if (want !== undefined && !declinable && !text.includes('\\')) expect(got, `readEvents declined a plain body: ${show(bytes)}`).toBeDefined();
    };
    fc.assert(
      fc.property(fc.array(anyEvent, { minLength: 1, maxLength: 5 }), fc.integer(), fc.boolean(), fc.nat(5), (events, seed, crlf, blankAt) => {
        const rnd = rng(seed);
        const declinable = events.some(mayDecline);
        check(spell(events, rnd, ' \t\n\r'), 'json', declinable);
        check(spell(events[0], rnd, ' \t\n\r'), 'json', mayDecline(events[0]));
        // NDJSON lines hold no line feed; a carriage return inside a line is whitespace.
        const lines = events.map((e) => spell(e, rnd, ' \t\r'));
        lines.splice(blankAt % (lines.length + 1), 0, '');
        check(lines.join(crlf ? '\r\n' : '\n') + (rnd() < 0.5 ? '\n' : ''), 'ndjson', declinable);
      }),
      { numRuns: 600, ...SHRINK_LIMIT },
    );
  });

  it('gives the reference result for 1000 realistic events in one array and as NDJSON (the hot path, which must not fall back)', () => {
    expectRead(THOUSAND);
    expectRead(enc.encode(RICH.map(js).join('\n')), 'ndjson');
  });

  it('gives each result a buffer of its own: later reads, of any size and kind, and changes to the body leave it as it was', () => {
    const body = THOUSAND.slice();
    const first = readEvents(body, 'json', READ_LIMITS)!;
    const before = first.data.slice();
    // The workspace a read uses is reused by the next one (event-reader.ts).
    const again = [readEvents(TB, 'json', READ_LIMITS), readEvents(enc.encode(RICH.slice(0, 50).map(js).join('\n')), 'ndjson', READ_LIMITS), readEvents(enc.encode(js(RICH.slice(500))), 'json', READ_LIMITS)];
    expect(again.every((r) => r !== undefined)).toBe(true);
    // A body larger than the workspace kept between reads (4 MiB for both): one of its own, dropped after.
    const large = enc.encode(js(Array.from({ length: 4000 }, (_, i) => richEvent(i))));
    expectRead(large);
    body.fill(0x20);
    expect(first.data.buffer).not.toBe(again[0]!.data.buffer);
    expect(firstDifference(first.data, before)).toBeUndefined();
    expectSame(again[0]!, reference(TB, 'json', READ_LIMITS)!, 'the single event read after the batch');
  });

  it('reads in place only with room for the output after the body, and leaves the workspace of readEvents alone', () => {
    expect(() => readEventsInPlace(new Uint8Array(2 * TB.length - 1), TB.length, 'json', READ_LIMITS)).toThrow(TrailsealError);
    const room = new Uint8Array(2 * THOUSAND.length);
    room.set(THOUSAND);
    const there = readEventsInPlace(room, THOUSAND.length, 'json', READ_LIMITS)!;
    // Reads after it use a workspace of their own, never the caller's buffer
    // (800 events: their output would reach where the batch's is).
    const most = enc.encode(js(RICH.slice(0, 800)));
    expectSame(readEvents(most, 'json', READ_LIMITS)!, reference(most, 'json', READ_LIMITS)!, '800 events after a read in place');
    expectSame(there, reference(THOUSAND, 'json', READ_LIMITS)!, 'the batch read in place, after another read');
  });
});

// --- hostile and mutated bodies ------------------------------------------------

const pick = <T>(g: Gen, xs: readonly T[]): T => xs[g(fc.nat, { max: xs.length - 1 })]!;
const CHARS = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\n', '0', '1', '-', '.', 'e', 'E', 'a', 'n', 'u', 'é', '🚀', '\u2028', '\ud83d', '\ufeff'];
const NUMBERS = ['1.0', '1e3', '1E0', '-0', '01', '9007199254740993', '-1', '65536', '0', '2'];
const INSIDE = ['a', 'é', '東', '🚀', ' ', '\u2028', '\u007f', '\\n', '\\"', '\\u00e9', '\\/'];
const MARK = '\u0001mark\u0001';
const BAD_UTF8 = [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xff], [0xc3], [0xe6, 0x9d], [0xf0, 0x9f, 0x9a], [0xc3, 0xa9]];

/** Every member of every object inside `v`, as [object, name]. */
function membersIn(v: unknown, out: [Json, string][] = []): [Json, string][] {
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, x] of Object.entries(v)) {
    if (!Array.isArray(v)) out.push([v as Json, k]);
    membersIn(x, out);
  }
  return out;
}

/** One random edit of a body's text at position k, or at the start or end of a string at s (two edits now and then). */
function mutate(g: Gen, t: string): string {
  const k = g(fc.nat, { max: t.length });
  const strings = [...t.matchAll(/:\s*"|"\s*[,}\]]/g)].map((m) => (m[0].startsWith('"') ? m.index : m.index + m[0].length));
  const s = strings.length > 0 ? pick(g, strings) : k;
  const edits: (() => string)[] = [
    () => t.slice(0, k) + pick(g, CHARS) + t.slice(k + 1),
    () => t.slice(0, k) + t.slice(k + 1 + g(fc.nat, { max: 12 })),
    () => t.slice(0, k) + String.fromCharCode(g(fc.nat, { max: 0x1f })) + t.slice(k),
    // An edit inside a string, which often leaves the body valid.
    () => t.slice(0, s) + pick(g, INSIDE) + t.slice(s),
    // Where spliceUtf8 puts bytes that are not UTF-8 (at the end of a string, a truncated sequence).
    () => `${t.slice(0, s)}\u0002${t.slice(s)}`,
    () => t.slice(0, k) + pick(g, [' ', '\t', '\n', '\r', '\r\n']) + t.slice(k),
    () => mutate(g, mutate(g, t)),
  ];
  return pick(g, edits)();
}

/** The bytes with the first 0x02 (the mark mutate() leaves) replaced by `bad`. */
function spliceUtf8(b: Uint8Array, bad: readonly number[]): Uint8Array {
  const i = b.indexOf(0x02);
  return i < 0 ? b : Uint8Array.from([...b.subarray(0, i), ...bad, ...b.subarray(i + 1)]);
}

describe('readEvents on hostile and altered bodies', () => {
  it('gives no result for the first 2000 bodies of the hostile corpus, all of which the reference path rejects', () => {
    for (let i = 0; i < 2000; i++) {
      const h = hostileRequest(i);
      const bytes = typeof h.body === 'string' ? enc.encode(h.body) : h.body;
      const { want } = agree(bytes, h.type === 'application/x-ndjson' ? 'ndjson' : 'json');
      expect(want, `hostile body ${i} (${h.code})`).toBeUndefined();
    }
  });

  it('gives a result for an altered body only if the reference path accepts it, and then the same one', () => {
    let read = 0;
    let accepted = 0;
    const base = fc.oneof(plainEvent, plainEvent, validEvent);
    fc.assert(
      fc.property(fc.gen(), fc.array(base, { minLength: 1, maxLength: 3 }), fc.integer(), (g, events, seed) => {
        const form = pick(g, ['array', 'single', 'ndjson'] as const);
        const used = structuredClone(form === 'single' ? events.slice(0, 1) : events);
        // A member edit: its value marked, and the mark replaced in the text by null, a number in another
        // spelling, the member and a duplicate of it, or the member and a member the log sets.
        const all = membersIn(used);
        const ints = all.filter(([x, n]) => typeof x[n] === 'number');
        const [o, name] = pick(g, ints.length > 0 && g(fc.boolean) ? ints : all);
        const old = js(o[name]);
        const edit = g(fc.boolean) ? pick(g, ['null', pick(g, NUMBERS), `${old},${js(name)}:${old}`, `${old},"seq":1`]) : undefined;
        if (edit !== undefined) o[name] = MARK;
        const ws = form === 'ndjson' ? ' \t' : ' \t\n\r';
        const text = (v: unknown): string => (g(fc.boolean) ? js(v) : spell(v, rng(seed), ws));
        let body = form === 'ndjson' ? used.map(text).join('\n') : text(form === 'array' ? used : used[0]);
        if (edit !== undefined) body = body.replace(js(MARK), () => edit);
        if (edit === undefined || g(fc.boolean)) body = mutate(g, body);
        const bytes = spliceUtf8(enc.encode(body), pick(g, BAD_UTF8));
        const { got, want } = agree(bytes, form === 'ndjson' ? 'ndjson' : 'json');
        if (got !== undefined) read++;
        if (want !== undefined) accepted++;
      }),
      { numRuns: 2000, ...SHRINK_LIMIT },
    );
    // Many edits keep a body valid (whitespace, a character in a string); the
    // reader must have taken some of those, or this test checked nothing.
    expect(accepted).toBeGreaterThan(0);
    expect(read).toBeGreaterThan(0);
  });
});

// --- targeted cases ---------------------------------------------------------------

const BASE = richEvent(3);
const T = js(BASE);
const TB = enc.encode(T);
const MINIMAL: EventV1 = { id: 'evt-min', time: '2026-11-26T09:15:02.123Z', action: 'file.read', outcome: 'success', actor: { id: 'u-1', type: 'user' } };

/** A copy of `e` with the member at the dotted path set to `value`. */
function edited(e: EventV1, path: string, value: unknown): Json {
  const copy = structuredClone(e) as unknown as Json;
  const keys = path.split('.');
  const last = keys.pop()!;
  keys.reduce((at, key) => (at[key] ??= {}) as Json, copy)[last] = value;
  return copy;
}

const nested = (levels: number): unknown => (levels === 0 ? 1 : { d: nested(levels - 1) });
const membersN = (n: number): Json => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
const tags = (n: number): string => js(edited(BASE, 'target.tags', Array.from({ length: n }, (_, i) => `t${i}`)));
const grants = (n: number): string => js(edited(BASE, 'authorization.grants', Array.from({ length: n }, (_, i) => ({ permission: `p${i}` }))));
const authMethod = (s: string): string => js(edited(BASE, 'actor.auth_method', s));
const port = (n: number): string => js(edited(BASE, 'source.port', n));
const context = (c: unknown, e: EventV1 = BASE): string => js(edited(e, 'context', c));
const NAMED = js(edited(BASE, 'actor.name', 'MARK')).split('MARK') as [string, string];
const nameBytes = (bytes: number[]): Uint8Array => Uint8Array.from([...enc.encode(NAMED[0]), ...bytes, ...enc.encode(NAMED[1])]);

/** An event whose canonical form is exactly `bytes` long: grants fill most of it, a context string the rest. */
function eventOfSize(bytes: number): string {
  const e = { ...MINIMAL, authorization: { grants: Array.from({ length: 16 }, (_, i) => ({ permission: `p${i}`, resource: 'r'.repeat(1024) })) } };
  const fill = bytes - enc.encode(canonicalize({ ...e, context: { s: '' } })).length;
  expect(fill).toBeGreaterThan(0);
  return js({ ...e, context: { s: 'x'.repeat(fill) } });
}

type Case = [reason: string, body: string | Uint8Array, kind?: Kind, lim?: ReadLimits];
const bytesOf = (body: string | Uint8Array): Uint8Array => (typeof body === 'string' ? enc.encode(body) : body);

function expectRefused(bytes: Uint8Array, kind: Kind, lim: ReadLimits): void {
  expect(reference(bytes, kind, lim), `the reference path accepts ${show(bytes)}`).toBeUndefined();
  expect(readEvents(bytes, kind, lim), `readEvents gave a result for ${show(bytes)}`).toBeUndefined();
  inPlace(bytes, kind, lim, undefined);
}

describe('readEvents refuses what the reference path refuses', () => {
  it.each<Case>([
    ['a duplicate member name at the top level', `{"outcome":"success",${T.slice(1)}`],
    ['a duplicate member name in a nested object', T.replace('"actor":{', '"actor":{"mfa":true,')],
    ['a duplicate member name inside context', T.replace('"context":{', '"context":{"region":"us-east",')],
    ['an unknown member', js(edited(BASE, 'colour', 'red'))],
    ['an unknown member in a nested object', js(edited(BASE, 'source.country', 'NZ'))],
    ['a member the log sets (seq)', `{"seq":1,${T.slice(1)}`],
    ['an action under trailseal.', js(edited(BASE, 'action', 'trailseal.x.y'))],
    ['null for an optional field', js(edited(BASE, 'actor.name', null))],
    ['an empty string', js(edited(BASE, 'actor.name', ''))],
    ['source.port -1', port(-1)],
    ['an integer beyond 2^53 - 1', T.replace(/"size":\d+/, '"size":9007199254740993')],
    ['a number with a leading zero', T.replace(/"port":(\d+)/, '"port":0$1')],
    ['a body over the default maxBytes (1 MiB) when the limits leave maxBytes out', THOUSAND, 'json', { maxBatchEvents: 10_000 }],
    ['an empty array', '[]'],
    ['an empty body', ''],
    ['an NDJSON body of blank lines only', '\n\r\n\n', 'ndjson'],
    ['an NDJSON line holding an array of events', `[${T}]\n`, 'ndjson'],
    ['an NDJSON line holding two events', `${T} ${T}\n`, 'ndjson'],
    ['a byte order mark', Uint8Array.from([0xef, 0xbb, 0xbf, ...TB])],
    ['trailing garbage after the array', `[${T}]x`],
    ['a raw control character in a string', NAMED.join('a\u0001b')],
    ['an escaped lone surrogate', NAMED.join('a\\ud800b')],
    ['an overlong encoding in a string', nameBytes([0xc0, 0xaf])],
    ['a surrogate encoded in UTF-8 in a string', nameBytes([0xed, 0xa0, 0x80])],
    ['a code point above U+10FFFF in a string', nameBytes([0xf4, 0x90, 0x80, 0x80])],
    ['a lone continuation byte in a string', nameBytes([0x80])],
    ['a truncated sequence at the end of a string', nameBytes([0x61, 0xe6, 0x9d])],
  ])('gives no result for %s', (_reason, body, kind = 'json', lim = READ_LIMITS) => {
    expectRefused(bytesOf(body), kind, lim);
  });
});

describe('readEvents at the edges of the limits', () => {
  // At the limit, a plain body (no escapes, integers only) that the reader
  // must read itself, exactly as the reference does; one over, no result.
  const name = (s: string): string => js(edited(MINIMAL, 'actor.name', s));
  it.each<[limit: string, at: string, over: string, kind?: Kind, lim?: ReadLimits]>([
    ['actor.auth_method: 64 UTF-16 units (64 × é, 128 UTF-8 bytes)', authMethod('é'.repeat(64)), authMethod('é'.repeat(65))],
    ['actor.auth_method: 64 UTF-16 units, a 🚀 counting two (63 × é and a 🚀 is 64 code points but 65 units)', authMethod(`${'é'.repeat(62)}🚀`), authMethod(`${'é'.repeat(63)}🚀`)],
    ['target.tags: 32 items', tags(32), tags(33)],
    ['authorization.grants: 64 items', grants(64), grants(65)],
    ['source.port: 65535', port(65535), port(65536)],
    ['context: 8 levels deep', context(nested(7)), context(nested(8))],
    ['context: 512 members and items', context(membersN(512)), context(membersN(513))],
    ['context: 16 KiB in canonical form', context({ s: 'x'.repeat(16384 - 8) }), context({ s: 'x'.repeat(16384 - 7) })],
    ['the event: 32 KiB in canonical form', eventOfSize(32 * 1024), eventOfSize(32 * 1024 + 1)],
    ['maxBytes', T, `${T} `, 'json', limits({ maxBytes: TB.length })],
    ['maxBatchEvents, in a JSON array', `[${T},${T}]`, `[${T},${T},${T}]`, 'json', limits({ maxBatchEvents: 2 })],
    ['maxBatchEvents, in NDJSON with CRLF and a blank line', `${T}\r\n\r\n${T}`, `${T}\n${T}\n${T}\n`, 'ndjson', limits({ maxBatchEvents: 2 })],
    ['maxDepth, inside context', context({ a: { b: { c: {} } } }, MINIMAL), context({ a: { b: { c: { d: {} } } } }, MINIMAL), 'json', limits({ maxDepth: 5 })],
    ['maxMembers, in a context object', context(membersN(8), MINIMAL), context(membersN(9), MINIMAL), 'json', limits({ maxMembers: 8 })],
    ['maxStringLength, in UTF-16 units (20 × 🚀, then one more unit)', name('🚀'.repeat(20)), name(`${'🚀'.repeat(20)}a`), 'json', limits({ maxStringLength: 40 })],
  ])('%s: the reference result at the limit, none over it', (_limit, at, over, kind = 'json', lim = READ_LIMITS) => {
    expectRead(enc.encode(at), kind, lim);
    expectRefused(enc.encode(over), kind, lim);
  });
});

describe('readEvents canonicalizes context as RFC 8785 does', () => {
  const withContext = (text: string): Uint8Array => enc.encode(`${js(MINIMAL).slice(0, -1)},"context":${text}}`);

  it.each([
    ['unsorted members and every kind of value', '{"z":1,"a":-2,"m":0,"b":true,"y":false,"n":null,"s":"x"}'],
    ['nested objects and arrays', '{"b":{"d":[1,{"z":null,"a":[]}],"c":{}},"a":[[],[{}],{"y":1,"x":-9007199254740991}]}'],
    ['names that are integers, upper case, punctuation and empty (sorted as strings, not as JavaScript orders them)', '{"2":"two","10":"ten","1":"one","_":1,"B":2,"a":3,"":4}'],
    ['names that are prefixes of each other', '{"ab":1,"a":2,"abc":3,"a0":4,"a-":5}'],
    ['integers of every size', '{"n":[0,-1,1,9007199254740991,-9007199254740991,1000000,-42]}'],
    ['non-ASCII text in values, unescaped', '{"s":"é東🚀 \u2028\u007f","t":["ß","\uffff"]}'],
    ['whitespace between every token', '{ "b" :\t[ 1 ,\r\n2 ] ,\n"a" : { } }'],
  ])('gives the reference result for a context with %s', (_reason, text) => {
    expectRead(withContext(text));
  });

  it.each([
    ['names with non-ASCII letters', '{"é":1,"e":2,"z":3,"É":4}'],
    ['names above U+FFFF and in U+E000..U+FFFF (UTF-16 order differs from UTF-8 order)', '{"東":1,"🚀":2,"\ue000":3,"\uff01":4,"a":5}'],
    ['such names in a nested object', '{"x":{"\uff01":[],"🚀":{},"\ue000":0}}'],
    ['minus zero', '{"n":-0,"m":[-0]}'],
    ['numbers that are not integer literals', '{"n":1.0,"m":1e3,"k":-1.5e-7}'],
    ['escapes in names and values', '{"b\\u00e9":"a\\n\\"\\/","a":"\\u0041"}'],
  ])('gives the reference result or none for a context with %s', (_reason, text) => {
    const { want } = agree(withContext(text));
    expect(want).toBeDefined();
  });
});

describe('readEvents on the published vectors', () => {
  const vectors = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../docs/spec/vectors/${name}`, import.meta.url), 'utf8'));

  it('gives no result for any event of events-invalid.json', () => {
    const { cases } = vectors('events-invalid.json') as { cases: { name: string; event: unknown }[] };
    expect(cases.length).toBeGreaterThan(10);
    // One NDJSON line is exactly one event (a JSON array body would be a batch of its items).
    for (const c of cases) {
      const bytes = enc.encode(js(c.event));
      expect(reference(bytes, 'ndjson', READ_LIMITS), c.name).toBeUndefined();
      expect(readEvents(bytes, 'ndjson', READ_LIMITS), c.name).toBeUndefined();
    }
  });

  it('reads the producer event of every record of records.json (or declines names beyond ASCII) to exactly the event inside the record bytes', () => {
    const { records } = vectors('records.json') as { records: { record: string }[] };
    const logFields = new Set<string>(LOG_FIELDS);
    let read = 0;
    for (const r of records) {
      const record = JSON.parse(r.record) as Json;
      if (String(record['action']).startsWith(SYSTEM_ACTION_PREFIX)) continue;
      const event = Object.fromEntries(Object.entries(record).filter(([k]) => !logFields.has(k)));
      const { got, want } = agree(enc.encode(js(event)));
      expect(want).toBeDefined();
      // The runs join to the event as canonicalize spells it, the event the record's bytes hold.
      expect(joinEventParts(preparedEvent(want!, 0))).toBe(canonicalize(event));
      // The reader may decline member names beyond ASCII (one vector has them), nothing else here.
      if (got !== undefined) read++;
      else expect(mayDecline(event), js(event)).toBe(true);
    }
    expect(read).toBeGreaterThan(5);
  });
});
