// The public HTTP contract, end to end against a real service, once on SQLite
// and once on PostgreSQL: what a producer, a reader, an operator and an
// auditor's verifier see.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, parseVerifierKey } from '@trailseal/format';
import { verifyCheckpointConsistency, verifyLog, verifyReceipt } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const pgOk = await requirePg('the HTTP contract suite on PostgreSQL');

interface Lock {
  take(): Promise<void>;
  free(): Promise<void>;
}

/** Takes the SQLite database write lock from another connection, as another process would. */
async function lockSqlite(file: string): Promise<Lock> {
  const db = new Database(file);
  return {
    take: async () => void db.exec('BEGIN IMMEDIATE'),
    free: async () => {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/** Locks a tenant's head row in PostgreSQL from another connection. */
async function lockPostgres(url: string, tenant: string): Promise<Lock> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return {
    take: async () => {
      await c.query('BEGIN');
      await c.query('SELECT 1 FROM heads WHERE tenant = $1 FOR UPDATE', [tenant]);
    },
    free: async () => {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

function apiContract(kind: 'sqlite' | 'postgres'): void {
  // Each service of a PostgreSQL run gets its own fresh database.
  const dbs: FreshDatabase[] = [];
  const store = async (): Promise<Record<string, string>> => {
    if (kind === 'sqlite') return {};
    const db = await freshDatabase();
    dbs.push(db);
    return { store: db.url };
  };
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  let svc: TestService;
  let acme: { id: string; apiKey: string; verifierKey: string };
  let globex: { id: string; apiKey: string; verifierKey: string };

  beforeAll(async () => {
    svc = await startTestService({ ...(await store()), 'checkpoint-interval-ms': '0' });
    acme = await createTenant(svc, 'acme');
    globex = await createTenant(svc, 'globex');
  });
  afterAll(async () => svc.stop());

  const post = (token: string, body: unknown, type = 'application/json') =>
    call(svc.url, 'POST', '/v1/events', { token, body: typeof body === 'string' ? body : JSON.stringify(body), type });
  const get = (token: string, path: string) => call(svc.url, 'GET', path, { token });

  async function size(token: string): Promise<number> {
    return (await get(token, '/v1/log')).json<{ size: number }>().size;
  }

  async function allRecords(token: string): Promise<string[]> {
    const lines: string[] = [];
    let path = '/v1/events?limit=1000';
    for (;;) {
      const r = await get(token, path);
      expect(r.status).toBe(200);
      const page = r.json<{ records: unknown[]; next: string | null }>();
      // RFC 8785 writes strings and integers exactly as JSON.stringify does and JSON.parse keeps member order, so this reproduces the stored bytes.
      for (const rec of page.records) lines.push(JSON.stringify(rec));
      if (page.next === null) return lines;
      path = `/v1/events?cursor=${page.next}&limit=1000`;
    }
  }

  describe('ingest', () => {
    it('answers 201 with a receipt whose leaf hash is SHA-256(0x00 || the stored record bytes)', async () => {
      const ev = { ...richEvent(1), id: 'single-1' };
      const r = await post(acme.apiKey, ev);
      expect(r.status).toBe(201);
      const [receipt] = r.json<{ receipts: { seq: number; leafHash: string; receivedAt: string }[] }>().receipts;
      expect(receipt!.seq).toBeGreaterThan(0);
      const rec = await get(acme.apiKey, `/v1/events/${receipt!.seq}`);
      expect(rec.status).toBe(200);
      expect(rec.headers.get('content-type')).toMatch(/^application\/json/);
      const leaf = createHash('sha256').update(Buffer.of(0)).update(rec.text).digest('hex');
      expect(leaf).toBe(receipt!.leafHash);
      const body = rec.json();
      expect(body['tenant']).toBe('acme');
      expect(body['received_at']).toBe(receipt!.receivedAt);
      expect(body['target']).toEqual(ev.target);
    });

    it('takes a JSON array and NDJSON, answering receipts in order with contiguous seqs', async () => {
      const arr = [0, 1, 2].map((i) => ({ ...richEvent(100 + i), id: `arr-${i}` }));
      const a = (await post(acme.apiKey, arr)).json<{ receipts: { seq: number }[] }>().receipts;
      const nd = [3, 4].map((i) => JSON.stringify({ ...richEvent(100 + i), id: `nd-${i}` })).join('\n') + '\n';
      const n = await post(acme.apiKey, nd, 'application/x-ndjson');
      expect(n.status).toBe(201);
      const seqs = [...a, ...n.json<{ receipts: { seq: number }[] }>().receipts].map((r) => r.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
      const rec = (await get(acme.apiKey, `/v1/events/${seqs[4]}`)).json();
      expect(rec['id']).toBe('nd-4');
    });

    it('returns the original receipt for a known id and never stores a second record', async () => {
      const ev = { ...richEvent(7), id: 'idem-7' };
      const first = (await post(acme.apiKey, ev)).json<{ receipts: object[] }>().receipts[0]!;
      const before = await size(acme.apiKey);
      const again = await post(acme.apiKey, [ev, { ...richEvent(8), id: 'idem-8' }, { ...richEvent(8), id: 'idem-8' }]);
      expect(again.status).toBe(201);
      const [r0, r1, r2] = again.json<{ receipts: Record<string, unknown>[] }>().receipts;
      expect(r0).toEqual({ ...first, duplicate: true });
      expect(r2).toEqual({ ...r1, duplicate: true });
      // idem-8 once, plus the audit-free ingest: exactly one new record.
      expect(await size(acme.apiKey)).toBe(before + 1);
    });

    it('refuses an id re-sent with different content (409), alone or within a batch, without failing requests committed alongside', async () => {
      const ev = { ...richEvent(11), id: 'reused' };
      const first = (await post(acme.apiKey, ev)).json<{ receipts: { seq: number }[] }>().receipts[0]!;
      const before = await size(acme.apiKey);
      const others = [0, 1, 2, 3].map((i) => post(acme.apiKey, { ...richEvent(500 + i), id: `alongside-${i}` }));
      const changed = post(acme.apiKey, [{ ...richEvent(12), id: 'fresh-12' }, { ...ev, outcome: 'denied' }]);
      const [r, ...rest] = await Promise.all([changed, ...others]);
      expect([r!.status, r!.json()['code'], r!.json()['field'], r!.json()['seq']]).toEqual([409, 'IDEMPOTENCY_CONFLICT', '[1].id', first.seq]);
      expect(rest.map((x) => x.status)).toEqual([201, 201, 201, 201]);
      expect(await size(acme.apiKey)).toBe(before + 4);
      expect((await get(acme.apiKey, '/v1/events?limit=1000')).text).not.toContain('fresh-12');
      const inBatch = await post(acme.apiKey, [{ ...richEvent(13), id: 'twice' }, { ...richEvent(14), id: 'twice' }]);
      expect([inBatch.status, inBatch.json()['code'], inBatch.json()['field']]).toEqual([409, 'IDEMPOTENCY_CONFLICT', '[1].id']);
      // The same content again is a plain duplicate.
      expect((await post(acme.apiKey, ev)).json<{ receipts: { duplicate?: boolean }[] }>().receipts[0]!.duplicate).toBe(true);
    });

    it('rejects a batch with one bad event as a whole, naming every bad field by index; nothing is stored', async () => {
      const before = await size(acme.apiKey);
      const bad = { ...richEvent(9), id: 'bad-9', source: { ip: '999.1.1.1' }, outcome: 'maybe' };
      const r = await post(acme.apiKey, [{ ...richEvent(10), id: 'good-10' }, bad]);
      expect(r.status).toBe(422);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const p = r.json<{ code: string; type: string; errors: { path: string; code: string }[] }>();
      expect(p.code).toBe('EVENT_INVALID');
      expect(p.type).toBe('urn:trailseal:problem:EVENT_INVALID');
      expect(p.errors.map((e) => [e.path, e.code]).sort()).toEqual([
        ['[1].outcome', 'FIELD_ENUM'],
        ['[1].source.ip', 'FIELD_FORMAT'],
      ]);
      expect(await size(acme.apiKey)).toBe(before);
      expect((await get(acme.apiKey, '/v1/events?limit=1000')).text).not.toContain('good-10');
    });

    it('maps hostile bodies to stable codes: duplicate names, invalid UTF-8, wrong media type, empty batch', async () => {
      const dup = await post(acme.apiKey, '{"id":"x","id":"y"}');
      expect([dup.status, dup.json()['code']]).toEqual([400, 'JSON_DUPLICATE_KEY']);
      const utf = await call(svc.url, 'POST', '/v1/events', { token: acme.apiKey, body: Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d) });
      expect([utf.status, utf.json()['code']]).toEqual([400, 'INVALID_UTF8']);
      const media = await post(acme.apiKey, 'id=1', 'application/x-www-form-urlencoded');
      expect([media.status, media.json()['code']]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
      const empty = await post(acme.apiKey, '[]');
      expect([empty.status, empty.json()['code']]).toEqual([400, 'BODY_INVALID']);
    });

    it('answers 413 naming the limit for an oversized body or batch', async () => {
      const small = await startTestService({ ...(await store()), 'max-body-bytes': '4096', 'max-batch-events': '3' });
      try {
        const t = await createTenant(small, 'tiny');
        const big = await call(small.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify([{ ...richEvent(1), context: { pad: 'x'.repeat(5000) } }]) });
        expect([big.status, big.json()['code'], big.json()['limit']]).toEqual([413, 'BODY_TOO_LARGE', 4096]);
        const many = await call(small.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify([0, 1, 2, 3].map((i) => ({ id: `e${i}` }))) });
        expect([many.status, many.json()['code'], many.json()['limit']]).toEqual([413, 'BATCH_TOO_LARGE', 3]);
      } finally {
        await small.stop();
      }
    });

    it('answers 503 with Retry-After when the queue is full, storing nothing of that request', async () => {
      const flags = await store();
      const small = await startTestService({ ...flags, 'max-queue': '6', 'max-batch-events': '4' });
      // Holding the store's write lock from outside stalls the first commit, so its events stay queued.
      const release = kind === 'sqlite' ? lockSqlite(join(small.dataDir, 'trailseal.db')) : await lockPostgres(flags['store']!, 'busy');
      let released = false;
      try {
        const t = await createTenant(small, 'busy');
        const before = await call(small.url, 'GET', '/v1/log', { token: t.apiKey });
        await (await release).take();
        const first = call(small.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify([0, 1, 2, 3].map((i) => richEvent(i))) });
        for (let i = 0; i < 100 && !/^trailseal_queue_depth 4$/m.test((await call(small.url, 'GET', '/metrics')).text); i++) await new Promise((r) => setTimeout(r, 20));
        const second = await call(small.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify([4, 5, 6].map((i) => richEvent(i))) });
        expect([second.status, second.json()['code'], second.headers.get('retry-after')]).toEqual([503, 'OVERLOADED', '1']);
        await (await release).free();
        released = true;
        expect((await first).status).toBe(201);
        const size = (await call(small.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
        expect(size).toBe(before.json<{ size: number }>().size + 4);
      } finally {
        if (!released) await (await release).free();
        await small.stop();
      }
    });
  });

  describe('access', () => {
    it('rejects missing, malformed, unknown and revoked keys with 401 and a lacking scope with 403', async () => {
      expect((await call(svc.url, 'GET', '/v1/checkpoint')).json()['code']).toBe('UNAUTHORIZED');
      expect((await get('not-a-key', '/v1/checkpoint')).status).toBe(401);
      expect((await get(`tsk_${'0'.repeat(16)}_${'A'.repeat(43)}`, '/v1/checkpoint')).status).toBe(401);
      const issued = await call(svc.url, 'POST', '/v1/admin/tenants/acme/keys', { token: svc.admin, body: JSON.stringify({ name: 'reader', scopes: ['read'] }) });
      expect(issued.status).toBe(201);
      const reader = issued.json<{ id: string; apiKey: string }>();
      expect((await get(reader.apiKey, '/v1/checkpoint')).status).toBe(200);
      const denied = await post(reader.apiKey, richEvent(1));
      expect([denied.status, denied.json()['code'], denied.json()['scope']]).toEqual([403, 'FORBIDDEN', 'ingest']);
      expect((await call(svc.url, 'DELETE', `/v1/admin/keys/${reader.id}`, { token: svc.admin })).status).toBe(204);
      expect((await get(reader.apiKey, '/v1/checkpoint')).json()['code']).toBe('UNAUTHORIZED');
      expect((await call(svc.url, 'POST', '/v1/admin/tenants', { token: acme.apiKey, body: '{"id":"evil"}' })).status).toBe(403);
    });

    it('operators rotate their own key and list keys without secrets', async () => {
      const issued = await call(svc.url, 'POST', '/v1/admin/keys', { token: svc.admin, body: JSON.stringify({ name: 'ops-2' }) });
      expect(issued.status).toBe(201);
      const ops2 = issued.json<{ id: string; apiKey: string }>();
      const listed = (await call(svc.url, 'GET', '/v1/admin/keys', { token: ops2.apiKey })).json<{ keys: Record<string, unknown>[] }>().keys;
      expect(listed.map((k) => k['name'])).toContain('ops-2');
      expect(JSON.stringify(listed)).not.toMatch(/secret|tsk_/);
      const tenantKeys = (await call(svc.url, 'GET', '/v1/admin/tenants/acme/keys', { token: ops2.apiKey })).json<{ keys: { scopes: string[] }[] }>().keys;
      expect(tenantKeys.every((k) => !k.scopes.includes('admin'))).toBe(true);
      const bad = await call(svc.url, 'POST', '/v1/admin/keys', { token: ops2.apiKey, body: JSON.stringify({ scopes: ['ingest'] }) });
      expect([bad.status, bad.json()['field']]).toEqual([400, 'scopes']);
      const nope = await call(svc.url, 'POST', '/v1/admin/tenants/acme/keys', { token: ops2.apiKey, body: JSON.stringify({ scopes: ['admin'] }) });
      expect([nope.status, nope.json()['field']]).toEqual([400, 'scopes']);
      expect((await call(svc.url, 'GET', '/v1/admin/tenants/nobody/keys', { token: ops2.apiKey })).json()['code']).toBe('TENANT_NOT_FOUND');
    });

    it('a key expired in the past is refused', async () => {
      const r = await call(svc.url, 'POST', '/v1/admin/tenants/acme/keys', { token: svc.admin, body: JSON.stringify({ scopes: ['read'], expiresAt: '2020-01-01T00:00:00Z' }) });
      expect((await get(r.json<{ apiKey: string }>().apiKey, '/v1/log')).json()['code']).toBe('UNAUTHORIZED');
    });

    it("a key of one tenant never reads or writes another tenant's log", async () => {
      await post(globex.apiKey, { ...richEvent(50), id: 'globex-secret' });
      await post(acme.apiKey, { ...richEvent(51), id: 'acme-only' });
      const acmeLines = await allRecords(acme.apiKey);
      const globexLines = await allRecords(globex.apiKey);
      expect(acmeLines.every((l) => JSON.parse(l).tenant === 'acme')).toBe(true);
      expect(globexLines.every((l) => JSON.parse(l).tenant === 'globex')).toBe(true);
      expect(acmeLines.join('\n')).not.toContain('globex-secret');
      // Same seq, different logs: each key sees only its own record.
      const a1 = (await get(acme.apiKey, '/v1/events/1')).json();
      const g1 = (await get(globex.apiKey, '/v1/events/1')).json();
      expect([a1['tenant'], g1['tenant']]).toEqual(['acme', 'globex']);
    });
  });

  describe('proofs and verification', () => {
    it('serves tlog-proof receipts that verify offline against the tenant verifier key', async () => {
      const r = (await post(acme.apiKey, { ...richEvent(60), id: 'prove-me' })).json<{ receipts: { seq: number }[] }>().receipts[0]!;
      const line = (await get(acme.apiKey, `/v1/events/${r.seq}`)).text;
      const proof = await get(acme.apiKey, `/v1/events/${r.seq}/proof`);
      expect(proof.status).toBe(200);
      expect(proof.text.startsWith('c2sp.org/tlog-proof@v1\n')).toBe(true);
      const report = verifyReceipt(line, proof.text, { trustedKeys: [acme.verifierKey], expectedOrigin: 'test.trailseal.example/tenants/acme' });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
      // Another tenant's key does not verify it.
      expect(verifyReceipt(line, proof.text, { trustedKeys: [globex.verifierKey] }).ok).toBe(false);
    });

    it('serves consistency proofs between checkpoints, and the whole log verifies against the latest checkpoint', async () => {
      const older = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
      await post(acme.apiKey, [1, 2, 3].map((i) => ({ ...richEvent(200 + i), id: `grow-${i}` })));
      const newer = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
      const v = [parseVerifierKey(acme.verifierKey)];
      const a = openCheckpoint(older, v);
      const b = openCheckpoint(newer, v);
      expect(b.size).toBeGreaterThan(a.size);
      const cons = await get(acme.apiKey, `/v1/consistency?from=${a.size}&to=${b.size}`);
      expect(cons.status).toBe(200);
      const lines = cons.text.split('\n').filter((l) => l !== '');
      expect(verifyCheckpointConsistency(older, newer, lines, { trustedKeys: [acme.verifierKey] }).ok).toBe(true);
      expect((await get(acme.apiKey, '/v1/checkpoint')).text).toBe(newer);
      const records = (await allRecords(acme.apiKey)).slice(0, b.size);
      const report = verifyLog(records, { trustedKeys: [acme.verifierKey], checkpoint: newer });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    });

    it('survives key rotations: the original verifier key still verifies the whole history', async () => {
      for (const purpose of ['signing', 'mac']) {
        const r = await call(svc.url, 'POST', '/v1/admin/tenants/globex/rotate', { token: svc.admin, body: JSON.stringify({ purpose }) });
        expect(r.status).toBe(201);
      }
      await post(globex.apiKey, { ...richEvent(70), id: 'after-rotation' });
      const log = (await get(globex.apiKey, '/v1/log')).json<{ verifierKey: string }>();
      expect(log.verifierKey).not.toBe(globex.verifierKey);
      const cp = (await call(svc.url, 'POST', '/v1/checkpoint', { token: globex.apiKey })).text;
      const report = verifyLog(await allRecords(globex.apiKey), { trustedKeys: [globex.verifierKey], checkpoint: cp });
      expect(report.problems).toEqual([]);
    });

    it('rejects bad query parameters with QUERY_INVALID naming the field', async () => {
      for (const [path, field] of [
        ['/v1/events/01', 'seq'],
        ['/v1/events/-1', 'seq'],
        ['/v1/events?limit=0', 'limit'],
        ['/v1/events?since=yesterday', 'since'],
        ['/v1/events?cursor=bogus', 'cursor'],
        ['/v1/consistency?from=5&to=2', 'from'],
        ['/v1/consistency?from=1&to=999999', 'to'],
      ] as const) {
        const r = await get(acme.apiKey, path);
        expect([path, r.status, r.json()['code'], r.json()['field']]).toEqual([path, 400, 'QUERY_INVALID', field]);
      }
      expect((await get(acme.apiKey, '/v1/events/999999')).status).toBe(404);
    });

    it('lists by time range and pages with cursors', async () => {
      const since = new Date().toISOString();
      await post(acme.apiKey, [1, 2, 3, 4, 5].map((i) => ({ ...richEvent(300 + i), id: `page-${i}` })));
      const seen: string[] = [];
      let path = `/v1/events?since=${encodeURIComponent(since)}&limit=2`;
      for (let guard = 0; guard < 20; guard++) {
        const page = (await get(acme.apiKey, path)).json<{ records: { id: string }[]; next: string | null }>();
        seen.push(...page.records.map((r) => r.id));
        if (page.next === null) break;
        path = `/v1/events?cursor=${page.next}&limit=2`;
      }
      expect(seen.filter((id) => id.startsWith('page-'))).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5']);
    });
  });

  describe('the log records itself', () => {
    it('records reads of audit data, API key changes and service start in the logs they concern', async () => {
      await get(acme.apiKey, '/v1/events/0');
      const lines = (await allRecords(acme.apiKey)).map((l) => JSON.parse(l) as Record<string, unknown>);
      const reads = lines.filter((r) => r['action'] === 'trailseal.audit.read');
      expect(reads.length).toBeGreaterThan(0);
      const last = reads[reads.length - 1]!;
      expect((last['actor'] as { type: string }).type).toBe('service');
      expect((last['log'] as { operation: string }).operation).toBeDefined();
      expect(lines.some((r) => r['action'] === 'trailseal.apikey.create')).toBe(true);
      const system = (await allRecords(svc.admin)).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(system.map((r) => r['action'])).toEqual(expect.arrayContaining(['trailseal.log.genesis', 'trailseal.service.start', 'trailseal.tenant.create']));
    });
  });

  describe('checkpoint cadence', () => {
    it('signs and stores a checkpoint of the grown log within the interval, without being asked', async () => {
      const fast = await startTestService({ ...(await store()), 'checkpoint-interval-ms': '100' });
      try {
        const t = await createTenant(fast, 'cadence');
        await call(fast.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify([1, 2, 3].map((i) => richEvent(i))) });
        const size = (await call(fast.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
        let seen = 0;
        for (let i = 0; i < 40 && seen < size; i++) {
          await new Promise((r) => setTimeout(r, 50));
          seen = Number((await call(fast.url, 'GET', '/v1/checkpoint', { token: t.apiKey })).text.split('\n')[1]);
        }
        expect(seen).toBe(size);
        const m = (await call(fast.url, 'GET', '/metrics')).text;
        expect(m).toMatch(/^trailseal_checkpoint_age_seconds\{tenant="cadence"\} \d/m);
      } finally {
        await fast.stop();
      }
    });
  });

  describe('operations', () => {
    it('serves health, readiness, metrics and problem+json 404s', async () => {
      expect((await call(svc.url, 'GET', '/healthz')).status).toBe(200);
      expect((await call(svc.url, 'GET', '/readyz')).json()['store']).toBe(kind);
      const m = (await call(svc.url, 'GET', '/metrics')).text;
      expect(m).toMatch(/^trailseal_events_ingested_total [1-9]\d*$/m);
      expect(m).toMatch(/^trailseal_commit_duration_milliseconds_count [1-9]\d*$/m);
      expect(m).toContain('trailseal_queue_depth 0');
      expect(m).toMatch(/^trailseal_ingest_bodies_total\{prepared_on="event_loop"\} [1-9]\d*$/m);
      expect(m).toMatch(/^trailseal_ingest_bodies_total\{prepared_on="thread"\} \d+$/m);
      const nf = await call(svc.url, 'GET', '/nope');
      expect([nf.status, nf.json()['code']]).toEqual([404, 'NOT_FOUND']);
    });
  });
}

describe('on SQLite', () => apiContract('sqlite'));
describe.runIf(pgOk)('on PostgreSQL', () => apiContract('postgres'));
