// The OpenAPI document against the code it describes: the routes and scopes of
// app.ts (read from its source; the server is not started), the error
// registry, and the event record schema of the format core.
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY, EVENT_FIELDS, LogSealer, RECORD_LOG_FIELDS, toHex, validateEvent } from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';
import { richEvent } from '../../../test-support/events.js';
import { openApiDocument } from '../src/http/openapi.js';

type Json = Record<string, unknown>;

const doc = JSON.parse(openApiDocument()) as Json;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`external $ref ${ref}`);
  let at: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    if (!isObject(at) || !(part in at)) throw new Error(`unresolved $ref ${ref}`);
    at = at[part];
  }
  return at;
}
const deref = (v: unknown): Json => {
  const o = v as Json;
  return (typeof o['$ref'] === 'string' ? resolve(o['$ref']) : o) as Json;
};

const paths = doc['paths'] as Record<string, Json>;
const operations: { path: string; method: string; op: Json }[] = Object.entries(paths).flatMap(([path, item]) =>
  METHODS.filter((m) => m in item).map((method) => ({ path, method, op: item[method] as Json })),
);
const schemas = (doc['components'] as Json)['schemas'] as Record<string, Json>;

/** The routes of app.ts and tiles.ts, with the scope each one requires (undefined: no authentication). */
function appRoutes(): Map<string, string | undefined> {
  const src = readFileSync(new URL('../src/http/app.ts', import.meta.url), 'utf8');
  const out = new Map<string, string | undefined>();
  for (const m of src.matchAll(/\b(?:app|scoped)\.(get|post|delete)\(\s*'([^']+)'\s*,\s*(\{\s*onRequest:\s*authed\('(\w+)'\)\s*\})?/g)) {
    const path = m[2]!.replace(/:(\w+)/g, '{$1}');
    out.set(`${m[1]!} ${path}`, m[4]);
  }
  // The tlog-tiles routes (tiles.ts) all authenticate for the read scope; `*` is the rest of the path.
  const tiles = readFileSync(new URL('../src/http/tiles.ts', import.meta.url), 'utf8');
  for (const m of tiles.matchAll(/\bapp\.(get)\(\s*'([^']+)'/g)) {
    out.set(`${m[1]!} ${m[2]!.replace(/:(\w+)/g, '{$1}').replace('*', '{path}')}`, 'read');
  }
  return out;
}

// --- a small JSON Schema 2020-12 checker for the keywords the document uses --------

function typeOk(t: string, v: unknown): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v);
    case 'object':
      return isObject(v);
  }
  throw new Error(`unknown type ${t}`);
}

function errorsOf(schema: unknown, v: unknown, path = ''): string[] {
  if (schema === true) return [];
  if (schema === false) return [`${path}: not allowed`];
  const s = schema as Json;
  const out: string[] = [];
  const fail = (why: string): void => void out.push(`${path || '(root)'}: ${why}`);
  if (typeof s['$ref'] === 'string') out.push(...errorsOf(resolve(s['$ref']), v, path));
  if (s['type'] !== undefined) {
    const types = (Array.isArray(s['type']) ? s['type'] : [s['type']]) as string[];
    if (!types.some((t) => typeOk(t, v))) return [...out, `${path || '(root)'}: not ${types.join('|')}`];
  }
  if ('const' in s && !isDeepStrictEqual(s['const'], v)) fail(`not ${JSON.stringify(s['const'])}`);
  if (Array.isArray(s['enum']) && !s['enum'].some((e) => isDeepStrictEqual(e, v))) fail(`${JSON.stringify(v)} not in enum`);
  if (typeof v === 'string') {
    const n = [...v].length;
    if (typeof s['minLength'] === 'number' && n < s['minLength']) fail('too short');
    if (typeof s['maxLength'] === 'number' && n > s['maxLength']) fail('too long');
    if (typeof s['pattern'] === 'string' && !new RegExp(s['pattern'], 'u').test(v)) fail(`${JSON.stringify(v)} does not match ${s['pattern']}`);
  }
  if (typeof v === 'number') {
    if (typeof s['minimum'] === 'number' && v < s['minimum']) fail('below minimum');
    if (typeof s['maximum'] === 'number' && v > s['maximum']) fail('above maximum');
  }
  if (Array.isArray(v)) {
    if (typeof s['minItems'] === 'number' && v.length < s['minItems']) fail('too few items');
    if (typeof s['maxItems'] === 'number' && v.length > s['maxItems']) fail('too many items');
    if (s['items'] !== undefined) v.forEach((x, i) => out.push(...errorsOf(s['items'], x, `${path}[${i}]`)));
  }
  if (isObject(v)) {
    for (const r of (s['required'] as string[] | undefined) ?? []) if (!(r in v)) fail(`${r} is required`);
    const props = (s['properties'] as Json | undefined) ?? {};
    for (const [k, x] of Object.entries(v)) {
      const at = path === '' ? k : `${path}.${k}`;
      if (k in props) out.push(...errorsOf(props[k], x, at));
      else if (s['additionalProperties'] !== undefined) out.push(...errorsOf(s['additionalProperties'], x, at));
    }
  }
  if (s['not'] !== undefined && errorsOf(s['not'], v, path).length === 0) fail('matches a `not` schema');
  if (Array.isArray(s['allOf'])) for (const sub of s['allOf']) out.push(...errorsOf(sub, v, path));
  if (Array.isArray(s['anyOf']) && !s['anyOf'].some((sub) => errorsOf(sub, v, path).length === 0)) fail('matches no anyOf schema');
  if (Array.isArray(s['oneOf']) && s['oneOf'].filter((sub) => errorsOf(sub, v, path).length === 0).length !== 1) fail('does not match exactly one oneOf schema');
  if (s['if'] !== undefined) {
    const branch = errorsOf(s['if'], v, path).length === 0 ? s['then'] : s['else'];
    if (branch !== undefined) out.push(...errorsOf(branch, v, path));
  }
  return out;
}

// --- the format core's schema, structurally ----------------------------------------

interface FieldLike {
  readonly schema: SchemaLike;
  readonly required?: boolean;
}
type SchemaLike =
  | { readonly kind: 'string'; readonly max: number; readonly min?: number }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'array'; readonly items: SchemaLike; readonly max: number }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, FieldLike>> }
  | { readonly kind: 'free' };

/** Compares the document's schema of one member with the format core's, kind by kind. */
function mirrors(fields: Readonly<Record<string, FieldLike>>, s: Json, path: string): void {
  expect(s['type'], path).toBe('object');
  expect(s['additionalProperties'], path).toBe(false);
  const props = s['properties'] as Record<string, Json>;
  expect(Object.keys(props).sort(), path).toEqual(Object.keys(fields).sort());
  const required = Object.keys(fields).filter((k) => fields[k]!.required === true);
  expect([...((s['required'] as string[] | undefined) ?? [])].sort(), path).toEqual(required.sort());
  for (const [name, f] of Object.entries(fields)) mirrorsSchema(f.schema, props[name]!, path === '' ? name : `${path}.${name}`);
}

function mirrorsSchema(k: SchemaLike, s: Json, path: string): void {
  switch (k.kind) {
    case 'string':
      expect([s['type'], s['minLength'], s['maxLength']], path).toEqual(['string', k.min ?? 1, k.max]);
      return;
    case 'enum':
      expect([s['type'], s['enum']], path).toEqual(['string', k.values]);
      return;
    case 'integer':
      expect(s['type'], path).toBe('integer');
      if (k.min === k.max && 'const' in s) expect(s['const'], path).toBe(k.min);
      else expect([s['minimum'], s['maximum']], path).toEqual([k.min, k.max]);
      return;
    case 'boolean':
      expect(s['type'], path).toBe('boolean');
      return;
    case 'array':
      expect([s['type'], s['maxItems']], path).toEqual(['array', k.max]);
      mirrorsSchema(k.items, s['items'] as Json, `${path}[]`);
      return;
    case 'object':
      mirrors(k.fields, s, path);
      return;
    case 'free':
      expect([s['type'], s['additionalProperties']], path).toEqual(['object', true]);
      return;
  }
}

const KEY = new Uint8Array(32).fill(3);
const newSealer = (): LogSealer => new LogSealer({ tenant: 'acme-1', origin: 'log.example.com/tenants/acme-1', tenantKey: KEY, signingSeed: KEY });

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1.0 JSON, built once', () => {
    expect(doc['openapi']).toBe('3.1.0');
    const info = doc['info'] as Json;
    expect(info['title']).toBe('Trailseal log service API');
    expect(info['version']).toBe('1.0.0');
    expect(info['description']).toMatch(/tamper-evident, never tamper-proof/);
    expect(openApiDocument()).toBe(openApiDocument());
  });

  it('describes every route of app.ts and no other', () => {
    const routes = [...appRoutes().keys()].sort();
    expect(routes.length).toBeGreaterThan(10);
    expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(routes);
  });

  it('names the scope each route of app.ts requires, and no scope for the public routes', () => {
    const routes = appRoutes();
    for (const { path, method, op } of operations) {
      const scope = routes.get(`${method} ${path}`);
      const where = `${method} ${path}`;
      if (scope === undefined) {
        expect(op['security'], where).toEqual([]);
        expect(op['x-trailseal-scope'], where).toBeUndefined();
      } else {
        expect(op['x-trailseal-scope'], where).toBe(scope);
        expect(op['security'], where).toEqual([{ bearerAuth: [scope] }]);
        expect(op['description'], where).toContain(`\`${scope}\` scope`);
        expect(Object.keys(op['responses'] as Json), where).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
    const scheme = ((doc['components'] as Json)['securitySchemes'] as Json)['bearerAuth'] as Json;
    expect([scheme['type'], scheme['scheme']]).toEqual(['http', 'bearer']);
    expect(scheme['description']).toContain('Authorization: Bearer <api key>');
    expect(scheme['bearerFormat']).toBe('tsk_<16 hex>_<43 base64url>');
  });

  it('gives every operation a unique operationId, resolvable parameters and problem-details errors', () => {
    const ids = operations.map((o) => o.op['operationId']);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations) {
      const where = `${method} ${path}`;
      const params = ((op['parameters'] as unknown[] | undefined) ?? []).map(deref);
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(params.filter((p) => p['in'] === 'path').map((p) => p['name']), where).toEqual(inPath);
      const responses = Object.entries(op['responses'] as Record<string, Json>);
      expect(responses.some(([s]) => /^2\d\d$/.test(s)), where).toBe(true);
      const errors = responses.filter(([s]) => /^[45]\d\d$/.test(s));
      expect(errors.length, where).toBeGreaterThan(0);
      for (const [status, r] of errors) {
        expect(Object.keys(r['content'] as Json), `${where} ${status}`).toEqual(['application/problem+json']);
        expect(((r['content'] as Json)['application/problem+json'] as Json)['schema'], `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Problem' });
        const codes = r['x-trailseal-codes'] as (keyof typeof ERROR_REGISTRY)[];
        expect(codes.length, `${where} ${status}`).toBeGreaterThan(0);
        for (const c of codes) expect(ERROR_REGISTRY[c].status, `${where} ${status} ${c}`).toBe(Number(status));
        if (status === '503') expect(deref((r['headers'] as Json)['Retry-After'])['schema'], where).toEqual({ type: 'integer', minimum: 0 });
        if (status === '413') expect(r['description'], where).toMatch(/`limit` member names the limit/);
      }
    }
  });

  it('has a Problem schema whose code enum is the error registry', () => {
    const p = schemas['Problem']!;
    const props = p['properties'] as Record<string, Json>;
    expect(props['code']!['enum']).toEqual(Object.keys(ERROR_REGISTRY));
    expect(props['type']!['enum']).toEqual(Object.keys(ERROR_REGISTRY).map((c) => `urn:trailseal:problem:${c}`));
    expect(((props['errors']!['items'] as Json)['properties'] as Record<string, Json>)['code']!['enum']).toEqual(Object.keys(ERROR_REGISTRY));
    for (const k of ['type', 'title', 'status', 'detail', 'code', 'instance', 'field', 'errors', 'limit', 'truncated', 'total']) expect(props, k).toHaveProperty(k);
  });

  it('has Event and Record schemas with the members, types, enums and limits of the format core', () => {
    const eventFields = EVENT_FIELDS as unknown as Readonly<Record<string, FieldLike>>;
    mirrors(eventFields, schemas['Event']!, '');
    mirrors({ ...eventFields, ...(RECORD_LOG_FIELDS as unknown as Readonly<Record<string, FieldLike>>) }, schemas['Record']!, '');
  });

  it('every pattern is a valid ECMA-262 regular expression', () => {
    const patterns: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (isObject(v)) {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'pattern' && typeof x === 'string') patterns.push(x);
          else walk(x);
        }
      }
    };
    walk(doc);
    expect(patterns.length).toBeGreaterThan(20);
    for (const p of patterns) expect(() => new RegExp(p, 'u'), p).not.toThrow();
  });

  it('the Event schema accepts what the validator accepts', () => {
    const event = schemas['Event']!;
    for (let i = 0; i < 50; i++) expect(errorsOf(event, richEvent(i))).toEqual([]);
    fc.assert(
      fc.property(validEvent, (e) => {
        expect(validateEvent(e)).toEqual([]);
        expect(errorsOf(event, e)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('the Event schema rejects what the validator rejects for the reasons it can express', () => {
    const event = schemas['Event']!;
    const bad: Json[] = [
      { ...richEvent(), extra: 1 },
      { ...richEvent(), seq: 1 },
      { ...richEvent(), id: 'has space' },
      { ...richEvent(), id: 'x'.repeat(129) },
      { ...richEvent(), time: '2026-01-01 00:00:00Z' },
      { ...richEvent(), action: 'Login' },
      { ...richEvent(), action: 'trailseal.log.genesis' },
      { ...richEvent(), outcome: 'ok' },
      { ...richEvent(), actor: { id: 'x' } },
      { ...richEvent(), actor: { id: 'x', type: 'user', mfa: 'yes' } },
      { ...richEvent(), source: { port: 70000 } },
      { ...richEvent(), target: { type: 'file', sha256: 'ABC' } },
      { ...richEvent(), target: { type: 'file', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) } },
      { ...richEvent(), transfer: { protocol: 'gopher' } },
      { ...richEvent(), context: [] },
      { ...richEvent(), source: null },
    ];
    for (const e of bad) {
      expect(validateEvent(e).length, JSON.stringify(e).slice(0, 120)).toBeGreaterThan(0);
      expect(errorsOf(event, e).length, JSON.stringify(e).slice(0, 120)).toBeGreaterThan(0);
    }
  });

  it('the Record, Receipt and VerifierKey schemas accept what the log writes', () => {
    const sealer = newSealer();
    const at = Date.UTC(2026, 10, 26, 9, 0, 0);
    const sealed = [sealer.genesis(at), ...Array.from({ length: 5 }, (_, i) => sealer.append(richEvent(i), at + i)), sealer.rotateSigningKey(new Uint8Array(32).fill(9), at + 9), sealer.rotateMacKeys(at + 10)];
    for (const s of sealed) {
      expect(errorsOf(schemas['Record'], JSON.parse(s.canonical))).toEqual([]);
      expect(errorsOf(schemas['Receipt'], { seq: s.record.seq, leafHash: toHex(s.leafHash), receivedAt: s.record.received_at })).toEqual([]);
    }
    expect(errorsOf(schemas['Record'], { ...JSON.parse(sealed[1]!.canonical), log: {} }).length).toBeGreaterThan(0);
    const { log: _log, ...genesisWithoutLog } = JSON.parse(sealed[0]!.canonical) as Json;
    expect(errorsOf(schemas['Record'], genesisWithoutLog).length).toBeGreaterThan(0);
    expect(errorsOf(schemas['VerifierKey'], sealer.verifierKey)).toEqual([]);
    expect(errorsOf(schemas['Receipts'], { receipts: [{ seq: 1, leafHash: 'ab'.repeat(32), receivedAt: '2026-01-01T00:00:00.000Z', duplicate: true }] })).toEqual([]);
  });

  it('documents the ingest body as one Event, an array of up to 10,000, or NDJSON', () => {
    const body = (paths['/v1/events']!['post'] as Json)['requestBody'] as Json;
    const content = body['content'] as Json;
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/x-ndjson']);
    const schema = (content['application/json'] as Json)['schema'] as Json;
    const one = richEvent();
    expect(errorsOf(schema, one)).toEqual([]);
    expect(errorsOf(schema, [one, richEvent(1)])).toEqual([]);
    expect(errorsOf(schema, []).length).toBeGreaterThan(0);
    expect(((schema['oneOf'] as Json[])[1]!)['maxItems']).toBe(10_000);
  });

  it('docs/spec/openapi.json is the served document (run `npm run api-doc`)', () => {
    const committed = readFileSync(new URL('../../../docs/spec/openapi.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${JSON.stringify(JSON.parse(openApiDocument()), null, 2)}\n`);
  });
});
