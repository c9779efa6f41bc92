import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrailsealClient, TrailsealClientError, backoffDelay, parseRetryAfter, retryDelay, type ClientOptions, type ErrorContext, type Receipt, type TrailsealEvent } from '../src/index.js';
import { FakeLog } from './support/fake-log.js';

let fake: FakeLog;
let clients: TrailsealClient[] = [];

beforeEach(async () => {
  fake = await new FakeLog().start();
});

afterEach(async () => {
  for (const c of clients) c.abort();
  clients = [];
  await fake.stop();
});

/** A client tuned for fast tests: short interval and tiny backoff. */
function makeClient(options: Partial<ClientOptions> = {}): TrailsealClient {
  const c = new TrailsealClient({ url: fake.url, apiKey: fake.apiKey, flushIntervalMs: 10, retryBaseMs: 1, retryMaxMs: 5, timeoutMs: 2000, ...options });
  clients.push(c);
  return c;
}

function ev(extra: Record<string, unknown> = {}): TrailsealEvent {
  return { time: '2026-11-27T10:00:00.000Z', action: 'file.download', outcome: 'success', actor: { id: 'u-48213', type: 'user' }, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<TrailsealClientError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TrailsealClientError);
    return e as TrailsealClientError;
  }
  throw new Error('expected the promise to reject');
}

function bodyIds(body: string): string[] {
  return (JSON.parse(body) as { id: string }[]).map((e) => e.id);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('batching', () => {
  it('sends emits made together as one array request, and each emit resolves with its own receipt', async () => {
    const c = makeClient({ flushIntervalMs: 20 });
    const receipts = await Promise.all(Array.from({ length: 10 }, (_, i) => c.emit(ev({ context: { i } }))));

    const posts = fake.posts();
    expect(posts).toHaveLength(1);
    expect(posts[0]!.headers['content-type']).toBe('application/json');
    expect(posts[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
    const sent = JSON.parse(posts[0]!.body) as { id: string; context: { i: number } }[];
    expect(sent.map((e) => e.context.i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Receipt i belongs to emit i: same id, and the record at its seq is that event.
    expect(receipts.map((r) => r.id)).toEqual(sent.map((e) => e.id));
    expect(receipts.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const r of receipts) {
      const text = fake.texts[r.seq]!;
      expect((JSON.parse(text) as { id: string }).id).toBe(r.id);
      expect(r.leafHash).toBe(createHash('sha256').update(Buffer.from([0])).update(text).digest('hex'));
      expect(r.duplicate).toBe(false);
      expect(r.receivedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('cuts batches at batchSize, keeps one request in flight, and stores in emit order', async () => {
    fake.answerDelayMs = 30;
    const c = makeClient({ batchSize: 4, flushIntervalMs: 5 });
    const receipts = await Promise.all(Array.from({ length: 10 }, (_, i) => c.emit(ev({ id: `evt-${String(i)}` }))));
    expect(fake.posts().map((p) => bodyIds(p.body).length)).toEqual([4, 4, 2]);
    expect(fake.maxInFlight).toBe(1);
    expect(fake.storedIds()).toEqual(Array.from({ length: 10 }, (_, i) => `evt-${String(i)}`));
    expect(receipts.map((r) => r.id)).toEqual(fake.storedIds());
  });

  it('with concurrency 2 overlaps requests (so the in-flight measurement above can fail)', async () => {
    fake.answerDelayMs = 50;
    const c = makeClient({ batchSize: 2, concurrency: 2, flushIntervalMs: 0 });
    await Promise.all(Array.from({ length: 6 }, () => c.emit(ev())));
    expect(fake.maxInFlight).toBe(2);
    expect(fake.storedIds()).toHaveLength(6);
  });

  it('cuts batches at maxBatchBytes', async () => {
    const c = makeClient({ maxBatchBytes: 1000, flushIntervalMs: 20 });
    const pad = 'x'.repeat(250);
    const receipts = await Promise.all(Array.from({ length: 9 }, (_, i) => c.emit(ev({ id: `big-${String(i)}`, context: { pad } }))));
    const sizes = fake.posts().map((p) => Buffer.byteLength(p.body, 'utf8'));
    expect(sizes.length).toBeGreaterThan(2);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(1000);
    // Full batches are as full as the limit allows: adding the next event would exceed it.
    expect(sizes[0]! + 350).toBeGreaterThan(1000);
    expect(receipts.map((r) => r.id)).toEqual(fake.storedIds());
  });

  it('counts UTF-8 bytes, not UTF-16 units, against maxBatchBytes', async () => {
    const c = makeClient({ maxBatchBytes: 1000, flushIntervalMs: 20 });
    const pad = 'é😀'.repeat(60); // 180 UTF-16 units, 360 UTF-8 bytes
    await Promise.all(Array.from({ length: 4 }, () => c.emit(ev({ context: { pad } }))));
    for (const p of fake.posts()) expect(Buffer.byteLength(p.body, 'utf8')).toBeLessThanOrEqual(1000);
    expect(fake.posts().length).toBeGreaterThan(1);
  });

  it('holds a lone event for flushIntervalMs waiting for companions', async () => {
    const c = makeClient({ flushIntervalMs: 120 });
    const t0 = performance.now();
    const p = c.emit(ev());
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.posts()).toHaveLength(0);
    await p;
    expect(performance.now() - t0).toBeGreaterThanOrEqual(110);
    expect(fake.posts()).toHaveLength(1);
  });

  it('gives each event an id before sending, keeps the caller\'s ids, and does not mutate the caller\'s object', async () => {
    const c = makeClient();
    const mine = ev({ id: 'order-4711.created' });
    const anonymous = ev();
    const [a, b] = await Promise.all([c.emit(mine), c.emit(anonymous)]);
    expect(a.id).toBe('order-4711.created');
    expect(b.id).toMatch(UUID);
    expect(bodyIds(fake.posts()[0]!.body)).toEqual(['order-4711.created', b.id]);
    expect('id' in anonymous).toBe(false);
  });

  it('sends the event as it was at emit time', async () => {
    const c = makeClient({ flushIntervalMs: 30 });
    const e = ev({ context: { step: 1 } });
    const p = c.emit(e);
    (e.context as { step: number }).step = 2;
    await p;
    expect((JSON.parse(fake.texts[1]!) as { context: { step: number } }).context.step).toBe(1);
  });
});

describe('retries', () => {
  it('retries 503 + Retry-After: 0 with the identical body, and the log stores each id once', async () => {
    fake.postFaults.push({ kind: 'status', status: 503, retryAfter: '0' }, { kind: 'status', status: 503, retryAfter: '0' });
    const seen: [string, boolean, number][] = [];
    const c = makeClient({ onError: (e, ctx) => seen.push([e.code, ctx.willRetry, ctx.attempt]) });
    const receipts = await Promise.all(Array.from({ length: 5 }, () => c.emit(ev())));

    const posts = fake.posts();
    expect(posts).toHaveLength(3);
    expect(posts[1]!.body).toBe(posts[0]!.body);
    expect(posts[2]!.body).toBe(posts[0]!.body);
    expect(fake.storedIds()).toEqual(receipts.map((r) => r.id));
    expect(seen).toEqual([
      ['OVERLOADED', true, 1],
      ['OVERLOADED', true, 2],
    ]);
  });

  it('when the answer is lost after storing, the retry gets the original receipts (duplicate) and nothing is stored twice', async () => {
    fake.postFaults.push({ kind: 'drop-after' });
    const c = makeClient();
    const receipts = await Promise.all([c.emit(ev()), c.emit(ev()), c.emit(ev())]);
    const posts = fake.posts();
    expect(posts).toHaveLength(2);
    expect(posts[1]!.body).toBe(posts[0]!.body);
    expect(fake.storedIds()).toEqual(receipts.map((r) => r.id));
    expect(receipts.map((r) => [r.seq, r.duplicate])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
  });

  it('retries a connection dropped before storing', async () => {
    fake.postFaults.push({ kind: 'drop-before' });
    const c = makeClient();
    const r = await c.emit(ev());
    expect(fake.posts()).toHaveLength(2);
    expect(r.duplicate).toBe(false);
    expect(fake.storedIds()).toEqual([r.id]);
  });

  it('times out a slow answer and retries it with the same ids', async () => {
    fake.postFaults.push({ kind: 'slow', delayMs: 1000 });
    const codes: string[] = [];
    const c = makeClient({ timeoutMs: 150, onError: (e) => codes.push(e.code) });
    const t0 = performance.now();
    const [a, b] = await Promise.all([c.emit(ev()), c.emit(ev())]);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(900);
    expect(codes).toEqual(['CLIENT_TIMEOUT']);
    expect(fake.posts()).toHaveLength(2);
    expect(fake.posts()[1]!.body).toBe(fake.posts()[0]!.body);
    expect([a.duplicate, b.duplicate]).toEqual([true, true]);
    expect(fake.storedIds()).toEqual([a.id, b.id]);
  });

  it('waits at least Retry-After, even when it exceeds retryMaxMs', async () => {
    fake.postFaults.push({ kind: 'status', status: 429, retryAfter: '1', problem: { code: 'RATE_LIMITED' } });
    const c = makeClient({ retryMaxMs: 5 });
    await c.emit(ev());
    const [first, second] = fake.posts();
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(990);
    expect(second!.at - first!.at).toBeLessThan(1500);
  });

  it.each([408, 429, 500, 502, 503, 504])('retries status %i', async (status) => {
    fake.postFaults.push({ kind: 'status', status, retryAfter: '0' });
    const c = makeClient();
    await c.emit(ev());
    expect(fake.posts()).toHaveLength(2);
  });

  it('gives up after maxRetries and rejects with the last answer', async () => {
    for (let i = 0; i < 3; i++) fake.postFaults.push({ kind: 'status', status: 503, retryAfter: '0', problem: { code: 'QUEUE_FULL' } });
    const seen: boolean[] = [];
    const c = makeClient({ maxRetries: 2, onError: (_e, ctx) => seen.push(ctx.willRetry) });
    const err = await rejection(c.emit(ev()));
    expect(fake.posts()).toHaveLength(3);
    expect(err).toMatchObject({ status: 503, code: 'QUEUE_FULL', attempts: 3, retryable: true, maybeStored: true, retryAfterMs: 0 });
    expect(seen).toEqual([true, true, false]);
  });

  it('fails at once when Retry-After is longer than maxRetryAfterMs, rather than retry early', async () => {
    fake.postFaults.push({ kind: 'status', status: 503, retryAfter: '120' });
    const c = makeClient({ maxRetryAfterMs: 5000 });
    const err = await rejection(c.emit(ev()));
    expect(fake.posts()).toHaveLength(1);
    expect(err).toMatchObject({ status: 503, retryAfterMs: 120_000, attempts: 1 });
  });

  it('reports an error answer that is not a problem document', async () => {
    fake.postFaults.push({ kind: 'status', status: 502, body: '<html>Bad Gateway</html>' });
    const c = makeClient({ maxRetries: 0 });
    const err = await rejection(c.emit(ev()));
    expect(err).toMatchObject({ status: 502, code: 'CLIENT_HTTP_ERROR', detail: '<html>Bad Gateway</html>' });
  });
});

describe('no retry on client errors', () => {
  it('422: one request; every emit of the batch rejects with the problem, and batchIndex pinpoints the bad event', async () => {
    const c = makeClient({ flushIntervalMs: 20 });
    const results = await Promise.allSettled([c.emit(ev()), c.emit(ev({ action: 'Not A Name' })), c.emit(ev())]);
    expect(fake.posts()).toHaveLength(1);
    expect(fake.storedIds()).toEqual([]);
    const errors = results.map((r) => {
      expect(r.status).toBe('rejected');
      return (r as PromiseRejectedResult).reason as TrailsealClientError;
    });
    for (const [i, e] of errors.entries()) {
      expect(e).toBeInstanceOf(TrailsealClientError);
      expect(e).toMatchObject({ status: 422, code: 'EVENT_INVALID', batchIndex: i, retryable: false, maybeStored: false, attempts: 1 });
      expect(e.errors).toEqual([{ path: '[1].action', code: 'FIELD_FORMAT', message: 'dotted lower-case name expected' }]);
      expect(e.detail).toContain('nothing was stored');
    }
    expect(errors.map((e) => e.eventErrors.length)).toEqual([0, 1, 0]);
  });

  it('400, 401 and 413 are final too; 413 exposes the limit', async () => {
    fake.postFaults.push(
      { kind: 'status', status: 400, problem: { code: 'JSON_SYNTAX' } },
      { kind: 'status', status: 413, problem: { code: 'JSON_TOO_LARGE', limit: 1048576 } },
    );
    const c = makeClient();
    expect(await rejection(c.emit(ev()))).toMatchObject({ status: 400, code: 'JSON_SYNTAX' });
    const tooLarge = await rejection(c.emit(ev()));
    expect(tooLarge).toMatchObject({ status: 413, code: 'JSON_TOO_LARGE' });
    expect(tooLarge.problem?.limit).toBe(1048576);
    const wrongKey = new TrailsealClient({ url: fake.url, apiKey: 'tk_wrong', flushIntervalMs: 0, retryBaseMs: 1 });
    clients.push(wrongKey);
    expect(await rejection(wrongKey.emit(ev()))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    expect(fake.posts()).toHaveLength(3);
  });

  it('rejects an event the client cannot send without sending anything, and its neighbours still go', async () => {
    const c = makeClient({ flushIntervalMs: 20 });
    const cyclic: Record<string, unknown> = ev();
    cyclic.self = cyclic;
    const good = c.emit(ev());
    expect(await rejection(c.emit(ev({ id: 'has space' })))).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    expect(await rejection(c.emit(ev({ id: 42 })))).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    expect(await rejection(c.emit(cyclic))).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    expect(await rejection(c.emit([] as unknown as TrailsealEvent))).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    expect(await rejection(c.emit(ev({ id: 'x'.repeat(129) })))).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    const r = await good;
    expect(fake.posts()).toHaveLength(1);
    expect(fake.storedIds()).toEqual([r.id]);
  });
});

describe('backpressure and lifecycle', () => {
  it('rejects with CLIENT_QUEUE_FULL beyond maxQueue instead of growing, and accepts again once drained', async () => {
    const c = makeClient({ maxQueue: 3, flushIntervalMs: 10_000 });
    const accepted = [c.emit(ev()), c.emit(ev()), c.emit(ev())];
    const full = await rejection(c.emit(ev()));
    expect(full.code).toBe('CLIENT_QUEUE_FULL');
    expect(full.maybeStored).toBe(false);
    expect(await rejection(c.emitBatch([ev()]))).toMatchObject({ code: 'CLIENT_QUEUE_FULL' });
    expect(c.pending).toBe(3);
    expect(fake.posts()).toHaveLength(0);
    await c.flush();
    expect(c.pending).toBe(0);
    await Promise.all(accepted);
    const later = c.emit(ev());
    await c.flush();
    await later;
    expect(fake.storedIds()).toHaveLength(4);
  });

  it('flush() sends at once and resolves only when everything queued is acknowledged', async () => {
    fake.answerDelayMs = 50;
    const c = makeClient({ flushIntervalMs: 10_000 });
    const settled: Receipt[] = [];
    const ps = [c.emit(ev()), c.emit(ev()), c.emit(ev())].map((p) => p.then((r) => settled.push(r)));
    const t0 = performance.now();
    await c.flush();
    expect(settled).toHaveLength(3);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(fake.posts()).toHaveLength(1);
    await Promise.all(ps);
    await c.flush(); // nothing pending: resolves at once
  });

  it('flush() waits through retries and resolves (without rejecting) after failures', async () => {
    fake.postFaults.push({ kind: 'status', status: 503, retryAfter: '0' });
    const c = makeClient({ flushIntervalMs: 10_000, onError: () => undefined });
    const ok = c.emit(ev());
    await c.flush();
    expect(fake.posts()).toHaveLength(2);
    await ok;
    const bad = c.emit(ev({ action: 'BAD' }));
    await c.flush();
    expect((await rejection(bad)).status).toBe(422);
  });

  it('close() delivers what is pending, then refuses new events', async () => {
    fake.postFaults.push({ kind: 'status', status: 503, retryAfter: '0' });
    const c = makeClient({ flushIntervalMs: 10_000 });
    const ps = [c.emit(ev()), c.emit(ev())];
    const t0 = performance.now();
    await c.close();
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(fake.storedIds()).toEqual((await Promise.all(ps)).map((r) => r.id));
    expect(await rejection(c.emit(ev()))).toMatchObject({ code: 'CLIENT_CLOSED' });
    // Reads still work after close.
    expect(await c.checkpoint()).toContain('log.example/tenants/test');
  });

  it('abort() rejects queued events as never sent and in-flight ones as outcome unknown', async () => {
    fake.postFaults.push({ kind: 'slow', delayMs: 1000 });
    const c = makeClient({ batchSize: 1, flushIntervalMs: 0 });
    const inFlight = c.emit(ev());
    const queued = c.emit(ev());
    await new Promise((r) => setTimeout(r, 50));
    c.abort();
    expect(await rejection(inFlight)).toMatchObject({ code: 'CLIENT_ABORTED', maybeStored: true });
    expect(await rejection(queued)).toMatchObject({ code: 'CLIENT_ABORTED', maybeStored: false });
    expect(fake.posts()).toHaveLength(1);
  });

  it('with onError set, a fire-and-forget emit that fails raises no unhandled rejection', async () => {
    // vitest fails the run on an unhandled rejection, so this test fails if
    // the emit promise is not marked handled.
    const seen: [TrailsealClientError, ErrorContext][] = [];
    const c = makeClient({ onError: (e, ctx) => seen.push([e, ctx]) });
    void c.emit(ev({ id: 'bad-1', action: 'BAD' }));
    await c.flush();
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toMatchObject({ code: 'EVENT_INVALID' });
    expect(seen[0]![1]).toEqual({ ids: ['bad-1'], willRetry: false, attempt: 1 });
  });

  it('emitBatch sends at once as one atomic request, after the emits queued before it', async () => {
    const c = makeClient({ flushIntervalMs: 10_000 });
    const a = c.emit(ev({ id: 'a' }));
    const b = c.emit(ev({ id: 'b' }));
    const t0 = performance.now();
    const batch = await c.emitBatch([ev({ id: 'c' }), ev({ id: 'd' }), ev()]);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(fake.posts().map((p) => bodyIds(p.body).slice(0, 2))).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ]);
    expect(batch.map((r) => r.seq)).toEqual([3, 4, 5]);
    expect(batch[2]!.id).toMatch(UUID);
    expect((await a).seq).toBe(1);
    expect((await b).seq).toBe(2);
    expect(await c.emitBatch([])).toEqual([]);
  });

  it('emitBatch: a bad event fails the whole request, with its index in the error paths', async () => {
    const c = makeClient();
    const err = await rejection(c.emitBatch([ev(), ev(), ev({ action: 'x' })]));
    expect(err).toMatchObject({ status: 422, code: 'EVENT_INVALID' });
    expect(err.errors.map((e) => e.path)).toEqual(['[2].action']);
    expect(fake.storedIds()).toEqual([]);
    const local = await rejection(c.emitBatch([ev(), ev({ id: '' })]));
    expect(local).toMatchObject({ code: 'CLIENT_EVENT_INVALID' });
    expect(local.errors.map((e) => e.path)).toEqual(['[1].id']);
    const big = await rejection(makeClient({ maxBatchBytes: 500 }).emitBatch([ev({ context: { pad: 'x'.repeat(300) } }), ev({ context: { pad: 'x'.repeat(300) } })]));
    expect(big.code).toBe('CLIENT_EVENT_TOO_LARGE');
    expect(fake.posts()).toHaveLength(1);
  });
});

describe('reading', () => {
  it('getRecord returns the exact text and the parsed record; a 404 is a TrailsealClientError, not retried', async () => {
    const c = makeClient();
    const r = await c.emit(ev({ id: 'evt-0001' }));
    const got = await c.getRecord(r.seq);
    expect(got.text).toBe(fake.texts[r.seq]);
    expect(got.record).toMatchObject({ id: 'evt-0001', seq: r.seq, tenant: 'test' });
    const missing = await rejection(c.getRecord(999));
    expect(missing).toMatchObject({ status: 404, code: 'NOT_FOUND', attempts: 1 });
    expect(fake.requests.filter((q) => q.url === '/v1/events/999')).toHaveLength(1);
    expect(await rejection(c.getRecord(-1))).toMatchObject({ code: 'CLIENT_INVALID_ARGUMENT' });
  });

  it('proof, checkpoint and consistency return the service text, with the right query', async () => {
    const c = makeClient();
    expect(await c.proof(0)).toBe('c2sp.org/tlog-proof@v1\nindex 0\nsize 1\n');
    expect(await c.proof(0, 7)).toBe('c2sp.org/tlog-proof@v1\nindex 0\nsize 7\n');
    expect(await c.checkpoint()).toMatch(/^log\.example\/tenants\/test\n1\n/);
    expect(await c.newCheckpoint()).toContain('— new');
    const lines = await c.consistency(3, 9);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(createHash('sha256').update('3-9-1').digest('base64'));
    expect(fake.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      'GET /v1/events/0/proof',
      'GET /v1/events/0/proof?size=7',
      'GET /v1/checkpoint',
      'POST /v1/checkpoint',
      'GET /v1/consistency?from=3&to=9',
    ]);
    for (const q of fake.requests) expect(q.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  });

  it('reads are retried on transient failures', async () => {
    fake.getFaults.push({ kind: 'status', status: 503, retryAfter: '0' }, { kind: 'drop-before' });
    const c = makeClient();
    expect(await c.checkpoint()).toContain('log.example');
    expect(fake.requests).toHaveLength(3);
  });

  it('list() returns one page; records() follows cursors to the end', async () => {
    const c = makeClient();
    await c.emitBatch(Array.from({ length: 24 }, (_, i) => ev({ id: `e-${String(i + 1)}` })));
    const page = await c.list({ from: 5, limit: 3 });
    expect(page.records.map((r) => r.seq)).toEqual([5, 6, 7]);
    expect(page.next).toEqual(expect.any(String));
    const following = await c.list({ cursor: page.next!, limit: 2 });
    expect(following.records.map((r) => r.seq)).toEqual([8, 9]);
    await expect(c.list({ cursor: page.next!, from: 3 })).rejects.toMatchObject({ code: 'CLIENT_INVALID_ARGUMENT' });

    fake.requests.length = 0;
    const seqs: number[] = [];
    for await (const r of c.records({ from: 0, pageSize: 10 })) seqs.push(r.seq!);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const urls = fake.requests.map((q) => new URL(q.url, 'http://x'));
    expect(urls).toHaveLength(3);
    expect(urls[0]!.search).toBe('?from=0&limit=10');
    // Next pages: the opaque cursor, and the page size again (it is not part of the cursor).
    expect([...urls[1]!.searchParams.keys()]).toEqual(['cursor', 'limit']);
    expect(urls[2]!.searchParams.get('cursor')).not.toBe(urls[1]!.searchParams.get('cursor'));
    expect(urls[2]!.searchParams.get('limit')).toBe('10');
  });

  it('records() by time range sends since/until and stops on the last page', async () => {
    const c = makeClient();
    await c.emitBatch(Array.from({ length: 6 }, () => ev()));
    // The fake stamps record n at 10:00:0(n+1): genesis at 10:00:01, seq 2 at 10:00:03.
    const got: number[] = [];
    for await (const r of c.records({ since: new Date('2026-11-27T10:00:03.000Z'), until: '2026-11-27T10:00:05.000Z', pageSize: 2 })) got.push(r.seq!);
    expect(got).toEqual([2, 3, 4]);
    expect(fake.requests.find((q) => q.method === 'GET')!.url).toBe('/v1/events?since=2026-11-27T10%3A00%3A03.000Z&until=2026-11-27T10%3A00%3A05.000Z&limit=2');
    await expect(c.list({ from: 1, since: '2026-11-27T10:00:03.000Z' })).rejects.toMatchObject({ code: 'CLIENT_INVALID_ARGUMENT' });
  });
});

describe('administration', () => {
  it('createTenant uses the admin token and returns the keys; it is never retried', async () => {
    const admin = makeClient({ apiKey: fake.apiKey, adminToken: fake.adminToken });
    expect(await admin.createTenant('acme', 'Acme Corp')).toEqual({ id: 'acme', apiKey: 'tk_acme_secret', verifierKey: 'log.example/tenants/acme+12345678+AQ==' });
    const req = fake.requests[0]!;
    expect(req.headers.authorization).toBe(`Bearer ${fake.adminToken}`);
    expect(JSON.parse(req.body)).toEqual({ id: 'acme', name: 'Acme Corp' });
    const notAdmin = makeClient();
    expect(await rejection(notAdmin.createTenant('globex'))).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    // Not idempotent, and the answer holds the only copy of the key: a
    // transient failure is reported, never retried.
    fake.adminFaults.push({ kind: 'status', status: 503, retryAfter: '0' }, { kind: 'drop-after' });
    expect(await rejection(admin.createTenant('initech'))).toMatchObject({ status: 503, attempts: 1 });
    expect(await rejection(admin.createTenant('initech'))).toMatchObject({ code: 'CLIENT_NETWORK_ERROR', maybeStored: true, attempts: 1 });
    expect(fake.requests.filter((q) => q.url === '/v1/admin/tenants')).toHaveLength(4);
  });

  it('createApiKey and revokeApiKey use the admin endpoints', async () => {
    const admin = makeClient({ adminToken: fake.adminToken });
    expect(await admin.createApiKey('acme', { name: 'ci', scopes: ['ingest'] })).toEqual({ id: '0123456789abcdef', apiKey: 'tsk_0123456789abcdef_acme' });
    expect(JSON.parse(fake.requests[0]!.body)).toEqual({ name: 'ci', scopes: ['ingest'] });
    await admin.revokeApiKey('0123456789abcdef');
    expect(fake.requests[1]).toMatchObject({ method: 'DELETE', url: '/v1/admin/keys/0123456789abcdef' });
    expect(fake.requests[1]!.headers.authorization).toBe(`Bearer ${fake.adminToken}`);
    expect(await rejection(admin.revokeApiKey('feedfeedfeedfeed'))).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('construction', () => {
  it('rejects unusable options', () => {
    expect(() => new TrailsealClient({ url: 'ftp://x', apiKey: 'k' })).toThrow(TrailsealClientError);
    expect(() => new TrailsealClient({ url: 'http://x', apiKey: '' })).toThrow(/apiKey/);
    expect(() => new TrailsealClient({ url: 'http://x', apiKey: 'k', batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new TrailsealClient({ url: 'http://x', apiKey: 'k', flushIntervalMs: 1.5 })).toThrow(/flushIntervalMs/);
  });

  it('uses a custom fetch and keeps a base path', async () => {
    const urls: string[] = [];
    const c = makeClient({
      url: `${fake.url}/base/`,
      fetch: (input, init) => {
        urls.push(String(input));
        return fetch(String(input).replace('/base', ''), init);
      },
    });
    await c.checkpoint();
    expect(urls).toEqual([`${fake.url}/base/v1/checkpoint`]);
  });
});

describe('package', () => {
  it('the sources import nothing but each other (pure: runs in browsers)', () => {
    const dir = new URL('../src/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(files.length).toBeGreaterThan(4);
    for (const f of files) {
      const text = readFileSync(new URL(f, dir), 'utf8');
      const specs = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s*'([^']+)'|\bimport\s*\(\s*'([^']+)'/gm)].map((m) => m[1] ?? m[2]);
      if (f === 'client.ts') expect(specs.length).toBeGreaterThan(2);
      expect(specs.filter((spec) => !spec!.startsWith('./')), f).toEqual([]);
      expect(text, f).not.toMatch(/\b(Buffer|process)\./);
    }
  });
});

describe('retry policy', () => {
  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-27T10:00:00.000Z');
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 3 ', now)).toBe(3000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Fri, 27 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('backs off exponentially with full jitter, capped', () => {
    const top = (): number => 0.999999;
    expect([0, 1, 2, 3, 4, 5, 20].map((n) => backoffDelay(n, 100, 1000, top))).toEqual([99, 199, 399, 799, 999, 999, 999]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(2000, 100, 1000, top)).toBe(999);
    // Retry-After is a floor; the backoff applies when it is larger.
    expect(retryDelay(0, 2000, 100, 1000, top)).toBe(2000);
    expect(retryDelay(4, 0, 100, 1000, top)).toBe(999);
    expect(retryDelay(4, undefined, 100, 1000, () => 0.5)).toBe(500);
  });
});
