// Streaming to webhooks end to end, on SQLite and on PostgreSQL: a real
// service, real HTTP receivers that check every message with the
// `standardwebhooks` package, and the faults a SIEM connection meets (an
// outage, a slow receiver, a restart), judged by what the receivers hold.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactRange, canonicalize, fromHex, leafHash, openCheckpoint, parseVerifierKey, toHex } from '@trailseal/format';
import { Receiver, contiguous, waitFor } from './support/receiver.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const pgOk = await requirePg('the streaming suite on PostgreSQL');

function streamSuite(kind: 'sqlite' | 'postgres'): void {
  let svc: TestService;
  let db: FreshDatabase | undefined;
  const receivers: Receiver[] = [];
  let n = 0;
  const flags = { 'sink-heartbeat-ms': '300', 'sink-pause-after-ms': '1500' };

  const receiver = async (): Promise<{ r: Receiver; url: string }> => {
    const r = new Receiver();
    receivers.push(r);
    return { r, url: await r.start() };
  };
  const ingest = async (apiKey: string, count: number, action = 'file.download'): Promise<void> => {
    const events = Array.from({ length: count }, () => ({ id: `e-${n++}`, time: new Date().toISOString(), action, outcome: 'success', actor: { id: 'u1', type: 'user' }, target: { type: 'file', tags: n % 2 ? ['pci'] : ['hr'] } }));
    const res = await call(svc.url, 'POST', '/v1/events', { token: apiKey, body: JSON.stringify(events) });
    expect(res.status, res.text).toBe(201);
  };
  const createSink = async (apiKey: string, r: Receiver, url: string, extra: Record<string, unknown> = {}): Promise<{ id: string }> => {
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: apiKey, body: JSON.stringify({ name: 'siem', kind: 'webhook', config: { url }, ...extra }) });
    expect(res.status, res.text).toBe(201);
    const body = res.json<{ sink: { id: string }; secret: string }>();
    expect(body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    r.secret = body.secret;
    return body.sink;
  };
  const size = async (apiKey: string): Promise<number> => (await call(svc.url, 'GET', '/v1/log', { token: apiKey })).json<{ size: number }>().size;

  beforeAll(async () => {
    if (kind === 'postgres') db = await freshDatabase();
    svc = await startTestService({ ...flags, ...(db !== undefined ? { store: db.url } : {}) });
  });

  afterAll(async () => {
    await svc?.stop();
    for (const r of receivers) await r.stop();
    await db?.drop();
  });

  it('delivers every new event once committed, in seq order, signed, with what a receiver needs to verify it', async () => {
    const t = await createTenant(svc, `s1${kind[0]}`);
    const { r, url } = await receiver();
    await createSink(t.apiKey, r, url);
    const from = await size(t.apiKey);
    await ingest(t.apiKey, 120);
    await ingest(t.apiKey, 80);
    const end = await size(t.apiKey);
    // From the log's size when the sink was created: its own creation record first.
    await waitFor('every event', () => contiguous(r, from - 1, end));
    const seqs = [...r.events.keys()].sort((a, b) => a - b);
    expect(seqs[0]).toBe(from - 1);
    expect(r.events.get(from - 1)!.record['action']).toBe('trailseal.sink.create');
    expect(seqs).toHaveLength(end - from + 1);
    expect(r.order).toEqual([...r.order].sort((a, b) => a - b));
    expect(r.badSignatures).toBe(0);
    for (const seq of [seqs[0]!, seqs[100]!, seqs[seqs.length - 1]!]) {
      const e = r.events.get(seq)!;
      const stored = (await call(svc.url, 'GET', `/v1/events/${seq}`, { token: t.apiKey })).text;
      expect(canonicalize(e.record)).toBe(stored);
      expect(e.leaf_hash).toBe(createHash('sha256').update(Buffer.of(0)).update(stored).digest('hex'));
      expect(e).toMatchObject({ tenant: t.id, seq });
    }
    // Heartbeats: signed checkpoints of the tenant's log, verifiable with its key.
    await waitFor('a checkpoint covering the events', () => r.checkpoints.some((c) => c.size >= end));
    const beat = r.checkpoints.find((c) => c.size >= end)!;
    expect(openCheckpoint(beat.checkpoint, [parseVerifierKey(t.verifierKey)]).size).toBe(beat.size);
  });

  it('a receiver checks the stream as docs/streaming.md describes: no gap, the chain, and the signed root', async () => {
    const t = await createTenant(svc, `s9${kind[0]}`);
    const { r, url } = await receiver();
    await createSink(t.apiKey, r, url, { from_seq: 0 });
    for (let i = 0; i < 3; i++) await ingest(t.apiKey, 70);
    const end = await size(t.apiKey);
    await waitFor('a checkpoint the receiver can check', () => contiguous(r, 0, end) && r.checkpoints.some((c) => c.size >= end));
    const beat = r.checkpoints.find((c) => c.size >= end)!;
    await waitFor('the records below the checkpoint', () => contiguous(r, 0, beat.size));
    // 1. No gap: seqs 0..n-1 all held. 2. Each record's leaf hash and chain link. 3. The root of the leaves is the signed root.
    const cp = openCheckpoint(beat.checkpoint, [parseVerifierKey(t.verifierKey)]);
    const range = new CompactRange();
    let prev = '0'.repeat(64);
    for (let seq = 0; seq < cp.size; seq++) {
      const e = r.events.get(seq)!;
      const bytes = canonicalize(e.record);
      expect(e.leaf_hash).toBe(toHex(leafHash(bytes)));
      expect(e.record['prev_hash']).toBe(prev);
      prev = createHash('sha256').update(bytes).digest('hex');
      range.append(fromHex(e.leaf_hash));
    }
    expect(toHex(range.root())).toBe(toHex(cp.rootHash));
    // A record altered in the SIEM's hands no longer fits.
    const altered = { ...r.events.get(5)!.record, outcome: 'failure' };
    expect(toHex(leafHash(canonicalize(altered)))).not.toBe(r.events.get(5)!.leaf_hash);
  });

  it('a receiver down for a while gets every event after it recovers, in seq order, none lost', async () => {
    const t = await createTenant(svc, `s2${kind[0]}`);
    const { r, url } = await receiver();
    const sink = await createSink(t.apiKey, r, url, { from_seq: 0 });
    await waitFor('the first delivery', () => r.events.size > 0);
    r.status = 503;
    const before = r.requests;
    for (let i = 0; i < 5; i++) await ingest(t.apiKey, 100);
    await waitFor('retries against the outage', () => r.requests > before + 2);
    const health = (await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json<{ health: { lag: number; lastError: string | null; state: string } }>().health;
    expect(health.state).toBe('active');
    expect(health.lag).toBeGreaterThan(0);
    expect(health.lastError).toMatch(/HTTP 503/);
    r.status = 200;
    const end = await size(t.apiKey);
    await waitFor('every event after the outage', () => contiguous(r, 0, end));
    expect(r.order.filter((s, i) => i > 0 && s < r.order[i - 1]!)).toEqual([]);
    await waitFor('the error to clear', async () => (await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json<{ health: { lastError: string | null } }>().health.lastError === null);
    const metrics = (await call(svc.url, 'GET', '/metrics')).text;
    expect(metrics).toMatch(new RegExp(`trailseal_sink_failures_total\\{tenant="${t.id}",sink="${sink.id}"\\} [1-9]`));
    expect(metrics).toMatch(new RegExp(`trailseal_sink_last_delivered_seq\\{tenant="${t.id}",sink="${sink.id}"\\} ${end - 1}\\n`));
    expect(metrics).toMatch(new RegExp(`trailseal_sink_failing\\{tenant="${t.id}",sink="${sink.id}"\\} 0\\n`));
  });

  it('a slow receiver holds back neither ingest nor another sink', async () => {
    const t = await createTenant(svc, `s3${kind[0]}`);
    const slow = await receiver();
    const fast = await receiver();
    slow.r.delayMs = 3000;
    await createSink(t.apiKey, slow.r, slow.url);
    await createSink(t.apiKey, fast.r, fast.url);
    const from = await size(t.apiKey);
    const started = Date.now();
    for (let i = 0; i < 4; i++) await ingest(t.apiKey, 50);
    expect(Date.now() - started).toBeLessThan(2500);
    const end = await size(t.apiKey);
    await waitFor('the fast sink', () => contiguous(fast.r, from + 1, end), 2500);
    expect(contiguous(slow.r, from + 1, end)).toBe(false);
    slow.r.delayMs = 0;
  });

  it('filters by action prefix and tag', async () => {
    const t = await createTenant(svc, `s4${kind[0]}`);
    const { r, url } = await receiver();
    await createSink(t.apiKey, r, url, { filter: { actions: ['auth.*'], tags: ['pci'] } });
    await ingest(t.apiKey, 40, 'file.upload');
    await ingest(t.apiKey, 40, 'auth.login');
    await waitFor('the matching events', () => r.events.size >= 20);
    await new Promise((res) => setTimeout(res, 300));
    expect(r.events.size).toBe(20);
    for (const e of r.events.values()) {
      expect(e.record['action']).toBe('auth.login');
      expect(e.record['target']).toMatchObject({ tags: ['pci'] });
    }
  });

  it('pause, resume, replay and delete, each recorded in the log', async () => {
    const t = await createTenant(svc, `s5${kind[0]}`);
    const { r, url } = await receiver();
    const sink = await createSink(t.apiKey, r, url, { filter: { actions: ['file.*'] } });
    await ingest(t.apiKey, 10);
    await waitFor('the first events', () => r.events.size === 10);
    const paused = await call(svc.url, 'POST', `/v1/sinks/${sink.id}/pause`, { token: t.apiKey, body: '{}' });
    expect(paused.json()).toMatchObject({ health: { state: 'paused', pausedReason: 'paused by an operator' } });
    await ingest(t.apiKey, 10);
    await new Promise((res) => setTimeout(res, 400));
    expect(r.events.size).toBe(10);
    expect((await call(svc.url, 'POST', `/v1/sinks/${sink.id}/resume`, { token: t.apiKey, body: '{}' })).status).toBe(200);
    await waitFor('the events held while paused', () => r.events.size === 20);
    const first = Math.min(...r.events.keys());
    const before = r.order.length;
    expect((await call(svc.url, 'POST', `/v1/sinks/${sink.id}/replay`, { token: t.apiKey, body: JSON.stringify({ from_seq: first }) })).status).toBe(200);
    await waitFor('the replay', () => r.order.length >= before + 20);
    expect(r.order.slice(before, before + 20)).toEqual([...r.events.keys()].sort((a, b) => a - b));
    expect((await call(svc.url, 'DELETE', `/v1/sinks/${sink.id}`, { token: t.apiKey })).status).toBe(204);
    expect((await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json()).toMatchObject({ code: 'NOT_FOUND' });
    const records = (await call(svc.url, 'GET', '/v1/events?from=0&limit=1000', { token: t.apiKey })).json<{ records: { action: string; log?: { sink_id?: string } }[] }>().records;
    const actions = records.filter((x) => x.log?.sink_id === sink.id).map((x) => x.action);
    expect(actions).toEqual(['trailseal.sink.create', 'trailseal.sink.pause', 'trailseal.sink.resume', 'trailseal.sink.replay', 'trailseal.sink.delete']);
  });

  it('a receiver failing beyond the limit pauses its sink, with an alert record in the log', async () => {
    const t = await createTenant(svc, `s6${kind[0]}`);
    const { r, url } = await receiver();
    r.status = 500;
    const sink = await createSink(t.apiKey, r, url, { from_seq: 0 });
    await waitFor('the pause', async () => (await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json<{ health: { state: string } }>().health.state === 'paused', 10_000);
    const records = (await call(svc.url, 'GET', '/v1/events?from=0&limit=1000', { token: t.apiKey })).json<{ records: { action: string; log?: { sink_id?: string; reason?: string } }[] }>().records;
    const alert = records.find((x) => x.action === 'trailseal.sink.paused');
    expect(alert?.log).toMatchObject({ sink_id: sink.id, reason: expect.stringMatching(/HTTP 500/) });
  });

  it('another tenant cannot see or change a sink, and bad settings are refused naming the field', async () => {
    const a = await createTenant(svc, `s7${kind[0]}`);
    const b = await createTenant(svc, `s8${kind[0]}`);
    const { r, url } = await receiver();
    const sink = await createSink(a.apiKey, r, url);
    expect((await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: b.apiKey })).json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(svc.url, 'DELETE', `/v1/sinks/${sink.id}`, { token: b.apiKey })).json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(svc.url, 'GET', '/v1/sinks', { token: b.apiKey })).json()).toEqual({ sinks: [] });
    for (const [body, field] of [
      [{ name: 'x', kind: 'ftp', config: { url } }, 'kind'],
      [{ name: 'x', kind: 'webhook', config: { url: 'ftp://x' } }, 'config.url'],
      [{ name: 'x', kind: 'webhook', config: { url: 'https://u:p@x.example/' } }, 'config.url'],
      [{ name: 'x', kind: 'webhook', config: { url }, format: 'xml' }, 'format'],
      [{ name: 'x', kind: 'webhook', config: { url }, filter: { colour: ['red'] } }, 'filter.colour'],
      [{ name: '', kind: 'webhook', config: { url } }, 'name'],
      [{ name: 'x', kind: 'webhook', config: { url }, from_seq: 10 ** 9 }, 'from_seq'],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: a.apiKey, body: JSON.stringify(body) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field } });
    }
  });
}

describe('on SQLite', () => streamSuite('sqlite'));
describe.runIf(pgOk)('on PostgreSQL', () => streamSuite('postgres'));

describe.runIf(pgOk)('several processes on one PostgreSQL database', () => {
  it('one process at a time delivers a sink, woken by commits of the others; another takes over when it stops', async () => {
    const db = await freshDatabase();
    const flags = { store: db.url, 'sink-heartbeat-ms': '0', 'sink-lease-ms': '1000' };
    const a = await startTestService(flags);
    const b = await startTestService({ ...flags, data: a.dataDir });
    const r = new Receiver();
    const url = await r.start();
    try {
      const t = await createTenant(a, 'multi');
      const created = await call(a.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'siem', kind: 'webhook', config: { url }, from_seq: 0 }) });
      r.secret = created.json<{ secret: string }>().secret;
      let n = 0;
      const ingest = async (via: typeof a): Promise<void> => {
        const events = Array.from({ length: 50 }, () => ({ id: `m-${n++}`, time: new Date().toISOString(), action: 'file.upload', outcome: 'success', actor: { id: 'u1', type: 'user' } }));
        expect((await call(via.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify(events) })).status).toBe(201);
      };
      for (let i = 0; i < 6; i++) await ingest(i % 2 === 0 ? a : b);
      let size = (await call(a.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
      await waitFor('every record', () => contiguous(r, 0, size));
      // One deliverer: no record came twice.
      expect(r.order).toHaveLength(new Set(r.order).size);
      expect(r.order).toEqual([...r.order].sort((x, y) => x - y));
      await a.stop();
      for (let i = 0; i < 4; i++) await ingest(b);
      size = (await call(b.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
      await waitFor('the records after the first process stopped', () => contiguous(r, 0, size), 10_000);
    } finally {
      await r.stop();
      await b.stop();
      await db.drop();
    }
  });
});
