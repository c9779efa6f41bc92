import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, SHA256_HEX_RE, canonicalize, isLowerHex64, parseEvent, validateEvent, validateRecord, utf8 } from '@trailseal/format';
import { richEvent } from '../../../test-support/events.js';

const codesAt = (input: unknown): Record<string, string> => Object.fromEntries(validateEvent(input).map((e) => [e.path, e.code]));

describe('isLowerHex64', () => {
  it('accepts exactly what /^[0-9a-f]{64}$/ accepts', () => {
    const near = fc.array(fc.constantFrom(...'0123456789abcdefABCDEFgz \n\u00e9'), { minLength: 62, maxLength: 66 }).map((cs) => cs.join(''));
    const hexish = fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 63, maxLength: 65 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(fc.oneof(near, hexish, fc.string()), (s) => {
        expect(isLowerHex64(s)).toBe(SHA256_HEX_RE.test(s));
      }),
      { numRuns: 2000 },
    );
    expect(isLowerHex64('0'.repeat(64))).toBe(true);
    expect(isLowerHex64(`${'0'.repeat(64)}\n`)).toBe(false);
  });
});

describe('event record v1 validation', () => {
  it('accepts a fully attributed event and a minimal one', () => {
    expect(validateEvent(richEvent())).toEqual([]);
    expect(validateEvent({ id: 'a', time: '2026-01-01T00:00:00Z', action: 'user.login', outcome: 'failure', actor: { id: 'x', type: 'anonymous' } })).toEqual([]);
  });

  it('reports every bad field path with its own code, not just the first', () => {
    const e = richEvent() as unknown as Record<string, Record<string, unknown>>;
    e['actor']!['mfa'] = 'yes';
    e['source']!['ip'] = '300.1.1.1';
    e['source']!['port'] = 70000;
    (e['target'] as Record<string, unknown>)['sha256'] = 'ABC';
    (e['authorization']!['grants'] as Record<string, unknown>[])[1]!['permission'] = 42;
    (e as Record<string, unknown>)['outcome'] = 'maybe';
    (e as Record<string, unknown>)['colour'] = 'blue';
    (e as Record<string, unknown>)['seq'] = 7;
    delete (e as Record<string, unknown>)['time'];
    expect(codesAt(e)).toEqual({
      'actor.mfa': 'FIELD_TYPE',
      'source.ip': 'FIELD_FORMAT',
      'source.port': 'FIELD_RANGE',
      'target.sha256': 'FIELD_FORMAT',
      'authorization.grants[1].permission': 'FIELD_TYPE',
      outcome: 'FIELD_ENUM',
      colour: 'FIELD_UNKNOWN',
      seq: 'FIELD_RESERVED',
      time: 'FIELD_REQUIRED',
    });
  });

  it('throws EVENT_INVALID carrying the field list', () => {
    expect(() => parseEvent({ id: 'x' })).toThrow(expect.objectContaining({ code: 'EVENT_INVALID', details: expect.objectContaining({ errors: expect.any(Array) }) }));
  });

  it('reserves the trailseal.* action namespace for the log', () => {
    expect(codesAt({ ...richEvent(), action: 'trailseal.log.genesis' })).toEqual({ action: 'FIELD_RESERVED' });
  });

  it.each([
    ['time', '2026-11-26 09:15:02Z'],
    ['time', '2026-02-30T00:00:00Z'],
    ['time', '2026-11-26T24:00:00Z'],
    ['time', '2026-11-26t09:15:02z'],
    ['time', '2026-11-26T09:15:02'],
    ['action', 'Download'],
    ['action', 'file'],
    ['action', 'file..download'],
    ['id', 'has space'],
    ['id', ''],
  ])('rejects %s = %j', (field, value) => {
    const errs = validateEvent({ ...richEvent(), [field]: value });
    expect(errs.map((e) => e.path)).toEqual([field]);
  });

  it.each(['192.168.0.1', '::1', '::', '2001:db8::8a2e:370:7334', '::ffff:192.0.2.1', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4'])('accepts IP %s', (ip) => {
    expect(validateEvent({ ...richEvent(), source: { ip } })).toEqual([]);
  });

  it.each(['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fe80::1%eth0', ':1', '1:', '12345::', 'g::1', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', 'localhost'])('rejects IP %s', (ip) => {
    expect(codesAt({ ...richEvent(), source: { ip } })).toEqual({ 'source.ip': 'FIELD_FORMAT' });
  });

  it('rejects null members instead of treating them as absent', () => {
    expect(codesAt({ ...richEvent(), target: null })).toEqual({ target: 'FIELD_TYPE' });
  });

  it('enforces context size and depth limits', () => {
    let deep: Record<string, unknown> = { x: 1 };
    for (let i = 0; i < LIMITS.maxContextDepth; i++) deep = { d: deep };
    expect(codesAt({ ...richEvent(), context: deep })).toEqual({ context: 'CONTEXT_TOO_LARGE' });
    expect(codesAt({ ...richEvent(), context: { blob: 'x'.repeat(LIMITS.maxContextBytes) } })).toEqual({ context: 'CONTEXT_TOO_LARGE' });
    expect(codesAt({ ...richEvent(), context: { n: Number.NaN } })).toEqual({ 'context.n': 'FIELD_FORMAT' });
  });

  it('enforces the canonical size limit of the whole event', () => {
    const e = richEvent();
    e.authorization!.grants = Array.from({ length: LIMITS.maxGrants }, (_, i) => ({ permission: 'p'.repeat(128), resource: `r${i}`.repeat(200) }));
    expect(validateEvent(e).map((x) => x.code)).toEqual(['EVENT_TOO_LARGE']);
    expect(() => parseEvent(e)).toThrow(expect.objectContaining({ code: 'EVENT_TOO_LARGE' }));
  });

  it('rejects an event exactly when its canonical form exceeds the limit, whatever its characters', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '\u0001', '"', 'é', '東', '🚀', '\\'), minLength: 1, maxLength: 500 });
    fc.assert(
      fc.property(fc.array(fc.record({ permission: fc.constantFrom('file.read', 'x'.repeat(128)), resource: text }), { maxLength: LIMITS.maxGrants }), (grants) => {
        const e = { ...richEvent(), authorization: { grants } };
        const tooLarge = utf8(canonicalize(e)).length > LIMITS.maxEventBytes;
        expect(validateEvent(e).map((x) => x.code)).toEqual(tooLarge ? ['EVENT_TOO_LARGE'] : []);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects lone surrogates in any string', () => {
    expect(codesAt({ ...richEvent(), actor: { id: 'a\ud800', type: 'user' } })).toEqual({ 'actor.id': 'FIELD_FORMAT' });
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything()), (x) => {
        const errs = validateEvent(x);
        expect(Array.isArray(errs)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('counts UTF-8 bytes exactly (limits are in bytes)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(validateEvent({ ...richEvent(), context: { s } }).length === 0).toBe(utf8(JSON.stringify({ s })).length <= LIMITS.maxContextBytes);
      }),
    );
  });
});

describe('stored record validation', () => {
  it('requires the log fields and system bodies only on system records', () => {
    const codes = Object.fromEntries(validateRecord({ ...richEvent(), log: {} }).map((e) => [e.path, e.code]));
    expect(codes).toMatchObject({ v: 'FIELD_REQUIRED', tenant: 'FIELD_REQUIRED', seq: 'FIELD_REQUIRED', mac: 'FIELD_REQUIRED', log: 'FIELD_RESERVED' });
  });
});
