// Streaming to NATS JetStream end to end (docs/streaming-nats.md): a real
// service publishing to the NATS server at 127.0.0.1:4222 (JetStream on), a
// stream made for this run, and what the stream holds judged by reading it
// back with an ordered consumer. A core subscription on the same subject sees
// every publish, duplicates included; the stream must hold each event once:
// that difference is what Nats-Msg-Id buys.
//
// Without a NATS server the suite skips with a loud notice, except under CI or
// with TRAILSEAL_REQUIRE_NATS=1, where a missing server fails the run.
import { createHash, randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, nanos, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { openCheckpoint, parseVerifierKey } from '@trailseal/format';
import { waitFor } from './support/receiver.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const NATS_URL = process.env['TRAILSEAL_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** True when the NATS server accepts a TCP connection and greets with INFO within 2 s. */
async function natsAvailable(): Promise<boolean> {
  const u = new URL(NATS_URL);
  return new Promise((resolve) => {
    const s = tcpConnect({ host: u.hostname, port: Number(u.port || 4222) });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2_000, () => done(false));
    s.once('data', (d) => done(d.toString('latin1').startsWith('INFO ')));
    s.once('error', () => done(false));
  });
}

async function requireNats(suite: string): Promise<boolean> {
  if (await natsAvailable()) return true;
  const ci = process.env['CI'];
  if ((ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') || process.env['TRAILSEAL_REQUIRE_NATS'] === '1') {
    throw new Error(`NATS not reachable at ${NATS_URL}: ${suite} cannot run, and CI or TRAILSEAL_REQUIRE_NATS=1 requires it`);
  }
  console.warn(
    `\n${'!'.repeat(78)}\n!! NATS not reachable at ${NATS_URL}: skipping ${suite}.\n!! Start nats-server with JetStream (-js) or set TRAILSEAL_TEST_NATS_URL;\n!! set TRAILSEAL_REQUIRE_NATS=1 to fail instead.\n${'!'.repeat(78)}\n`,
  );
  return false;
}

const natsOk = await requireNats('the NATS JetStream streaming suite');

interface StreamMsg {
  readonly streamSeq: number;
  readonly headers: Record<string, string>;
  readonly data: string;
}

describe.runIf(natsOk)('streaming to NATS JetStream', () => {
  const run = randomBytes(6).toString('hex');
  const streamName = `TRAILSEAL_TEST_${run}`;
  const subjectTemplate = `trailseal.test.${run}.{tenant}.audit`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let svc: TestService;

  /** Every message the stream holds, read from its start with an ordered consumer. */
  const readStream = async (): Promise<StreamMsg[]> => {
    const info = await jsm.streams.info(streamName);
    const total = info.state.messages;
    const out: StreamMsg[] = [];
    if (total === 0) return out;
    const consumer = await jetstream(nc).consumers.get(streamName);
    const msgs = await consumer.fetch({ max_messages: total, expires: 5_000 });
    for await (const m of msgs) {
      const headers: Record<string, string> = {};
      for (const k of m.headers?.keys() ?? []) headers[k] = m.headers!.get(k);
      out.push({ streamSeq: m.seq, headers, data: m.string() });
      if (out.length === total) break;
    }
    return out;
  };

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
    jsm = await jetstreamManager(nc);
    // A duplicate window longer than the test: every replayed message falls inside it.
    await jsm.streams.add({ name: streamName, subjects: [`trailseal.test.${run}.>`], storage: StorageType.Memory, duplicate_window: nanos(120_000) });
    svc = await startTestService({ 'sink-heartbeat-ms': '300', 'sink-pause-after-ms': '10000' });
  });

  afterAll(async () => {
    await svc?.stop();
    if (jsm !== undefined) await jsm.streams.delete(streamName).catch(() => undefined);
    await nc?.close();
  });

  it('publishes every event once, in seq order, with its headers; a replay is dropped as duplicates; checkpoints arrive', { timeout: 30_000 }, async () => {
    const t = await createTenant(svc, `nats-${run.slice(0, 6)}`);
    const subject = subjectTemplate.replace('{tenant}', t.id);
    // Sees every publish on the subject, whether or not the stream kept it.
    const published = new Map<number, number>();
    const sub: Subscription = nc.subscribe(subject, {
      callback: (_err, m) => {
        if (m.headers?.get('Trailseal-Type') !== 'event') return;
        const seq = Number(m.headers.get('Trailseal-Seq'));
        published.set(seq, (published.get(seq) ?? 0) + 1);
      },
    });
    await nc.flush();

    const created = await call(svc.url, 'POST', '/v1/sinks', {
      token: t.apiKey,
      body: JSON.stringify({
        name: 'jetstream',
        kind: 'nats',
        // Only file events: the sink's own records (create, replay) stay out, so the event count is known.
        filter: { actions: ['file.*'] },
        from_seq: 0,
        config: { servers: [NATS_URL], subject: subjectTemplate, stream: streamName, timeout_ms: 5_000 },
      }),
    });
    expect(created.status, created.text).toBe(201);
    const sink = created.json<{ sink: { id: string; kind: string }; secret?: string }>();
    expect(sink.sink.kind).toBe('nats');
    expect(sink.secret).toBeUndefined();

    let n = 0;
    for (let b = 0; b < 3; b++) {
      const events = Array.from({ length: 60 }, () => ({ id: `n-${n++}`, time: new Date().toISOString(), action: 'file.download', outcome: 'success', actor: { id: 'u1', type: 'user' } }));
      const res = await call(svc.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify(events) });
      expect(res.status, res.text).toBe(201);
    }
    const records = (await call(svc.url, 'GET', '/v1/events?from=0&limit=1000', { token: t.apiKey })).json<{ records: { seq: number; action: string }[] }>().records;
    const fileSeqs = records.filter((r) => r.action.startsWith('file.')).map((r) => r.seq);
    expect(fileSeqs).toHaveLength(180);
    const end = (await call(svc.url, 'GET', '/v1/log', { token: t.apiKey })).json<{ size: number }>().size;

    const events = (all: StreamMsg[]): StreamMsg[] => all.filter((m) => m.headers['Trailseal-Type'] === 'event');
    const checkpoints = (all: StreamMsg[]): StreamMsg[] => all.filter((m) => m.headers['Trailseal-Type'] === 'checkpoint');
    let held: StreamMsg[] = [];
    await waitFor(
      'every event and a checkpoint covering them in the stream',
      async () => {
        held = await readStream();
        return events(held).length >= fileSeqs.length && checkpoints(held).some((c) => Number(c.headers['Trailseal-Size']) >= end);
      },
      15_000,
    );

    // Exactly once, in seq order.
    const got = events(held).map((m) => Number(m.headers['Trailseal-Seq']));
    expect(got).toEqual(fileSeqs);

    // Headers and payload: tenant, seq, leaf hash of the stored bytes, the dedupe id.
    const byStored = new Map<number, string>();
    for (const m of events(held)) {
      const seq = Number(m.headers['Trailseal-Seq']);
      const stored = (await call(svc.url, 'GET', `/v1/events/${seq}`, { token: t.apiKey })).text;
      byStored.set(seq, stored);
      const leaf = createHash('sha256').update(Buffer.of(0)).update(stored).digest('hex');
      expect(m.headers).toMatchObject({ 'Nats-Msg-Id': `${t.id}:${sink.sink.id}:${seq}`, 'Trailseal-Tenant': t.id, 'Trailseal-Sink': sink.sink.id, 'Trailseal-Leaf-Hash': leaf, 'Content-Type': 'application/json' });
      const body = JSON.parse(m.data) as { seq: number; tenant: string; leaf_hash: string; record: Record<string, unknown> };
      expect(body).toMatchObject({ seq, tenant: t.id, leaf_hash: leaf });
    }
    expect(byStored.size).toBe(fileSeqs.length);

    // A heartbeat: the signed checkpoint, verifiable with the tenant's key.
    const beat = checkpoints(held).find((c) => Number(c.headers['Trailseal-Size']) >= end)!;
    expect(beat.headers['Nats-Msg-Id']).toBe(`${t.id}:${sink.sink.id}:checkpoint:${beat.headers['Trailseal-Size']}`);
    expect(openCheckpoint(beat.data, [parseVerifierKey(t.verifierKey)]).size).toBe(Number(beat.headers['Trailseal-Size']));
    // Heartbeats repeat every 300 ms, but one checkpoint per log size is kept.
    const sizes = checkpoints(held).map((c) => c.headers['Trailseal-Size']);
    expect(sizes).toHaveLength(new Set(sizes).size);

    // Replay everything: each event is published again and the stream drops it.
    const before = events(held).length;
    const replay = await call(svc.url, 'POST', `/v1/sinks/${sink.sink.id}/replay`, { token: t.apiKey, body: JSON.stringify({ from_seq: 0 }) });
    expect(replay.status, replay.text).toBe(200);
    await waitFor('every event published a second time', () => fileSeqs.every((s) => (published.get(s) ?? 0) >= 2), 15_000);
    const after = await readStream();
    expect(events(after)).toHaveLength(before);
    expect(events(after).map((m) => Number(m.headers['Trailseal-Seq']))).toEqual(fileSeqs);
    expect(events(after).map((m) => m.streamSeq)).toEqual(events(held).map((m) => m.streamSeq));
    const info = await jsm.streams.info(streamName);
    expect(info.state.messages).toBe(events(after).length + checkpoints(after).length);
    sub.unsubscribe();
  });

  it('two sinks of one tenant publishing into one stream each get every event into it, none dropped as the other\'s duplicate', { timeout: 30_000 }, async () => {
    const t = await createTenant(svc, `nats2-${run.slice(0, 6)}`);
    const ids: string[] = [];
    for (const format of ['json', 'cef']) {
      const created = await call(svc.url, 'POST', '/v1/sinks', {
        token: t.apiKey,
        body: JSON.stringify({ name: `jetstream-${format}`, kind: 'nats', format, filter: { actions: ['file.*'] }, from_seq: 0, config: { servers: [NATS_URL], subject: subjectTemplate, stream: streamName, timeout_ms: 5_000 } }),
      });
      expect(created.status, created.text).toBe(201);
      ids.push(created.json<{ sink: { id: string } }>().sink.id);
    }
    const events = Array.from({ length: 40 }, (_, i) => ({ id: `two-${i}`, time: new Date().toISOString(), action: 'file.upload', outcome: 'success', actor: { id: 'u2', type: 'user' } }));
    const res = await call(svc.url, 'POST', '/v1/events', { token: t.apiKey, body: JSON.stringify(events) });
    expect(res.status, res.text).toBe(201);
    const seqs = res.json<{ receipts: { seq: number }[] }>().receipts.map((r) => r.seq);

    const mine = (all: StreamMsg[], sinkId: string): number[] =>
      all.filter((m) => m.headers['Trailseal-Type'] === 'event' && m.headers['Trailseal-Tenant'] === t.id && m.headers['Trailseal-Sink'] === sinkId).map((m) => Number(m.headers['Trailseal-Seq']));
    let held: StreamMsg[] = [];
    await waitFor(
      'both sinks\' events in the stream',
      async () => {
        held = await readStream();
        return ids.every((id) => mine(held, id).length >= seqs.length);
      },
      15_000,
    );
    for (const id of ids) expect(mine(held, id)).toEqual(seqs);
    const cef = held.find((m) => m.headers['Trailseal-Sink'] === ids[1] && m.headers['Trailseal-Type'] === 'event')!;
    expect(cef.headers['Content-Type']).toBe('text/plain; charset=utf-8');
    expect(cef.data.startsWith('CEF:0|')).toBe(true);
  });

  it('bad settings are refused naming the field', async () => {
    const t = await createTenant(svc, `natsb-${run.slice(0, 5)}`);
    const ok = { servers: [NATS_URL], subject: subjectTemplate };
    for (const [config, field] of [
      [{ subject: 'a.b' }, 'config.servers'],
      [{ ...ok, servers: ['http://127.0.0.1:4222'] }, 'config.servers'],
      [{ ...ok, servers: ['nats://u:p@127.0.0.1:4222'] }, 'config.servers'],
      [{ ...ok, subject: 'a.*.b' }, 'config.subject'],
      [{ ...ok, subject: 'a..b' }, 'config.subject'],
      [{ ...ok, subject: 'a.>' }, 'config.subject'],
      [{ ...ok, subject: 'a b' }, 'config.subject'],
      [{ ...ok, subject: 'a.{org}' }, 'config.subject'],
      [{ ...ok, stream: 'A.B' }, 'config.stream'],
      [{ ...ok, timeout_ms: 5 }, 'config.timeout_ms'],
      [{ ...ok, colour: 'red' }, 'config.colour'],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'x', kind: 'nats', config }) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field } });
    }
  });
});
