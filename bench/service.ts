// The service over HTTP, against its baselines, all measured in one run:
//   - batch ingest: POSTs of 1000 events from 4 keep-alive connections, and
//     from 8 (the capacity: each connection waits for its answer before it
//     sends again, and with 4 the server sat idle between requests, 10-14%
//     of the machine; with 8 both cores stay busy, bench/README.md, seventh
//     session); the 50,000 events/s target is read on the 8;
//   - one event per request from 64 concurrent clients: events/s and p50/p99
//     acknowledgement latency (request start to 201);
//   - on SQLite and on PostgreSQL (a fresh database per run, dropped after;
//     skipped with a notice when PostgreSQL does not answer);
//   - baseline (a), "the old mutable log" (service-worker.ts): fastify,
//     JSON.parse, each event's JSON text into a plain table in the same store,
//     one durable transaction per request, no integrity. Integrity cost =
//     plain / trailseal;
//   - baseline (b): hypercore 11 (a signed Merkle append-only log) appending
//     the same event texts in this process, in batches of 1000 and one at a
//     time from 64 concurrent appenders. Note: hypercore does not fsync per
//     append (strace counts no fsync/fdatasync per append), so its
//     acknowledgements are not durable as the other two's are.
//
// Servers run as child processes (`trailseal serve`, and the plain server);
// the load comes from this process over keep-alive HTTP/1.1 connections, one
// per request in flight, written and read by rawPoster below (`--transport
// http`: node:http with a keep-alive Agent, maxSockets 64; `--transport
// fetch`: undici's global fetch). Each server figure is the median of 3 samples interleaved
// with its plain baseline's (ABBA order), after a warm-up of both, on fresh
// servers and databases of its own. The
// machine has few cores shared by the server, this load generator and the
// database, so every figure also reports CPU seconds per wall second of the
// server process (and of its main thread), of this load generator, of the
// PostgreSQL processes, and how busy the whole machine was.
//
//   node bench/dist/bench/service.js [--transport raw|http|fetch] [--no-pg] [--json FILE]
//   node bench/dist/bench/service.js --profile [--store sqlite|postgres] [--top N]
//     runs only the service (batch, then 64 clients; one server process each)
//     under node --cpu-prof and prints the top self-time functions of its
//     main thread and of each worker thread (the SQLite writer, the ingest
//     threads).
//
// TRAILSEAL_BENCH_SECONDS: seconds per figure (default 5);
// TRAILSEAL_BENCH_PG_URL: PostgreSQL administration URL
// (default postgres://postgres@127.0.0.1:5432/postgres);
// TRAILSEAL_BENCH_SERVER_FLAGS: extra node flags for the service's process
// (e.g. --max-semi-space-size=64). The service's own TRAILSEAL_* settings
// (TRAILSEAL_MAX_BATCH, TRAILSEAL_BATCH_WINDOW_MS, ...) pass through the
// environment.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { richEvent } from '../test-support/events.js';
import { peakRssMb } from '../test-support/memory.js';
import { isMain, median } from './measure.js';

const CLI = fileURLToPath(new URL('../../../packages/server/dist/cli/main.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./service-worker.js', import.meta.url));
const PG_ADMIN = process.env['TRAILSEAL_BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env['TRAILSEAL_BENCH_SECONDS'] ?? 5);
const ROUNDS = 3;
const WARMUP_MS = 1000;
const BATCH = 1000;
const CONNECTIONS = 4;
const SATURATING_CONNECTIONS = 8;
const CLIENTS = 64;
/** Linux USER_HZ: the unit of utime and stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;
const ROOT_KEY = 'ab'.repeat(32);

// --- events --------------------------------------------------------------------

// The JSON text of richEvent(k) without its id, for k below POOL: an event's
// text is its unique id spliced in front of one of these. Building texts this
// way costs the load generator a string concatenation per event instead of a
// richEvent() and a JSON.stringify, which on two cores would come out of the
// server's share. Content repeats every POOL events; ids never repeat.
const POOL = 8192;
let tails: string[] | undefined;
let serial = 0;

function eventText(prefix: string): string {
  tails ??= Array.from({ length: POOL }, (_, k) => JSON.stringify({ ...richEvent(k), id: undefined }).slice(1));
  const n = serial++;
  return `{"id":"${prefix}${n}",${tails[n % POOL]!}`;
}

/** Digits of a batch event's serial number: ids of one width, rewritten in place. */
const ID_DIGITS = 12;

/**
 * The batch bodies of one connection: BATCH events as UTF-8, built once
 * (twice, alternating, so that content repeats every 2 * BATCH events of a
 * connection), whose ids are rewritten in place before each request. Building
 * and encoding a 1.2 MB string per request cost the load generator about 9 us
 * per event, out of the two cores the server shares with it; rewriting the
 * digits costs a fraction of a microsecond. A connection sends one request
 * at a time, and its body is sent before its answer comes, so the buffer is
 * free again when it is rewritten. Ids are `<prefix>b<serial>`, unique in
 * the run.
 */
class BatchBodies {
  readonly #bodies: { buf: Buffer; digits: Uint32Array }[] = [];
  #turn = 0;

  constructor(prefix: string) {
    tails ??= Array.from({ length: POOL }, (_, k) => JSON.stringify({ ...richEvent(k), id: undefined }).slice(1));
    for (let copy = 0; copy < 2; copy++) {
      const parts: string[] = [];
      const lead = `{"id":"${prefix}b`;
      for (let i = 0; i < BATCH; i++) parts.push(`${lead}${'0'.repeat(ID_DIGITS)}",${tails[serial++ % POOL]!}`);
      const buf = Buffer.from(`[${parts.join(',')}]`);
      const digits = new Uint32Array(BATCH);
      let at = 0;
      for (let i = 0; i < BATCH; i++) {
        at = buf.indexOf(lead, at) + lead.length;
        digits[i] = at;
      }
      this.#bodies.push({ buf, digits });
    }
  }

  next(): Buffer {
    const body = this.#bodies[this.#turn++ % this.#bodies.length]!;
    for (const at of body.digits) {
      let n = serial++;
      for (let d = ID_DIGITS - 1; d >= 0; d--, n = Math.floor(n / 10)) body.buf[at + d] = 0x30 + (n % 10);
    }
    return body.buf;
  }
}

// --- transport -----------------------------------------------------------------

export type Transport = 'raw' | 'http' | 'fetch';

/** POSTs one body to /v1/events; resolves with the status once the response has been read. */
type Post = (body: string | Buffer) => Promise<number>;

/** How long an idle raw connection is reused: well under Node's 5 s keep-alive timeout, so the server never closes one as a request leaves. */
const RAW_IDLE_MS = 1000;

interface RawConnection {
  readonly sock: net.Socket;
  /** Bytes of the response being read. */
  acc: Buffer;
  idleSince: number;
  settle: ((status: number) => void) | undefined;
  fail: ((e: Error) => void) | undefined;
}

/**
 * POSTs over plain TCP connections speaking HTTP/1.1 with keep-alive, one
 * request at a time on each and as many connections as requests in flight
 * (idle ones are reused): the request leaves in one writev (a head with only
 * the length to fill in, then the body), and the answer is read as far as
 * its status and Content-Length. node:http's client cost the load generator
 * about 50 us of CPU per one-event request (0.52 CPU seconds per second at
 * 10,000 requests/s, on the two cores the server needs); this costs about
 * 21-26 (bench/README.md, sixth session). Both servers answer every request
 * with a Content-Length; a response without one fails the run.
 */
function rawPoster(url: URL, token: string): { post: Post; close: () => void } {
  const head = `POST /v1/events HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: Bearer ${token}\r\ncontent-type: application/json\r\ncontent-length: `;
  const idle: RawConnection[] = [];
  const all = new Set<RawConnection>();
  const read = (c: RawConnection): void => {
    const end = c.acc.indexOf('\r\n\r\n');
    if (end === -1) return;
    const header = c.acc.toString('latin1', 0, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(header);
    if (length === null) {
      c.sock.destroy(new Error(`a response without Content-Length: ${header.slice(0, 200)}`));
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (c.acc.length < total) return;
    if (c.acc.length > total) {
      c.sock.destroy(new Error('bytes after a response, with no request pending'));
      return;
    }
    const settle = c.settle!;
    c.acc = Buffer.alloc(0);
    c.settle = undefined;
    c.fail = undefined;
    c.idleSince = performance.now();
    idle.push(c);
    settle(Number(header.slice(9, 12)));
  };
  const open = (): RawConnection => {
    const sock = net.connect({ host: url.hostname, port: Number(url.port) });
    sock.setNoDelay(true);
    const c: RawConnection = { sock, acc: Buffer.alloc(0), idleSince: 0, settle: undefined, fail: undefined };
    all.add(c);
    sock.on('data', (d: Buffer) => {
      c.acc = c.acc.length === 0 ? d : Buffer.concat([c.acc, d]);
      if (c.settle !== undefined) read(c);
    });
    const gone = (e?: Error): void => {
      all.delete(c);
      const at = idle.indexOf(c);
      if (at !== -1) idle.splice(at, 1);
      c.fail?.(e ?? new Error('the server closed a connection with a request pending'));
      c.fail = undefined;
    };
    sock.on('error', gone);
    sock.on('close', () => gone());
    return c;
  };
  const post: Post = (body) =>
    new Promise((resolve, reject) => {
      let c = idle.pop();
      while (c !== undefined && performance.now() - c.idleSince > RAW_IDLE_MS) {
        c.sock.destroy();
        c = idle.pop();
      }
      c ??= open();
      c.settle = resolve;
      c.fail = reject;
      c.sock.cork();
      c.sock.write(`${head}${Buffer.byteLength(body)}\r\n\r\n`, 'latin1');
      c.sock.write(body);
      c.sock.uncork();
    });
  return {
    post,
    close: () => {
      for (const c of all) c.sock.destroy();
    },
  };
}

function httpPoster(url: URL, token: string, agent: http.Agent): Post {
  const base = { host: url.hostname, port: url.port, path: '/v1/events', method: 'POST', agent };
  return (body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { ...base, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          res.on('error', reject);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.resume();
        },
      );
      req.on('error', reject);
      req.end(body);
    });
}

function fetchPoster(url: URL, token: string): Post {
  const endpoint = new URL('/v1/events', url);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  return async (body) => {
    const res = await fetch(endpoint, { method: 'POST', headers, body });
    await res.arrayBuffer();
    return res.status;
  };
}

// --- CPU accounting (/proc) ------------------------------------------------------

/** utime + stime of a process (all its threads), or of one thread, in ticks. */
function ticks(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** Ticks of every process named postgres (the server and its backends), by pid. */
function postgresTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/comm`, 'utf8').trim() === 'postgres') out.set(Number(name), ticks(Number(name)));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Busy and total ticks of the whole machine (all cores). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, total };
}

interface Cpu {
  /** CPU seconds per wall second: the server process (all threads), its main thread, this load generator, PostgreSQL. */
  readonly server: number;
  readonly serverMain: number;
  readonly loadgen: number;
  readonly db: number;
  /** Share of the machine's CPU time that was busy, 0..1. */
  readonly machine: number;
}

class CpuMeter {
  readonly #pid: number | undefined;
  readonly #withDb: boolean;
  #server = 0;
  #main = 0;
  #db = new Map<number, number>();
  #self = process.cpuUsage();
  #machine = machineTicks();

  constructor(pid: number | undefined, withDb: boolean) {
    this.#pid = pid;
    this.#withDb = withDb;
    if (pid !== undefined) {
      this.#server = ticks(pid);
      this.#main = ticks(pid, pid);
    }
    if (withDb) this.#db = postgresTicks();
    this.#self = process.cpuUsage();
    this.#machine = machineTicks();
  }

  /** Totals in CPU seconds since construction. */
  read(): { server: number; serverMain: number; loadgen: number; db: number; busy: number; total: number } {
    const self = process.cpuUsage(this.#self);
    const m = machineTicks();
    let db = 0;
    if (this.#withDb) for (const [pid, t] of postgresTicks()) db += t - (this.#db.get(pid) ?? 0);
    const pid = this.#pid;
    return {
      server: pid === undefined ? 0 : (ticks(pid) - this.#server) / TICKS_PER_SECOND,
      serverMain: pid === undefined ? 0 : (ticks(pid, pid) - this.#main) / TICKS_PER_SECOND,
      loadgen: (self.user + self.system) / 1e6,
      db: db / TICKS_PER_SECOND,
      busy: (m.busy - this.#machine.busy) / TICKS_PER_SECOND,
      total: (m.total - this.#machine.total) / TICKS_PER_SECOND,
    };
  }
}

// --- servers -------------------------------------------------------------------

interface Server {
  readonly label: string;
  readonly child: ChildProcess;
  readonly post: Post;
  readonly withDb: boolean;
  readonly prefix: string;
  /** The service's group-commit counters (GET /metrics); undefined for the plain server. */
  readonly commits?: () => Promise<Commits>;
  stop(): Promise<void>;
}

interface Commits {
  readonly count: number;
  /** Sum of group-commit durations (seal, write, durable commit), ms. */
  readonly ms: number;
  readonly records: number;
}

function getText(url: URL, agent: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function scrapeCommits(url: URL, agent: http.Agent): Promise<Commits> {
  const text = await getText(new URL('/metrics', url), agent);
  const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  return {
    count: value('trailseal_commit_duration_milliseconds_count'),
    ms: value('trailseal_commit_duration_milliseconds_sum'),
    records: value('trailseal_records_written_total'),
  };
}

let servers = 0;

async function launch(label: string, args: string[], execArgv: string[], token: string, transport: Transport, agent: http.Agent, withDb: boolean, metrics: boolean): Promise<Server> {
  const child = spawn(process.execPath, [...execArgv, ...args], { env: { ...process.env, TRAILSEAL_ROOT_KEY: ROOT_KEY }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start in 30 s: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening at (http:\/\/\S+)/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(new URL(m[1]!));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${label} exited before listening: ${err}`));
    });
  });
  const raw = transport === 'raw' ? rawPoster(url, token) : undefined;
  const post = raw?.post ?? (transport === 'fetch' ? fetchPoster(url, token) : httpPoster(url, token, agent));
  return {
    label,
    child,
    post,
    withDb,
    prefix: `s${servers++}-`,
    ...(metrics ? { commits: () => scrapeCommits(url, agent) } : {}),
    stop: async () => {
      raw?.close();
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

function startTrailseal(dir: string, store: string | undefined, transport: Transport, agent: http.Agent, execArgv: string[] = []): Promise<Server> {
  const extra = store === undefined ? [] : ['--store', store];
  const created = execFileSync(process.execPath, [CLI, 'tenant', 'create', 'bench', '--json', '--data', dir, ...extra], { env: { ...process.env, TRAILSEAL_ROOT_KEY: ROOT_KEY } });
  const { apiKey } = JSON.parse(created.toString()) as { apiKey: string };
  const flags = (process.env['TRAILSEAL_BENCH_SERVER_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
  return launch('trailseal serve', [CLI, 'serve', '--data', dir, '--port', '0', '--log-level', 'silent', ...extra], [...flags, ...execArgv], apiKey, transport, agent, store !== undefined, true);
}

function startPlain(dir: string, store: string | undefined, transport: Transport, agent: http.Agent): Promise<Server> {
  return launch('plain server', [PLAIN, ...(store === undefined ? ['--data', dir] : ['--store', store])], [], 'none', transport, agent, store !== undefined, false);
}

async function pgDatabase(tag: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const name = `trailseal_bench_${tag}_${process.pid}_${Date.now()}`;
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_ADMIN);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      try {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}

// --- load ----------------------------------------------------------------------

/** Batches from CONNECTIONS, batches from SATURATING_CONNECTIONS, or one event per request from CLIENTS. */
type Mode = 'batch' | 'saturate' | 'single';

interface Run {
  readonly events: number;
  readonly secs: number;
  /** Acknowledgement latencies of the successful requests, ms. */
  readonly lat: number[];
  readonly errors: number;
}

/** `concurrency` loops POSTing fresh bodies for `ms`; requests in flight at the deadline are waited for and counted. */
async function drive(s: Server, mode: Mode, ms: number): Promise<Run> {
  const size = mode === 'single' ? 1 : BATCH;
  const concurrency = mode === 'batch' ? CONNECTIONS : mode === 'saturate' ? SATURATING_CONNECTIONS : CLIENTS;
  const single = (): string => eventText(s.prefix);
  const lat: number[] = [];
  let events = 0;
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  let last = start;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const bodies = mode === 'single' ? undefined : new BatchBodies(s.prefix);
      while (performance.now() < end) {
        const body = bodies !== undefined ? bodies.next() : single();
        const t0 = performance.now();
        const status = await s.post(body);
        const t1 = performance.now();
        if (status === 201) {
          events += size;
          lat.push(t1 - t0);
        } else if (++errors > 1000) {
          throw new Error(`${s.label}: more than 1000 requests answered ${status}`);
        }
        if (t1 > last) last = t1;
      }
    }),
  );
  return { events, secs: (last - start) / 1000, lat, errors };
}

interface Sample extends Run {
  readonly cpu: ReturnType<CpuMeter['read']>;
  /** Group commits during the sample (the service only). */
  readonly commits?: Commits;
  /** The server's peak resident memory so far (VmHWM), MB. */
  readonly peakRssMb: number | undefined;
}

async function sample(s: Server, mode: Mode, ms: number): Promise<Sample> {
  const before = await s.commits?.();
  const meter = new CpuMeter(s.child.pid, s.withDb);
  const run = await drive(s, mode, ms);
  const cpu = meter.read();
  const after = await s.commits?.();
  const commits = before === undefined || after === undefined ? undefined : { count: after.count - before.count, ms: after.ms - before.ms, records: after.records - before.records };
  return { ...run, cpu, peakRssMb: s.child.pid === undefined ? undefined : peakRssMb(s.child.pid), ...(commits !== undefined ? { commits } : {}) };
}

export interface Figure {
  /** Median of the samples' events/s. */
  readonly rate: number;
  readonly samples: readonly number[];
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  readonly cpu: Cpu;
  /** Server CPU ms per 1000 events. */
  readonly serverMsPer1000: number;
  /** The server's peak resident memory (VmHWM) at the end of the figure, MB; NaN for in-process figures. */
  readonly peakRssMb: number;
  /** The service's group commits: per second, records per commit, mean duration (ms), share of wall time spent committing. */
  readonly commits?: { readonly perSec: number; readonly records: number; readonly ms: number; readonly busy: number };
}

function figure(samples: readonly Sample[]): Figure {
  const lat = samples.flatMap((x) => x.lat).sort((a, b) => a - b);
  const secs = samples.reduce((a, x) => a + x.secs, 0);
  const events = samples.reduce((a, x) => a + x.events, 0);
  const sum = (f: (c: Sample['cpu']) => number): number => samples.reduce((a, x) => a + f(x.cpu), 0);
  const server = sum((c) => c.server);
  return {
    rate: median(samples.map((x) => x.events / x.secs)),
    samples: samples.map((x) => x.events / x.secs),
    p50: lat.length === 0 ? NaN : lat[Math.floor(lat.length * 0.5)]!,
    p99: lat.length === 0 ? NaN : lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))]!,
    errors: samples.reduce((a, x) => a + x.errors, 0),
    cpu: {
      server: server / secs,
      serverMain: sum((c) => c.serverMain) / secs,
      loadgen: sum((c) => c.loadgen) / secs,
      db: sum((c) => c.db) / secs,
      machine: sum((c) => c.busy) / Math.max(sum((c) => c.total), 1e-9),
    },
    serverMsPer1000: events === 0 ? NaN : (server * 1000 * 1000) / events,
    peakRssMb: Math.max(...samples.map((x) => x.peakRssMb ?? NaN)),
    ...commitStats(samples, secs),
  };
}

function commitStats(samples: readonly Sample[], secs: number): Pick<Figure, 'commits'> {
  if (samples.some((x) => x.commits === undefined)) return {};
  const count = samples.reduce((a, x) => a + x.commits!.count, 0);
  const ms = samples.reduce((a, x) => a + x.commits!.ms, 0);
  const records = samples.reduce((a, x) => a + x.commits!.records, 0);
  return { commits: { perSec: count / secs, records: records / count, ms: ms / count, busy: ms / 1000 / secs } };
}

/** Warms both servers up, then samples them interleaved (ABBA): returns [ours, baseline]. */
async function interleaved(a: Server, b: Server, mode: Mode): Promise<[Figure, Figure]> {
  await drive(a, mode, WARMUP_MS);
  await drive(b, mode, WARMUP_MS);
  const sa: Sample[] = [];
  const sb: Sample[] = [];
  const ms = (SECONDS * 1000) / ROUNDS;
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      sa.push(await sample(a, mode, ms));
      sb.push(await sample(b, mode, ms));
    } else {
      sb.push(await sample(b, mode, ms));
      sa.push(await sample(a, mode, ms));
    }
  }
  return [figure(sa), figure(sb)];
}

// --- baseline (b): hypercore ---------------------------------------------------------

interface HypercoreLike {
  ready(): Promise<void>;
  append(blocks: Buffer | Buffer[]): Promise<unknown>;
  close(): Promise<void>;
}

async function hypercoreRun(core: HypercoreLike, mode: Mode, ms: number): Promise<Run> {
  const lat: number[] = [];
  let events = 0;
  const start = performance.now();
  const end = start + ms;
  let last = start;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now();
      if (mode === 'batch') {
        const blocks = new Array<Buffer>(BATCH);
        for (let i = 0; i < BATCH; i++) blocks[i] = Buffer.from(eventText('h-'));
        await core.append(blocks);
        events += BATCH;
      } else {
        await core.append(Buffer.from(eventText('h-')));
        events++;
      }
      const t1 = performance.now();
      lat.push(t1 - t0);
      if (t1 > last) last = t1;
    }
  };
  await Promise.all(Array.from({ length: mode === 'batch' ? 1 : CLIENTS }, loop));
  return { events, secs: (last - start) / 1000, lat, errors: 0 };
}

async function hypercore(dir: string, mode: Mode): Promise<Figure> {
  const Hypercore = createRequire(import.meta.url)('hypercore') as new (dir: string) => HypercoreLike;
  const core = new Hypercore(dir);
  await core.ready();
  try {
    await hypercoreRun(core, mode, WARMUP_MS / 2);
    const samples: Sample[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const meter = new CpuMeter(undefined, false);
      const run = await hypercoreRun(core, mode, (SECONDS * 1000) / ROUNDS);
      samples.push({ ...run, cpu: meter.read(), peakRssMb: undefined });
    }
    return figure(samples);
  } finally {
    await core.close();
  }
}

// --- report --------------------------------------------------------------------------

export interface ServiceResults {
  readonly transport: Transport;
  readonly seconds: number;
  readonly figures: Record<string, Figure>;
  readonly postgres: boolean;
}

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
const ms1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '-');
const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');

function printReport(r: ServiceResults): void {
  const f = r.figures;
  const stores = r.postgres ? ['SQLite', 'PostgreSQL'] : ['SQLite'];
  const rows: string[][] = [['figure', 'events/s', 'p50/p99 ms', 'baseline', 'events/s', 'p50/p99 ms', 'ratio', 'target']];
  const lat = (x: Figure): string => `${ms1(x.p50)} / ${ms1(x.p99)}`;
  const err = (x: Figure): string => (x.errors > 0 ? ` (${x.errors} non-201 answers)` : '');
  for (const store of stores) {
    const key = store === 'SQLite' ? 'sqlite' : 'pg';
    /** A figure of the service beside the plain insert's, with its targets: `target` gives the text before the integrity cost. */
    const row = (label: string, mode: Mode, target: (x: Figure) => string): void => {
      const x = f[`${key}.${mode}`]!;
      const plain = f[`${key}.plain.${mode}`]!;
      const cost = plain.rate / x.rate;
      rows.push([
        `${store}, ${label}${err(x)}`,
        fmt(x.rate),
        lat(x),
        `(a) plain insert, no integrity${err(plain)}`,
        fmt(plain.rate),
        lat(plain),
        (x.rate / plain.rate).toFixed(2),
        `${target(x)}integrity cost ${cost.toFixed(2)}x (<= 1.5x: ${met(cost <= 1.5)})`,
      ]);
    };
    row(`batches of ${BATCH}, ${CONNECTIONS} conns`, 'batch', () => '');
    row(`batches of ${BATCH}, ${SATURATING_CONNECTIONS} conns`, 'saturate', (x) => (store === 'SQLite' ? `>= 50,000/s: ${met(x.rate >= 50_000)}; ` : ''));
    row(`${CLIENTS} clients, 1 event/request`, 'single', (x) => `>= 10,000/s with p99 <= 25 ms: ${met(x.rate >= 10_000 && x.p99 <= 25)}; `);
  }
  const hb = f['hypercore.batch']!;
  const hs = f['hypercore.single']!;
  const sb = f['sqlite.batch']!;
  const ss = f['sqlite.single']!;
  rows.push([`SQLite, batches of ${BATCH}, ${CONNECTIONS} conns`, fmt(sb.rate), lat(sb), `(b) hypercore 11, append(${BATCH} blocks)`, fmt(hb.rate), lat(hb), (sb.rate / hb.rate).toFixed(2), '(no target)']);
  rows.push([`SQLite, ${CLIENTS} clients, 1 event/request`, fmt(ss.rate), lat(ss), `(b) hypercore 11, ${CLIENTS} appenders x 1 block`, fmt(hs.rate), lat(hs), (ss.rate / hs.rate).toFixed(2), '(no target)']);

  console.log(
    `\n## HTTP service (${r.seconds} s per figure: median of ${ROUNDS} samples interleaved with the baseline's; servers in child processes; load from this process over ${TRANSPORTS[r.transport]})`,
  );
  printColumns(rows, [false, true, true, false, true, true, true, false]);
  if (!r.postgres) console.log(`PostgreSQL not reachable at ${PG_ADMIN}: PostgreSQL figures skipped`);
  console.log('(b) runs in this process without HTTP, and does not fsync per append: its acknowledgements are not durable.');

  console.log(
    '\nCPU seconds per wall second (2.00 = both cores): server process (its main thread), load generator (for hypercore: this process, hypercore included), PostgreSQL;' +
      ' machine busy; server CPU ms per 1000 events; server peak RSS so far (VmHWM); the service\'s group commits: per second x records each, mean duration (seal + write + durable commit), share of wall time spent in one',
  );
  const cpuRows: string[][] = [['figure', 'server (main)', 'load gen', 'postgres', 'machine', 'server ms/1000 ev', 'peak RSS MB', 'group commits', 'samples (events/s)']];
  const cpuRow = (name: string, x: Figure | undefined, inProcess = false): void => {
    if (x === undefined) return;
    cpuRows.push([
      name,
      inProcess ? '(in this process)' : `${x.cpu.server.toFixed(2)} (${x.cpu.serverMain.toFixed(2)})`,
      x.cpu.loadgen.toFixed(2),
      x.cpu.db === 0 ? '-' : x.cpu.db.toFixed(2),
      `${Math.round(x.cpu.machine * 100)}%`,
      inProcess ? '-' : x.serverMsPer1000.toFixed(1),
      inProcess ? '-' : fmt(x.peakRssMb),
      x.commits === undefined ? '-' : `${fmt(x.commits.perSec)}/s x ${x.commits.records.toFixed(1)}, ${x.commits.ms.toFixed(1)} ms (${Math.round(x.commits.busy * 100)}%)`,
      x.samples.map(fmt).join(' '),
    ]);
  };
  for (const [key, store] of [['sqlite', 'SQLite'], ['pg', 'PostgreSQL']] as const) {
    cpuRow(`trailseal ${store} batch`, f[`${key}.batch`]);
    cpuRow(`plain ${store} batch`, f[`${key}.plain.batch`]);
    cpuRow(`trailseal ${store} batch, ${SATURATING_CONNECTIONS} conns`, f[`${key}.saturate`]);
    cpuRow(`plain ${store} batch, ${SATURATING_CONNECTIONS} conns`, f[`${key}.plain.saturate`]);
    cpuRow(`trailseal ${store} ${CLIENTS} clients`, f[`${key}.single`]);
    cpuRow(`plain ${store} ${CLIENTS} clients`, f[`${key}.plain.single`]);
  }
  cpuRow('hypercore batch', hb, true);
  cpuRow(`hypercore ${CLIENTS} appenders`, hs, true);
  printColumns(cpuRows, [false, true, true, true, true, true, true, true, false]);
}

function printColumns(rows: readonly string[][], right: readonly boolean[]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((cell, c) => (right[c] === true ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ').trimEnd());
}

// --- the benchmark ---------------------------------------------------------------------

const TRANSPORTS: Record<Transport, string> = { raw: 'raw HTTP/1.1 keep-alive connections', http: 'node:http keep-alive', fetch: 'undici fetch' };

export interface ServiceOptions {
  readonly transport?: Transport;
  readonly postgres?: boolean;
}

export async function benchService(opts: ServiceOptions = {}): Promise<ServiceResults> {
  const transport = opts.transport ?? 'raw';
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const figures: Record<string, Figure> = {};
  // Each figure gets fresh servers on fresh databases: a database that grew
  // through the figures before it would make a figure depend on its place in
  // the run (bench/README.md, seventh session).
  let postgres = false;
  if (opts.postgres !== false) {
    const probe = await pgDatabase('probe');
    postgres = probe !== undefined;
    await probe?.drop();
  }
  try {
    for (const key of postgres ? ['sqlite', 'pg'] : ['sqlite']) {
      for (const mode of ['batch', 'saturate', 'single'] as const) {
        const dir = mkdtempSync(join(tmpdir(), 'trailseal-service-'));
        const plainDir = mkdtempSync(join(tmpdir(), 'trailseal-plain-'));
        const drops: (() => Promise<void>)[] = [];
        let ts: Server | undefined;
        let plain: Server | undefined;
        try {
          let url: string | undefined;
          let plainUrl: string | undefined;
          if (key === 'pg') {
            const db = await pgDatabase('ts');
            if (db !== undefined) drops.push(db.drop);
            const plainDb = await pgDatabase('plain');
            if (plainDb !== undefined) drops.push(plainDb.drop);
            if (db === undefined || plainDb === undefined) throw new Error('PostgreSQL stopped answering during the benchmark');
            url = db.url;
            plainUrl = plainDb.url;
          }
          ts = await startTrailseal(dir, url, transport, agent);
          plain = await startPlain(plainDir, plainUrl, transport, agent);
          [figures[`${key}.${mode}`], figures[`${key}.plain.${mode}`]] = await interleaved(ts, plain, mode);
        } finally {
          await ts?.stop();
          await plain?.stop();
          rmSync(dir, { recursive: true, force: true });
          rmSync(plainDir, { recursive: true, force: true });
          for (const drop of drops) await drop();
        }
      }
    }
    const hcDir = mkdtempSync(join(tmpdir(), 'trailseal-hypercore-'));
    try {
      figures['hypercore.batch'] = await hypercore(join(hcDir, 'batch'), 'batch');
      figures['hypercore.single'] = await hypercore(join(hcDir, 'single'), 'single');
    } finally {
      rmSync(hcDir, { recursive: true, force: true });
    }
  } finally {
    agent.destroy();
  }
  const results: ServiceResults = { transport, seconds: SECONDS, figures, postgres };
  printReport(results);
  return results;
}

// --- profiling -------------------------------------------------------------------------

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

/** Steps of an ingest whose inclusive (self + callees) time the summary prints: function name, file, what it is. */
const PHASES: readonly (readonly [string, string, string])[] = [
  ['authenticate', '/auth.js', 'bearer-key check'],
  ['parseBody', '/http/body.js', 'strict JSON parse of the body'],
  ['checkBody', '/http/body.js', 'validation of every event'],
  ['#commit', '/log/writer.js', 'group commit, synchronous part (all below)'],
  ['head', '/store/sqlite-engine.js', '  head read'],
  ['known', '/store/sqlite-engine.js', '  idempotency lookup of the ids'],
  ['#build', '/log/writer.js', '  sealing: canonical form, chain, MAC, tree'],
  ['writePlanOf', '/store/sqlite.js', '  packing the write plan'],
  ['postMessage', 'node:internal/worker', '  handing it to the writer thread'],
  ['insertPlan', '/store/postgres.js', '  INSERT statements (PostgreSQL)'],
  ['serialize', 'fastify/lib/reply.js', 'response serialization (receipts)'],
  ['checkpoint', '/log/writer.js', 'checkpoint signing'],
];

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function where(url: string): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const pk = url.indexOf('/packages/');
  if (pk >= 0) return url.slice(pk + 1);
  return url.replace(/^file:\/\//, '');
}

function area(url: string, fn: string): string {
  if (url === '') return fn.startsWith('(') ? fn : '(native, no script)';
  if (url.startsWith('node:')) return 'node: core modules';
  const nm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (nm !== null) return nm[1]!;
  const pk = /\/packages\/([^/]+)\//.exec(url);
  if (pk !== null) return `@trailseal/${pk[1]!}`;
  return where(url);
}

/** Top self-time functions and areas of one .cpuprofile, as printable lines. */
export function summariseProfile(file: string, top: number): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    const n = byId.get(p.samples[i]!);
    if (n === undefined) continue;
    const { functionName, url, lineNumber } = n.callFrame;
    const fn = functionName === '' ? '(anonymous)' : functionName;
    total += dt;
    if (fn === '(idle)') {
      idle += dt;
      continue;
    }
    const key = url === '' ? fn : `${fn}  ${where(url)}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const a = area(url, fn);
    areas.set(a, (areas.get(a) ?? 0) + dt);
  }
  // Inclusive time of the PHASES: a sample counts once for every phase on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOf = new Map<number, number>();
  p.nodes.forEach((n) => {
    const i = PHASES.findIndex(([fn, file]) => n.callFrame.functionName === fn && n.callFrame.url.includes(file));
    if (i >= 0) phaseOf.set(n.id, i);
  });
  const inclusive = new Array<number>(PHASES.length).fill(0);
  for (let i = 0; i < p.samples.length; i++) {
    const seen = new Set<number>();
    for (let id: number | undefined = p.samples[i]!; id !== undefined; id = parent.get(id)) {
      const ph = phaseOf.get(id);
      if (ph !== undefined) seen.add(ph);
    }
    for (const ph of seen) inclusive[ph]! += p.timeDeltas[i + 1] ?? 0;
  }
  const busy = total - idle;
  const pct = (v: number): string => `${((100 * v) / busy).toFixed(1).padStart(5)}%`;
  const out = [`  profile ${(total / 1e6).toFixed(1)} s, busy ${(busy / 1e6).toFixed(1)} s (${Math.round((100 * busy) / total)}%); percentages of busy time`];
  out.push('  top self time:');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`   ${pct(v)}  ${k}`);
  out.push('  by area:');
  for (const [k, v] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 8)) out.push(`   ${pct(v)}  ${k}`);
  if (inclusive.some((v) => v > 0)) {
    out.push('  inclusive time of the ingest steps:');
    PHASES.forEach(([fn, , what], i) => {
      if (inclusive[i]! > 0) out.push(`   ${pct(inclusive[i]!)}  ${what} (${fn})`);
    });
  }
  return out;
}

/** What a worker thread's profile shows it ran: the script of the server's it loaded. */
function threadRole(file: string): string {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const urls = new Set(p.nodes.map((n) => n.callFrame.url));
  const ran = (script: string): boolean => [...urls].some((u) => u.endsWith(script));
  // A thread that never ran a sampled function of its own (an idle ingest thread) shows only its loading.
  return ran('sqlite-writer.js') ? ' (the SQLite writer)' : ran('ingest-thread.js') ? ' (an ingest thread)' : ' (idle: no function of its script sampled)';
}

/** Runs the service alone under --cpu-prof, one server process per mode, and prints its profiles. */
export async function profileService(store: 'sqlite' | 'postgres', top: number, transport: Transport): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const root = mkdtempSync(join(tmpdir(), 'trailseal-prof-'));
  console.log(`\n## Profile of trailseal serve on ${store} (${SECONDS} s of load after ${WARMUP_MS} ms of warm-up; profiles in ${root})`);
  try {
    for (const mode of ['batch', 'single'] as const) {
      const profDir = join(root, mode);
      const dataDir = join(root, `${mode}-data`);
      mkdirSync(profDir);
      mkdirSync(dataDir);
      const db = store === 'postgres' ? await pgDatabase('prof') : undefined;
      if (store === 'postgres' && db === undefined) {
        console.log(`PostgreSQL not reachable at ${PG_ADMIN}`);
        return;
      }
      try {
        const s = await startTrailseal(dataDir, db?.url, transport, agent, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
        let fig: Figure;
        try {
          await drive(s, mode, WARMUP_MS);
          fig = figure([await sample(s, mode, SECONDS * 1000)]);
        } finally {
          await s.stop();
        }
        console.log(
          `\n### ${mode === 'batch' ? `batches of ${BATCH} from ${CONNECTIONS} connections` : `${CLIENTS} clients, 1 event/request`}: ${fmt(fig.rate)} events/s, p50 ${ms1(fig.p50)} ms, p99 ${ms1(fig.p99)} ms; server CPU ${fig.cpu.server.toFixed(2)} (main thread ${fig.cpu.serverMain.toFixed(2)}), load generator ${fig.cpu.loadgen.toFixed(2)}, machine ${Math.round(fig.cpu.machine * 100)}% busy`,
        );
        // Node names profiles CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
        const files = readdirSync(profDir).filter((n) => n.endsWith('.cpuprofile'));
        for (const name of files.sort()) {
          const thread = Number(name.split('.')[4]);
          console.log(`${thread === 0 ? 'main thread' : `worker thread ${thread}${threadRole(join(profDir, name))}`}: ${name}`);
          for (const line of summariseProfile(join(profDir, name), top)) console.log(line);
        }
      } finally {
        await db?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    agent.destroy();
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      transport: { type: 'string', default: 'raw' },
      'no-pg': { type: 'boolean', default: false },
      json: { type: 'string' },
      profile: { type: 'boolean', default: false },
      store: { type: 'string', default: 'sqlite' },
      top: { type: 'string', default: '10' },
    },
  });
  const transport = values.transport === 'fetch' || values.transport === 'http' ? values.transport : 'raw';
  if (values.profile) {
    await profileService(values.store === 'postgres' ? 'postgres' : 'sqlite', Number(values.top), transport);
  } else {
    const results = await benchService({ transport, postgres: !values['no-pg'] });
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  }
}
