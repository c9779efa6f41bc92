// Streaming latency: from the ingest acknowledgement (the receipt) to the
// moment a local webhook receiver has the event, at 1,000 and 5,000 events/s
// for 10 s each, through `trailseal serve` in a child process (SQLite) with
// one webhook sink. Printed beside the baseline measured in the same run: a
// plain HTTP POST of the same batch from this process to the same receiver
// (the transport's own floor). Target: p99 <= 100 ms.
//
//   npx tsc -b && node bench/dist/bench/stream.js [--seconds N]
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isMain, listeningUrl } from './measure.js';

const CLI = fileURLToPath(new URL('../../../packages/server/dist/cli/main.js', import.meta.url));
const ROOT_KEY = 'b'.repeat(64);

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

async function run(cmd: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd.join(' ')} exited ${code}`))));
  });
}

export async function benchStream(seconds = 10): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'trailseal-bench-stream-'));
  const env = { TRAILSEAL_ROOT_KEY: ROOT_KEY };
  // Arrival times by event id, at the receiver (this process's clock).
  const arrived = new Map<string, number>();
  let direct: number[] = [];
  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string; events?: { record: { id: string } }[]; sent?: number };
      if (body.type === 'trailseal.events') for (const e of body.events!) arrived.set(e.record.id, now);
      else if (body.type === 'direct') direct.push(now - body.sent!);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const tenant = JSON.parse(await run(['tenant', 'create', 'bench', '--json', '--data', dir], env)) as { apiKey: string };
  const child = spawn(process.execPath, [CLI, 'serve', '--data', dir, '--port', '0', '--log-level', 'warn', '--sink-heartbeat-ms', '0'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await listeningUrl(child);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const post = (target: string, body: string, token?: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const u = new URL(target);
        const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
    const sink = await post(`${url}/v1/sinks`, JSON.stringify({ name: 'bench', kind: 'webhook', config: { url: hook } }), tenant.apiKey);
    if (sink !== 201) throw new Error(`sink create: HTTP ${sink}`);

    console.log('\n## streaming: acknowledgement to webhook receipt (SQLite, one sink)');
    for (const rate of [1000, 5000]) {
      arrived.clear();
      direct = [];
      const acked = new Map<string, number>();
      const perTick = rate / 100;
      let n = 0;
      const until = performance.now() + seconds * 1000;
      const inflight: Promise<void>[] = [];
      while (performance.now() < until) {
        const tick = performance.now();
        const ids = Array.from({ length: perTick }, () => `r${rate}-${n++}`);
        const body = JSON.stringify(ids.map((id) => ({ id, time: new Date().toISOString(), action: 'file.download', outcome: 'success', actor: { id: 'u1', type: 'user' }, target: { type: 'file', name: 'report.pdf', size: 1024 } })));
        inflight.push(
          post(`${url}/v1/events`, body, tenant.apiKey).then((status) => {
            if (status !== 201) throw new Error(`ingest: HTTP ${status}`);
            const now = performance.now();
            for (const id of ids) acked.set(id, now);
          }),
        );
        // The baseline: the same receiver, a plain POST of a batch, from here.
        inflight.push(post(hook, JSON.stringify({ type: 'direct', sent: performance.now(), pad: body })).then(() => undefined));
        const wait = 10 - (performance.now() - tick);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      await Promise.all(inflight);
      const deadline = performance.now() + 30_000;
      while (arrived.size < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const lat: number[] = [];
      for (const [id, at] of acked) {
        const got = arrived.get(id);
        if (got !== undefined) lat.push(Math.max(0, got - at));
      }
      const lost = n - lat.length;
      const p50 = percentile(lat, 50);
      const p99 = percentile(lat, 99);
      console.log(
        `${rate.toLocaleString('en-US')} events/s for ${seconds} s: ${n} events, ${lost} not received; ack -> receipt p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms ` +
          `| plain POST to the receiver p50 ${percentile(direct, 50).toFixed(1)} ms, p99 ${percentile(direct, 99).toFixed(1)} ms | target p99 <= 100 ms: ${p99 <= 100 && lost === 0 ? 'met' : 'NOT met'}`,
      );
    }
    agent.destroy();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    receiver.closeAllConnections();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
  await benchStream(values.seconds === undefined ? undefined : Number(values.seconds));
}
