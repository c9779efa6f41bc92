// The client SDK against the real service (its own tests use a fault-injecting
// fake for what a real server cannot be made to do on cue): batching,
// backpressure answered by retries that keep ids, idempotency across client
// instances, typed validation errors, and every read verifying offline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailsealClient, TrailsealClientError } from '@trailseal/client';
import { verifyCheckpointConsistency, verifyLog, verifyReceipt } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

let svc: TestService;
let tenant: { apiKey: string; verifierKey: string };
beforeAll(async () => {
  // A small ingest queue, so that concurrent batches meet 503 OVERLOADED.
  svc = await startTestService({ 'checkpoint-interval-ms': '0', 'max-queue': '150', 'max-batch-events': '100' });
  tenant = await createTenant(svc, 'sdk');
});
afterAll(async () => svc.stop());

describe('@trailseal/client against the service', () => {
  it('batches 2000 emits, rides out 503 backpressure with retries, and stores each event exactly once', async () => {
    const client = new TrailsealClient({ url: svc.url, apiKey: tenant.apiKey, batchSize: 100, concurrency: 4, retryBaseMs: 20, retryMaxMs: 200 });
    const events = Array.from({ length: 2000 }, (_, i) => ({ ...richEvent(i), id: `sdk-${i}` }));
    const receipts = await Promise.all(events.map((e) => client.emit(e)));
    await client.close();
    expect(receipts.map((r) => r.id)).toEqual(events.map((e) => e.id));
    const seqs = receipts.map((r) => r.seq).sort((a, b) => a - b);
    expect(new Set(seqs).size).toBe(2000);
    const metrics = (await call(svc.url, 'GET', '/metrics')).text;
    // The retries really happened: the service refused some batches.
    expect(metrics).toMatch(/^trailseal_requests_rejected_total\{code="OVERLOADED"\} [1-9]/m);
    const size = (await call(svc.url, 'GET', '/v1/log', { token: tenant.apiKey })).json<{ size: number }>().size;
    // genesis + API key record + 2000 events: nothing stored twice.
    expect(size).toBe(2002);
  });

  it('a second client re-sending known ids gets the original receipts, marked duplicate', async () => {
    const a = new TrailsealClient({ url: svc.url, apiKey: tenant.apiKey });
    const b = new TrailsealClient({ url: svc.url, apiKey: tenant.apiKey });
    const first = await a.emitBatch([0, 1, 2].map((i) => ({ ...richEvent(i), id: `dup-${i}` })));
    const again = await b.emitBatch([0, 1, 2].map((i) => ({ ...richEvent(i), id: `dup-${i}` })));
    expect(again.map((r) => [r.seq, r.leafHash, r.duplicate])).toEqual(first.map((r) => [r.seq, r.leafHash, true]));
    await Promise.all([a.close(), b.close()]);
  });

  it('surfaces a rejected batch as a typed error naming the bad event and field, without retrying', async () => {
    const client = new TrailsealClient({ url: svc.url, apiKey: tenant.apiKey });
    const err = await client.emitBatch([{ ...richEvent(1), id: 'ok-1' }, { ...richEvent(2), id: 'bad-2', source: { ip: 'not-an-ip' } }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrailsealClientError);
    const e = err as TrailsealClientError;
    expect([e.status, e.code, e.attempts]).toEqual([422, 'EVENT_INVALID', 1]);
    expect(e.errors?.map((x) => x.path)).toEqual(['[1].source.ip']);
    await client.close();
  });

  it('reads records, proofs, checkpoints and consistency that verify offline', async () => {
    const client = new TrailsealClient({ url: svc.url, apiKey: tenant.apiKey });
    const older = await client.newCheckpoint();
    const r = await client.emit({ ...richEvent(9), id: 'read-me' });
    const newer = await client.newCheckpoint();
    const { text, record } = await client.getRecord(r.seq);
    expect(record['id']).toBe('read-me');
    expect(verifyReceipt(text, await client.proof(r.seq), { trustedKeys: [tenant.verifierKey] }).ok).toBe(true);
    const from = Number(older.split('\n')[1]);
    const to = Number(newer.split('\n')[1]);
    expect(verifyCheckpointConsistency(older, newer, await client.consistency(from, to), { trustedKeys: [tenant.verifierKey] }).ok).toBe(true);
    const lines: string[] = [];
    for await (const rec of client.records({ pageSize: 700 })) lines.push(JSON.stringify(rec));
    expect(lines.length).toBeGreaterThanOrEqual(to);
    expect(verifyLog(lines.slice(0, to), { trustedKeys: [tenant.verifierKey], checkpoint: newer }).problems).toEqual([]);
    await client.close();
  });
});
