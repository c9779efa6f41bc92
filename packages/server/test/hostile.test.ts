// Hostile input over real HTTP: 10,000 malformed requests (wrong types, huge
// strings, deep nesting, invalid UTF-8, duplicate names, unknown fields, bad
// addresses and hashes, reserved fields, broken syntax), each of which must get
// a 4xx problem naming the field and its stable code. Nothing may be stored,
// and the server must stay up and keep serving good requests.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_REGISTRY } from '@trailseal/format';
import { richEvent } from '../../../test-support/events.js';
import { hostileRequest } from '../../../test-support/hostile.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const REQUESTS = 10_000;
const CONCURRENCY = 32;

let svc: TestService;
let key: string;
beforeAll(async () => {
  svc = await startTestService({ 'checkpoint-interval-ms': '0', 'max-body-bytes': String(2 * 1024 * 1024) });
  key = (await createTenant(svc, 'target')).apiKey;
});
afterAll(async () => svc.stop());

function names(p: { field?: unknown; errors?: { path: string }[] }, field: string): boolean {
  const under = (path: string): boolean => path === field || path.startsWith(`${field}.`) || path.startsWith(`${field}[`);
  if (typeof p.field === 'string' && under(p.field)) return true;
  return (p.errors ?? []).some((e) => under(e.path));
}

describe('hostile requests', () => {
  it(`answers ${REQUESTS} malformed requests with 4xx problems naming the field; stores nothing; stays up`, async () => {
    const sizeBefore = (await call(svc.url, 'GET', '/v1/log', { token: key })).json<{ size: number }>().size;
    const failures: string[] = [];
    const codes = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const i = next++;
        if (i >= REQUESTS) return;
        const c = hostileRequest(i);
        const r = await call(svc.url, 'POST', '/v1/events', { token: key, body: c.body, ...(c.type ? { type: c.type } : {}) });
        const ok = r.status >= 400 && r.status < 500 && (r.headers.get('content-type') ?? '').startsWith('application/problem+json');
        const p = ok ? r.json<{ code: string; status: number; field?: string; errors?: { path: string; code: string }[] }>() : undefined;
        codes.set(p?.code ?? String(r.status), (codes.get(p?.code ?? String(r.status)) ?? 0) + 1);
        if (p === undefined || p.code !== c.code || !(p.code in ERROR_REGISTRY) || p.status !== r.status || (c.field !== undefined && !names(p, c.field))) {
          if (failures.length < 20) failures.push(`#${i} (kind ${i % 16}): expected ${c.code} naming ${c.field ?? '-'}, got ${r.status} ${r.text.slice(0, 300)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(failures).toEqual([]);
    expect([...codes.keys()].sort()).toEqual(['EVENT_INVALID', 'INVALID_UTF8', 'JSON_DUPLICATE_KEY', 'JSON_LONE_SURROGATE', 'JSON_NUMBER_RANGE', 'JSON_SYNTAX', 'JSON_TOO_DEEP']);
    // Nothing stored; still serving.
    expect((await call(svc.url, 'GET', '/v1/log', { token: key })).json<{ size: number }>().size).toBe(sizeBefore);
    expect((await call(svc.url, 'GET', '/healthz')).status).toBe(200);
    const good = await call(svc.url, 'POST', '/v1/events', { token: key, body: JSON.stringify(richEvent(1)) });
    expect(good.status).toBe(201);
  }, 120_000);
});
