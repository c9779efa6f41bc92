// The `trailseal` command as an operator and a producer use it, against a
// running service: tenant creation on the data directory (while the service
// runs on it) and over HTTP with the admin token, key issue and revocation,
// and the client verbs emit, tail, checkpoint and proof.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, parseVerifierKey } from '@trailseal/format';
import { verifyReceipt } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { cliBuilt, runCli, startServer } from './support/process.js';
import { call, startTestService, type TestService } from './support/service.js';

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({ 'checkpoint-interval-ms': '0' });
});
afterAll(async () => svc.stop());

describe.runIf(cliBuilt())('trailseal command', () => {
  it('creates a tenant on the data directory while the service runs on it, and over HTTP with the admin token', async () => {
    const local = await runCli(['tenant', 'create', 'from-disk', '--json', '--data', svc.dataDir, '--log-name', 'test.trailseal.example']);
    expect(local.status, local.stderr).toBe(0);
    const a = JSON.parse(local.stdout) as { id: string; apiKey: string; verifierKey: string };
    expect(Object.keys(a).sort()).toEqual(['apiKey', 'id', 'verifierKey']);
    expect(a.verifierKey).toMatch(/^test\.trailseal\.example\/tenants\/from-disk\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    // The running service serves the tenant the command created.
    const log = await call(svc.url, 'GET', '/v1/log', { token: a.apiKey });
    expect(log.json()).toMatchObject({ tenant: 'from-disk', size: 2, verifierKey: a.verifierKey });

    const remote = await runCli(['tenant', 'create', 'over-http', '--json', '--url', svc.url, '--token', svc.admin]);
    expect(remote.status, remote.stderr).toBe(0);
    expect(JSON.parse(remote.stdout)).toMatchObject({ id: 'over-http' });
    const again = await runCli(['tenant', 'create', 'over-http', '--json', '--url', svc.url, '--token', svc.admin]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('TENANT_EXISTS');
    const bad = await runCli(['tenant', 'create', 'Bad Name', '--json', '--data', svc.dataDir]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('QUERY_INVALID');
  });

  it('issues and revokes API keys', async () => {
    const made = await runCli(['key', 'create', '--tenant', 'from-disk', '--scopes', 'read', '--name', 'auditor', '--url', svc.url, '--token', svc.admin]);
    expect(made.status, made.stderr).toBe(0);
    const k = JSON.parse(made.stdout) as { id: string; apiKey: string };
    expect((await call(svc.url, 'GET', '/v1/checkpoint', { token: k.apiKey })).status).toBe(200);
    const revoked = await runCli(['key', 'revoke', k.id, '--data', svc.dataDir]);
    expect(revoked.status, revoked.stderr).toBe(0);
    // Revoked in another process: the service sees it within its 1 s key cache.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call(svc.url, 'GET', '/v1/checkpoint', { token: k.apiKey })).status).toBe(401);
  });

  it('emits NDJSON from stdin, then tails, checkpoints and proves', async () => {
    const created = JSON.parse((await runCli(['tenant', 'create', 'verbs', '--json', '--url', svc.url, '--token', svc.admin])).stdout) as { apiKey: string; verifierKey: string };
    const env = { TRAILSEAL_URL: svc.url, TRAILSEAL_API_KEY: created.apiKey };
    const input = [1, 2, 3].map((i) => JSON.stringify({ ...richEvent(i), id: `cli-${i}` })).join('\n');
    const emitted = await runCli(['emit'], env, input);
    expect(emitted.status, emitted.stderr).toBe(0);
    const receipts = emitted.stdout.trim().split('\n').map((l) => JSON.parse(l) as { seq: number; id: string });
    expect(receipts.map((r) => r.seq)).toEqual([2, 3, 4]);

    const tail = await runCli(['tail', '--from', '2'], env);
    expect(tail.status, tail.stderr).toBe(0);
    const ids = tail.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(ids.slice(0, 3)).toEqual(['cli-1', 'cli-2', 'cli-3']);

    const cp = await runCli(['checkpoint', '--new'], env);
    expect(cp.status, cp.stderr).toBe(0);
    expect(openCheckpoint(cp.stdout, [parseVerifierKey(created.verifierKey)]).size).toBeGreaterThanOrEqual(5);

    const proof = await runCli(['proof', '3'], env);
    expect(proof.status, proof.stderr).toBe(0);
    const line = (await call(svc.url, 'GET', '/v1/events/3', { token: created.apiKey })).text;
    expect(verifyReceipt(line, proof.stdout, { trustedKeys: [created.verifierKey] }).ok).toBe(true);
  });

  it('explains bad usage and bad configuration', async () => {
    const r = await runCli(['serve', '--port', 'eighty']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CONFIG_INVALID');
    expect(r.stderr).toContain('--port="eighty"');
    const u = await runCli(['frobnicate']);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('unknown command');
    // An unknown option or a missing value: what is wrong, then the usage; no stack trace.
    for (const args of [['serve', '--bogus'], ['serve', '--port'], ['tenant', 'create', 'x', '--bogus', '--data', '/nonexistent']]) {
      const bad = await runCli(args);
      expect([args, bad.status]).toEqual([args, 2]);
      expect(bad.stderr).toMatch(/^trailseal: .*(--bogus|--port)/);
      expect(bad.stderr).toContain('usage:');
      expect(bad.stderr).not.toMatch(/\n\s+at /);
    }
    const help = await runCli(['serve', '--help']);
    expect([help.status, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toContain('Settings of serve');
  });

  it('rebuilds an older SQLite database with 16 KiB pages, only with nothing else using it, and leaves every record as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trailseal-rebuild-'));
    const file = join(dir, 'trailseal.db');
    const env = { TRAILSEAL_ROOT_KEY: 'cd'.repeat(32) };
    try {
      // A database as an earlier build created it: 4 KiB pages, WAL.
      const pre = new Database(file);
      pre.pragma('page_size = 4096');
      pre.pragma('journal_mode = WAL');
      pre.exec('CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)');
      pre.close();
      for (const t of ['older-a', 'older-b']) expect((await runCli(['tenant', 'create', t, '--json', '--data', dir], env)).status).toBe(0);
      const look = (): { pageSize: number; records: string[] } => {
        const db = new Database(file, { readonly: true });
        try {
          return { pageSize: db.pragma('page_size', { simple: true }) as number, records: db.prepare('SELECT tenant, seq, body, hex(nodes) AS nodes FROM records ORDER BY tenant, seq').all().map((r) => JSON.stringify(r)) };
        } finally {
          db.close();
        }
      };
      // The service runs on it as it is, and says how to rebuild it.
      const older = await startServer(['--data', dir], env);
      await older.stop();
      expect(older.stderr()).toContain(`note: The SQLite database has pages of 4096 bytes`);
      expect(older.stderr()).toContain(`trailseal store rebuild --data ${dir}`);
      const before = look();
      expect(before.pageSize).toBe(4096);
      expect(before.records.length).toBeGreaterThanOrEqual(4);

      const holder = new Database(file);
      holder.prepare('SELECT count(*) FROM records').get();
      const busy = await runCli(['store', 'rebuild', '--data', dir], env);
      holder.close();
      expect(busy.status).toBe(1);
      expect(busy.stderr).toContain('STORE_UNAVAILABLE');
      expect(look()).toEqual(before);

      const done = await runCli(['store', 'rebuild', '--data', dir], env);
      expect(done.status, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/pages of 4096 bytes rebuilt as 16384 in [0-9.]+ s/);
      expect(look()).toEqual({ ...before, pageSize: 16384 });
      const again = await runCli(['store', 'rebuild', '--data', dir], env);
      expect([again.status, again.stdout]).toEqual([0, `${file}: pages of 16384 bytes already; nothing to do\n`]);
      // The logs go on where they were, and the service has nothing more to say about pages.
      expect((await runCli(['tenant', 'create', 'newer', '--json', '--data', dir], env)).status).toBe(0);
      const rebuilt = await startServer(['--data', dir], env);
      await rebuilt.stop();
      expect(rebuilt.stderr()).toContain('listening at');
      expect(rebuilt.stderr()).not.toContain('note:');
      const missing = await runCli(['store', 'rebuild', '--data', join(dir, 'none')], env);
      expect([missing.status, missing.stderr]).toEqual([1, expect.stringContaining('CONFIG_INVALID')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(cliBuilt())('trailseal serve', () => {
  it('stops cleanly on SIGTERM: exit 0, a last checkpoint covering every event, and a service.stop record', async () => {
    const data = mkdtempSync(join(tmpdir(), 'trailseal-stop-'));
    try {
      const created = JSON.parse((await runCli(['tenant', 'create', 'stopper', '--json', '--data', data])).stdout) as { apiKey: string };
      // A long cadence: only the stop itself can sign the last checkpoint.
      const first = await startServer(['--data', data, '--checkpoint-interval-ms', '3600000']);
      const admin = /\n {2}(tsk_\S+)\n/.exec(first.stderr())?.[1];
      expect(admin).toBeDefined();
      const res = await fetch(`${first.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${created.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify([1, 2, 3].map((i) => richEvent(i))) });
      expect(res.status).toBe(201);
      expect(await first.stop()).toBe(0);

      const second = await startServer(['--data', data]);
      try {
        const get = async (token: string, path: string) => (await fetch(second.url + path, { headers: { authorization: `Bearer ${token}` } })).text();
        const log = JSON.parse(await get(created.apiKey, '/v1/log')) as { size: number };
        const cp = await get(created.apiKey, '/v1/checkpoint');
        // The checkpoint signed at the stop covers the three events (the reads after it come later).
        expect(Number(cp.split('\n')[1])).toBeGreaterThanOrEqual(5);
        expect(log.size).toBeGreaterThanOrEqual(5);
        const system = (JSON.parse(await get(admin!, '/v1/events?limit=1000')) as { records: { action: string }[] }).records.map((r) => r.action);
        const stop = system.indexOf('trailseal.service.stop');
        expect(stop).toBeGreaterThan(system.indexOf('trailseal.service.start'));
        expect(system.lastIndexOf('trailseal.service.start')).toBeGreaterThan(stop);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });
});
