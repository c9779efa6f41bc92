// Real services for tests: a `trailseal serve` in this process on port 0 with
// a fresh data directory, and plain fetch helpers that speak the public contract.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startService, type RunningService } from '../../src/server.js';

export interface TestService extends RunningService {
  readonly dataDir: string;
  readonly admin: string;
  /** Stops the service and removes its data directory. */
  stop(): Promise<void>;
}

export async function startTestService(flags: Record<string, string> = {}): Promise<TestService> {
  const dataDir = flags['data'] ?? mkdtempSync(join(tmpdir(), 'trailseal-test-'));
  const cfg = loadConfig({ data: dataDir, port: '0', 'log-level': 'silent', 'log-name': 'test.trailseal.example', ...flags }, {});
  const running = await startService(cfg);
  if (running.adminToken === undefined && flags['data'] === undefined) throw new Error('a fresh data directory must yield an admin token');
  return {
    ...running,
    dataDir,
    admin: running.adminToken ?? '',
    stop: async () => {
      await running.close();
      if (flags['data'] === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function call(base: string, method: string, path: string, opts: { token?: string; body?: string | Uint8Array; type?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = opts.type ?? 'application/json';
  const body = typeof opts.body === 'string' || opts.body === undefined ? opts.body : new Uint8Array(opts.body);
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T,>() => JSON.parse(text) as T };
}

export async function createTenant(svc: TestService, id: string): Promise<{ id: string; apiKey: string; verifierKey: string }> {
  const r = await call(svc.url, 'POST', '/v1/admin/tenants', { token: svc.admin, body: JSON.stringify({ id }) });
  if (r.status !== 201) throw new Error(`tenant create: ${r.status} ${r.text}`);
  return r.json();
}
