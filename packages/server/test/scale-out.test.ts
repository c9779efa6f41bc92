// Scale-out: three `trailseal serve` processes on one PostgreSQL database
// append to the same tenant at once, through clients that also re-send events
// to a different process than the first time. The log must come out with no
// fork and no gap: seqs contiguous, every id stored once with the receipt it
// was acknowledged with, and the whole chain and tree verifying against a
// checkpoint, with consistency between checkpoints signed by different processes.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyCheckpointConsistency, verifyLog } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { cliBuilt, runCli, startServer, type ServerProcess } from './support/process.js';

const pgOk = await requirePg('the multi-process PostgreSQL test');
const PROCESSES = 3;
const CLIENTS_PER_PROCESS = 4;
const DURATION_MS = 3000;

let db: FreshDatabase | undefined;
const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await db?.drop();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

interface Ack {
  seq: number;
  leafHash: string;
}

describe.runIf(pgOk && cliBuilt())(`${PROCESSES} service processes on one PostgreSQL database`, () => {
  it('append to one tenant concurrently with no fork and no gap', async () => {
    db = await freshDatabase();
    const env = { TRAILSEAL_ROOT_KEY: randomBytes(32).toString('hex') };
    const common = ['--store', db.url, '--log-name', 'scale.trailseal.example'];
    const dir = (): string => {
      const d = mkdtempSync(join(tmpdir(), 'trailseal-node-'));
      dirs.push(d);
      return d;
    };
    const created = await runCli(['tenant', 'create', 'shared', '--json', '--data', dir(), ...common], env);
    expect(created.status, created.stderr).toBe(0);
    const { apiKey, verifierKey } = JSON.parse(created.stdout) as { apiKey: string; verifierKey: string };
    for (let i = 0; i < PROCESSES; i++) servers.push(await startServer(['--data', dir(), '--checkpoint-interval-ms', '200', ...common], env));

    const post = async (server: ServerProcess, batch: readonly object[]): Promise<Ack[]> => {
      const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
      expect(res.status, await res.clone().text()).toBe(201);
      return ((await res.json()) as { receipts: Ack[] }).receipts;
    };
    const acked = new Map<string, Ack>();
    const sent = new Map<string, ReturnType<typeof richEvent>>();
    const checkpoints: string[] = [];
    let n = 0;
    const deadline = Date.now() + DURATION_MS;
    const client = async (c: number): Promise<void> => {
      let round = 0;
      while (Date.now() < deadline) {
        const server = servers[(c + round++) % PROCESSES]!;
        const fresh = Array.from({ length: 1 + ((n + c) % 40) }, () => ({ ...richEvent(n), id: `s-${n++}` }));
        for (const e of fresh) sent.set(e.id, e);
        // Every third batch also re-sends two events acknowledged earlier, usually by another process.
        const old = round % 3 === 0 ? [...acked.keys()].slice(-2).map((id) => sent.get(id)!) : [];
        const batch = [...fresh, ...old];
        const receipts = await post(server, batch);
        batch.forEach((e, i) => {
          const r = receipts[i]!;
          const before = acked.get(e.id);
          if (before !== undefined) expect({ seq: r.seq, leafHash: r.leafHash }).toEqual(before);
          else acked.set(e.id, { seq: r.seq, leafHash: r.leafHash });
        });
        if (round % 10 === 0) checkpoints.push(await (await fetch(`${server.url}/v1/checkpoint`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } })).text());
      }
    };
    await Promise.all(Array.from({ length: PROCESSES * CLIENTS_PER_PROCESS }, (_, c) => client(c)));

    const reader = servers[0]!;
    const cp = await (await fetch(`${reader.url}/v1/checkpoint`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } })).text();
    const size = Number(cp.split('\n')[1]);
    const lines: string[] = [];
    for (let from = 0; from < size; from += 1000) {
      const page = (await (await fetch(`${reader.url}/v1/events?from=${from}&limit=1000`, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { records: unknown[] };
      lines.push(...page.records.map((r) => JSON.stringify(r)));
    }
    const head = lines.slice(0, size);
    const report = verifyLog(head, { trustedKeys: [verifierKey], checkpoint: cp });
    expect(report.problems).toEqual([]);
    const records = head.map((l) => JSON.parse(l) as { seq: number; id: string; action: string });
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    const ids = records.filter((r) => !r.action.startsWith('trailseal.')).map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [id, ack] of acked) {
      expect(records[ack.seq]?.id, id).toBe(id);
      expect(createHash('sha256').update(Buffer.of(0)).update(head[ack.seq]!).digest('hex')).toBe(ack.leafHash);
    }
    expect(acked.size).toBeGreaterThan(500);
    // Checkpoints signed by different processes are consistent with the final one.
    expect(checkpoints.length).toBeGreaterThan(3);
    for (const older of checkpoints) {
      const from = Number(older.split('\n')[1]);
      const proof = (await (await fetch(`${reader.url}/v1/consistency?from=${from}&to=${size}`, { headers: { authorization: `Bearer ${apiKey}` } })).text()).split('\n').filter((l) => l !== '');
      expect(verifyCheckpointConsistency(older, cp, proof, { trustedKeys: [verifierKey] }).problems).toEqual([]);
    }
  }, 120_000);
});
