// The field format scanners (src/formats.ts) against the regular expressions
// they replaced, kept here as the reference: on strings built near each
// grammar (valid ones, and each with one character changed, removed or
// repeated) and on random strings over the grammar's alphabet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHostname, isIPv4, isRfc3339 } from '../src/formats.js';

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function referenceRfc3339(s: string): boolean {
  const m = RFC3339_RE.exec(s);
  if (m === null) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) return false;
  if (m[9] !== undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return false;
  return true;
}

function referenceIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return false;
  }
  return true;
}

function referenceHostname(s: string): boolean {
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  if (name.length === 0 || name.length > 253) return false;
  for (const label of name.split('.')) {
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) return false;
  }
  return true;
}

/** `s`, or `s` with one character replaced, removed or doubled. */
function nearby(base: fc.Arbitrary<string>, alphabet: string): fc.Arbitrary<string> {
  const ch = fc.constantFrom(...alphabet.split(''), '\u00e9', '\u0660', ' ', '\u0000');
  return fc.tuple(base, fc.nat(), ch, fc.constantFrom('keep', 'replace', 'remove', 'double', 'insert')).map(([s, at, c, how]) => {
    const i = s.length === 0 ? 0 : at % s.length;
    switch (how) {
      case 'replace':
        return s.slice(0, i) + c + s.slice(i + 1);
      case 'remove':
        return s.slice(0, i) + s.slice(i + 1);
      case 'double':
        return s.slice(0, i + 1) + s.slice(i);
      case 'insert':
        return s.slice(0, i) + c + s.slice(i);
      default:
        return s;
    }
  });
}

const over = (alphabet: string, maxLength: number): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...alphabet.split('')), { maxLength }).map((cs) => cs.join(''));

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

const timestamps = fc
  .record({
    year: fc.integer({ min: 0, max: 9999 }),
    month: fc.integer({ min: 0, max: 13 }),
    day: fc.integer({ min: 0, max: 32 }),
    hour: fc.integer({ min: 0, max: 25 }),
    minute: fc.integer({ min: 0, max: 61 }),
    second: fc.integer({ min: 0, max: 61 }),
    fraction: fc.option(over('0123456789', 11), { nil: undefined }),
    zone: fc.oneof(fc.constant('Z'), fc.constant('z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 })).map(([sg, h, m]) => `${sg}${pad(h, 2)}:${pad(m, 2)}`)),
  })
  .map((t) => `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${t.fraction === undefined ? '' : `.${t.fraction}`}${t.zone}`);

const quads = fc.tuple(fc.nat(300), fc.nat(300), fc.nat(300), fc.nat(300), fc.boolean()).map(([a, b, c, d, lead]) => [lead ? `0${a}` : a, b, c, d].join('.'));

const hostnames = fc.oneof(
  fc.domain(),
  fc.array(over('abz09-', 65), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('.')),
  fc.tuple(fc.nat({ max: 70 }), fc.nat({ max: 5 }), fc.boolean()).map(([len, n, dot]) => Array.from({ length: n + 1 }, () => 'a'.repeat(len)).join('.') + (dot ? '.' : '')),
  fc.integer({ min: 240, max: 260 }).map((len) => `${'a'.repeat(len - 2)}.b`),
);

describe('field formats against their reference regular expressions', () => {
  it('isRfc3339', () => {
    fc.assert(
      fc.property(fc.oneof(nearby(timestamps, '0123456789-:T.Z+'), over('0123456789-:TZ.+', 36)), (s) => {
        expect([s, isRfc3339(s)]).toEqual([s, referenceRfc3339(s)]);
      }),
      { numRuns: 20_000 },
    );
    for (const s of ['2024-02-29T23:59:60.123456789+23:59', '2023-02-29T00:00:00Z', '0000-01-01T00:00:00Z', '2026-11-27T08:00:00.Z', '2026-11-27T08:00:00']) {
      expect([s, isRfc3339(s)]).toEqual([s, referenceRfc3339(s)]);
    }
  });

  it('isIPv4', () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV4Extended(), nearby(quads, '0123456789.'), over('0123456789.', 17)), (s) => {
        expect([s, isIPv4(s)]).toEqual([s, referenceIPv4(s)]);
      }),
      { numRuns: 20_000 },
    );
  });

  it('isHostname', () => {
    fc.assert(
      fc.property(fc.oneof(nearby(hostnames, 'aZ09-.'), over('aZ09-._', 20)), (s) => {
        expect([s, isHostname(s)]).toEqual([s, referenceHostname(s)]);
      }),
      { numRuns: 20_000 },
    );
  });
});
