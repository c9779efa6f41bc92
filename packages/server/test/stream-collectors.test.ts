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
  time: string;
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
  readonly pending = new Map<number, HecEvent[]>();
  acked = true;
  busy = false;
  #nextAck = 0;
  readonly #server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: Record<string, unknown>): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      // Splunk docs, "Troubleshoot HTTP Event Collector": 401 code 2 token required, 403 code 4 invalid token.
      const auth = req.headers.authorization;
      if (auth === undefined) return reply(401, { text: 'Token is required', code: 2 });
      if (auth !== `Splunk ${this.token}`) return reply(403, { text: 'Invalid token', code: 4 });
      const channel = req.headers['x-splunk-request-channel'];
      if (req.url === '/services/collector/ack') {
        const ids = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { acks: number[] }).acks;
        const acks: Record<string, boolean> = {};
        for (const id of ids) {
          const done = this.acked && this.pending.has(id);
          if (done) {
            this.events.push(...this.pending.get(id)!);
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
        this.pending.set(id, events);
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
  const leaf = (bytes: string): string => createHash('sha256').update(Buffer.of(0)).update(bytes).digest('hex');

  it('Splunk HEC: every record with its integrity fields, the token sent, a 503 retried, a heartbeat', async () => {
    const t = await createTenant(svc, 'hec');
    const hec = new Hec(false);
    const url = await hec.start();
    stops.push(() => hec.stop());
    hec.busy = true;
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'splunk', kind: 'splunk', config: { url, index: 'audit' }, secret: hec.token, from_seq: 0 }) });
    expect(res.status, res.text).toBe(201);
    expect(res.json()).not.toHaveProperty('secret');
    await ingest(t.apiKey, 60);
    await new Promise((r) => setTimeout(r, 300));
    expect(hec.events).toEqual([]);
    hec.busy = false;
    const end = await size(t.apiKey);
    await waitFor('every record', () => new Set(hec.events.filter((e) => e.sourcetype === 'trailseal:json').map((e) => e.fields['seq'])).size >= end);
    const records = hec.events.filter((e) => e.sourcetype === 'trailseal:json');
    const seqs = records.map((e) => Number(e.fields['seq']));
    expect(seqs.slice(0, end)).toEqual(Array.from({ length: end }, (_, i) => i));
    for (const e of records.slice(0, 3).concat(records.slice(-2))) {
      const stored = (await call(svc.url, 'GET', `/v1/events/${e.fields['seq']!}`, { token: t.apiKey })).text;
      expect(canonicalize(e.event['record'])).toBe(stored);
      expect(e.fields).toEqual({ tenant: t.id, seq: e.fields['seq'], leaf_hash: leaf(stored) });
      expect(e).toMatchObject({ index: 'audit', source: 'trailseal' });
    }
    await waitFor('a heartbeat', () => hec.events.some((e) => e.sourcetype === 'trailseal:checkpoint'));
  });

  it('Splunk HEC with indexer acknowledgement: the cursor moves only once the batch is indexed', async () => {
    const t = await createTenant(svc, 'hecack');
    const hec = new Hec(true);
    const url = await hec.start();
    stops.push(() => hec.stop());
    hec.acked = false;
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'splunk', kind: 'splunk', config: { url, ack: true, timeout_ms: 500 }, secret: hec.token, from_seq: 0 }) });
    expect(res.status, res.text).toBe(201);
    const sink = res.json<{ sink: { id: string; config: { channel: string } } }>().sink;
    expect(sink.config.channel).toMatch(/^[0-9a-f-]{36}$/);
    await ingest(t.apiKey, 20);
    await waitFor('a batch waiting for its acknowledgement', () => hec.pending.size > 0);
    const health = (await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json<{ health: { cursor: number; lag: number } }>().health;
    expect(health.cursor).toBe(0);
    expect(health.lag).toBeGreaterThan(0);
    hec.acked = true;
    const end = await size(t.apiKey);
    await waitFor('the acknowledged records', async () => (await call(svc.url, 'GET', `/v1/sinks/${sink.id}`, { token: t.apiKey })).json<{ health: { lag: number } }>().health.lag === 0);
    const seqs = new Set(hec.events.filter((e) => e.sourcetype === 'trailseal:json').map((e) => Number(e.fields['seq'])));
    for (let s = 0; s < end; s++) expect(seqs.has(s)).toBe(true);
  });

  it('Sumo Logic: the source URL is the secret, one event a line with the tenant field', async () => {
    const t = await createTenant(svc, 'sumo');
    const lines: { body: string; headers: http.IncomingHttpHeaders }[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url !== '/receiver/v1/http/ZaVnC4dhaV3uTKlva') return void res.writeHead(404).end();
        for (const l of Buffer.concat(chunks).toString('utf8').split('\n')) lines.push({ body: l, headers: req.headers });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.push(async () => void server.close());
    const source = `http://127.0.0.1:${(server.address() as AddressInfo).port}/receiver/v1/http/ZaVnC4dhaV3uTKlva`;
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'sumo', kind: 'sumo', config: { category: 'audit/trailseal' }, format: 'cef', secret: source, from_seq: 0 }) });
    expect(res.status, res.text).toBe(201);
    expect(JSON.stringify(res.json())).not.toContain('ZaVnC4dhaV3uTKlva');
    await ingest(t.apiKey, 30);
    const end = await size(t.apiKey);
    await waitFor('every record', () => lines.filter((l) => l.body.startsWith('CEF:0|')).length >= end);
    const cef = lines.filter((l) => l.body.startsWith('CEF:0|'));
    expect(cef[0]!.headers['x-sumo-category']).toBe('audit/trailseal');
    expect(cef[0]!.headers['x-sumo-fields']).toBe(`tenant=${t.id}`);
    expect(cef.map((l) => Number(/ cn1=(\d+)/.exec(l.body)?.[1])).slice(0, end)).toEqual(Array.from({ length: end }, (_, i) => i));
  });

  it('refuses bad settings naming the field, and a missing or unwanted secret', async () => {
    const t = await createTenant(svc, 'collbad');
    for (const [body, field] of [
      [{ name: 'x', kind: 'splunk', config: { url: 'ftp://x' }, secret: 's' }, 'config.url'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', ack: 'yes' }, secret: 's' }, 'config.ack'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', channel: 'nope' }, secret: 's' }, 'config.channel'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example', colour: 'red' }, secret: 's' }, 'config.colour'],
      [{ name: 'x', kind: 'splunk', config: { url: 'https://x.example' } }, 'secret'],
      [{ name: 'x', kind: 'sumo', config: { category: 'a\nb' }, secret: 'https://x.example/r' }, 'config.category'],
      [{ name: 'x', kind: 'sumo', config: {} }, 'secret'],
      [{ name: 'x', kind: 'webhook', config: { url: 'https://x.example' }, secret: 's' }, 'secret'],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify(body) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field } });
    }
  });
});
