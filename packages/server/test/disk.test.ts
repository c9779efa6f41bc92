// A full or read-only data directory. Full while running: ingest answers 503
// STORE_UNAVAILABLE with Retry-After and stores nothing of the failed request,
// nothing acknowledged is lost or corrupted, and the service recovers by
// itself, with no restart, when space returns. Read-only: Linux refuses to
// remount a file system read-only while files on it are open for writing, so
// the test makes the directory read-only between runs: the service refuses to
// start, naming the directory and changing nothing, and starts once it is
// writable again. (A kernel that forces a file system read-only after I/O
// errors makes writes fail with EROFS/EIO, which map to the same 503.)
// The data directory is a small tmpfs mounted by the test (needs root, as
// CI runs; elsewhere the suite skips with a notice unless CI is set).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLog } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const mnt = mkdtempSync(join(tmpdir(), 'trailseal-tmpfs-'));

function mount(opts: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', mnt], { stdio: 'pipe' });
}
function remount(opts: string): void {
  execFileSync('mount', ['-o', `remount,${opts}`, mnt], { stdio: 'pipe' });
}

let mounted = false;
try {
  mount('size=3m,mode=0700');
  mounted = true;
} catch (e) {
  const why = `cannot mount a tmpfs (${(e as Error).message.split('\n')[0]})`;
  if (process.env['CI'] !== undefined) throw new Error(`${why}: the disk-full tests must run in CI (run as root)`);
  console.warn(`\n*** SKIPPING the full/read-only data directory tests: ${why}. They run in CI as root. ***\n`);
}

let svc: TestService;
let key: string;
let verifierKey: string;
const acked = new Map<string, number>();
let n = 0;

beforeAll(async () => {
  if (!mounted) return;
  svc = await startTestService({ data: join(mnt, 'data'), 'checkpoint-interval-ms': '0' });
  ({ apiKey: key, verifierKey } = await createTenant(svc, 'full'));
});
afterAll(async () => {
  if (!mounted) return;
  await svc?.close();
  execFileSync('umount', ['-l', mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

async function send(count: number): Promise<{ status: number; code?: string; retryAfter: string | null }> {
  const batch = Array.from({ length: count }, () => ({ ...richEvent(n), id: `d-${n++}` }));
  const r = await call(svc.url, 'POST', '/v1/events', { token: key, body: JSON.stringify(batch) });
  if (r.status === 201) r.json<{ receipts: { seq: number }[] }>().receipts.forEach((x, i) => acked.set(batch[i]!.id, x.seq));
  return { status: r.status, ...(r.status === 201 ? {} : { code: r.json<{ code: string }>().code }), retryAfter: r.headers.get('retry-after') };
}

async function checkIntact(): Promise<void> {
  const cp = (await call(svc.url, 'POST', '/v1/checkpoint', { token: key })).text;
  const size = Number(cp.split('\n')[1]);
  const lines: string[] = [];
  for (let from = 0; from < size; from += 1000) {
    const page = (await call(svc.url, 'GET', `/v1/events?from=${from}&limit=1000`, { token: key })).json<{ records: unknown[] }>();
    lines.push(...page.records.map((r) => JSON.stringify(r)));
  }
  const report = verifyLog(lines.slice(0, size), { trustedKeys: [verifierKey], checkpoint: cp });
  expect(report.problems).toEqual([]);
  const byId = new Map(lines.map((l) => JSON.parse(l) as { id: string; seq: number }).map((r) => [r.id, r.seq]));
  for (const [id, seq] of acked) expect(byId.get(id), id).toBe(seq);
}

describe.runIf(mounted)('a full or read-only data directory', () => {
  it('answers 503 when the disk is full, loses nothing acknowledged, and recovers when space returns', async () => {
    let full: Awaited<ReturnType<typeof send>> | undefined;
    for (let i = 0; i < 400 && full === undefined; i++) {
      const r = await send(50);
      if (r.status !== 201) full = r;
    }
    expect(full).toEqual({ status: 503, code: 'STORE_UNAVAILABLE', retryAfter: '1' });
    const before = acked.size;
    // Still full: still refused, still nothing stored.
    expect((await send(50)).status).toBe(503);
    expect(acked.size).toBe(before);
    remount('size=64m');
    expect((await send(50)).status).toBe(201);
    await checkIntact();
  });

  it('refuses to start on a read-only data directory, naming it, changes nothing, and starts once it is writable', async () => {
    await svc.close();
    const files = (): string => execFileSync('sh', ['-c', `cd ${mnt}/data && ls -l --time-style=+%s.%N && sha256sum *`]).toString();
    const before = files();
    remount('ro');
    try {
      const err = await startTestService({ data: join(mnt, 'data') }).then(
        () => undefined,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(err?.code).toBe('STORE_UNAVAILABLE');
      expect(err?.message).toContain(join(mnt, 'data'));
    } finally {
      remount('rw');
    }
    expect(files()).toBe(before);
    svc = await startTestService({ data: join(mnt, 'data'), 'checkpoint-interval-ms': '0' });
    expect((await send(10)).status).toBe(201);
    await checkIntact();
  });
});
