import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_JSON_LIMITS, canonicalize, parseJson, parseJsonBytes, utf8 } from '@trailseal/format';
import type { JsonLimits } from '@trailseal/format';
import { countQuoteBytes, parseJsonStrict } from '../src/json.js';

interface Caught {
  code: string;
  details: { field?: string; offset?: number; limit?: number };
  message: string;
}

function caught(f: () => unknown): Caught {
  try {
    f();
  } catch (e) {
    return e as Caught;
  }
  throw new Error('expected a throw');
}

const bytesOf = (...b: number[]): Uint8Array => Uint8Array.from(b);

/**
 * Where two parsed JSON values differ, or undefined: same types, -0 kept
 * apart from 0, same own members in the same order, same prototypes. (Vitest's
 * toStrictEqual also compares `constructor`, which for a parsed member named
 * "constructor" is an ordinary value, so it cannot be used here.)
 */
function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} !== ${String(b)}`;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs object`;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return `${path}: prototypes differ`;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (JSON.stringify(ka) !== JSON.stringify(kb)) return `${path}: members ${JSON.stringify(ka)} vs ${JSON.stringify(kb)}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}[${JSON.stringify(k)}]`);
    if (d !== undefined) return d;
  }
  return undefined;
}

function expectSameJson(actual: unknown, expected: unknown): void {
  expect(difference(actual, expected)).toBeUndefined();
}

describe('RFC 8259 grammar: accepted', () => {
  it.each([
    '[]',
    '{}',
    ' \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n',
    '{ "a" : 1 , "b" : [ ] }',
    '0',
    '-0',
    '[-0.0]',
    '[1E22]',
    '[1e-2]',
    '[-1.5E+3]',
    '[0.000001]',
    '[1.7976931348623157e308]',
    '[5e-324]',
    '[1e-400]',
    '[123456789012345]',
    '[9007199254740991, -9007199254740991]',
    '[9007199254740993.0]',
    '[true,false,null]',
    '"plain"',
    '""',
    '["\\"\\\\\\/\\b\\f\\n\\r\\t"]',
    '["\\u0000\\u001F\\u00e9\\u00E9\\u20ac"]',
    '["\\uD834\\uDD1E"]',
    '["\\ud83d\\ude02 and raw \u{1F602}"]',
    '["\u007f\u0080\u2028\u2029\uFEFF"]',
    '{"":0,"a":{"":[]}}',
    '[[[[[]]]]]',
    '{"a":[{"b":{"c":[1,{"d":null}]}}]}',
  ])('%j parses as JSON.parse does', (text) => {
    expectSameJson(parseJson(text), JSON.parse(text));
    expectSameJson(parseJsonBytes(utf8(text)), JSON.parse(text));
  });

  it('keeps -0 as JSON.parse does', () => {
    expect(Object.is(parseJson('-0'), -0)).toBe(true);
    expect(Object.is(parseJson('[-0.0]'), -0)).toBe(false);
    expect(Object.is((parseJson('[-0.0]') as number[])[0], -0)).toBe(true);
  });
});

describe('RFC 8259 grammar: rejected with JSON_SYNTAX and an offset', () => {
  it.each([
    ['', 0],
    [' ', 1],
    ['[', 1],
    [']', 0],
    ['[1,]', 3],
    ['[,1]', 1],
    ['[1,,2]', 3],
    ['{"a":1,}', 7],
    ['{,}', 1],
    ['{"a" 1}', 5],
    ['{"a":}', 5],
    ['{"a"}', 4],
    ['{"a":1 "b":2}', 7],
    ["{'a':1}", 1],
    ['{a:1}', 1],
    ['{1:1}', 1],
    ['[01]', 1],
    ['[-01]', 2],
    ['[00]', 1],
    ['[1.]', 3],
    ['[.1]', 1],
    ['[1.e1]', 3],
    ['[1e]', 3],
    ['[1e+]', 4],
    ['[-]', 2],
    ['[+1]', 1],
    ['[--1]', 2],
    ['[- 1]', 2],
    ['[0x10]', 2],
    ['[NaN]', 1],
    ['[Infinity]', 1],
    ['[-Infinity]', 2],
    ['[tru]', 1],
    ['[True]', 1],
    ['[nul]', 1],
    ['[1 2]', 3],
    ['["a" "b"]', 5],
    ['[1]x', 3],
    ['[1]]', 3],
    ['{"a":1}{"b":2}', 7],
    ['"\\x41"', 1],
    ['"\\a"', 1],
    ['"\\U0041"', 1],
    ['"\\u12"', 1],
    ['"\\uZZZZ"', 1],
    ['"\\u"', 1],
    ['"a\tb"', 2],
    ['"a\nb"', 2],
    ['"\u0000"', 1],
    ['"\u001f"', 1],
    ['"abc', 0],
    ['"abc\\', 0],
    ['["\\', 1],
    ['/* c */ 1', 0],
    ['// c\n1', 0],
    ['[1]//', 3],
    ['# c\n1', 0],
    ['\u00a01', 0],
    ['\u000b1', 0],
    ['\u000c1', 0],
    ['\u20281', 0],
    ['\uFEFF1', 0],
    ['[1]\u0000', 3],
    ['[1e1.5]', 4],
    ['[1,2', 4],
    ['{"a":1', 6],
    ['{"a"', 4],
    ['undefined', 0],
  ])('%j (offset %i)', (text, offset) => {
    const e = caught(() => parseJson(text));
    expect(e.code).toBe('JSON_SYNTAX');
    expect(e.details.offset).toBe(offset);
    expect(e.message).toContain(`offset ${offset}`);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it('reports byte offsets for bytes and UTF-16 offsets for text', () => {
    const text = '["é€😂",]';
    expect(caught(() => parseJson(text)).details.offset).toBe(8);
    const e = caught(() => parseJsonBytes(utf8(text)));
    expect(e.details.offset).toBe(13);
    expect(e.message).toContain('byte offset 13');
  });
});

describe('duplicate member names (JSON_DUPLICATE_KEY)', () => {
  it.each([
    ['{"a":1,"a":2}', 'a', 7],
    ['{"a":{"b":[{"c":1,"d":2,"c":3}]}}', 'a.b[0].c', 24],
    ['[0,{"x":{"y":1}},{"x":0,"x":0}]', '[2].x', 24],
    ['{"x.y":{"z":1,"z":2}}', '["x.y"].z', 14],
    ['{"a":1,"\\u0061":2}', 'a', 7],
    ['{"__proto__":1,"__proto__":2}', '__proto__', 15],
    ['{"toString":1,"toString":2}', 'toString', 14],
    ['{"":1,"":2}', '[""]', 6],
  ])('%j at %s', (text, field, offset) => {
    const e = caught(() => parseJson(text));
    expect(e.code).toBe('JSON_DUPLICATE_KEY');
    expect(e.details).toMatchObject({ field, offset });
    expect(e.message).toContain(field);
  });

  it('does not confuse names with Object.prototype members', () => {
    const text = '{"constructor":1,"hasOwnProperty":2,"toString":3,"valueOf":4,"isPrototypeOf":5,"__defineGetter__":6,"propertyIsEnumerable":7}';
    const v = parseJson(text) as Record<string, unknown>;
    expect(Object.keys(v)).toHaveLength(7);
    expect(canonicalize(v)).toBe(canonicalize(JSON.parse(text)));
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
  });

  it('allows the same name in different objects', () => {
    expect(parseJson('{"a":{"a":{"a":1}},"b":{"a":2}}')).toEqual({ a: { a: { a: 1 } }, b: { a: 2 } });
  });
});

describe('__proto__ is an ordinary member', () => {
  it('becomes an own data property and never sets the prototype', () => {
    const v = parseJson('{"__proto__":{"polluted":true},"a":[{"__proto__":[]}]}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')).toEqual({ value: { polluted: true }, writable: true, enumerable: true, configurable: true });
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    const inner = (v['a'] as Record<string, unknown>[])[0]!;
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype);
    expect(Object.hasOwn(inner, '__proto__')).toBe(true);
    expect(Array.isArray(inner['__proto__'])).toBe(true);
  });

  it('matches JSON.parse and canonicalizes', () => {
    const text = '{"z":0,"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}';
    const v = parseJson(text);
    expectSameJson(v, JSON.parse(text));
    expect(canonicalize(v)).toBe('{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}},"z":0}');
  });

  it('works when Object.prototype is frozen (hardened JavaScript)', () => {
    // Assigning a member named like an inherited read-only property throws in
    // strict mode (the "override mistake"); the parser defines such members.
    const desc = Object.getOwnPropertyDescriptor(Object.prototype, 'toString')!;
    Object.defineProperty(Object.prototype, 'toString', { ...desc, writable: false });
    try {
      expect(Object.keys(parseJson('{"toString":"x"}') as object)).toEqual(['toString']);
    } finally {
      Object.defineProperty(Object.prototype, 'toString', desc);
    }
  });
});

describe('lone surrogates (JSON_LONE_SURROGATE)', () => {
  it.each([
    ['"\\ud800"', ''],
    ['"\\udc00"', ''],
    ['"\\uDBFF"', ''],
    ['"\\ud800\\u0041"', ''],
    ['"\\ud800x"', ''],
    ['"a\\ud83d"', ''],
    ['"\\ude02\\ud83d"', ''],
    ['{"a":["\\ud800"]}', 'a[0]'],
    ['{"a":{"\\udfff":1}}', 'a'],
    ['"raw \ud800 lone"', ''],
    ['["raw \udc00"]', '[0]'],
  ])('%j', (text, field) => {
    const e = caught(() => parseJson(text));
    expect(e.code).toBe('JSON_LONE_SURROGATE');
    expect(e.details.field).toBe(field);
  });

  it('accepts pairs, however spelled', () => {
    expect(parseJson('"\\ud83d\\ude02"')).toBe('\u{1F602}');
    expect(parseJson('"\\uD83D\\uDE02x"')).toBe('\u{1F602}x');
    expect(parseJson('"\u{1F602}"')).toBe('\u{1F602}');
    expect(parseJson('"\ud83d\\ude02"')).toBe('\u{1F602}');
  });
});

describe('number range (JSON_NUMBER_RANGE)', () => {
  it.each(['9007199254740992', '-9007199254740992', '9007199254740993', '123456789012345678901234567890', '1e400', '-1e400', '1.8e308', '[0,{"n":1e999}]'])('%s', (text) => {
    expect(caught(() => parseJson(text)).code).toBe('JSON_NUMBER_RANGE');
  });

  it('names the path', () => {
    expect(caught(() => parseJson('{"transfer":{"bytes":99999999999999999}}')).details).toMatchObject({ field: 'transfer.bytes', offset: 21 });
  });

  it.each([
    ['9007199254740991', 9007199254740991],
    ['-9007199254740991', -9007199254740991],
    ['1e21', 1e21],
    ['9007199254740992.0', 9007199254740992],
    ['1.7976931348623157e308', 1.7976931348623157e308],
    ['1e-400', 0],
    ['0.1', 0.1],
    ['1234567890123456', 1234567890123456],
  ])('accepts %s', (text, value) => {
    expect(parseJson(text)).toBe(value);
  });

  it('parses every safe integer and every double exactly as JSON.parse does', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(parseJson(String(n))).toBe(n);
      }),
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('e', 'E'), (d, e) => {
        const text = d.toExponential().replace('e', e);
        expect(parseJson(text)).toBe(JSON.parse(text));
      }),
    );
  });
});

describe('limits', () => {
  it('documents the defaults', () => {
    expect(DEFAULT_JSON_LIMITS).toEqual({ maxBytes: 1_048_576, maxDepth: 32, maxStringLength: 65_536, maxMembers: 10_000 });
    expect(Object.isFrozen(DEFAULT_JSON_LIMITS)).toBe(true);
  });

  it('maxDepth: the outermost container is depth 1', () => {
    const nest = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    expect(() => parseJson(nest(32))).not.toThrow();
    const e = caught(() => parseJson(nest(33)));
    expect(e.code).toBe('JSON_TOO_DEEP');
    expect(e.details).toMatchObject({ offset: 32, limit: 32 });
    expect(caught(() => parseJson('{"a":{"b":[{}]}}', { maxDepth: 3 })).details).toMatchObject({ field: 'a.b[0]' });
    expect(parseJson('{"a":{"b":[1]}}', { maxDepth: 3 })).toEqual({ a: { b: [1] } });
    expect(parseJson('"scalar"', { maxDepth: 0 })).toBe('scalar');
  });

  it('maxDepth beyond what the engine can recurse is still JSON_TOO_DEEP', () => {
    const n = 200_000;
    const text = '['.repeat(n) + ']'.repeat(n);
    expect(caught(() => parseJson(text, { maxDepth: Infinity, maxBytes: Infinity })).code).toBe('JSON_TOO_DEEP');
  });

  it('maxBytes counts UTF-8 bytes, before parsing', () => {
    const limits: JsonLimits = { maxBytes: 10 };
    expect(parseJson('"12345678"', limits)).toBe('12345678');
    expect(caught(() => parseJson('"123456789"', limits))).toMatchObject({ code: 'JSON_TOO_LARGE', details: { limit: 10 } });
    expect(parseJson('"éééé"', limits)).toBe('éééé');
    expect(caught(() => parseJson('"ééééé"', limits)).code).toBe('JSON_TOO_LARGE');
    expect(caught(() => parseJsonBytes(utf8('"ééééé"'), limits)).code).toBe('JSON_TOO_LARGE');
    // Rejected before it is looked at: invalid JSON that is too large is too large.
    expect(caught(() => parseJson('x'.repeat(11), limits)).code).toBe('JSON_TOO_LARGE');
    expect(caught(() => parseJson(' '.repeat(DEFAULT_JSON_LIMITS.maxBytes) + '1')).code).toBe('JSON_TOO_LARGE');
  });

  it('maxStringLength applies to values and member names, after unescaping', () => {
    const limits: JsonLimits = { maxStringLength: 4 };
    expect(parseJson('["abcd","\\u0061\\u0062cd",{"wxyz":1}]', limits)).toEqual(['abcd', 'abcd', { wxyz: 1 }]);
    for (const text of ['"abcde"', '"\\u0061bcde"', '{"vwxyz":1}', '["ok","ab\\ncd"]']) {
      expect(caught(() => parseJson(text, limits)).code).toBe('JSON_TOO_LARGE');
    }
    expect(caught(() => parseJson('{"k":[0,"abcde"]}', limits)).details).toMatchObject({ field: 'k[1]', limit: 4 });
  });

  it('maxMembers applies to each object and each array', () => {
    const limits: JsonLimits = { maxMembers: 3 };
    expect(parseJson('[[1,2,3],{"a":1,"b":2,"c":3}]', limits)).toEqual([[1, 2, 3], { a: 1, b: 2, c: 3 }]);
    expect(caught(() => parseJson('[1,2,3,4]', limits)).code).toBe('JSON_TOO_LARGE');
    expect(caught(() => parseJson('{"x":{"a":1,"b":2,"c":3,"d":4}}', limits)).details).toMatchObject({ field: 'x', limit: 3 });
  });

  it('the defaults admit a 1 MiB array of events', () => {
    const event = { id: 'evt', actor: { id: 'u', roles: ['a', 'b'] }, n: 1.5 };
    const text = JSON.stringify(Array.from({ length: 9_000 }, (_, i) => ({ ...event, seq: i })));
    expect(text.length).toBeLessThan(DEFAULT_JSON_LIMITS.maxBytes);
    expectSameJson(parseJson(text), JSON.parse(text));
  });
});

describe('bytes', () => {
  it.each([
    ['a lone continuation byte', bytesOf(0x22, 0x80, 0x22)],
    ['0xff', bytesOf(0x22, 0xff, 0x22)],
    ['an overlong "/"', bytesOf(0x22, 0xc0, 0xaf, 0x22)],
    ['a truncated sequence', bytesOf(0x22, 0xe2, 0x82, 0x22)],
    ['an encoded surrogate', bytesOf(0x22, 0xed, 0xa0, 0x80, 0x22)],
    ['a code point above U+10FFFF', bytesOf(0x22, 0xf4, 0x90, 0x80, 0x80, 0x22)],
    ['invalid bytes outside a string', bytesOf(0x5b, 0x31, 0x5d, 0xfe)],
  ])('rejects %s (INVALID_UTF8)', (_, bytes) => {
    expect(caught(() => parseJsonBytes(bytes)).code).toBe('INVALID_UTF8');
  });

  it('rejects a byte order mark', () => {
    const e = caught(() => parseJsonBytes(bytesOf(0xef, 0xbb, 0xbf, 0x7b, 0x7d)));
    expect(e.code).toBe('JSON_SYNTAX');
    expect(e.details.offset).toBe(0);
    expect(e.message).toMatch(/byte order mark/);
  });

  it('decodes UTF-8 strictly and keeps every code point', () => {
    expect(parseJsonBytes(utf8('{"ö":"€ \u{1F602} \u0000"}'.replace('\u0000', '\\u0000')))).toEqual({ ö: '€ \u{1F602} \u0000' });
  });
});

describe('property: agrees with JSON.parse on JSON.stringify output', () => {
  // Values the strict parser must accept: finite doubles, except integers
  // beyond 2^53 - 1 that JSON.stringify would spell without an exponent.
  const safeDouble = fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((d) => !(Number.isInteger(d) && Math.abs(d) > Number.MAX_SAFE_INTEGER && Math.abs(d) < 1e21));
  const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '10', ''));
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      safeDouble,
      fc.maxSafeInteger(),
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('"', '\\', '/', '\n', '\u0000', '\u001f', '\u2028', 'a', '\u{1F602}') }),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ),
  }));

  it('parseJson(JSON.stringify(x)) deep-equals JSON.parse(JSON.stringify(x))', () => {
    fc.assert(
      fc.property(value, fc.constantFrom(undefined, 1, '\t'), (x, indent) => {
        const text = JSON.stringify(x, null, indent);
        const expected: unknown = JSON.parse(text);
        expectSameJson(parseJson(text), expected);
        expectSameJson(parseJsonBytes(utf8(text)), expected);
      }),
    );
  });

  it('parses canonical text back to a value with the same canonical text', () => {
    fc.assert(
      fc.property(value, (x) => {
        const c = canonicalize(x);
        expect(canonicalize(parseJson(c))).toBe(c);
      }),
    );
  });

  it('never throws anything but a TrailsealError on arbitrary text', () => {
    const jsonish = fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'u', 'd', '8', '0', '1', 'e', '-', '.', ' ', 't', 'n', 'a', '\ud800') });
    fc.assert(
      fc.property(fc.oneof(jsonish, fc.string({ unit: 'binary' })), (text) => {
        let ours: unknown;
        let error: unknown;
        try {
          ours = parseJson(text);
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          expect((error as { name: string }).name).toBe('TrailsealError');
          return;
        }
        // Whatever it accepts, JSON.parse accepts with the same result.
        expectSameJson(ours, JSON.parse(text));
      }),
    );
  });
});

describe('the JSON.parse fast path', () => {
  it('returns what JSON.parse built when it can vouch for it', () => {
    const spy = vi.spyOn(JSON, 'parse');
    try {
      const text = '{"a":[1,-0,2.5,"x\\"y"],"__proto__":{"b":null},"c":"\\u00e9\\ud83d\\ude02"}';
      const v = parseJson(text);
      expect(spy).toHaveBeenCalledTimes(1);
      expect(spy.mock.results[0]!.value).toBe(v);
      expectSameJson(v, parseJsonStrict(text));
    } finally {
      spy.mockRestore();
    }
  });

  it('still refuses what JSON.parse accepts and I-JSON forbids', () => {
    expect(caught(() => parseJson('{"a":1,"b":{"c":"\\"","c":2}}')).code).toBe('JSON_DUPLICATE_KEY');
    expect(caught(() => parseJsonBytes(utf8('[{"a":"\\\\","a":"\\\\"}]'))).code).toBe('JSON_DUPLICATE_KEY');
    expect(caught(() => parseJson('["\\ud800"]')).code).toBe('JSON_LONE_SURROGATE');
    expect(caught(() => parseJson('{"\\udc00":1}')).code).toBe('JSON_LONE_SURROGATE');
    expect(caught(() => parseJson('9007199254740992')).code).toBe('JSON_NUMBER_RANGE');
    expect(caught(() => parseJson('[1e400]')).code).toBe('JSON_NUMBER_RANGE');
    expect(parseJson('[1e20, -1.5e300]')).toEqual([1e20, -1.5e300]);
  });

  // Texts built to hit every check: a small pool of member names (so
  // duplicates are common, __proto__ and prototype names among them),
  // escaped quotes and backslashes next to the delimiters, surrogates
  // escaped alone and in pairs, numbers on both sides of 2^53 and of
  // infinity, and limits small enough to be reached.
  const piece = fc.constantFrom('a', 'é', '\\"', '\\\\', '\\\\u0041', '\\u0041', '\\ud800', '\\udc00', '\\ud83d\\ude02', '😂', '\\n', '\\/', ':', ',');
  const stringText = fc.array(piece, { maxLength: 4 }).map((ps) => `"${ps.join('')}"`);
  const nameText = fc.oneof(stringText, fc.constantFrom('"a"', '"a"', '"b"', '"__proto__"', '"constructor"', '"0"', '"\\u0061"'));
  const numberText = fc.constantFrom('0', '-0', '1.0', '7', '1e20', '-1E+20', '9007199254740991', '-9007199254740991', '9007199254740992', '-9007199254740993', '123456789012345678', '1e400', '-1e400', '1e-400', '0.1', '12.5e-3');
  const ws = fc.constantFrom('', '', ' ', '\n\t');
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom('null', 'true', 'false'),
      numberText,
      stringText,
      fc.tuple(fc.array(tie('value'), { maxLength: 4 }), ws).map(([xs, w]) => `[${w}${xs.join(`,${w}`)}]`),
      fc.tuple(fc.array(fc.tuple(nameText, tie('value')), { maxLength: 4 }), ws).map(([ms, w]) => `{${ms.map(([k, v]) => `${w}${k}${w}:${v}`).join(',')}}`),
    ),
  }));
  const limits = fc.option(fc.record({ maxDepth: fc.integer({ min: 1, max: 5 }), maxMembers: fc.integer({ min: 1, max: 5 }), maxStringLength: fc.integer({ min: 0, max: 8 }) }), { nil: undefined });

  it('countQuoteBytes counts the 0x22 bytes of any slice of any buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0x22), fc.constant(0xa2), fc.constant(0x5c), fc.integer({ min: 0, max: 255 })), { maxLength: 64 }), fc.nat(7), fc.nat(7), (xs, at, extra) => {
        const buf = new Uint8Array(at + xs.length + extra);
        buf.set(xs, at);
        buf.fill(0x22, 0, at);
        buf.fill(0x22, at + xs.length);
        expect(countQuoteBytes(buf.subarray(at, at + xs.length))).toBe(xs.filter((x) => x === 0x22).length);
      }),
      { numRuns: 5000 },
    );
  });

  function outcome(f: () => unknown): { v: unknown } | { e: Caught } {
    try {
      return { v: f() };
    } catch (e) {
      return { e: e as Caught };
    }
  }

  it('agrees with the strict parser on values, errors and their offsets', () => {
    fc.assert(
      // The bytes sit at any offset of their buffer (the quote count reads them a word at a time).
      fc.property(value, limits, fc.nat(7), (text, l, at) => {
        const expected = outcome(() => parseJsonStrict(text, l));
        const ours = outcome(() => parseJson(text, l));
        const encoded = utf8(text);
        const buf = new Uint8Array(at + encoded.length + 3);
        buf.set(encoded, at);
        const bytes = outcome(() => parseJsonBytes(buf.subarray(at, at + encoded.length), l));
        if ('e' in expected) {
          expect('e' in ours && { code: ours.e.code, message: ours.e.message, details: ours.e.details }).toEqual({ code: expected.e.code, message: expected.e.message, details: expected.e.details });
          expect('e' in bytes && bytes.e.code).toBe(expected.e.code);
        } else {
          expect('v' in ours && 'v' in bytes).toBe(true);
          if ('v' in ours && 'v' in bytes) {
            expectSameJson(ours.v, expected.v);
            expectSameJson(bytes.v, expected.v);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
