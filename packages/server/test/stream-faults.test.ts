// Streaming under faults, as issue 5 states them: a receiver down for 60
// seconds under load, and the service killed (SIGKILL) in the middle of
// delivering. Judged by what the receiver holds: every record, in seq order
// of first arrival, none lost (duplicates are allowed: delivery is at least
// once).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliBuilt, runCli, startServer } from './support/process.js';
import { Receiver, contiguous, waitFor } from './support/receiver.js';
import { call, createTenant, startTestService } from './support/service.js';

/** The seqs in the order they first arrived must increase: duplicates aside, the stream never goes back. */
function firstArrivalsInOrder(r: Receiver): boolean {
  const seen = new Set<number>();
  let last = -1;
  for (const s of r.order) {
    if (seen.has(s)) continue;
    seen.add(s);
    if (s < last) return false;
    last = s;
  }
  return true;
}

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('streaming faults', () => {
  it('a receiver down for 60 s under load gets every record after it recovers, in seq order', async () => {
    const svc = await startTestService();
    cleanup.push(() => svc.stop());
    const t = await createTenant(svc, 'outage');
    const r = new Receiver();
    const url = await r.start();
    cleanup.push(() => r.stop());
    const created = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'siem', kind: 'webhook', config: { url }, from_seq: 0 }) });
    r.secret = created.json<{ secret: string }>().secret;
    await waitFor('the first delivery', () => r.events.size > 0);
    r.status = 503;
    // About 100 events a second for 60 s while the receiver refuses everything.
    const until = Date.now() + 60_000;
    let n = 0;
    while (Date.now() < until) {
      const events = Array.from({ length: 10 }, () => ({ id: `o-${n++}`, time: new Date().toISOString(), action: 'file.upload', outcome: 'success', actor: { id: 'u1', type: 'user' } }));
      const res = await call(svc.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify(events) });
      expect(res.status).toBe(201);
      await new Promise((res2) => setTimeout(res2, 100));
    }
    const failures = r.requests;
    expect(failures).toBeGreaterThan(5);
    r.status = 200;
    const size = (await call(svc.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
    await waitFor('every record after the outage', () => contiguous(r, 0, size), 30_000);
    expect(n).toBeGreaterThan(4000);
    expect(firstArrivalsInOrder(r)).toBe(true);
    expect(r.badSignatures).toBe(0);
  }, 120_000);

  describe.runIf(cliBuilt())('the trailseal sink command', () => {
    it('creates, lists, pauses, resumes, replays and deletes a sink', async () => {
      const svc = await startTestService();
      cleanup.push(() => svc.stop());
      const t = await createTenant(svc, 'clisink');
      const r = new Receiver();
      const url = await r.start();
      cleanup.push(() => r.stop());
      const cli = (...args: string[]) => runCli(['sink', ...args, '--url', svc.url, '--api-key', t.apiKey]);
      const made = await cli('create', '--name', 'siem', '--webhook', url, '--format', 'ocsf', '--action', 'file.*', '--from-seq', '0');
      expect(made.status, made.stderr).toBe(0);
      const { sink, secret } = JSON.parse(made.stdout) as { sink: { id: string; format: string; filter: unknown }; secret: string };
      expect(sink).toMatchObject({ format: 'ocsf', filter: { actions: ['file.*'] } });
      r.secret = secret;
      const listed = JSON.parse((await cli('list')).stdout) as { sinks: { id: string }[] };
      expect(listed.sinks.map((x) => x.id)).toEqual([sink.id]);
      expect(JSON.parse((await cli('pause', sink.id)).stdout)).toMatchObject({ health: { state: 'paused' } });
      expect(JSON.parse((await cli('resume', sink.id)).stdout)).toMatchObject({ health: { state: 'active' } });
      expect(JSON.parse((await cli('replay', sink.id, '--from-seq', '0')).stdout)).toMatchObject({ id: sink.id });
      const bad = await cli('replay', sink.id, '--from-seq', '999999');
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/QUERY_INVALID: from_seq is beyond the log's size/);
      expect((await cli('delete', sink.id)).status).toBe(0);
      expect(JSON.parse((await cli('list')).stdout)).toEqual({ sinks: [] });
    });
  });

  describe.runIf(cliBuilt())('a killed service', () => {
    it('resumes delivery from the cursor after SIGKILL mid-delivery, losing nothing', async () => {
      const data = mkdtempSync(join(tmpdir(), 'trailseal-stream-kill-'));
      cleanup.push(async () => rmSync(data, { recursive: true, force: true }));
      const env = { TRAILSEAL_ROOT_KEY: 'ef'.repeat(32) };
      const made = await runCli(['tenant', 'create', 'killed', '--json', '--data', data], env);
      expect(made.status, made.stderr).toBe(0);
      const t = JSON.parse(made.stdout) as { apiKey: string };
      let server = await startServer(['--data', data], env);
      cleanup.push(() => server.kill9());
      const r = new Receiver();
      const url = await r.start();
      cleanup.push(() => r.stop());
      // A slow receiver keeps delivery in flight when the service dies.
      r.delayMs = 150;
      const created = await call(server.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'siem', kind: 'webhook', config: { url }, from_seq: 0 }) });
      expect(created.status, created.text).toBe(201);
      r.secret = created.json<{ secret: string }>().secret;
      for (let b = 0; b < 20; b++) {
        const events = Array.from({ length: 100 }, (_, i) => ({ id: `k-${b}-${i}`, time: new Date().toISOString(), action: 'file.download', outcome: 'success', actor: { id: 'u2', type: 'user' } }));
        expect((await call(server.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify(events) })).status).toBe(201);
      }
      const size = (await call(server.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;
      await waitFor('delivery under way', () => r.events.size > 0);
      await server.kill9();
      const before = r.events.size;
      expect(before).toBeLessThan(size);
      r.delayMs = 0;
      server = await startServer(['--data', data], env);
      await waitFor('every record after the restart', () => contiguous(r, 0, size), 30_000);
      expect(firstArrivalsInOrder(r)).toBe(true);
    }, 120_000);
  });
});
