// The service over HTTP, against its baselines, all in one run:
//   - batch ingest (1000 events per POST, 4 connections) and one event per
//     request from 64 concurrent clients (events/s, p50/p99 acknowledgement);
//   - on SQLite and, when it answers, PostgreSQL;
//   - baseline (a): "the old mutable log" (plain-server.ts): the same HTTP
//     library and store, JSON.parse and a plain insert, durable commit, no
//     integrity; the integrity cost is plain / trailseal;
//   - baseline (b): hypercore 11, a signed Merkle append-only log, appending
//     the same events in process.
// Servers run as child processes; the load comes from this process over
// keep-alive HTTP. On a 2-core machine the load generator competes with the
// server: each figure is printed with the server's CPU use.
//
//   node bench/dist/bench/ingest.js            (also a section of npm run bench)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { richEvent } from '../test-support/events.js';
import { isMain, median } from './measure.js';

const CLI = fileURLToPath(new URL('../../../packages/server/dist/cli/main.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./plain-server.js', import.meta.url));
const PG_ADMIN = process.env['TRAILSEAL_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const SECONDS = Number(process.env['TRAILSEAL_BENCH_SECONDS'] ?? 4);
const BATCH = 1000;

interface Server {
  readonly url: URL;
  readonly token: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

async function listen(child: ChildProcess): Promise<URL> {
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening at (http:\/\/\S+)/.exec(err);
      if (m !== null) resolve(new URL(m[1]!));
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function startTrailseal(dir: string, store: string | undefined): Promise<Server> {
  const extra = store === undefined ? [] : ['--store', store];
  const env = { ...process.env, TRAILSEAL_ROOT_KEY: 'ab'.repeat(32) };
  const t = JSON.parse(execFileSync(process.execPath, [CLI, 'tenant', 'create', 'bench', '--json', '--data', dir, ...extra], { env }).toString()) as { apiKey: string };
  const child = spawn(process.execPath, [CLI, 'serve', '--data', dir, '--port', '0', '--log-level', 'silent', ...extra], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  return { url: await listen(child), token: t.apiKey, child, stop: () => stopChild(child) };
}

async function startPlain(dir: string, store: string | undefined): Promise<Server> {
  const child = spawn(process.execPath, [PLAIN, ...(store === undefined ? ['--data', dir] : ['--store', store])], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { url: await listen(child), token: 'none', child, stop: () => stopChild(child) };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(s: Server, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: s.url.hostname, port: s.url.port, path: '/v1/events', method: 'POST', agent, headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let nextId = 0;
const freshEvent = (): string => JSON.stringify({ ...richEvent(nextId), id: `b-${nextId++}` });
const batchBody = (): string => `[${Array.from({ length: BATCH }, freshEvent).join(',')}]`;

interface Figure {
  readonly rate: number;
  readonly p50?: number;
  readonly p99?: number;
  /** Server CPU seconds per wall second (2.0 = both cores). */
  readonly cpu: number;
}

/** Batches of 1000 fresh events from 4 connections for SECONDS. */
async function loadBatches(s: Server): Promise<Figure> {
  const bodies = Array.from({ length: 8 }, batchBody);
  const refill = (): string => {
    const b = bodies.shift() ?? batchBody();
    bodies.push(batchBody());
    return b;
  };
  await Promise.all(Array.from({ length: 2 }, () => post(s, refill())));
  const cpu0 = cpuTicks(s.child.pid!);
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let events = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (performance.now() < end) {
        await post(s, refill());
        events += BATCH;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  return { rate: events / secs, cpu: (cpuTicks(s.child.pid!) - cpu0) / 100 / secs };
}

/** One fresh event per request from 64 concurrent clients for SECONDS. */
async function loadSingles(s: Server): Promise<Figure> {
  const run = async (ms: number): Promise<number[]> => {
    const lat: number[] = [];
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (performance.now() < end) {
          const body = freshEvent();
          const t0 = performance.now();
          await post(s, body);
          lat.push(performance.now() - t0);
        }
      }),
    );
    return lat;
  };
  await run(500);
  const cpu0 = cpuTicks(s.child.pid!);
  const start = performance.now();
  const lat = await run(SECONDS * 1000);
  const secs = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return { rate: lat.length / secs, p50: median(lat), p99: lat[Math.floor(lat.length * 0.99)]!, cpu: (cpuTicks(s.child.pid!) - cpu0) / 100 / secs };
}

interface HypercoreLike {
  ready(): Promise<void>;
  append(blocks: Buffer | Buffer[]): Promise<unknown>;
  close(): Promise<void>;
}

async function hypercore(dir: string, mode: 'batch' | 'single'): Promise<Figure> {
  const Hypercore = createRequire(import.meta.url)('hypercore') as new (dir: string) => HypercoreLike;
  const core = new Hypercore(dir);
  await core.ready();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  let events = 0;
  if (mode === 'batch') {
    while (performance.now() < end) {
      await core.append(Array.from({ length: BATCH }, () => Buffer.from(freshEvent())));
      events += BATCH;
    }
  } else {
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (performance.now() < end) {
          await core.append(Buffer.from(freshEvent()));
          events++;
        }
      }),
    );
  }
  const secs = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu0);
  await core.close();
  return { rate: events / secs, cpu: (used.user + used.system) / 1e6 / secs };
}

async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `trailseal_bench_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
      await c.query(`DROP DATABASE IF EXISTS ${name}`);
      await c.end();
    },
  };
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const lat = (f: Figure): string => (f.p50 === undefined ? '' : ` p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99!.toFixed(1)} ms`);

export async function benchIngest(): Promise<void> {
  console.log(`\n## HTTP ingest (${SECONDS} s per figure; servers in child processes, load from this one)`);
  const rows: string[] = [];
  const line = (name: string, ours: Figure, baseName: string, base: Figure, target: string): void => {
    rows.push(
      `${name.padEnd(34)} ${fmt(ours.rate).padStart(8)} /s${lat(ours)} (server CPU ${ours.cpu.toFixed(2)}) | ${baseName.padEnd(24)} ${fmt(base.rate).padStart(8)} /s${lat(base)} | ratio ${(ours.rate / base.rate).toFixed(2)} | ${target}`,
    );
  };
  const stores: { name: string; url: string | undefined; drop?: () => Promise<void> }[] = [{ name: 'SQLite', url: undefined }];
  const db1 = await pgDatabase();
  const db2 = await pgDatabase();
  if (db1 !== undefined && db2 !== undefined) stores.push({ name: 'PostgreSQL', url: db1.url, drop: db1.drop }, { name: 'PostgreSQL (plain)', url: db2.url, drop: db2.drop });
  else console.log(`PostgreSQL not reachable at ${PG_ADMIN}: PostgreSQL figures skipped`);

  for (const store of stores.filter((s) => !s.name.includes('(plain)'))) {
    const dir = mkdtempSync(join(tmpdir(), 'trailseal-bench-'));
    const plainDir = mkdtempSync(join(tmpdir(), 'trailseal-plain-'));
    const plainUrl = store.url === undefined ? undefined : stores.find((s) => s.name === 'PostgreSQL (plain)')!.url;
    try {
      const ts = await startTrailseal(dir, store.url);
      const batch = await loadBatches(ts);
      const single = await loadSingles(ts);
      await ts.stop();
      const plain = await startPlain(plainDir, plainUrl);
      const pBatch = await loadBatches(plain);
      const pSingle = await loadSingles(plain);
      await plain.stop();
      line(`batch ingest, ${store.name}`, batch, 'plain insert, no integrity', pBatch, store.name === 'SQLite' ? `target >= 50,000/s: ${batch.rate >= 50_000 ? 'met' : 'NOT met'}; integrity cost ${(pBatch.rate / batch.rate).toFixed(2)}x (target <= 1.5x: ${pBatch.rate / batch.rate <= 1.5 ? 'met' : 'NOT met'})` : `integrity cost ${(pBatch.rate / batch.rate).toFixed(2)}x`);
      line(`64 clients, 1 event/request, ${store.name}`, single, 'plain insert, no integrity', pSingle, store.name === 'SQLite' ? `target >= 10,000/s with p99 <= 25 ms: ${single.rate >= 10_000 && single.p99! <= 25 ? 'met' : 'NOT met'}` : `integrity cost ${(pSingle.rate / single.rate).toFixed(2)}x`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(plainDir, { recursive: true, force: true });
    }
  }
  for (const s of stores) await s.drop?.();

  const hcDir = mkdtempSync(join(tmpdir(), 'trailseal-hypercore-'));
  try {
    const hb = await hypercore(join(hcDir, 'batch'), 'batch');
    const hs = await hypercore(join(hcDir, 'single'), 'single');
    rows.push(`${'hypercore 11, batches of 1000'.padEnd(34)} ${fmt(hb.rate).padStart(8)} /s (in process, CPU ${hb.cpu.toFixed(2)})`);
    rows.push(`${'hypercore 11, 64 concurrent appends'.padEnd(34)} ${fmt(hs.rate).padStart(8)} /s (in process, CPU ${hs.cpu.toFixed(2)})`);
  } finally {
    rmSync(hcDir, { recursive: true, force: true });
  }
  for (const r of rows) console.log(r);
  agent.destroy();
}

if (isMain(import.meta.url)) await benchIngest();
