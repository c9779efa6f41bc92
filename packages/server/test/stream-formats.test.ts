// The stream formats (docs/spec/stream-formats.md) against what they promise:
// every record maps to an OCSF class whose required attributes are there and
// well typed, the integrity fields travel unchanged, a CEF line parses back
// (with a strict parser written here from the CEF escaping rules) to exactly
// the values put in, and the json format gives back the record's bytes.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, isIP, leafHash, LogSealer, toHex, type EventV1, type LogRecord, type SealedRecord } from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';
import { richEvent } from '../../../test-support/events.js';
import { VERSION } from '../src/server.js';
import {
  CEF_HEADER_LIMITS,
  CEF_KEYS,
  cefFields,
  formatRecord,
  OCSF_VERSION,
  PRODUCT_VERSION,
  rfc3339Millis,
  toCef,
  toOcsf,
  UNKNOWN,
  type DeliveryMeta,
} from '../src/stream/formats.js';

type Json = Record<string, unknown>;

const repo = new URL('../../../', import.meta.url);
const ORIGIN = 'log.example.com/tenants/acme';
const KEY = new Uint8Array(32).fill(7);
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0);

const goldenLines = readFileSync(new URL('fixtures/golden/records.jsonl', repo), 'utf8').trimEnd().split('\n');
const metaOf = (canonical: string, origin = ORIGIN): DeliveryMeta => ({ origin, leafHash: toHex(leafHash(canonical)) });

interface Item {
  readonly record: LogRecord;
  readonly canonical: string;
  readonly meta: DeliveryMeta;
}
const golden: Item[] = goldenLines.map((line) => ({ record: JSON.parse(line) as LogRecord, canonical: line, meta: metaOf(line) }));

// Actions that exercise every row of the class table, with and without the
// members a class needs (a source, a target).
const VARIANTS: readonly (readonly [string, (e: EventV1) => void])[] = [
  ['file.download', () => undefined],
  ['file.rename', () => undefined],
  ['file.share.create', () => undefined],
  ['share.revoke', () => undefined],
  ['file.transfer', () => undefined],
  ['folder.create', (e) => (e.target = { type: 'folder', path: '/finance/payroll/2027/' })],
  ['file.upload', (e) => {
    delete e.source;
    delete e.target;
  }],
  ['auth.login', (e) => delete e.target],
  ['auth.logout', (e) => delete e.source],
  ['auth.mfa.challenge', () => undefined],
  ['session.expire', () => undefined],
  ['account.create', (e) => (e.target = { type: 'user', id: 'u-9', name: 'New Hire' })],
  ['account.password.reset', (e) => delete e.target],
  ['user.lock', (e) => (e.target = { type: 'user', id: 'u-10' })],
  ['grant.add', (e) => (e.target = { type: 'grant', id: 'g-77', name: 'file.read' })],
  ['grant.revoke', (e) => (e.target = { type: 'user', id: 'u-11' })],
  ['permission.remove', (e) => delete e.target],
  ['role.assign', () => undefined],
  ['group.member.add', (e) => (e.target = { type: 'user', id: 'u-12', name: 'Temp' })],
  ['group.create', (e) => (e.target = { type: 'group', id: 'grp-1', name: 'auditors' })],
  ['group.delete', (e) => delete e.target],
  ['policy.update', (e) => (e.target = { type: 'policy', id: 'finance-data-access', version: '2026.4' })],
  ['policy.evaluate', (e) => delete e.source],
  ['api.call', (e) => (e.source = { port: 443 })],
  ['config.set', (e) => (e.target = { type: 'setting', path: 'retention.days' })],
];

/** A log with 2,000 richEvent-based records across VARIANTS, the service's own records and both key rotations. */
function richLog(): Item[] {
  const sealer = new LogSealer({ tenant: 'acme', origin: ORIGIN, tenantKey: KEY, signingSeed: KEY });
  const out: SealedRecord[] = [sealer.genesis(T0)];
  const apiKey = { id: 'key_4f2a', type: 'service', name: 'siem-reader' };
  for (let i = 0; i < 2000; i++) {
    const e = richEvent(i);
    if (i % 3 !== 0) {
      const [action, edit] = VARIANTS[i % VARIANTS.length]!;
      e.action = action;
      edit(e);
    }
    out.push(sealer.append(e, T0 + 1 + i));
    if (i === 500) out.push(sealer.rotateSigningKey(new Uint8Array(32).fill(9), T0 + 1 + i));
    if (i === 900) out.push(sealer.rotateMacKeys(T0 + 1 + i));
    if (i % 250 === 0) {
      const at = T0 + 1 + i;
      out.push(sealer.systemEvent('trailseal.audit.read', { type: 'audit_read', operation: 'list', query: { from: 0, limit: 100 }, count: 100 }, at, { actor: apiKey, source: { ip: '10.1.2.3' } }));
      out.push(sealer.systemEvent('trailseal.audit.export', { type: 'export' }, at, { actor: apiKey, source: { ip: '2001:db8::5' } }));
      out.push(sealer.systemEvent('trailseal.apikey.create', { type: 'api_key', key_id: 'key_9', scopes: ['read'] }, at));
      out.push(sealer.systemEvent('trailseal.service.start', { type: 'service', version: '0.1.0' }, at));
      out.push(sealer.systemEvent('trailseal.service.stop', { type: 'service', version: '0.1.0' }, at));
      out.push(sealer.systemEvent('trailseal.sink.create', { type: 'sink' }, at, { actor: { ...apiKey }, source: { ip: '10.1.2.3', user_agent: 'curl/8.5' } }));
    }
  }
  return out.map((s) => ({ record: s.record, canonical: s.canonical, meta: { origin: ORIGIN, leafHash: toHex(s.leafHash) } }));
}
const rich = richLog();
const all = [...golden, ...rich];

// --- an OCSF 1.8.0 checker, written from the schema ---------------------------

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);

/** Required attributes per class (the research draft's ocsf_classes, checked against OCSF 1.8.0). */
const REQUIRED: Readonly<Record<number, readonly string[]>> = {
  6006: ['actor', 'file', 'src_endpoint'],
  3002: ['user'],
  3001: ['user'],
  3005: ['privileges', 'user'],
  3006: ['group'],
  6003: ['actor', 'api', 'src_endpoint'],
  1008: ['actor', 'device'],
};
/** activity_id values of each class's enum (plus 99 Other). */
const ACTIVITIES: Readonly<Record<number, number>> = { 6006: 17, 3002: 7, 3001: 12, 3005: 2, 3006: 8, 6003: 4, 1008: 10 };
const CATEGORY: Readonly<Record<number, number>> = { 6006: 6, 3002: 3, 3001: 3, 3005: 3, 3006: 3, 6003: 6, 1008: 1 };

function checkUser(u: unknown, path: string, bad: string[]): void {
  if (!isObj(u)) return void bad.push(`${path} is not an object`);
  if (!isStr(u['uid']) && !isStr(u['name']) && !isStr(u['account'])) bad.push(`${path} has none of uid, name, account`);
  if (![0, 1, 2, 3, 4, 99].includes(u['type_id'] as number)) bad.push(`${path}.type_id ${String(u['type_id'])}`);
  if (u['email_addr'] !== undefined && !isStr(u['email_addr'])) bad.push(`${path}.email_addr`);
}

function checkEndpoint(e: unknown, path: string, bad: string[]): void {
  if (!isObj(e)) return void bad.push(`${path} is not an object`);
  if (!isStr(e['ip']) && !isStr(e['hostname']) && !isStr(e['name'])) bad.push(`${path} has none of ip, hostname, name`);
  if (e['ip'] !== undefined && !isIP(e['ip'] as string)) bad.push(`${path}.ip`);
  if (e['port'] !== undefined && !(isInt(e['port']) && e['port'] >= 0 && e['port'] <= 65535)) bad.push(`${path}.port`);
}

/** Every problem found in an OCSF event (empty when it conforms). */
function ocsfProblems(e: Json): string[] {
  const bad: string[] = [];
  const cls = e['class_uid'];
  const act = e['activity_id'];
  if (!isInt(cls) || REQUIRED[cls] === undefined) return [`class_uid ${String(cls)}`];
  if (!isInt(act) || !((act >= 1 && act <= ACTIVITIES[cls]!) || act === 99)) bad.push(`activity_id ${String(act)}`);
  if (e['category_uid'] !== CATEGORY[cls]) bad.push('category_uid');
  if (e['type_uid'] !== cls * 100 + (act as number)) bad.push('type_uid is not class_uid * 100 + activity_id');
  if (!isStr(e['activity_name'])) bad.push('activity_name');
  if (![0, 1, 2, 3, 4, 5, 6, 99].includes(e['severity_id'] as number)) bad.push('severity_id');
  if (![1, 2].includes(e['status_id'] as number)) bad.push('status_id');
  if (!isInt(e['time'])) bad.push('time');
  const md = e['metadata'];
  if (!isObj(md) || !isObj(md['product']) || !isStr(md['product']['name']) || !isStr(md['product']['vendor_name']) || md['version'] !== OCSF_VERSION) bad.push('metadata');
  for (const attr of REQUIRED[cls]!) if (e[attr] === undefined) bad.push(`missing ${attr}`);
  if (e['actor'] !== undefined) {
    const a = e['actor'];
    if (!isObj(a) || a['user'] === undefined) bad.push('actor has no user');
    else checkUser(a['user'], 'actor.user', bad);
  }
  if (e['user'] !== undefined) checkUser(e['user'], 'user', bad);
  if (e['src_endpoint'] !== undefined) checkEndpoint(e['src_endpoint'], 'src_endpoint', bad);
  if (e['file'] !== undefined) {
    const f = e['file'];
    if (!isObj(f) || !isStr(f['name']) || ![0, 1, 2, 99].includes(f['type_id'] as number)) bad.push('file');
    else {
      if (f['size'] !== undefined && !isInt(f['size'])) bad.push('file.size');
      for (const h of (f['hashes'] as unknown[] | undefined) ?? []) if (!isObj(h) || h['algorithm_id'] !== 3 || !/^[0-9a-f]{64}$/.test(h['value'] as string)) bad.push('file.hashes');
    }
  }
  if (cls === 6003 && !(isObj(e['api']) && isStr(e['api']['operation']))) bad.push('api.operation');
  if (cls === 3005 && !(Array.isArray(e['privileges']) && e['privileges'].length > 0 && e['privileges'].every(isStr))) bad.push('privileges');
  if (cls === 3006 && !(isObj(e['group']) && (isStr(e['group']['name']) || isStr(e['group']['uid'])))) bad.push('group');
  if (cls === 3002 && e['service'] === undefined && e['dst_endpoint'] === undefined) bad.push('authentication needs service or dst_endpoint');
  if (cls === 1008) {
    if (!isObj(e['device']) || !isInt(e['device']['type_id'])) bad.push('device.type_id');
    if (!['log_file', 'log_name', 'log_provider', 'log_type', 'log_type_id'].some((k) => e[k] !== undefined)) bad.push('event log needs one of log_name, log_provider, ...');
  }
  if (e['http_request'] !== undefined && !(isObj(e['http_request']) && isStr(e['http_request']['user_agent']))) bad.push('http_request');
  return bad;
}

describe('OCSF', () => {
  it('maps each golden record to the class and activity of the table', () => {
    const expected: [number, number][] = [
      [1008, 6], [3002, 1], [6006, 1], [6006, 2], [6006, 2], [6006, 12], [3002, 1], [1008, 99], [6006, 1], [6003, 3],
      [3005, 1], [6006, 2], [6006, 4], [1008, 99], [6003, 99], [6006, 2], [3002, 2], [3002, 2], [6006, 1],
    ];
    expect(golden.map(({ record, meta }) => { const e = toOcsf(record, meta); return [e['class_uid'], e['activity_id']]; })).toEqual(expected);
  });

  it('every golden and richEvent-based record becomes a conforming event of its class', () => {
    expect(rich.length).toBeGreaterThan(2000);
    const seen = new Set<string>();
    for (const { record, meta } of all) {
      const e = toOcsf(record, meta);
      const problems = ocsfProblems(e);
      if (problems.length > 0) expect.fail(`${record.action} (seq ${record.seq}): ${problems.join('; ')}`);
      seen.add(`${String(e['class_uid'])}`);
      // Canonical JSON exists for every event (no undefined, no non-finite numbers).
      expect(() => canonicalize(e)).not.toThrow();
    }
    expect([...seen].sort()).toEqual(['1008', '3001', '3002', '3005', '3006', '6003', '6006']);
  });

  it('schema-valid arbitrary events become conforming events', () => {
    const sealer = new LogSealer({ tenant: 'prop', origin: 'example.com/tenants/prop', tenantKey: KEY, signingSeed: KEY });
    sealer.genesis(T0);
    let at = T0;
    fc.assert(
      fc.property(validEvent, fc.constantFrom(...VARIANTS.map(([a]) => a), 'x.y'), (event, action) => {
        const s = sealer.append({ ...event, action }, ++at);
        const e = toOcsf(s.record, { origin: sealer.origin, leafHash: toHex(s.leafHash) });
        expect(ocsfProblems(e)).toEqual([]);
      }),
      { numRuns: 400 },
    );
  });

  it('carries the integrity fields exactly, in unmapped and in metadata', () => {
    for (const { record, canonical, meta } of all) {
      const e = toOcsf(record, meta);
      const u = e['unmapped'] as Json;
      const md = e['metadata'] as Json;
      expect(u['leaf_hash']).toBe(toHex(leafHash(canonical)));
      expect(u['origin']).toBe(ORIGIN);
      for (const k of ['tenant', 'seq', 'received_at', 'prev_hash', 'mac_key_id', 'mac', 'v', 'action', 'outcome'] as const) expect(u[k], k).toBe(record[k]);
      for (const k of ['target', 'transfer', 'authorization', 'context', 'log', 'sigs'] as const) expect(u[k], k).toEqual(record[k]);
      expect(md['uid']).toBe(record.id);
      expect(md['tenant_uid']).toBe(record.tenant);
      expect(md['sequence']).toBe(record.seq);
      expect(md['original_time']).toBe(record.time);
      expect(md['logged_time']).toBe(Date.parse(record.received_at));
      expect(md['product']).toEqual({ name: 'Trailseal', vendor_name: 'Trailseal', version: PRODUCT_VERSION });
      expect(e['time']).toBe(Date.parse(record.time));
    }
  });

  it('maps outcomes to status and severity', () => {
    const pick = (seq: number): Json => toOcsf(golden[seq]!.record, golden[seq]!.meta);
    expect([pick(3)['status_id'], pick(3)['severity_id'], pick(3)['status_detail']]).toEqual([1, 1, undefined]);
    expect([pick(4)['status_id'], pick(4)['severity_id'], pick(4)['status_detail'], pick(4)['status_code']]).toEqual([2, 3, 'denied: no grant matches /finance/payroll/**', 'denied']);
    expect([pick(6)['status_id'], pick(6)['severity_id'], pick(6)['status_detail']]).toEqual([2, 2, 'failure: certificate expired']);
    expect([pick(12)['status_id'], pick(12)['status_detail']]).toEqual([2, 'error: EBUSY']);
  });

  it('maps actor, source, file and policy', () => {
    const e = toOcsf(golden[3]!.record, golden[3]!.meta);
    expect(e['actor']).toEqual({
      user: { uid: 'u-48213', name: 'Dana Whitfield', email_addr: 'dana.whitfield@forthbridge.example', uid_alt: '00u1abcd2EFGH3ijk4l5', type_id: 1, type: 'User' },
      session: { uid: 'sess-7f3a9c21b6', is_mfa: true },
      idp: { name: 'okta', issuer: 'https://forthbridge.okta.example', protocol_name: 'saml' },
      authorizations: [{ policy: { name: 'finance-data-access', version: '2026.3' }, decision: 'Allowed' }],
    });
    expect(e['src_endpoint']).toEqual({ ip: '203.0.113.47', hostname: 'vpn-gw-2.forthbridge.example', port: 52144 });
    expect(e['http_request']).toEqual({ user_agent: 'WinSCP/6.3.5' });
    expect(e['file']).toEqual({
      name: 'Q3-payroll-export.csv',
      path: '/finance/payroll/2026/Q3-payroll-export.csv',
      size: 1843221,
      uid: 'f-0192-77ab',
      version: '7',
      hashes: [{ algorithm_id: 3, algorithm: 'SHA-256', value: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' }],
      owner: { name: 'finance-ops' },
      type_id: 1,
      type: 'Regular File',
    });
    // A delete that names only a path: the file name is its last segment.
    expect((toOcsf(golden[12]!.record, golden[12]!.meta)['file'] as Json)['name']).toBe('export-old.csv');
    // Authentication: SAML is auth_protocol_id 5.
    const login = toOcsf(golden[1]!.record, golden[1]!.meta);
    expect([login['auth_protocol_id'], login['auth_protocol'], login['is_mfa'], login['session']]).toEqual([5, 'SAML', true, { uid: 'sess-7f3a9c21b6' }]);
  });

  it('fills a required attribute the record has nothing for with an explicit unknown', () => {
    const upload = rich.find((x) => x.record.action === 'file.upload' && x.record.source === undefined)!;
    const e = toOcsf(upload.record, upload.meta);
    expect(e['src_endpoint']).toEqual({ name: UNKNOWN });
    expect(e['file']).toEqual({ name: UNKNOWN, type_id: 0, type: 'Unknown' });
    const portOnly = rich.find((x) => x.record.action === 'api.call' && x.record.source?.ip === undefined)!;
    expect(toOcsf(portOnly.record, portOnly.meta)['src_endpoint']).toEqual({ port: 443, name: UNKNOWN });
  });

  it('parses RFC 3339 times as the record format allows them', () => {
    expect(rfc3339Millis('2026-11-26T23:59:52.750Z')).toEqual({ ms: Date.UTC(2026, 10, 26, 23, 59, 52, 750), offsetMinutes: 0 });
    expect(rfc3339Millis('2026-11-26T23:59:52.123456789Z')!.ms).toBe(Date.UTC(2026, 10, 26, 23, 59, 52, 123));
    expect(rfc3339Millis('2026-11-27T01:29:52.5+01:30')).toEqual({ ms: Date.UTC(2026, 10, 26, 23, 59, 52, 500), offsetMinutes: 90 });
    expect(rfc3339Millis('2026-11-26T18:59:52-05:00')).toEqual({ ms: Date.UTC(2026, 10, 26, 23, 59, 52), offsetMinutes: -300 });
    expect(rfc3339Millis('2016-12-31T23:59:60.5Z')!.ms).toBe(Date.UTC(2016, 11, 31, 23, 59, 59, 999));
    expect(rfc3339Millis('0001-01-01T00:00:00Z')!.ms).toBe(-62135596800000);
    expect(rfc3339Millis('2026-11-26 23:59:52Z')).toBeUndefined();
  });
});

// --- a strict CEF parser, written from the escaping rules -----------------------

interface ParsedCef {
  readonly header: string[];
  readonly ext: Map<string, string>;
}

/**
 * Header: `CEF:0|` then six fields split on unescaped `|`, where the only
 * escapes are `\\` and `\|`. Extension: `key=value` pairs separated by one
 * space; a key is [A-Za-z0-9]+; a value ends where a space is followed by
 * the next key and an unescaped `=`; its only escapes are `\\`, `\=`, `\n`
 * and `\r`, and an unescaped `=` anywhere else is an error. Throws on any
 * departure, on a duplicate key, and on a raw CR or LF.
 */
function parseCef(line: string): ParsedCef {
  if (/[\r\n]/.test(line)) throw new Error('raw line break');
  if (!line.startsWith('CEF:0|')) throw new Error('not CEF:0');
  const header: string[] = ['CEF:0'];
  let i = 6;
  let cur = '';
  while (header.length < 7) {
    if (i >= line.length) throw new Error('header ends early');
    const c = line[i]!;
    if (c === '\\') {
      const n = line[i + 1];
      if (n !== '\\' && n !== '|') throw new Error(`bad header escape \\${String(n)}`);
      cur += n;
      i += 2;
    } else if (c === '|') {
      header.push(cur);
      cur = '';
      i++;
    } else {
      cur += c;
      i++;
    }
  }
  const ext = new Map<string, string>();
  const KEY_AT = /^([A-Za-z0-9]+)=/;
  while (i < line.length) {
    const km = KEY_AT.exec(line.slice(i));
    if (km === null) throw new Error(`no key at ${i}`);
    const key = km[1]!;
    if (ext.has(key)) throw new Error(`duplicate key ${key}`);
    i += km[0].length;
    let value = '';
    for (;;) {
      if (i >= line.length) break;
      const c = line[i]!;
      if (c === ' ' && KEY_AT.test(line.slice(i + 1))) {
        i++;
        break;
      }
      if (c === '\\') {
        const n = line[i + 1];
        const un = n === '\\' ? '\\' : n === '=' ? '=' : n === 'n' ? '\n' : n === 'r' ? '\r' : undefined;
        if (un === undefined) throw new Error(`bad extension escape \\${String(n)} in ${key}`);
        value += un;
        i += 2;
        continue;
      }
      if (c === '=') throw new Error(`unescaped = in ${key}`);
      value += c;
      i++;
    }
    ext.set(key, value);
  }
  return { header, ext };
}

/** What the spec says a value becomes: unsafe characters to U+FFFD, then at most `max` UTF-16 units, no split pair. */
function expectedValue(s: string, max: number): string {
  let out = '';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const hi = c >= 0xd800 && c <= 0xdbff;
    const lo = c >= 0xdc00 && c <= 0xdfff;
    if (hi && k + 1 < s.length && s.charCodeAt(k + 1) >= 0xdc00 && s.charCodeAt(k + 1) <= 0xdfff) {
      out += s[k]! + s[k + 1]!;
      k++;
    } else if (hi || lo || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0x85 || c === 0x2028 || c === 0x2029) out += '\ufffd';
    else out += s[k]!;
  }
  if (out.length <= max) return out;
  const cut = out.charCodeAt(max - 1) >= 0xd800 && out.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return out.slice(0, cut);
}

/** The extension a record must give, written here from the spec's key table (not from cefFields). */
function expectedExtension(r: LogRecord, meta: DeliveryMeta, cat: string): Map<string, string> {
  const m = new Map<string, string>();
  const add = (k: string, v: string | number | undefined): void => {
    if (v !== undefined && v !== '') m.set(k, expectedValue(String(v), CEF_KEYS[k] || Number.MAX_SAFE_INTEGER));
  };
  add('externalId', r.id);
  add('rt', Date.parse(r.time));
  add('act', r.action);
  add('outcome', r.outcome);
  add('cat', cat);
  add('suid', r.actor.id);
  add('suser', r.actor.name);
  if (r.actor.email !== undefined) {
    add('flexString1', r.actor.email);
    add('flexString1Label', 'actor_email');
  }
  const ip = r.source?.ip;
  if (ip !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && ip.split('.').every((p) => String(Number(p)) === p && Number(p) <= 255)) add('src', ip);
  else if (ip !== undefined) {
    add('c6a2', ip);
    add('c6a2Label', 'Source IPv6 Address');
  }
  add('shost', r.source?.hostname);
  add('spt', r.source?.port);
  add('requestClientApplication', r.source?.user_agent);
  add('app', r.transfer?.protocol);
  const t = r.target;
  if (t !== undefined && ['user', 'account', 'service_account'].includes(t.type)) {
    add('duid', t.id);
    add('duser', t.name);
  } else if (t !== undefined) {
    add('fname', t.name);
    add('filePath', t.path);
    add('fsize', t.size);
    add('fileHash', t.sha256);
    add('fileId', t.id);
    add('fileType', t.type);
  }
  const reason = r.context?.['reason'] ?? r.context?.['error'];
  if (r.outcome !== 'success' && typeof reason === 'string') add('reason', reason);
  const p = r.authorization?.policy;
  if (p?.version !== undefined) {
    add('flexString2', p.version);
    add('flexString2Label', 'policy_version');
  }
  if (p !== undefined) {
    add('cs4', p.name);
    add('cs4Label', 'policy');
  }
  add('deviceExternalId', meta.origin);
  add('cn1', r.seq);
  add('cn1Label', 'seq');
  add('cs1', r.tenant);
  add('cs1Label', 'tenant');
  add('cs2', meta.leafHash);
  add('cs2Label', 'leaf_hash');
  add('cs3', r.prev_hash);
  add('cs3Label', 'prev_hash');
  add('cs5', r.mac_key_id);
  add('cs5Label', 'mac_key_id');
  add('cs6', r.mac);
  add('cs6Label', 'mac');
  add('deviceCustomDate1', Date.parse(r.received_at));
  add('deviceCustomDate1Label', 'received_at');
  return m;
}

const SPECIALS = ['\\', '=', '|', '\r', '\n', ' ', '\t', '\u0000', '\u000b', '\u0085', '\u2028', '\u2029', '\u007f', 'a', 'Z', '9', 'é', '東', '🚀', '\ud800', '\udc00', 'cs1=', ' act=', '\\=', '|CEF:0|'];
const text = (max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.oneof(fc.constantFrom(...SPECIALS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: max });
const isoTime = fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2090-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());

/** Records with arbitrary strings in every member the CEF mapping reads. Not schema-valid: toCef must cope. */
const hostileRecord: fc.Arbitrary<{ record: LogRecord; meta: DeliveryMeta }> = fc
  .record({
    id: text(60),
    time: isoTime,
    received_at: isoTime,
    action: fc.oneof(text(40), fc.constantFrom('file.download', 'auth.login', 'grant.add', 'trailseal.audit.read')),
    outcome: fc.oneof(fc.constantFrom('success', 'failure', 'denied', 'error'), text(10)),
    actorId: text(40),
    actorName: fc.option(text(40), { nil: undefined }),
    email: fc.option(text(40), { nil: undefined }),
    ip: fc.option(fc.oneof(fc.ipV4(), fc.ipV6(), text(20)), { nil: undefined }),
    hostname: fc.option(text(40), { nil: undefined }),
    port: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
    ua: fc.option(text(60), { nil: undefined }),
    target: fc.option(
      fc.record({ type: fc.oneof(text(10), fc.constantFrom('file', 'user')), id: text(30), name: text(60), path: text(80), sha256: text(70), size: fc.maxSafeNat() }, { requiredKeys: ['type'] }),
      { nil: undefined },
    ),
    protocol: fc.option(text(40), { nil: undefined }),
    policy: fc.option(fc.record({ name: text(40), version: text(10) }, { requiredKeys: ['name'] }), { nil: undefined }),
    reason: fc.option(text(60), { nil: undefined }),
    tenant: text(20),
    seq: fc.maxSafeNat(),
    prevHash: text(70),
    macKeyId: text(40),
    mac: text(70),
    origin: text(40),
    leafHash: text(70),
  })
  .map((x) => {
    const record = {
      v: 1,
      id: x.id,
      time: x.time,
      action: x.action,
      outcome: x.outcome,
      actor: { id: x.actorId, type: 'user', ...(x.actorName !== undefined ? { name: x.actorName } : {}), ...(x.email !== undefined ? { email: x.email } : {}) },
      source: { ...(x.ip !== undefined ? { ip: x.ip } : {}), ...(x.hostname !== undefined ? { hostname: x.hostname } : {}), ...(x.port !== undefined ? { port: x.port } : {}), ...(x.ua !== undefined ? { user_agent: x.ua } : {}) },
      ...(x.target !== undefined ? { target: x.target } : {}),
      ...(x.protocol !== undefined ? { transfer: { protocol: x.protocol } } : {}),
      ...(x.policy !== undefined ? { authorization: { policy: x.policy } } : {}),
      ...(x.reason !== undefined ? { context: { reason: x.reason } } : {}),
      tenant: x.tenant,
      seq: x.seq,
      received_at: x.received_at,
      prev_hash: x.prevHash,
      mac_key_id: x.macKeyId,
      mac: x.mac,
    } as unknown as LogRecord;
    return { record, meta: { origin: x.origin, leafHash: x.leafHash } };
  });

const headerValue = (s: string, max: number): string => expectedValue(s.replace(/[\r\n]/g, '\ufffd'), max);

describe('CEF', () => {
  it('every value round-trips through a strict parser, with exactly the documented keys', () => {
    fc.assert(
      fc.property(hostileRecord, ({ record, meta }) => {
        const line = toCef(record, meta);
        const { header, ext } = parseCef(line);
        const cat = ext.get('cat')!;
        expect(header.slice(0, 4)).toEqual(['CEF:0', 'Trailseal', 'Trailseal', PRODUCT_VERSION]);
        expect(header[4]).toBe(headerValue(record.action, CEF_HEADER_LIMITS.signatureId));
        expect(header[5]!.startsWith(`${cat}: `)).toBe(true);
        expect(['0', '1', '3', '5']).toContain(header[6]);
        expect(ext).toEqual(expectedExtension(record, meta, cat));
        for (const k of ext.keys()) expect(CEF_KEYS[k], k).toBeDefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('golden and richEvent-based records parse back to their values', () => {
    for (const { record, meta } of all) {
      const { header, ext } = parseCef(toCef(record, meta));
      expect(header[4]).toBe(record.action);
      expect(ext).toEqual(expectedExtension(record, meta, ext.get('cat')!));
      expect(ext.get('cs2')).toBe(meta.leafHash);
      expect(ext.get('cn1')).toBe(String(record.seq));
      expect(ext.get('cs1')).toBe(record.tenant);
      expect(ext.get('cs3')).toBe(record.prev_hash);
      expect(ext.get('deviceExternalId')).toBe(ORIGIN);
    }
  });

  it('escapes pipe, backslash, equals, CR and LF as the vectors say', () => {
    const base = golden[3]!.record;
    const r = { ...base, action: 'file.x|y\\z', actor: { id: 'a=b\\c|d', type: 'user', name: 'line1\nline2\r\nx=1 cs1=forged' } } as LogRecord;
    const line = toCef(r, golden[3]!.meta);
    expect(line.startsWith('CEF:0|Trailseal|Trailseal|0.1.0|file.x\\|y\\\\z|File Hosting Activity: Other|1|')).toBe(true);
    expect(line).toContain(' suid=a\\=b\\\\c|d ');
    expect(line).toContain(' suser=line1\\nline2\\r\\nx\\=1 cs1\\=forged ');
    expect(line.match(/ cs1=/g)).toHaveLength(1);
    expect(parseCef(line).ext.get('suser')).toBe('line1\nline2\r\nx=1 cs1=forged');
    // No escape exists for a line break in the header: it becomes U+FFFD.
    const broken = toCef({ ...base, action: 'a\r\nCEF:0|evil' } as LogRecord, golden[3]!.meta);
    expect(broken.startsWith('CEF:0|Trailseal|Trailseal|0.1.0|a\ufffd\ufffdCEF:0\\|evil|')).toBe(true);
    expect(parseCef(broken).header).toHaveLength(7);
    // A value ending in a backslash does not swallow the separator.
    expect(parseCef(toCef({ ...base, actor: { id: 'x\\', type: 'user' } } as LogRecord, golden[3]!.meta)).ext.get('suid')).toBe('x\\');
  });

  it('truncates to the key limits without splitting a surrogate pair', () => {
    const base = golden[3]!.record;
    const id = `evt-${'x'.repeat(35)}🚀tail`; // the pair straddles unit 40
    const r = { ...base, id, action: `file.${'d'.repeat(200)}`, target: { ...base.target!, name: 'n'.repeat(1500) } } as LogRecord;
    const { header, ext } = parseCef(toCef(r, golden[3]!.meta));
    expect(ext.get('externalId')).toBe(id.slice(0, 39));
    expect(ext.get('act')).toBe(r.action.slice(0, 63));
    expect(header[4]).toBe(r.action);
    expect(ext.get('fname')).toHaveLength(1023);
  });

  it('maps the fields of a golden record', () => {
    const { header, ext } = parseCef(toCef(golden[4]!.record, golden[4]!.meta));
    expect(header).toEqual(['CEF:0', 'Trailseal', 'Trailseal', PRODUCT_VERSION, 'file.download', 'File Hosting Activity: Download', '5']);
    expect(ext.get('c6a2')).toBe('2001:db8:85a3::8a2e:370:7334');
    expect(ext.has('src')).toBe(false);
    expect(ext.get('reason')).toBe('no grant matches /finance/payroll/**');
    expect(ext.get('rt')).toBe(String(Date.parse('2026-11-26T23:59:55.750Z')));
    expect(ext.get('deviceCustomDate1')).toBe(String(Date.parse('2026-11-26T23:59:56.000Z')));
    expect(ext.get('fileHash')).toBe('9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08');
    expect(cefFields(golden[4]!.record, golden[4]!.meta).get('cs6')).toBe(golden[4]!.record.mac);
  });
});

describe('json', () => {
  it('embeds the record so that canonicalize(record) is its bytes', () => {
    for (const { record, canonical, meta } of all) {
      const line = formatRecord('json', record, meta);
      const v = JSON.parse(line) as Json;
      expect(canonicalize(v['record'])).toBe(canonical);
      expect([v['tenant'], v['seq'], v['leaf_hash'], v['origin']]).toEqual([record.tenant, record.seq, toHex(leafHash(canonical)), ORIGIN]);
      expect(Object.keys(v).sort()).toEqual(['leaf_hash', 'origin', 'record', 'seq', 'tenant']);
      expect(canonicalize(v)).toBe(line);
    }
  });

  it('ocsf is the canonical JSON of toOcsf and cef is toCef', () => {
    const { record, meta } = golden[5]!;
    expect(formatRecord('ocsf', record, meta)).toBe(canonicalize(toOcsf(record, meta)));
    expect(formatRecord('cef', record, meta)).toBe(toCef(record, meta));
  });
});

describe('vectors and spec', () => {
  const v = JSON.parse(readFileSync(new URL('docs/spec/vectors/stream-formats.json', repo), 'utf8')) as {
    ocsf_version: string;
    product_version: string;
    origin: string;
    cases: { seq: number; record: string; leaf_hash: string; json: string; ocsf: string; cef: string }[];
  };

  it('docs/spec/vectors/stream-formats.json is what the formatters produce', () => {
    expect(v.ocsf_version).toBe(OCSF_VERSION);
    expect(v.product_version).toBe(PRODUCT_VERSION);
    expect(v.cases.length).toBeGreaterThanOrEqual(5);
    for (const c of v.cases) {
      expect(c.record).toBe(goldenLines[c.seq]);
      expect(c.leaf_hash).toBe(toHex(leafHash(c.record)));
      const record = JSON.parse(c.record) as LogRecord;
      const meta = { origin: v.origin, leafHash: c.leaf_hash };
      expect(formatRecord('json', record, meta), `json ${c.seq}`).toBe(c.json);
      expect(formatRecord('ocsf', record, meta), `ocsf ${c.seq}`).toBe(c.ocsf);
      expect(formatRecord('cef', record, meta), `cef ${c.seq}`).toBe(c.cef);
    }
  });

  it('the spec shows the example outputs exactly', () => {
    const doc = readFileSync(new URL('docs/spec/stream-formats.md', repo), 'utf8');
    const c = v.cases.find((x) => x.seq === 4)!;
    for (const text of [c.record, c.json, c.ocsf, c.cef]) {
      expect(doc).toContain(`\n${text}\n`);
      expect(doc).toContain(`(${Buffer.byteLength(text).toLocaleString('en-US')} bytes`);
    }
    expect(doc).toContain(`\n${JSON.stringify(JSON.parse(c.ocsf), null, 2)}\n`);
    expect(doc).toContain(`\`${c.leaf_hash}\``);
  });

  it('the product version is the server version', () => {
    expect(PRODUCT_VERSION).toBe(VERSION);
  });
});
