// Reliability under kill -9: clients stream events into a real `trailseal
// serve` process that is killed with SIGKILL 20 times and restarted on the
// same data directory. Afterwards every acknowledged event must be stored with
// the seq and leaf hash it was acknowledged with, seqs must be contiguous, no
// id may be stored twice (clients re-send unacknowledged events with the same
// ids, as the SDK does), and the chain and tree must verify. On SQLite (the
// embedded default) and, 10 times, on PostgreSQL.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyLog } from '@trailseal/verify';
import { richEvent } from '../../../test-support/events.js';
import { freshDatabase, requirePg, type FreshDatabase } from './support/pg.js';
import { cliBuilt, runCli, startServer } from './support/process.js';

const pgOk = await requirePg('the kill -9 test on PostgreSQL');
const dbs: FreshDatabase[] = [];
afterAll(async () => {
  for (const db of dbs) await db.drop();
});

const CLIENTS = 4;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Ack {
  seq: number;
  leafHash: string;
}

async function killAndRestart(rounds: number, kind: 'sqlite' | 'postgres'): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'trailseal-crash-'));
  dirs.push(data);
  let store: string[] = [];
  // With PostgreSQL the root key is shared by every process: it comes from the environment.
  const env: Record<string, string> = {};
  if (kind === 'postgres') {
    const db = await freshDatabase();
    dbs.push(db);
    store = ['--store', db.url];
    env['TRAILSEAL_ROOT_KEY'] = 'cd'.repeat(32);
  }
  const created = await runCli(['tenant', 'create', 'crashy', '--json', '--data', data, ...store], env);
  expect(created.status, created.stderr).toBe(0);
  const { apiKey, verifierKey } = JSON.parse(created.stdout) as { apiKey: string; verifierKey: string };

  const acked = new Map<string, Ack>();
  let pending: Record<string, unknown>[] = [];
  let next = 0;
  let failures = 0;
  for (let round = 0; round < rounds; round++) {
    const server = await startServer(['--data', data, ...store], env);
    let alive = true;
    const stream = async (client: number): Promise<void> => {
      while (alive) {
        // Re-send what was not acknowledged before the last kill first, with the same ids.
        const batch = pending.length > 0 ? pending.splice(0, 25) : Array.from({ length: 1 + ((next + client) % 25) }, () => ({ ...richEvent(next), id: `ev-${next++}` }));
        try {
          const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
          if (res.status !== 201) throw new Error(`status ${res.status}`);
          const { receipts } = (await res.json()) as { receipts: Ack[] };
          batch.forEach((e, i) => {
            const r = receipts[i]!;
            const before = acked.get(e['id'] as string);
            // A re-sent event must get back exactly the receipt it had.
            if (before !== undefined) expect({ seq: r.seq, leafHash: r.leafHash }).toEqual(before);
            acked.set(e['id'] as string, { seq: r.seq, leafHash: r.leafHash });
          });
        } catch {
          failures++;
          pending.push(...batch);
          return;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, c) => stream(c));
    await new Promise((r) => setTimeout(r, 150 + ((round * 37) % 200)));
    await server.kill9();
    alive = false;
    await Promise.all(clients);
  }

  // One clean start: re-send the last unacknowledged events, then read everything back.
  const server = await startServer(['--data', data, ...store], env);
  try {
    if (pending.length > 0) {
      const res = await fetch(`${server.url}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify(pending) });
      expect(res.status).toBe(201);
      const { receipts } = (await res.json()) as { receipts: Ack[] };
      pending.forEach((e, i) => acked.set(e['id'] as string, receipts[i]!));
      pending = [];
    }
    const cp = await (await fetch(`${server.url}/v1/checkpoint`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}` } })).text();
    const lines: string[] = [];
    let path = '/v1/events?limit=1000';
    for (;;) {
      const page = (await (await fetch(server.url + path, { headers: { authorization: `Bearer ${apiKey}` } })).json()) as { records: Record<string, unknown>[]; next: string | null };
      for (const r of page.records) lines.push(JSON.stringify(r));
      if (page.next === null) break;
      path = `/v1/events?cursor=${page.next}&limit=1000`;
    }
    const records = lines.map((l) => JSON.parse(l) as { seq: number; id: string; action: string });
    const size = Number(cp.split('\n')[1]);
    // The read above wrote an audit record after the checkpoint; verify the checkpointed prefix.
    const report = verifyLog(lines.slice(0, size), { trustedKeys: [verifierKey], checkpoint: cp });
    expect(report.problems).toEqual([]);
    expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i));
    const producer = records.filter((r) => !r.action.startsWith('trailseal.'));
    const ids = producer.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const bySeq = new Map(records.map((r) => [r.seq, r]));
    for (const [id, ack] of acked) {
      expect(bySeq.get(ack.seq)?.id, `acknowledged ${id} at seq ${ack.seq}`).toBe(id);
      expect(createHash('sha256').update(Buffer.of(0)).update(lines[ack.seq]!).digest('hex')).toBe(ack.leafHash);
    }
    expect(acked.size).toBeGreaterThan(rounds * 10);
    expect(failures).toBeGreaterThan(0);
  } finally {
    await server.stop();
  }
}

describe.runIf(cliBuilt())('kill -9 while clients stream', () => {
  it('loses no acknowledged event over 20 kills and restarts, on SQLite', () => killAndRestart(20, 'sqlite'), 180_000);
  it.runIf(pgOk)('loses no acknowledged event over 10 kills and restarts, on PostgreSQL', () => killAndRestart(10, 'postgres'), 180_000);
});
