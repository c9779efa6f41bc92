// A real node:http server that implements just enough of the Trailseal HTTP
// contract to check the client against it: it stores events once per id,
// answers receipts in request order, validates a few fields (so a 422 names
// the bad event's index), pages through records with opaque cursors, and
// injects faults on demand. It records every request it receives.

import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** Answer with this status (and problem document) without storing. */
  | { kind: 'status'; status: number; retryAfter?: string; problem?: Record<string, unknown>; contentType?: string; body?: string }
  /** Close the connection without answering and without storing. */
  | { kind: 'drop-before' }
  /** Store the events, then close the connection without answering: the answer is lost. */
  | { kind: 'drop-after' }
  /** Store the events, answer after delayMs. */
  | { kind: 'slow'; delayMs: number };

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** performance.now() when the request's body had arrived. */
  readonly at: number;
}

interface StoredReceipt {
  seq: number;
  leafHash: string;
  receivedAt: string;
}

const ACTION = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;

export class FakeLog {
  readonly apiKey = 'tk_test_producer';
  readonly adminToken = 'tk_test_admin';
  readonly requests: ReceivedRequest[] = [];
  /** Canonical-ish record texts by seq; record 0 is a genesis record. */
  readonly texts: string[] = [];
  /** Faults for POST /v1/events, consumed one per request, in order. */
  readonly postFaults: Fault[] = [];
  /** Faults for POST /v1/admin/tenants. */
  readonly adminFaults: Fault[] = [];
  /** Faults for GET requests, consumed one per request. */
  readonly getFaults: Fault[] = [];
  /** Extra delay before every answer, to make overlapping requests observable. */
  answerDelayMs = 0;
  inFlight = 0;
  maxInFlight = 0;

  private readonly byId = new Map<string, StoredReceipt>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly server: Server;
  private clock = Date.parse('2026-11-27T10:00:00.000Z');
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      let done = false;
      const end = (): void => {
        if (!done) {
          done = true;
          this.inFlight--;
        }
      };
      res.on('close', end);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, at: performance.now() });
        this.handle(req, res, body);
      });
    });
    this.store({ id: 'genesis', time: '2026-11-27T09:59:59.000Z', action: 'trailseal.log.genesis', outcome: 'success', actor: { id: 'trailseal', type: 'system' } });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${String((this.server.address() as AddressInfo).port)}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests to POST /v1/events. */
  posts(): ReceivedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.url === '/v1/events');
  }

  /** Ids in the order the log stored them (genesis excluded). */
  storedIds(): string[] {
    return this.texts.slice(1).map((t) => (JSON.parse(t) as { id: string }).id);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
    const write = (): void => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': contentType, ...headers });
      res.end(body);
    };
    if (this.answerDelayMs > 0) this.later(this.answerDelayMs, write);
    else write();
  }

  private problem(res: ServerResponse, status: number, code: string, detail: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): void {
    this.send(res, status, 'application/problem+json', JSON.stringify({ type: `https://trailseal.dev/problems/${code.toLowerCase()}`, title: code, status, detail, code, ...extra }), headers);
  }

  /** Applies a fault. Returns true if the request is fully handled by it. */
  private applyFault(fault: Fault | undefined, res: ServerResponse, storeAndAnswer: () => [number, string, string]): boolean {
    if (fault === undefined) return false;
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter };
        if (fault.body !== undefined) this.send(res, fault.status, fault.contentType ?? 'text/html', fault.body, headers);
        else this.problem(res, fault.status, String(fault.problem?.code ?? 'OVERLOADED'), 'injected fault', fault.problem ?? {}, headers);
        return true;
      }
      case 'drop-before':
        res.socket?.destroy();
        return true;
      case 'drop-after':
        storeAndAnswer();
        res.socket?.destroy();
        return true;
      case 'slow': {
        const [status, type, body] = storeAndAnswer();
        this.later(fault.delayMs, () => {
          if (!res.destroyed) res.writeHead(status, { 'content-type': type }).end(body);
        });
        return true;
      }
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization;
    if (req.method === 'POST' && url.pathname === '/v1/admin/tenants') {
      if (auth !== `Bearer ${this.adminToken}`) return this.problem(res, 401, 'UNAUTHORIZED', 'admin token required');
      const { id } = JSON.parse(body) as { id: string };
      const create = (): [number, string, string] => [201, 'application/json', JSON.stringify({ id, apiKey: `tk_${id}_secret`, verifierKey: `log.example/tenants/${id}+12345678+AQ==` })];
      if (this.applyFault(this.adminFaults.shift(), res, create)) return;
      return this.send(res, ...create());
    }
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = /^\/v1\/admin\/tenants\/([^/]+)\/keys$/.exec(url.pathname))) {
      if (auth !== `Bearer ${this.adminToken}`) return this.problem(res, 401, 'UNAUTHORIZED', 'admin token required');
      return this.send(res, 201, 'application/json', JSON.stringify({ id: '0123456789abcdef', apiKey: `tsk_0123456789abcdef_${m[1]!}` }));
    }
    if (req.method === 'DELETE' && (m = /^\/v1\/admin\/keys\/([^/]+)$/.exec(url.pathname))) {
      if (auth !== `Bearer ${this.adminToken}`) return this.problem(res, 401, 'UNAUTHORIZED', 'admin token required');
      if (m[1] !== '0123456789abcdef') return this.problem(res, 404, 'NOT_FOUND', 'no such key');
      res.writeHead(204).end();
      return;
    }
    if (auth !== `Bearer ${this.apiKey}`) return this.problem(res, 401, 'UNAUTHORIZED', 'unknown API key');
    if (req.method === 'POST' && url.pathname === '/v1/checkpoint') return this.send(res, 200, 'text/plain; charset=utf-8', `log.example/tenants/test\n${String(this.texts.length)}\nBBBB\n\n— new\n`);

    if (req.method === 'POST' && url.pathname === '/v1/events') return this.postEvents(req, res, body);
    if (req.method !== 'GET') return this.problem(res, 405, 'METHOD_NOT_ALLOWED', 'no');

    const get = (): [number, string, string] => this.read(url);
    if (this.applyFault(this.getFaults.shift(), res, get)) return;
    const [status, type, text] = get();
    this.send(res, status, type, text);
  }

  private read(url: URL): [number, string, string] {
    const p = url.pathname;
    const problem = (status: number, code: string): [number, string, string] => [status, 'application/problem+json', JSON.stringify({ status, code, title: code, detail: `${p}: ${code}` })];
    let m: RegExpExecArray | null;
    if ((m = /^\/v1\/events\/(\d+)$/.exec(p))) {
      const text = this.texts[Number(m[1])];
      return text === undefined ? problem(404, 'NOT_FOUND') : [200, 'application/json', text];
    }
    if ((m = /^\/v1\/events\/(\d+)\/proof$/.exec(p))) {
      const size = url.searchParams.get('size') ?? String(this.texts.length);
      return [200, 'text/plain; charset=utf-8', `c2sp.org/tlog-proof@v1\nindex ${m[1]!}\nsize ${size}\n`];
    }
    if (p === '/v1/checkpoint') return [200, 'text/plain; charset=utf-8', `log.example/tenants/test\n${String(this.texts.length)}\nAAAA\n\n— log.example/tenants/test AAAA\n`];
    if (p === '/v1/consistency') {
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      const lines = [1, 2, 3].map((k) => createHash('sha256').update(`${String(from)}-${String(to)}-${String(k)}`).digest('base64'));
      return [200, 'text/plain; charset=utf-8', `${lines.join('\n')}\n`];
    }
    if (p === '/v1/events') {
      // Cursor: opaque to the client; here base64url JSON of where to go on.
      let q: { pos: number; limit: number; since?: string; until?: string };
      const cursor = url.searchParams.get('cursor');
      if (cursor !== null) {
        // Like the service: the cursor carries the query, the page size comes with each request.
        if (['from', 'since', 'until'].some((k) => url.searchParams.has(k))) return problem(400, 'QUERY_INVALID');
        q = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as typeof q;
        q.limit = Number(url.searchParams.get('limit') ?? 100);
      } else {
        q = { pos: Number(url.searchParams.get('from') ?? 0), limit: Number(url.searchParams.get('limit') ?? 100) };
        const since = url.searchParams.get('since');
        const until = url.searchParams.get('until');
        if (since !== null) q.since = since;
        if (until !== null) q.until = until;
      }
      const records: unknown[] = [];
      let pos = q.pos;
      for (; pos < this.texts.length && records.length < q.limit; pos++) {
        const r = JSON.parse(this.texts[pos]!) as { received_at: string };
        if (q.since !== undefined && r.received_at < q.since) continue;
        if (q.until !== undefined && r.received_at > q.until) continue;
        records.push(r);
      }
      const next = pos < this.texts.length ? Buffer.from(JSON.stringify({ ...q, pos }), 'utf8').toString('base64url') : null;
      return [200, 'application/json', JSON.stringify({ records, next })];
    }
    return problem(404, 'NOT_FOUND');
  }

  private postEvents(req: IncomingMessage, res: ServerResponse, body: string): void {
    let events: unknown[];
    let batch = true;
    try {
      if ((req.headers['content-type'] ?? '').startsWith('application/x-ndjson')) {
        events = body.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
      } else {
        const parsed = JSON.parse(body) as unknown;
        batch = Array.isArray(parsed);
        events = Array.isArray(parsed) ? parsed : [parsed];
      }
    } catch {
      return this.problem(res, 400, 'JSON_SYNTAX', 'body is not JSON');
    }
    // Validate all before storing anything: the batch is atomic.
    const errors: { path: string; code: string; message: string }[] = [];
    events.forEach((e, i) => {
      const at = (field: string): string => (batch ? `[${String(i)}].${field}` : field);
      const ev = e as Record<string, unknown>;
      if (typeof ev.id !== 'string' || ev.id.length === 0 || ev.id.length > 128) errors.push({ path: at('id'), code: 'FIELD_REQUIRED', message: 'id is required' });
      if (typeof ev.action !== 'string' || !ACTION.test(ev.action)) errors.push({ path: at('action'), code: 'FIELD_FORMAT', message: 'dotted lower-case name expected' });
      if (typeof ev.time !== 'string') errors.push({ path: at('time'), code: 'FIELD_REQUIRED', message: 'time is required' });
    });
    if (errors.length > 0) return this.problem(res, 422, 'EVENT_INVALID', `${String(errors.length)} invalid field(s); nothing was stored`, { errors });

    const storeAndAnswer = (): [number, string, string] => {
      const receipts = events.map((e) => this.storeOnce(e as Record<string, unknown>));
      return [201, 'application/json', JSON.stringify({ receipts })];
    };
    if (this.applyFault(this.postFaults.shift(), res, storeAndAnswer)) return;
    const [status, type, text] = storeAndAnswer();
    this.send(res, status, type, text);
  }

  private storeOnce(event: Record<string, unknown>): StoredReceipt & { duplicate?: true } {
    const id = event.id as string;
    const known = this.byId.get(id);
    if (known !== undefined) return { ...known, duplicate: true };
    return this.store(event);
  }

  private store(event: Record<string, unknown>): StoredReceipt {
    const seq = this.texts.length;
    this.clock += 1000;
    const receivedAt = new Date(this.clock).toISOString();
    const record = { ...event, v: 1, tenant: 'test', seq, received_at: receivedAt };
    const text = JSON.stringify(record);
    this.texts.push(text);
    const leafHash = createHash('sha256').update(Buffer.from([0])).update(text).digest('hex');
    const receipt = { seq, leafHash, receivedAt };
    this.byId.set(event.id as string, receipt);
    return receipt;
  }
}
