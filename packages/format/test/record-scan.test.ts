// Differential tests of the record recognizer (src/record-scan.ts) against
// the reference path it stands in for: JSON.parse, validateRecord and
// canonicalize. The contract is one-way (a result only for lines the
// reference path accepts, with the same fields); these tests also check the
// converse, that it accepts every line the reference path accepts, since a
// recognizer that falls back too often is of no use for speed.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  LogSealer,
  canonicalRecordParts,
  canonicalize,
  joinMacInput,
  scanRecord,
  validateRecord,
  type EventV1,
  type ScannedRecord,
} from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';
import { fixedEvent } from '../../../test-support/events.js';

type Json = Record<string, unknown>;

/** The reference path: the parsed record if the line is canonical and schema-valid, else undefined. */
function reference(line: string): Json | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (validateRecord(value).length > 0) return undefined;
  try {
    return canonicalize(value) === line ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

function expectFields(scanned: ScannedRecord, record: Json): void {
  const action = record['action'] as string;
  expect(scanned).toEqual({
    seq: record['seq'],
    tenant: record['tenant'],
    prevHash: record['prev_hash'],
    receivedAt: record['received_at'],
    macKeyId: record['mac_key_id'],
    mac: record['mac'],
    action,
    system: action.startsWith('trailseal.'),
    macInputParts: scanned.macInputParts,
  });
  expect(scanned.macInputParts.join('')).toBe(joinMacInput(canonicalRecordParts(record)));
}

/**
 * The contract, both ways: a result exactly when the reference path accepts,
 * and then with the parsed fields. Returns whether the line was accepted.
 */
function expectAgreement(line: string): boolean {
  const record = reference(line);
  const scanned = scanRecord(line);
  if (scanned !== undefined) {
    expect(record, `scanRecord accepted a line the reference path rejects: ${line}`).toBeDefined();
    expectFields(scanned, record!);
  } else {
    expect(record, `scanRecord rejected a line the reference path accepts: ${line}`).toBeUndefined();
  }
  return scanned !== undefined;
}

const KEY = new Uint8Array(32).fill(3);
const newSealer = (): LogSealer => new LogSealer({ tenant: 'acme-1', origin: 'example.com/tenants/acme-1', tenantKey: KEY, signingSeed: KEY });

/** Lines as the log writes them: genesis, events, both kinds of key rotation. */
function sealedLines(events: readonly EventV1[]): string[] {
  const sealer = newSealer();
  const at = Date.UTC(2026, 10, 26, 9, 0, 0);
  const lines = [sealer.genesis(at).canonical];
  events.forEach((e, i) => {
    lines.push(sealer.append(e, at + i * 997).canonical);
    if (i === 3) lines.push(sealer.rotateSigningKey(new Uint8Array(32).fill(9), at + i * 997).canonical);
    if (i === 5) lines.push(sealer.rotateMacKeys(at + i * 997, 'suspected "exposure"\n').canonical);
  });
  return lines;
}

/** One event sealed after a genesis record: the record line. */
function sealOne(event: EventV1): string {
  const sealer = newSealer();
  sealer.genesis(0);
  return sealer.append(event, Date.UTC(2026, 0, 2, 3, 4, 5, 678)).canonical;
}

const withContext = (context: Json): string => sealOne({ ...fixedEvent(1), context });

/** Replaces the first occurrence of `from` (which must occur) by `to`. */
function replaceOnce(line: string, from: string, to: string): string {
  const at = line.indexOf(from);
  if (at < 0) throw new Error(`${from} does not occur in ${line}`);
  return line.slice(0, at) + to + line.slice(at + from.length);
}

describe('scanRecord on records the log writes', () => {
  it('accepts every sealed record of arbitrary valid events, with the parsed fields', () => {
    const sealer = newSealer();
    sealer.genesis(0);
    fc.assert(
      fc.property(validEvent, fc.integer({ min: 0, max: 4e12 }), (event, at) => {
        const line = sealer.append(event, at).canonical;
        const scanned = scanRecord(line);
        expect(scanned, line).toBeDefined();
        expectFields(scanned!, JSON.parse(line) as Json);
      }),
      { numRuns: 1500 },
    );
  });

  it('accepts genesis and key rotation records (system records)', () => {
    const lines = sealedLines([fixedEvent(1), fixedEvent(2), fixedEvent(3), fixedEvent(4), fixedEvent(5), fixedEvent(6)]);
    const system = lines.filter((l) => scanRecord(l)?.system === true);
    expect(system).toHaveLength(3);
    for (const line of lines) expectFields(scanRecord(line)!, JSON.parse(line) as Json);
  });

  it('accepts every line of the golden log', () => {
    const lines = readFileSync(new URL('../../../fixtures/golden/records.jsonl', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const scanned = scanRecord(line);
      expect(scanned, line).toBeDefined();
      expectFields(scanned!, JSON.parse(line) as Json);
    }
  });

  it('gives the same answer for a line however often the same values were seen before', () => {
    // The recognizer remembers the last accepted value of each member; a
    // remembered value must not let an altered neighbour through.
    const line = sealOne(fixedEvent(1));
    expect(scanRecord(line)).toBeDefined();
    const altered = replaceOnce(line, '"mfa":true', '"mfa":1');
    expect(scanRecord(altered)).toBeUndefined();
    expect(scanRecord(replaceOnce(line, '"tags":["PII","finance"]', '"tags":["PII","finance",""]'))).toBeUndefined();
    expect(scanRecord(line)).toBeDefined();
  });
});

// --- mutations ------------------------------------------------------------------

const BASE_LINES = sealedLines(fc.sample(validEvent, { numRuns: 120, seed: 20261126 }).concat([fixedEvent(7), fixedEvent(8)]));

/** Draws from fc.gen() inside a property. */
type Gen = fc.GeneratorValue;

const pick = <T>(g: Gen, xs: readonly T[]): T => xs[g(fc.nat, { max: xs.length - 1 })]!;
const at = (g: Gen, line: string): number => g(fc.nat, { max: line.length });

// Characters that matter to JSON, to canonical form, or to UTF-16.
const CHARS = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\t', '\n', '\r', '0', '1', '9', '-', '+', '.', 'e', 'E', 'a', 'u', 'n', 'x', '/', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '\ud83d', '\ude80', '🚀', '\ufeff'];
const TOKENS = ['null', 'true', 'false', '1.0', '1e0', '-0', '01', '""', '{}', '[]', '\\u0000', '\\u00e9', '\\/', '\\ud800', '"x":1,'];
const anyChar = (g: Gen): string => (g(fc.boolean) ? pick(g, CHARS) : String.fromCharCode(g(fc.nat, { max: 0xffff })));

/** Members of a canonical object's text, in order, as [name text, value text]. */
function membersOf(o: Json): [string, string][] {
  return Object.keys(o)
    .sort()
    .map((k) => [JSON.stringify(k), canonicalize(o[k])]);
}

/** Every object inside `v` (v itself included), for member-level mutations. */
function objectsIn(v: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(v)) for (const x of v) objectsIn(x, out);
  else if (typeof v === 'object' && v !== null) {
    out.push(v as Json);
    for (const x of Object.values(v)) objectsIn(x, out);
  }
  return out;
}

/** An edit of one object's member list, as text. */
function editMembers(g: Gen, ms: [string, string][]): [string, string][] {
  const out = ms.slice();
  const i = g(fc.nat, { max: Math.max(0, out.length - 1) });
  switch (g(fc.nat, { max: 7 })) {
    case 0: {
      const j = g(fc.nat, { max: Math.max(0, out.length - 1) });
      if (out[i] && out[j]) [out[i], out[j]] = [out[j]!, out[i]!];
      return out;
    }
    case 1:
      if (out[i]) out.splice(i, 0, out[i]!);
      return out;
    case 2:
      out.splice(i, 1);
      return out;
    case 3: {
      const name = pick(g, ['aaa', 'zzz', 'actor2', 'mac2', '__proto__', 'ID', '', 'sequence', 'id_', 'type', 'name', 'v']);
      out.splice(g(fc.nat, { max: out.length }), 0, [JSON.stringify(name), pick(g, ['1', '"x"', 'null', '{}', '[]', 'true'])]);
      return out;
    }
    case 4:
      if (out[i]) out[i] = [out[i]![0], pick(g, ['null', '1.0', '1e0', '1E0', '-0', '01', '"1"', '""', '[]', '{}', 'true', '0', '-1', '9007199254740993', '1e+21', '2'])];
      return out;
    case 5:
      if (out[i]) {
        // The same value in another valid spelling: a needless escape or an upper-case one.
        const v = out[i]![1];
        const k = g(fc.nat, { max: Math.max(0, v.length - 1) });
        const c = v.charCodeAt(k);
        if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[i] = [out[i]![0], v.slice(0, k) + `\\u${c.toString(16).padStart(4, '0')}` + v.slice(k + 1)];
      }
      return out;
    case 6:
      if (out[i]) out[i] = [`"\\u00${out[i]![0].charCodeAt(1).toString(16)}${out[i]![0].slice(2)}`, out[i]![1]];
      return out;
    default: {
      // Numbers in another spelling, when the value is one.
      if (out[i] && /^-?\d+$/.test(out[i]![1])) out[i] = [out[i]![0], `${out[i]![1]}${pick(g, ['.0', 'e0', 'E0', '.00', '0'])}`];
      return out;
    }
  }
}

/** A record object parsed from an (edited) line, if it still parses to a canonicalizable object. */
function parsed(line: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(line);
    canonicalize(v);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** Applies one random edit to a line (valid at first; two edits apply the second to the first's result). */
function mutate(g: Gen, line: string): string {
  switch (g(fc.nat, { max: 12 })) {
    case 0: {
      const k = at(g, line);
      return line.slice(0, k) + anyChar(g) + line.slice(k);
    }
    case 1: {
      const k = at(g, line);
      return line.slice(0, k) + line.slice(k + 1);
    }
    case 2: {
      const k = at(g, line);
      return line.slice(0, k) + anyChar(g) + line.slice(k + 1);
    }
    case 3: {
      const k = at(g, line);
      return line.slice(0, k) + pick(g, [' ', '\n', '\t', '\r\n']) + line.slice(k);
    }
    case 4: {
      const k = at(g, line);
      return line.slice(0, k) + pick(g, TOKENS) + line.slice(k + g(fc.nat, { max: 6 }));
    }
    case 5:
      return line.slice(0, at(g, line));
    case 6:
      return line + pick(g, ['\n', ' ', '}', ',', line, '\u0000']);
    case 7: {
      // Escapes in another spelling.
      const escapes = [...line.matchAll(/\\(u00[0-9a-f]{2}|["\\bfnrt])/g)];
      if (escapes.length === 0) return line.replace('"a', '"\\u0061');
      const e = pick(g, escapes);
      const text = e[0];
      const code = text.startsWith('\\u') ? parseInt(text.slice(2), 16) : ({ '"': 0x22, '\\': 0x5c, b: 8, f: 12, n: 10, r: 13, t: 9 } as Record<string, number>)[text[1]!]!;
      const other = pick(g, [text.toUpperCase(), `\\u${code.toString(16).padStart(4, '0')}`, `\\u${code.toString(16).padStart(4, '0').toUpperCase()}`, String.fromCharCode(code), '\\/']);
      return line.slice(0, e.index) + other + line.slice(e.index + text.length);
    }
    case 8: {
      // A member-level edit in the record or any object inside it.
      const record = parsed(line);
      if (record === undefined) return line;
      const target = pick(g, objectsIn(record));
      const before = canonicalize(target);
      const after = `{${editMembers(g, membersOf(target)).map(([k, v]) => `${k}:${v}`).join(',')}}`;
      if (target === record) return after;
      return line.includes(before) ? replaceOnce(line, before, after) : line;
    }
    case 9: {
      // The system-record rules.
      const record = parsed(line);
      if (record === undefined) return line;
      const edit = pick(g, ['system action', 'plain action', 'drop log', 'add log', 'add sigs']);
      if (edit === 'system action') record['action'] = 'trailseal.audit.event';
      else if (edit === 'plain action') record['action'] = 'log.genesis';
      else if (edit === 'drop log') delete record['log'];
      else if (edit === 'add log') record['log'] = {};
      else record['sigs'] = [];
      return canonicalize(record);
    }
    case 10:
      // Whitespace JSON.parse would skip, around any structural character.
      return line.replace(pick(g, ['{', '}', ':', ',', '[', ']']), (c) => pick(g, [` ${c}`, `${c} `, `${c}\n`]));
    case 11: {
      // A valid edit of a string's content (the result may be valid).
      const quotes = [...line.matchAll(/":"/g)];
      if (quotes.length === 0) return line;
      const q = pick(g, quotes).index + 3;
      return line.slice(0, q) + pick(g, ['a', 'Z', 'é', '🚀', '\\n', '\\u0001', '\\"', '\\\\', ' ', '\u2028']) + line.slice(q);
    }
    default: {
      // Two edits.
      return mutate(g, mutate(g, line));
    }
  }
}

describe('scanRecord on altered lines', () => {
  it('accepts an altered line only if the reference path does, and then with its fields', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const line = mutate(g, pick(g, BASE_LINES));
        if (expectAgreement(line)) accepted++;
      }),
      { numRuns: 12000, seed: 42 },
    );
    // Some edits keep a line valid (a character added to a string, say):
    // those must be accepted too, and must have occurred.
    expect(accepted).toBeGreaterThan(500);
  });

  it('agrees with the reference path on edits of the line it has just seen (remembered values)', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const line = pick(g, BASE_LINES);
        // Enough repetitions for every remembered value to be this line's:
        // after a run of misses a memo rests for up to 64 values before it
        // remembers and tries again.
        let all = true;
        for (let k = 0; k < 70; k++) all &&= scanRecord(line) !== undefined;
        expect(all).toBe(true);
        expectAgreement(mutate(g, line));
      }),
      { numRuns: 3000, seed: 7 },
    );
  });

  it('agrees with the reference path on random edits of random lines', () => {
    fc.assert(
      fc.property(fc.gen(), validEvent, (g, event) => {
        expectAgreement(mutate(g, sealOne(event)));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('scanRecord on near misses of the formats it reads itself', () => {
  // The recognizer reads the common spellings of timestamps, IPv4 addresses,
  // host names and email addresses without calling formats.ts; these edits
  // stay close to those spellings, where a mistake would hide.
  const line = sealOne(fixedEvent(1));
  const receivedAt = /"received_at":("[^"]*")/.exec(line)![1]!;
  const fields: [string, string, readonly string[]][] = [
    ['"time":"2026-11-26T09:15:02.123Z"', '"time":', [...'0123456789-:.TZ+ tz']],
    [`"received_at":${receivedAt}`, '"received_at":', [...'0123456789-:.TZ+ ']],
    ['"ip":"203.0.113.47"', '"ip":', [...'0123456789.:a ']],
    ['"hostname":"vpn-gw-2.forthbridge.example"', '"hostname":', [...'aZ09-._ é']],
    ['"email":"dana.whitfield@forthbridge.example"', '"email":', [...'a@. \u007f\u00a0é\u2028\ufeff']],
  ];
  const edit = (g: Gen, value: string, alphabet: readonly string[]): string => {
    let v = value;
    for (let n = g(fc.integer, { min: 1, max: 3 }); n > 0; n--) {
      const k = g(fc.nat, { max: v.length });
      const c = pick(g, alphabet);
      switch (g(fc.nat, { max: 2 })) {
        case 0:
          v = v.slice(0, k) + c + v.slice(k + 1);
          break;
        case 1:
          v = v.slice(0, k) + c + v.slice(k);
          break;
        default:
          v = v.slice(0, k) + v.slice(k + 1);
      }
    }
    return v;
  };

  it('agrees with the reference path on edited timestamps, addresses and host names', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const [member, name, alphabet] = pick(g, fields);
        const value = JSON.parse(member.slice(name.length)) as string;
        expectAgreement(replaceOnce(line, member, name + JSON.stringify(edit(g, value, alphabet))));
      }),
      { numRuns: 6000, seed: 11 },
    );
  });

  it('agrees with the reference path on calendar and range edges', () => {
    const time = (t: string): string => replaceOnce(line, '"time":"2026-11-26T09:15:02.123Z"', `"time":"${t}"`);
    for (const t of ['2024-02-29T00:00:00.000Z', '2023-02-29T00:00:00.000Z', '2000-02-29T23:59:60.999Z', '1900-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-12-31T00:00:00.000Z', '0000-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '2026-00-10T00:00:00.000Z', '2026-13-10T00:00:00.000Z', '2026-01-00T00:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T00:60:00.000Z', '2026-01-01T00:00:61.000Z', '2026-01-01t00:00:00.000Z', '2026-01-01T00:00:00.000z', '2026-01-01T00:00:00.00Z', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000+00:00']) {
      expectAgreement(time(t));
    }
    const ip = (a: string): string => replaceOnce(line, '"ip":"203.0.113.47"', `"ip":"${a}"`);
    for (const a of ['0.0.0.0', '255.255.255.255', '256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..3.4', '1.2.3.4.', '.1.2.3', '1.2.3.04', '1.2.3.0', '1234.1.1.1', '::1', '::ffff:1.2.3.4']) {
      expectAgreement(ip(a));
    }
    const host = (h: string): string => replaceOnce(line, '"hostname":"vpn-gw-2.forthbridge.example"', `"hostname":"${h}"`);
    for (const h of ['a', 'a.', '-a', 'a-', 'a.-b', 'a-.b', 'a..b', '.a', `${'a'.repeat(63)}.b`, `${'a'.repeat(64)}.b`, `b.${'a'.repeat(63)}`, `b.${'a'.repeat(64)}`, Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.'), `${Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.')}a`, `${Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.')}.`, 'A-9.z']) {
      expectAgreement(host(h));
    }
  });
});

// --- explicit cases ---------------------------------------------------------------

describe('scanRecord, explicit cases', () => {
  const line = sealOne({ ...fixedEvent(1), actor: { ...fixedEvent(1).actor, name: 'Dana\u0001 "Whit\\field"\n\u001f é 🚀 \u2028' } });
  const rejected = (l: string): void => {
    expect(scanRecord(l), l).toBeUndefined();
    expect(reference(l), l).toBeUndefined();
  };
  const accepted = (l: string): void => {
    expect(expectAgreement(l), l).toBe(true);
  };

  it('accepts the base line, escapes and non-ASCII included', () => {
    expect(line).toContain('Dana\\u0001 \\"Whit\\\\field\\"\\n\\u001f é 🚀 \u2028');
    accepted(line);
  });

  it('rejects whitespace, trailing data and truncation', () => {
    rejected(` ${line}`);
    rejected(`${line}\n`);
    rejected(`${line} `);
    rejected(replaceOnce(line, '{"action":', '{ "action":'));
    rejected(replaceOnce(line, '"action":', '"action" :'));
    rejected(replaceOnce(line, ',"actor":', ', "actor":'));
    rejected(`\ufeff${line}`);
    rejected(`${line}{}`);
    rejected(line.slice(0, -1));
    rejected('');
    rejected('{}');
  });

  it('rejects escapes that are not the canonical ones (RFC 8785 section 3.2.2.2)', () => {
    rejected(replaceOnce(line, '\\u001f', '\\u001F'));
    rejected(replaceOnce(line, '\\n', '\\u000a'));
    rejected(replaceOnce(line, '\\"', '\\u0022'));
    rejected(replaceOnce(line, 'Dana', 'D\\u0061na'));
    rejected(replaceOnce(line, 'https://', 'https:\\/\\/'));
    rejected(replaceOnce(line, '\\u0001', '\\x01'));
    rejected(replaceOnce(line, '\\u0001', '\u0001'));
    rejected(replaceOnce(line, '\\n', '\n'));
    rejected(replaceOnce(line, '\\u0001', '\\u00'));
    rejected(replaceOnce(line, '"action":', '"\\u0061ction":'));
  });

  it('rejects lone surrogates, raw or escaped', () => {
    rejected(replaceOnce(line, 'Dana', 'Dana\ud800'));
    rejected(replaceOnce(line, 'Dana', 'Dana\ude80'));
    rejected(replaceOnce(line, 'Dana', 'Dana\\ud800'));
    rejected(replaceOnce(line, 'Dana', 'Dana\\ud83d\\ude80'));
  });

  it('rejects numbers that are not canonical or not in range (section 3.2.2.3)', () => {
    const seq = /"seq":(\d+)/.exec(line)![1]!;
    for (const spelling of [`${seq}.0`, `${seq}e0`, `${seq}E0`, `0${seq}`, `-${seq}`, `${seq}.5`, `"${seq}"`, 'null', '9007199254740992', '1e+21']) {
      rejected(replaceOnce(line, `"seq":${seq}`, `"seq":${spelling}`));
    }
    rejected(replaceOnce(line, '"v":1', '"v":2'));
    rejected(replaceOnce(line, '"v":1', '"v":-0'));
    rejected(replaceOnce(line, '"v":1', '"v":1.0'));
    rejected(replaceOnce(line, '"port":52144', '"port":65536'));
    accepted(replaceOnce(line, '"port":52144', '"port":65535'));
    accepted(replaceOnce(line, '"size":1843221', '"size":9007199254740991'));
    rejected(replaceOnce(line, '"size":1843221', '"size":9007199254740993'));
  });

  it('rejects null, unknown, duplicated, misordered and missing members', () => {
    rejected(replaceOnce(line, '"mfa":true', '"mfa":null'));
    rejected(replaceOnce(line, '"mfa":true', '"mfa":"true"'));
    rejected(replaceOnce(line, '"mfa":true', '"mfa":true,"mfa2":true'));
    rejected(replaceOnce(line, '"mfa":true', '"mfa":true,"mfa":true'));
    rejected(replaceOnce(line, '"id":"u-48213","mfa":true', '"mfa":true,"id":"u-48213"'));
    rejected(replaceOnce(line, ',"v":1}', '}'));
    rejected(replaceOnce(line, '"type":"user"', '"type":"robot"'));
    rejected(replaceOnce(line, '"type":"user"', '"type":"User"'));
    rejected(replaceOnce(line, '"protocol":"sftp"', '"protocol":"sft"'));
    rejected(replaceOnce(line, '"protocol":"sftp"', '"protocol":"sftps"'));
    rejected(replaceOnce(line, '"outcome":"success"', '"outcome":"success","outcome":"success"'));
    rejected(replaceOnce(line, '"tenant":"acme-1"', '"tenant":"Acme"'));
    rejected(replaceOnce(line, '"tenant":"acme-1"', '"__proto__":{},"tenant":"acme-1"'));
  });

  it('checks string lengths in UTF-16 code units of the decoded value', () => {
    const named = (name: string): string => sealOne({ ...fixedEvent(1), actor: { ...fixedEvent(1).actor, name } });
    accepted(named('x'.repeat(256)));
    rejected(named('x'.repeat(257)));
    accepted(named('\n'.repeat(256)));
    rejected(named('\n'.repeat(257)));
    accepted(named('\u0001'.repeat(256)));
    accepted(named('🚀'.repeat(128)));
    rejected(named(`${'🚀'.repeat(128)}x`));
    rejected(named(''));
  });

  it('checks array lengths', () => {
    const tagged = (n: number): string => sealOne({ ...fixedEvent(1), target: { type: 'file', tags: Array.from({ length: n }, (_, i) => `t${i}`) } });
    accepted(tagged(0));
    accepted(tagged(LIMITS.maxTags));
    rejected(tagged(LIMITS.maxTags + 1));
    rejected(replaceOnce(tagged(2), '"tags":["t0","t1"]', '"tags":["t0",,"t1"]'));
    rejected(replaceOnce(tagged(2), '"tags":["t0","t1"]', '"tags":["t0","t1",]'));
    rejected(replaceOnce(tagged(2), '"tags":["t0","t1"]', '"tags":["t0","t 1"]'));
  });

  it('applies the system-record rules of validateRecord', () => {
    const sealer = newSealer();
    const genesis = sealer.genesis(0).canonical;
    expect(scanRecord(genesis)?.system).toBe(true);
    rejected(replaceOnce(genesis, '"action":"trailseal.log.genesis"', '"action":"log.genesis"'));
    const plain = sealer.append(fixedEvent(1), 1).canonical;
    expect(scanRecord(plain)?.system).toBe(false);
    rejected(replaceOnce(plain, '"action":"file.download"', '"action":"trailseal.file.download"'));
    rejected(replaceOnce(plain, '"mac":', '"log":{},"mac":'));
    rejected(replaceOnce(plain, ',"source":', ',"sigs":[],"source":'));
    rejected(replaceOnce(genesis, '"log":{', '"log":[{').replace('},"mac":', '}],"mac":'));
  });

  it('reads free-form context as canonical JSON: sorted names, canonical numbers, any value', () => {
    accepted(withContext({}));
    accepted(withContext({ a: null, b: [true, false, null, [], {}], c: { d: -0.5, e: 1e21, f: 1e-7, g: 0, h: -1 }, '\u0001"\\': 'x', '10': 1, '9': 2, __proto__: 1 } as Json));
    accepted(withContext({ 'a"b': 1, 'a\\b': 2, 'a\u0001': 3 }));
    const base = withContext({ a: 1, b: 2.5 });
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"b":2.5,"a":1}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"a":1,"b":2.5}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":2.50}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":25e-1}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":-0}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":.5}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":+1}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":1E+21}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":1e21}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":NaN}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":1e400}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":nul}'));
    rejected(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"\\u0062":2.5}'));
    accepted(replaceOnce(base, '{"a":1,"b":2.5}', '{"a":1,"b":1e+21}'));
    rejected(replaceOnce(base, '"context":{"a":1,"b":2.5}', '"context":[1]'));
    rejected(replaceOnce(base, '"context":{"a":1,"b":2.5}', '"context":null'));
    rejected(replaceOnce(base, '"context":{"a":1,"b":2.5}', '"context":"x"'));
  });

  it('enforces the context limits exactly as validateRecord does', () => {
    const nested = (depth: number): Json => {
      // The context object is depth 1 and its values depth 2 (record.ts, checkContext).
      let v: unknown = 1;
      for (let d = depth; d > 1; d--) v = { x: v };
      return v as Json;
    };
    accepted(withContext(nested(LIMITS.maxContextDepth)));
    rejected(withContext(nested(LIMITS.maxContextDepth + 1)));
    const wide = (n: number): Json => ({ a: Array.from({ length: n - 1 }, () => 0) });
    accepted(withContext(wide(LIMITS.maxContextNodes)));
    rejected(withContext(wide(LIMITS.maxContextNodes + 1)));
    // {"a":"..."} is 8 bytes around the string.
    accepted(withContext({ a: 'x'.repeat(LIMITS.maxContextBytes - 8) }));
    rejected(withContext({ a: 'x'.repeat(LIMITS.maxContextBytes - 7) }));
    accepted(withContext({ a: 'é'.repeat((LIMITS.maxContextBytes - 8) / 2) }));
    rejected(withContext({ a: `${'é'.repeat((LIMITS.maxContextBytes - 8) / 2)}x` }));
    accepted(withContext({ a: '🚀'.repeat((LIMITS.maxContextBytes - 8) / 4) }));
    rejected(withContext({ a: `${'🚀'.repeat((LIMITS.maxContextBytes - 8) / 4)}x` }));
    rejected(withContext({ a: '\u0001'.repeat(LIMITS.maxContextBytes / 6) }));
  });

  it('gives the same answer from the bytes a line was decoded from, wherever they lie in their buffer', () => {
    const sealer = newSealer();
    sealer.genesis(0);
    // Control characters at the edges of the 16-byte groups of words the byte check reads, and next to them.
    const inserted = fc.constantFrom('\u0000', '\u0001', '\n', '\u001f', ' ', '\u007f', 'é');
    fc.assert(
      fc.property(validEvent, fc.option(fc.tuple(fc.nat(), inserted)), fc.nat(31), fc.constantFrom(0x00, 0x0a, 0x41), (event, edit, offset, filler) => {
        let line = sealer.append(event, 1).canonical;
        if (edit !== null) {
          const at = edit[0] % (line.length + 1);
          line = line.slice(0, at) + edit[1] + line.slice(at);
        }
        // Short texts take the byte-by-byte path.
        for (const edited of [line, line.slice(0, 20)]) {
          // What the bytes decode to is the text (an edit may have split a surrogate pair).
          const utf8 = new TextEncoder().encode(edited);
          const text = new TextDecoder().decode(utf8);
          const buffer = new Uint8Array(offset + utf8.length + 8).fill(filler);
          buffer.set(utf8, offset);
          const bytes = buffer.subarray(offset, offset + utf8.length);
          expect(scanRecord(text, bytes) === undefined, text).toBe(scanRecord(text) === undefined);
        }
      }),
      { numRuns: 800 },
    );
  });

  it('checks control characters anywhere in long lines', () => {
    // Longer than one piece of the control-character check.
    const long = withContext({ a: 'x'.repeat(LIMITS.maxContextBytes - 8) });
    const pathed = sealOne({ ...fixedEvent(1), target: { type: 'file', path: `/${'p'.repeat(4000)}`, name: 'n'.repeat(1000) } });
    for (const l of [long, pathed]) {
      accepted(l);
      for (const k of [1, 2, 3, l.length >> 1, l.length - 30, l.length - 2]) {
        rejected(l.slice(0, k) + '\u0000' + l.slice(k + 1));
        rejected(l.slice(0, k) + '\u001f' + l.slice(k));
      }
    }
  });
});
