import { readFileSync, readdirSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, isWellFormedString, parseJson, parseJsonBytes, toHex, utf8 } from '@trailseal/format';

// The RFC co-author's vectors live beside the repository (shared/vectors/jcs),
// located from this file so that any checkout folder name works.
const VECTORS = new URL('../../../../shared/vectors/jcs/', import.meta.url);
const names = readdirSync(new URL('input/', VECTORS)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length));

// The `canonicalize` npm package, for differential testing. It is CommonJS and
// its typings claim an ES default export, so load it with require().
const npmCanonicalize = createRequire(import.meta.url)('canonicalize') as (input: unknown) => string | undefined;

const codeOf = (f: () => unknown): { code: string; field: unknown } => {
  try {
    f();
  } catch (e) {
    const err = e as { code: string; details: { field?: unknown } };
    return { code: err.code, field: err.details.field };
  }
  throw new Error('expected a throw');
};

/** A copy of a JSON value with every object's members inserted in a shuffled order. */
function shuffled(v: unknown, seed: number): unknown {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (typeof x !== 'object' || x === null) return x;
    const keys = Object.keys(x);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = next() % (i + 1);
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) Object.defineProperty(out, k, { value: walk((x as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
    return out;
  };
  return walk(v);
}

const jsonValues = fc.jsonValue({ stringUnit: 'binary', maxDepth: 5 });

describe('RFC 8785 vectors (cyberphone/json-canonicalization testdata)', () => {
  it('finds the vectors', () => {
    expect(names.length).toBeGreaterThanOrEqual(6);
  });

  describe.each(names)('%s', (name) => {
    const input = readFileSync(new URL(`input/${name}.json`, VECTORS));
    const expected = new Uint8Array(readFileSync(new URL(`output/${name}.json`, VECTORS)));
    const expectedHex = readFileSync(new URL(`outhex/${name}.txt`, VECTORS), 'utf8').replace(/\s+/g, '');

    it('canonicalize(JSON.parse(input)) equals output byte for byte, and outhex', () => {
      const bytes = utf8(canonicalize(JSON.parse(input.toString('utf8'))));
      expect(bytes).toEqual(expected);
      expect(toHex(bytes)).toBe(expectedHex);
    });

    it('gives the same bytes through the strict parser', () => {
      expect(utf8(canonicalize(parseJsonBytes(new Uint8Array(input))))).toEqual(expected);
      expect(utf8(canonicalize(parseJson(input.toString('utf8'))))).toEqual(expected);
    });

    it('is a fixed point on the expected output', () => {
      const text = new TextDecoder().decode(expected);
      expect(canonicalize(parseJson(text))).toBe(text);
    });
  });
});

describe('numbers (RFC 8785 section 3.2.2.3 and Appendix B)', () => {
  const fromBits = (hex: string): number => new DataView(new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16))).buffer).getFloat64(0);

  // Appendix B: IEEE 754 bit patterns and their required serialization.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('0x%s serializes as %s', (bits, text) => {
    expect(canonicalize(fromBits(bits))).toBe(text);
    expect(canonicalize([fromBits(bits)])).toBe(`[${text}]`);
  });

  it.each([
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [1e20, '100000000000000000000'],
    [0.1, '0.1'],
    [-0, '0'],
    [5e-324, '5e-324'],
    [9007199254740992, '9007199254740992'],
    [4.5, '4.5'],
    [2e-3, '0.002'],
    [1e-27, '1e-27'],
  ])('%d serializes as %s', (n, text) => {
    expect(canonicalize({ n })).toBe(`{"n":${text}}`);
  });

  it.each([NaN, Infinity, -Infinity])('rejects %d (JCS_NON_FINITE_NUMBER)', (n) => {
    expect(codeOf(() => canonicalize(n))).toEqual({ code: 'JCS_NON_FINITE_NUMBER', field: '' });
    expect(codeOf(() => canonicalize({ a: { b: [0, n] } }))).toEqual({ code: 'JCS_NON_FINITE_NUMBER', field: 'a.b[1]' });
  });

  it('agrees with Number.prototype.toString for every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(canonicalize(d)).toBe(Object.is(d, -0) ? '0' : String(d));
      }),
    );
  });
});

describe('strings and member names (RFC 8785 section 3.2.2.2)', () => {
  it('escapes exactly the required characters, lowercase hex', () => {
    expect(canonicalize('\u0000\u0001\b\t\n\u000b\f\r\u001f "\\/\u007f\u0080\u2028\u{1F600}')).toBe(
      '"\\u0000\\u0001\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\u007f\u0080\u2028\u{1F600}"',
    );
  });

  it('sorts member names by UTF-16 code units, not code points or locale', () => {
    // U+FB33 (one unit) sorts after the surrogate pair of U+1F602 by code
    // units, although it is the smaller code point.
    const v = { '\uFB33': 1, '\u{1F602}': 2, a: 3, A: 4, '10': 5, '9': 6, '': 7, é: 8 };
    expect(canonicalize(v)).toBe('{"":7,"10":5,"9":6,"A":4,"a":3,"é":8,"\u{1F602}":2,"\uFB33":1}');
  });

  it.each([
    ['a\ud800', ''],
    ['\udc00', ''],
    ['\ud800\ud800', ''],
    ['x\udbff', ''],
  ])('rejects lone surrogates in strings: %j', (s, field) => {
    expect(codeOf(() => canonicalize(s))).toEqual({ code: 'JCS_LONE_SURROGATE', field });
    expect(codeOf(() => canonicalize({ actor: { name: s } }))).toEqual({ code: 'JCS_LONE_SURROGATE', field: 'actor.name' });
  });

  it('rejects lone surrogates in member names, naming the member', () => {
    expect(codeOf(() => canonicalize({ ctx: { '\ud800': 1 } }))).toEqual({ code: 'JCS_LONE_SURROGATE', field: 'ctx["\\ud800"]' });
  });

  it('accepts exactly the well-formed strings, spelled as JSON.stringify spells them', () => {
    const anyUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 8 });
    fc.assert(
      fc.property(anyUnits, (s) => {
        const wellFormed = (s as unknown as { isWellFormed(): boolean }).isWellFormed();
        expect(isWellFormedString(s)).toBe(wellFormed);
        if (wellFormed) expect(canonicalize(s)).toBe(JSON.stringify(s));
        else expect(codeOf(() => canonicalize(s)).code).toBe('JCS_LONE_SURROGATE');
      }),
    );
  });
});

describe('values without a JSON form (JCS_UNSUPPORTED_VALUE)', () => {
  class Point {
    x = 1;
  }
  const holey: number[] = [];
  holey[0] = 1;
  holey[2] = 3;
  const cases: [string, unknown, string][] = [
    ['undefined', undefined, ''],
    ['undefined member (JSON.stringify would drop it)', { a: 1, b: undefined }, 'b'],
    ['undefined array element', { grants: [1, 2, 3, undefined] }, 'grants[3]'],
    ['array hole', { grants: holey }, 'grants[1]'],
    ['function', { f: () => 1 }, 'f'],
    ['symbol', { s: Symbol('x') }, 's'],
    ['bigint', { n: 10n }, 'n'],
    ['Date', { at: new Date(0) }, 'at'],
    ['Map', { m: new Map() }, 'm'],
    ['Set', [new Set()], '[0]'],
    ['Uint8Array', { b: new Uint8Array(2) }, 'b'],
    ['class instance', { p: new Point() }, 'p'],
    ['boxed string', { s: new String('x') }, 's'],
    ['RegExp', { r: /x/ }, 'r'],
    ['odd member name', { 'a b': { 'c.d': [undefined] } }, '["a b"]["c.d"][0]'],
  ];
  it.each(cases)('%s', (_, value, field) => {
    expect(codeOf(() => canonicalize(value))).toEqual({ code: 'JCS_UNSUPPORTED_VALUE', field });
  });

  it('rejects cycles, naming where the value recurs', () => {
    const a: Record<string, unknown> = { x: 1 };
    a['self'] = a;
    expect(codeOf(() => canonicalize(a))).toEqual({ code: 'JCS_UNSUPPORTED_VALUE', field: 'self' });
    const list: unknown[] = [1];
    const root = { data: { list } };
    list.push(root);
    expect(codeOf(() => canonicalize(root))).toEqual({ code: 'JCS_UNSUPPORTED_VALUE', field: 'data.list[1]' });
  });

  it('accepts a value shared by two members (not a cycle)', () => {
    const shared = { k: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"k":1},"b":[{"k":1},{"k":1}]}');
  });

  it('never calls toJSON', () => {
    expect(codeOf(() => canonicalize({ toJSON: () => 'x', a: 1 }))).toEqual({ code: 'JCS_UNSUPPORTED_VALUE', field: 'toJSON' });
    expect(canonicalize({ toJSON: 'data', a: 1 })).toBe('{"a":1,"toJSON":"data"}');
    // Not even one installed on the prototypes.
    const protos = [Object.prototype, Array.prototype] as unknown as Record<string, unknown>[];
    for (const p of protos) {
      Object.defineProperty(p, 'toJSON', { value: () => 'hijacked', configurable: true, writable: true });
      try {
        expect(canonicalize({ b: [1, { c: 2 }], a: 'x' })).toBe('{"a":"x","b":[1,{"c":2}]}');
      } finally {
        delete p['toJSON'];
      }
    }
  });

  it('reports an error with a message that names the path', () => {
    expect(() => canonicalize({ actor: { name: undefined } })).toThrow(/actor\.name/);
  });
});

describe('plain objects', () => {
  it('accepts null-prototype objects and a member named __proto__', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['b'] = 1;
    o['__proto__'] = { x: [] };
    expect(canonicalize(o)).toBe('{"__proto__":{"x":[]},"b":1}');
    expect(canonicalize(JSON.parse('{"z":1,"__proto__":2}'))).toBe('{"__proto__":2,"z":1}');
  });

  it('accepts plain objects from another realm', () => {
    const foreign = runInNewContext('({ b: [1, { d: 2, c: 3 }], a: null })') as unknown;
    expect(canonicalize(foreign)).toBe('{"a":null,"b":[1,{"c":3,"d":2}]}');
  });

  it('ignores symbol-keyed and non-enumerable properties, as JSON does', () => {
    const o: Record<string | symbol, unknown> = { a: 1, [Symbol('s')]: 2 };
    Object.defineProperty(o, 'hidden', { value: 3, enumerable: false });
    expect(canonicalize(o)).toBe('{"a":1}');
  });

  it('handles deep nesting and wide objects', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200; i++) deep = i % 2 === 0 ? [deep] : { k: deep };
    expect(canonicalize(deep)).toBe(JSON.stringify(deep));
    const wide: Record<string, number> = {};
    for (let i = 999; i >= 0; i--) wide[`m${i}`] = i;
    const keys = Object.keys(wide).sort();
    expect(canonicalize(wide)).toBe(`{${keys.map((k) => `"${k}":${wide[k]}`).join(',')}}`);
  });

  it('sorts member names that are array indexes by code units too', () => {
    expect(canonicalize({ '2': 'b', '10': 'a', '1': 'c', x: 0 })).toBe('{"1":"c","10":"a","2":"b","x":0}');
    expect(canonicalize({ '4294967295': 1, '4294967294': 2, '01': 3 })).toBe('{"01":3,"4294967294":2,"4294967295":1}');
  });
});

describe('properties', () => {
  it('JSON.parse(canonicalize(x)) deep-equals x', () => {
    fc.assert(
      fc.property(jsonValues, (x) => {
        expect(JSON.parse(canonicalize(x))).toStrictEqual(JSON.parse(JSON.stringify(x)));
      }),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(jsonValues, (x) => {
        const c = canonicalize(x);
        expect(canonicalize(JSON.parse(c))).toBe(c);
        // The strict parser gives the same value back, unless the value holds
        // an integer it refuses as imprecise (such as 1e20, which JCS spells
        // with 21 digits).
        let reparsed: unknown;
        try {
          reparsed = parseJson(c);
        } catch (e) {
          expect((e as { code: string }).code).toBe('JSON_NUMBER_RANGE');
          return;
        }
        expect(canonicalize(reparsed)).toBe(c);
      }),
    );
  });

  it('does not depend on the order of members in the input', () => {
    fc.assert(
      fc.property(jsonValues, fc.integer(), (x, seed) => {
        expect(canonicalize(shuffled(x, seed))).toBe(canonicalize(x));
      }),
    );
  });

  it('agrees byte for byte with the canonicalize npm package on finite values', () => {
    fc.assert(
      fc.property(jsonValues, (x) => {
        expect(canonicalize(x)).toBe(npmCanonicalize(x));
      }),
    );
  });

  it('the reference serializer (taken for objects with array-index names) agrees with the fast path', () => {
    fc.assert(
      fc.property(jsonValues, (x) => {
        expect(canonicalize({ '0': x })).toBe(`{"0":${canonicalize(x)}}`);
      }),
    );
  });
});

describe('docs/spec/canonical-json.md', () => {
  const doc = readFileSync(new URL('../../../docs/spec/canonical-json.md', import.meta.url), 'utf8');

  it('shows the worked example exactly', () => {
    const input = /```json\n([\s\S]*?)\n```/.exec(doc)![1]!;
    const canonical = canonicalize(parseJson(input));
    expect(canonical).toBe(canonicalize(JSON.parse(input)));
    expect(doc).toContain(`\n${canonical}\n`);
    expect(doc).toContain(`(${utf8(canonical).length} bytes of UTF-8`);
  });

  it('shows the short example byte for byte', () => {
    const short = canonicalize(parseJson('{ "b": [1E1, "\\u00e9"], "a": -0.0 }'));
    expect(doc).toContain('`{ "b": [1E1, "\\u00e9"], "a": -0.0 }`');
    expect(doc).toContain(`canonical form \`${short}\`, ${utf8(short).length} bytes`);
    expect(doc).toContain(toHex(utf8(short)).replace(/(..)(?!$)/g, '$1 '));
  });

  it('states the default limits', () => {
    expect(doc).toMatch(/`maxBytes` \| 1,048,576 \(1 MiB\)/);
    expect(doc).toMatch(/`maxDepth` \| 32 \|/);
    expect(doc).toMatch(/`maxStringLength` \| 65,536 \|/);
    expect(doc).toMatch(/`maxMembers` \| 10,000 \|/);
  });
});
