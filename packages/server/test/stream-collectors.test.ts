// Splunk HEC and Sumo Logic sinks against local receivers that follow the
// vendors' documented protocols: HEC's token header, concatenated event
// objects, its JSON answers and error codes, and indexer acknowledgement
// (a request channel, ackIds, the /services/collector/ack poll); Sumo's
// source URL as the credential and one event a line.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '@trailseal/format';
import { waitFor } from './support/receiver.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

interface HecEvent {
  event: Record<string, unknown>;
  time: number;
  sourcetype: string;
  source: string;
  index?: string;
  fields: Record<string, string>;
}

/** Splits a body of concatenated JSON objects (HEC accepts them back to back or on lines). */
function objects(body: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') {
      if (depth++ === 0) start = i;
    } else if (c === '}' && --depth === 0) out.push(JSON.parse(body.slice(start, i + 1)));
  }
  return out;
}

class Hec {
  readonly token = 'a1b2c3d4-0000-4000-8000-00000000cafe';
  readonly events: HecEvent[] = [];
  readonly pending = new Map<number, { events: HecEvent[]; at: number }>();
  /** Whether the indexers get to anything; when they do, a batch is indexed `ackDelayMs` after it came. */
  acked = true;
  ackDelayMs = 100;
  busy = false;
  tokensSeen = new Set<string>();
  #nextAck = 0;
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: Record<string, unknown>): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      // Splunk docs, "Troubleshoot HTTP Event Collector": 401 code 2 token required, 403 code 4 invalid token.
      const auth = req.headers.authorization;
      if (auth !== undefined) this.tokensSeen.add(auth);
      if (auth === undefined) return reply(401, { text: 'Token is required', code: 2 });
      if (auth !== `Splunk ${this.token}`) return reply(403, { text: 'Invalid token', code: 4 });
      const channel = req.headers['x-splunk-request-channel'];
      // Splunk docs, "About HTTP Event Collector Indexer Acknowledgment": the
      // ack endpoint takes {"acks":[ids]} on the request's channel and answers
      // {"acks":{"<id>":true|false}}.
      if (req.url === '/services/collector/ack') {
        if (channel === undefined) return reply(400, { text: 'Data channel is missing', code: 10 });
        const ids = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { acks: number[] }).acks;
        const acks: Record<string, boolean> = {};
        for (const id of ids) {
          const p = this.pending.get(id);
          const done = this.acked && p !== undefined && Date.now() - p.at >= this.ackDelayMs;
          if (done) {
            this.events.push(...p.events);
            this.pending.delete(id);
          }
          acks[String(id)] = done;
        }
        return reply(200, { acks });
      }
      if (req.url !== '/services/collector/event') return reply(404, { text: 'Not found', code: 404 });
      if (this.busy) return reply(503, { text: 'Server is busy', code: 9 });
      const events = objects(Buffer.concat(chunks).toString('utf8')) as HecEvent[];
      if (events.length === 0 || events.some((e) => e.event === undefined)) return reply(400, { text: 'Event field is required', code: 12 });
      if (this.ackOn) {
        if (channel === undefined) return reply(400, { text: 'Data channel is missing', code: 10 });
        const id = this.#nextAck++;
        this.pending.set(id, { events, at: Date.now() });
        return reply(200, { text: 'Success', code: 0, ackId: id });
      }
      this.events.push(...events);
      return reply(200, { text: 'Success', code: 0 });
    });
  });
  constructor(readonly ackOn: boolean) {}

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

/** A Sumo Logic HTTP source: POSTs to its unique URL, one message a line, 200 when received. */
class Sumo {
  readonly code = 'ZaVnC4dhaV3uTKlva';
  readonly lines: { body: string; headers: http.IncomingHttpHeaders }[] = [];
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // An unknown source code is not found (the URL is the credential).
      if (req.method !== 'POST' || req.url !== `/receiver/v1/http/${this.code}`) return void res.writeHead(404).end();
      for (const l of Buffer.concat(chunks).toString('utf8').split('\n')) if (l !== '') this.lines.push({ body: l, headers: req.headers });
      res.writeHead(200).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/receiver/v1/http/${this.code}`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

interface Health {
  cursor: number;
  lag: number;
  lastError: string | null;
}

describe('HTTP collector sinks', () => {
  let svc: TestService;
  const stops: (() => Promise<void>)[] = [];
  let n = 0;

  beforeAll(async () => {
    svc = await startTestService({ 'sink-heartbeat-ms': '300' });
  });
  afterAll(async () => {
    for (const s of stops) await s();
    await svc?.stop();
  });

  const ingest = async (apiKey: string, count: number): Promise<void> => {
    const events = Array.from({ length: count }, () => ({ id: `c-${n++}`, time: new Date().toISOString(), action: 'file.download', outcome: 'success', actor: { id: 'u1', type: 'user' } }));
    expect((await call(svc.url, 'POST', '/v1/events', { token: apiKey, body: JSON.stringify(events) })).status).toBe(201);
  };
  const size = async (apiKey: string): Promise<number> => (await call(svc.url, 'GET', '/v1/log', { token: apiKey })).json<{ size: number }>().size;
  const health = async (apiKey: string, id: string): Promise<Health> => (await call(svc.url, 'GET', `/v1/sinks/${id}`, { token: apiKey })).json<{ health: Health }>().health;
  const leaf = (bytes: string): string => createHash('sha256').update(Buffer.of(0)).update(bytes).digest('hex');
  const hec = async (ackOn: boolean): Promise<{ h: Hec; url: string }> => {
    const h = new Hec(ackOn);
    const url = await h.start();
    stops.push(() => h.stop());
    return { h, url };
  };
  const createSink = async (apiKey: string, body: Record<string, unknown>): Promise<{ id: string; config: Record<string, unknown> }> => {
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: apiKey, body: JSON.stringify({ name: 'siem', from_seq: 0, ...body }) });
    expect(res.status, res.text).toBe(201);
    expect(res.json()).not.toHaveProperty('secret');
    return res.json<{ sink: { id: string; config: Record<string, unknown> } }>().sink;
  };

  it('Splunk HEC: every record in seq order with its integrity fields, the token sent, a 503 retried, a heartbeat', async () => {
    const t = await createTenant(svc, 'hec');
    const { h, url } = await hec(false);
    h.busy = true;
    const sink = await createSink(t.apiKey, { kind: 'splunk', config: { url, index: 'audit' }, secret: h.token });
    await ingest(t.apiKey, 60);
    await waitFor('the busy answer reported', async () => /HTTP 503 \(code 9: Server is busy\)/.test((await health(t.apiKey, sink.id)).lastError ?? ''));
    expect(h.events).toEqual([]);
    expect((await health(t.apiKey, sink.id)).cursor).toBe(0);
    h.busy = false;
    const end = await size(t.apiKey);
    const records = (): HecEvent[] => h.events.filter((e) => e.sourcetype === 'trailseal:json');
    await waitFor('every record', () => new Set(records().map((e) => e.fields['seq'])).size >= end);
    // Each record at least once, in seq order (a retry may repeat a batch, never reorder).
    const seqs = records().map((e) => Number(e.fields['seq']));
    expect(seqs.filter((s, i) => i > 0 && s < seqs[i - 1]!)).toEqual([]);
    expect([...new Set(seqs)].slice(0, end)).toEqual(Array.from({ length: end }, (_, i) => i));
    expect([...h.tokensSeen]).toEqual([`Splunk ${h.token}`]);
    for (const e of records().slice(0, 3).concat(records().slice(-2))) {
      const stored = (await call(svc.url, 'GET', `/v1/events/${e.fields['seq']!}`, { token: t.apiKey })).text;
      expect(canonicalize(e.event['record'])).toBe(stored);
      expect(e.fields).toEqual({ tenant: t.id, seq: e.fields['seq'], leaf_hash: leaf(stored) });
      expect(e.event).toMatchObject({ tenant: t.id, seq: Number(e.fields['seq']), leaf_hash: leaf(stored) });
      expect(e).toMatchObject({ index: 'audit', source: 'trailseal' });
      expect(e.time).toBe(Date.parse(String((JSON.parse(stored) as { received_at: string }).received_at)) / 1000);
    }
    await waitFor('a heartbeat', () => h.events.some((e) => e.sourcetype === 'trailseal:checkpoint'));
    const beat = h.events.find((e) => e.sourcetype === 'trailseal:checkpoint')!;
    expect(beat.event).toMatchObject({ type: 'trailseal.checkpoint', tenant: t.id, origin: expect.any(String), size: expect.any(Number), checkpoint: expect.stringContaining('\n\n') });
    expect(beat.fields).toEqual({ tenant: t.id });
  });

  it('Splunk HEC with indexer acknowledgement: the cursor moves only once the batch is indexed', async () => {
    const t = await createTenant(svc, 'hecack');
    const { h, url } = await hec(true);
    h.acked = false;
    const sink = await createSink(t.apiKey, { kind: 'splunk', config: { url, ack: true, timeout_ms: 500 }, secret: h.token, format: 'ocsf' });
    expect(sink.config['channel']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await ingest(t.apiKey, 20);
    await waitFor('a batch waiting for its acknowledgement', () => h.pending.size > 0);
    // Received but not indexed: not delivered. The poll times out and the batch goes again.
    await waitFor('the unacknowledged batch reported', async () => /not indexed within 500 ms/.test((await health(t.apiKey, sink.id)).lastError ?? ''));
    const held = await health(t.apiKey, sink.id);
    expect(held.cursor).toBe(0);
    expect(held.lag).toBeGreaterThan(0);
    expect(h.events).toEqual([]);
    h.acked = true;
    const end = await size(t.apiKey);
    await waitFor('the acknowledged records', async () => (await health(t.apiKey, sink.id)).lag === 0);
    const seqs = new Set(h.events.filter((e) => e.sourcetype === 'trailseal:ocsf').map((e) => Number(e.fields['seq'])));
    for (let s = 0; s < end; s++) expect(seqs.has(s)).toBe(true);
    const e = h.events.find((x) => x.sourcetype === 'trailseal:ocsf')!;
    expect(e.event).toMatchObject({ metadata: { tenant_uid: t.id, version: '1.8.0' } });
  });

  it('Splunk HEC errors are reported with their code and text: a bad token, a missing channel', async () => {
    const t = await createTenant(svc, 'hecerr');
    const { h, url } = await hec(true);
    const wrong = await createSink(t.apiKey, { kind: 'splunk', config: { url, ack: true }, secret: 'not-the-token', format: 'cef' });
    // Acknowledgement on at the collector but not in the sink: no channel sent.
    const noChannel = await createSink(t.apiKey, { kind: 'splunk', config: { url }, secret: h.token });
    await waitFor('both errors', async () => (await health(t.apiKey, wrong.id)).lastError !== null && (await health(t.apiKey, noChannel.id)).lastError !== null);
    expect((await health(t.apiKey, wrong.id)).lastError).toMatch(/HTTP 403 \(code 4: Invalid token\)/);
    expect((await health(t.apiKey, noChannel.id)).lastError).toMatch(/HTTP 400 \(code 10: Data channel is missing\)/);
    expect(h.events).toEqual([]);
    expect(h.pending.size).toBe(0);
  });

  it('Sumo Logic: the source URL is the secret, one event a line with the metadata headers, a heartbeat', async () => {
    const t = await createTenant(svc, 'sumo');
    const sumo = new Sumo();
    const source = await sumo.start();
    stops.push(() => sumo.stop());
    const sink = await createSink(t.apiKey, { kind: 'sumo', config: { category: 'audit/trailseal', name: 'trailseal', host: 'log.example', fields: { env: 'prod' } }, format: 'cef', secret: source });
    const shown = JSON.stringify((await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json());
    expect(shown).not.toContain(sumo.code);
    await ingest(t.apiKey, 30);
    const end = await size(t.apiKey);
    await waitFor('every record', () => sumo.lines.filter((l) => l.body.startsWith('CEF:0|')).length >= end);
    const cef = sumo.lines.filter((l) => l.body.startsWith('CEF:0|'));
    expect(cef[0]!.headers).toMatchObject({ 'x-sumo-category': 'audit/trailseal', 'x-sumo-name': 'trailseal', 'x-sumo-host': 'log.example', 'x-sumo-fields': `tenant=${t.id},env=prod` });
    expect(cef.map((l) => Number(/ cn1=(\d+)/.exec(l.body)?.[1])).slice(0, end)).toEqual(Array.from({ length: end }, (_, i) => i));
    for (const seq of [0, end - 1]) {
      const stored = (await call(svc.url, 'GET', `/v1/events/${seq}`, { token: t.apiKey })).text;
      expect(cef[seq]!.body).toContain(leaf(stored));
    }
    await waitFor('a heartbeat', () => sumo.lines.some((l) => l.body.startsWith('{"checkpoint"')));
    const beat = JSON.parse(sumo.lines.find((l) => l.body.startsWith('{"checkpoint"'))!.body) as Record<string, unknown>;
    expect(beat).toMatchObject({ type: 'trailseal.checkpoint', tenant: t.id, size: expect.any(Number) });
  });

  it('Sumo Logic: a source URL that is not https, not a URL or holds credentials is refused at creation, without repeating it', async () => {
    const t = await createTenant(svc, 'sumobad');
    for (const [secret, why] of [
      ['http://collectors.example/receiver/v1/http/SECRETCODE', /must be https/],
      ['collectors.example/receiver/v1/http/SECRETCODE', /is not a URL/],
      ['https://user:SECRETCODE@collectors.example/receiver/v1/http/x', /must not hold credentials/],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'sumo', kind: 'sumo', config: {}, secret }) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field: 'secret', detail: expect.stringMatching(why) } });
      expect(res.text).not.toContain('SECRETCODE');
    }
    const list = await call(svc.url, 'GET', '/v1/sinks', { token: t.apiKey });
    expect(list.json<{ sinks: unknown[] }>().sinks).toEqual([]);
  });

  it('refuses bad settings naming the field, and a missing or unwanted secret', async () => {
    const t = await createTenant(svc, 'collbad');
    for (const [body, field] of [
      [{ name: 'x', kind: 'splunk', config: { url: 'ftp://x' }, secret: 's' }, 'config.url'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://u:p@x.example' }, secret: 's' }, 'config.url'],
      [{ name: 'x', kind: 'splunk', config: {}, secret: 's' }, 'config.url'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', ack: 'yes' }, secret: 's' }, 'config.ack'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', channel: 'nope' }, secret: 's' }, 'config.channel'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', index: '' }, secret: 's' }, 'config.index'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', timeout_ms: 5 }, secret: 's' }, 'config.timeout_ms'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', colour: 'red' }, secret: 's' }, 'config.colour'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example' } }, 'secret'],
      [{ name: 'x', kind: 'sumo', config: { category: 'a\nb' }, secret: 'https://x.example/r' }, 'config.category'],
      [{ name: 'x', kind: 'sumo', config: { fields: { 'a,b': 'c' } }, secret: 'https://x.example/r' }, 'config.fields'],
      [{ name: 'x', kind: 'sumo', config: { fields: { env: 'a=b' } }, secret: 'https://x.example/r' }, 'config.fields'],
      [{ name: 'x', kind: 'sumo', config: { url: 'https://x.example/r' }, secret: 'https://x.example/r' }, 'config.url'],
      [{ name: 'x', kind: 'sumo', config: {} }, 'secret'],
      [{ name: 'x', kind: 'webhook', config: { url: 'https://x.example' }, secret: 's' }, 'secret'],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify(body) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field } });
    }
  });
});
