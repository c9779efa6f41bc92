// POST /v1/exports end to end, on SQLite and on PostgreSQL: who may export,
// how a bad request is refused (nothing recorded), that every export is a
// record of the log, and that bundles of every selection verify, across a
// signing-key rotation too.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrailsealError, canonicalEventParts, preparedFromParts } from '@trailseal/format';
import { verifyBundle, type BundleReport } from '@trailseal/verify';
import { exportBundle } from '../src/cli/export.js';
import { verifyBundleDir } from '@trailseal/verify-cli';
import { richEvent } from '../../../test-support/events.js';
import { peakRssMb } from '../../../test-support/memory.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { startServer } from './support/process.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const pgOk = await requirePg('the export suite on PostgreSQL');

function exportSuite(kind: 'sqlite' | 'postgres'): void {
  let svc: TestService;
  let db: FreshDatabase | undefined;
  let acme: { apiKey: string; verifierKey: string };
  let beta: { apiKey: string; verifierKey: string };
  const dirs: string[] = [];

  const size = async (apiKey: string): Promise<number> => (await call(svc.url, 'GET', '/v1/log', { token: apiKey })).json<{ size: number }>().size;
  const post = (apiKey: string, body: unknown): ReturnType<typeof call> => call(svc.url, 'POST', '/v1/exports', { token: apiKey, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const ingest = async (apiKey: string, prefix: string, n: number): Promise<void> => {
    const events = Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, time: new Date().toISOString(), action: i % 3 === 0 ? 'file.upload' : 'auth.login', outcome: 'success', actor: { id: `u${i % 4}`, type: 'user' } }));
    const r = await call(svc.url, 'POST', '/v1/events', { token: apiKey, body: JSON.stringify(events) });
    expect(r.status).toBe(201);
  };
  const exportAndVerify = async (apiKey: string, request: Record<string, unknown>, trustedKeys: string[]): Promise<BundleReport> => {
    const out = mkdtempSync(join(tmpdir(), 'trailseal-export-'));
    dirs.push(out);
    await exportBundle({ url: svc.url, apiKey, out, request });
    const files = { manifest: readFileSync(join(out, 'manifest.json'), 'utf8'), signature: readFileSync(join(out, 'manifest.sig'), 'utf8'), events: readFileSync(join(out, 'events.jsonl')) };
    return verifyBundle(files, { trustedKeys });
  };

  beforeAll(async () => {
    if (kind === 'postgres') db = await freshDatabase();
    svc = await startTestService(db !== undefined ? { store: db.url } : {});
    acme = await createTenant(svc, 'acme');
    beta = await createTenant(svc, 'beta');
    await ingest(acme.apiKey, 'a', 120);
    await ingest(beta.apiKey, 'b', 10);
  });

  afterAll(async () => {
    await svc?.stop();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('needs the export scope', async () => {
    const issued = await call(svc.url, 'POST', '/v1/admin/tenants/acme/keys', { token: svc.admin, body: JSON.stringify({ scopes: ['ingest', 'read'] }) });
    const readOnly = issued.json<{ apiKey: string }>().apiKey;
    expect((await post(readOnly, {})).json()).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await call(svc.url, 'POST', '/v1/exports', { body: '{}' })).status).toBe(401);
  });

  it.each([
    [{ from_seq: -1 }, 'from_seq'],
    [{ from_seq: 1.5 }, 'from_seq'],
    [{ to_seq: 1_000_000 }, 'to_seq'],
    [{ from_seq: 10, to_seq: 5 }, 'to_seq'],
    [{ from_seq: 0, from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' }, 'from'],
    [{ from: '2026-01-01T00:00:00Z' }, 'to'],
    [{ from: 'yesterday', to: '2026-01-02T00:00:00Z' }, 'from'],
    [{ filter: {} }, 'filter'],
    [{ filter: { actions: [] } }, 'filter.actions'],
    [{ filter: { actions: [7] } }, 'filter.actions[0]'],
    [{ filter: { colour: ['red'] } }, 'filter.colour'],
    [{ since_checkpoint: 'not a checkpoint' }, 'since_checkpoint'],
    [{ disclose_mac_keys: 'yes' }, 'disclose_mac_keys'],
    [{ everything: true }, 'everything'],
  ])('refuses %j naming %s, and records nothing', async (body, field) => {
    const before = await size(acme.apiKey);
    const r = await post(acme.apiKey, body);
    expect(r.status).toBe(400);
    expect(r.json()).toMatchObject({ code: 'QUERY_INVALID', field });
    // The size check itself is a read, but reads of /v1/log are not audited: the size is the log's.
    expect(await size(acme.apiKey)).toBe(before);
  });

  it('refuses a checkpoint of another tenant as since_checkpoint', async () => {
    const other = (await call(svc.url, 'GET', '/v1/checkpoint', { token: beta.apiKey })).text;
    expect((await post(acme.apiKey, { since_checkpoint: other })).json()).toMatchObject({ code: 'QUERY_INVALID', field: 'since_checkpoint' });
  });

  it('refuses a body that is not one object', async () => {
    expect((await post(acme.apiKey, '[{}]')).json()).toMatchObject({ code: 'BODY_INVALID' });
  });

  it('records every export in the log before streaming it, with the key that asked', async () => {
    const r = await post(acme.apiKey, { from_seq: 5, to_seq: 25 });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(r.headers.get('trailseal-export-records')).toBe('20');
    const seq = Number(r.headers.get('trailseal-export-seq'));
    const lines = r.text.split('\n').slice(0, -1);
    expect(lines).toHaveLength(21);
    const trailer = JSON.parse(lines[20]!) as { trailseal_export: { manifest: string } };
    expect(JSON.parse(trailer.trailseal_export.manifest)).toMatchObject({ export_seq: seq, selection: { type: 'seq', from_seq: 5, to_seq: 25 } });
    const rec = (await call(svc.url, 'GET', `/v1/events/${seq}`, { token: acme.apiKey })).json<{ action: string; log: Record<string, unknown>; actor: { id: string } }>();
    expect(rec.action).toBe('trailseal.audit.export');
    expect(rec.log).toMatchObject({ type: 'export', selection: { type: 'seq', from_seq: 5, to_seq: 25 }, mac_keys_disclosed: false });
    expect(rec.actor.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a failure mid-stream ends it with an error trailer, and the client keeps nothing', async () => {
    await ingest(acme.apiKey, 'big', 2100);
    const store = svc.service.store;
    const original = store.listRecords.bind(store);
    let calls = 0;
    // The store fails after the first page has been streamed.
    store.listRecords = async (tenant, q) => {
      if (tenant === 'acme' && ++calls === 2) throw new TrailsealError('STORE_UNAVAILABLE', 'injected: the store went away');
      return original(tenant, q);
    };
    const out = mkdtempSync(join(tmpdir(), 'trailseal-export-'));
    dirs.push(out);
    try {
      await expect(exportBundle({ url: svc.url, apiKey: acme.apiKey, out, request: {} })).rejects.toThrow(/the export failed on the service: STORE_UNAVAILABLE: injected/);
    } finally {
      store.listRecords = original;
    }
    expect(readdirSync(out)).toEqual([]);
    const raw = await post(acme.apiKey, { from_seq: 0, to_seq: 10 });
    expect(raw.status).toBe(200);
  });

  it('exports one tenant only, whatever is asked', async () => {
    const r = await exportAndVerify(beta.apiKey, {}, [beta.verifierKey]);
    expect(r).toMatchObject({ ok: true, tenant: 'beta', firstSeq: 0 });
  });

  it('bundles of every selection verify, before and after a signing-key rotation', async () => {
    const genesisKey = acme.verifierKey;
    const early = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
    const rotated = await call(svc.url, 'POST', '/v1/admin/tenants/acme/rotate', { token: svc.admin, body: JSON.stringify({ purpose: 'signing', reason: 'test' }) });
    expect(rotated.status).toBe(201);
    const newKey = rotated.json<{ verifierKey: string }>().verifierKey;
    expect(newKey).not.toBe(genesisKey);
    const t0 = new Date().toISOString();
    await ingest(acme.apiKey, 'c', 30);
    const t1 = new Date(Date.now() + 1).toISOString();
    for (const request of [{}, { from_seq: 3, to_seq: 40 }, { from: t0, to: t1 }, { filter: { actions: ['file.*'] } }, { since_checkpoint: early, disclose_mac_keys: true }]) {
      for (const key of [genesisKey, newKey]) {
        const r = await exportAndVerify(acme.apiKey, request, [key]);
        expect({ request, problems: r.problems }).toEqual({ request, problems: [] });
      }
    }
    const wrong = await exportAndVerify(acme.apiKey, {}, [beta.verifierKey]);
    expect(wrong.problems.map((p) => p.code)).toContain('NOTE_NO_VALID_SIGNATURE');
  });
}

describe('on SQLite', () => exportSuite('sqlite'));
describe.runIf(pgOk)('on PostgreSQL', () => exportSuite('postgres'));

/** Peak resident memory of a process so far, in MB; the test runs on Linux only, where /proc has it. */
function peakMb(pid: number): number {
  const mb = peakRssMb(pid);
  if (mb === undefined) throw new Error(`no VmHWM for process ${pid}`);
  return mb;
}

// "Exports stream with constant memory at any size": a service whose V8 heap
// may not pass 64 MB exports a log of 313 MB (200,000 records of 1.57 KB).
// Buffers live outside that heap, so the heap limit alone proves nothing
// about the bytes: the service's peak resident memory must also grow by far
// less than the log (measured: about 95 MB for a log of 94 MB or of 313 MB,
// and 1.57 GB exported with a peak of 166 MB; an export that held the log
// would grow by more than its size).
if (process.platform !== 'linux') console.warn('\n*** SKIPPING the export memory test: it reads peak memory from /proc (Linux only). ***\n');
describe.runIf(process.platform === 'linux')('an export in a service with a 64 MB heap limit', () => {
  it('streams a log larger than the limit to a bundle that verifies', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'trailseal-export-memory-'));
    const out = mkdtempSync(join(tmpdir(), 'trailseal-export-memory-out-'));
    try {
      const filler = await startTestService({ data: dataDir });
      let tenant: { apiKey: string; verifierKey: string };
      const n = 200_000;
      try {
        tenant = await filler.service.createTenant('big', 'big');
        // In process, without HTTP: filling is not what is tested.
        for (let from = 0; from < n; from += 1000) await filler.service.ingest('big', preparedFromParts(Array.from({ length: 1000 }, (_, i) => canonicalEventParts(richEvent(from + i)))));
      } finally {
        await filler.close();
      }
      const server = await startServer(['--data', dataDir, '--log-name', 'test.trailseal.example'], { NODE_OPTIONS: '--max-old-space-size=64' });
      try {
        const before = peakMb(server.child.pid!);
        const r = await exportBundle({ url: server.url, apiKey: tenant.apiKey, out, request: {} });
        expect(peakMb(server.child.pid!) - before).toBeLessThan(160);
        // The genesis record, the events, the key's issue and the export's own record.
        expect(r.count).toBeGreaterThanOrEqual(n + 1);
        expect(r.bytes).toBeGreaterThan(300_000_000);
        expect(server.child.exitCode).toBeNull();
      } finally {
        const code = await server.stop();
        expect({ code, stderr: server.stderr().slice(-3000) }).toMatchObject({ code: 0 });
      }
      const report = await verifyBundleDir(out, { trustedKeys: [tenant.verifierKey] });
      expect({ ok: report.ok, problems: report.problems }).toEqual({ ok: true, problems: [] });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
});
