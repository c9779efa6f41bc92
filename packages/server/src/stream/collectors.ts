// HTTP collector sinks (docs/streaming.md): Splunk's HTTP Event Collector
// and a Sumo Logic HTTP source. One POST per batch; the receiver's 200 is the
// acknowledgement, and with Splunk's indexer acknowledgement on, only the
// ack poll's `true` is (Splunk docs, "About HTTP Event Collector Indexer
// Acknowledgment": a 200 then means received, not indexed).
import { randomUUID } from 'node:crypto';
import { TrailsealError, canonicalize } from '@trailseal/format';
import type { DeliveryBatch, Heartbeat, Transport } from './engine.js';
import type { SinkKindSpec, TransportContext } from './kinds.js';

function bad(field: string, message: string): TrailsealError {
  return new TrailsealError('QUERY_INVALID', `config.${field} ${message}`, { field: `config.${field}` });
}

function object(v: unknown, members: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(members[0]!, 'is required: config must be an object');
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!members.includes(k)) throw bad(k, `is not a setting of this kind (${members.join(', ')})`);
  return c;
}

function httpUrl(v: unknown, field: string): string {
  let u: URL;
  try {
    u = new URL(String(v));
  } catch {
    throw bad(field, 'must be an absolute http or https URL');
  }
  if (typeof v !== 'string' || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username !== '' || u.password !== '') throw bad(field, 'must be an absolute http or https URL without credentials');
  return u.toString().replace(/\/+$/, '');
}

function text(c: Record<string, unknown>, k: string, max = 256): string | undefined {
  const v = c[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\r\n]/.test(v)) throw bad(k, `must be a string of 1 to ${max} characters on one line`);
  return v;
}

function timeout(c: Record<string, unknown>): number | undefined {
  const v = c['timeout_ms'];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 100 || v > 120_000) throw bad('timeout_ms', 'must be an integer from 100 to 120000');
  return v;
}

async function post(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as Error).cause;
    throw new Error(`${new URL(url).origin}: ${cause instanceof Error ? cause.message : (e as Error).message}`);
  }
  return { status: res.status, text: await res.text().catch(() => '') };
}

// --- Splunk HTTP Event Collector --------------------------------------------

export interface SplunkConfig {
  /** Base URL of the collector, e.g. https://splunk.example:8088 */
  readonly url: string;
  readonly index?: string;
  readonly source?: string;
  readonly sourcetype?: string;
  readonly host?: string;
  /** Indexer acknowledgement: the cursor moves only once Splunk says the batch is indexed. */
  readonly ack?: boolean;
  /** The request channel (a GUID) that acknowledgement requires. */
  readonly channel?: string;
  readonly timeout_ms?: number;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseSplunkConfig(v: unknown): SplunkConfig {
  const c = object(v, ['url', 'index', 'source', 'sourcetype', 'host', 'ack', 'channel', 'timeout_ms']);
  const ack = c['ack'];
  if (ack !== undefined && typeof ack !== 'boolean') throw bad('ack', 'must be true or false');
  const channel = text(c, 'channel', 36);
  if (channel !== undefined && !GUID.test(channel)) throw bad('channel', 'must be a GUID');
  const out: Record<string, unknown> = { url: httpUrl(c['url'], 'url') };
  for (const k of ['index', 'source', 'sourcetype', 'host']) {
    const t = text(c, k);
    if (t !== undefined) out[k] = t;
  }
  if (ack !== undefined) out['ack'] = ack;
  // A sink with acknowledgement gets a channel of its own when none is given, fixed at creation.
  if (ack === true) out['channel'] = channel ?? randomUUID();
  else if (channel !== undefined) out['channel'] = channel;
  const t = timeout(c);
  if (t !== undefined) out['timeout_ms'] = t;
  return out as unknown as SplunkConfig;
}

export class SplunkTransport implements Transport {
  constructor(
    private readonly c: SplunkConfig,
    private readonly token: string,
    private readonly ctx: TransportContext,
  ) {}

  #headers(): Record<string, string> {
    return { authorization: `Splunk ${this.token}`, 'content-type': 'application/json', ...(this.c.channel !== undefined ? { 'x-splunk-request-channel': this.c.channel } : {}) };
  }

  /** One HEC event object (Splunk docs, "Format events for HTTP Event Collector"): metadata, the event, indexed fields. */
  #event(time: string, event: string, sourcetype: string, fields: Record<string, string>): string {
    const meta = { host: this.c.host, index: this.c.index, source: this.c.source ?? 'trailseal', sourcetype, time: (Date.parse(time) / 1000).toFixed(3), fields };
    const head = JSON.stringify(Object.fromEntries(Object.entries(meta).filter(([, x]) => x !== undefined)));
    return `{"event":${event},${head.slice(1)}`;
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    const sourcetype = this.c.sourcetype ?? `trailseal:${this.ctx.format}`;
    // HEC takes several event objects concatenated in one body.
    const body = batch.records
      .map((r, i) => {
        const e = this.ctx.formatEvent(batch, i);
        return this.#event(r.record.received_at, this.ctx.format === 'cef' ? JSON.stringify(e) : e, sourcetype, { tenant: batch.sink.tenant, seq: String(r.seq), leaf_hash: r.leafHash });
      })
      .join('\n');
    await this.#send(body);
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    const event = canonicalize({ checkpoint: beat.checkpoint, origin: beat.origin, size: beat.size, tenant: beat.sink.tenant, type: 'trailseal.checkpoint' });
    await this.#send(this.#event(new Date().toISOString(), event, 'trailseal:checkpoint', { tenant: beat.sink.tenant }));
  }

  async #send(body: string): Promise<void> {
    const limit = this.c.timeout_ms ?? 10_000;
    const res = await post(`${this.c.url}/services/collector/event`, this.#headers(), body, limit);
    let answer: { text?: string; code?: number; ackId?: number } = {};
    try {
      answer = JSON.parse(res.text) as typeof answer;
    } catch {
      // HEC answers JSON; anything else is reported by status below.
    }
    if (res.status !== 200 || answer.code !== 0) throw new Error(`Splunk HEC: HTTP ${res.status}${answer.text !== undefined ? ` (code ${answer.code ?? '?'}: ${answer.text})` : ''}`);
    if (this.c.ack !== true) return;
    if (typeof answer.ackId !== 'number') throw new Error('Splunk HEC: acknowledgement is on but the answer holds no ackId');
    await this.#awaitAck(answer.ackId, limit);
  }

  /** Polls /services/collector/ack until the batch is indexed, or fails after the timeout (the batch is then sent again). */
  async #awaitAck(id: number, limitMs: number): Promise<void> {
    const until = Date.now() + limitMs;
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      const res = await post(`${this.c.url}/services/collector/ack`, this.#headers(), JSON.stringify({ acks: [id] }), limitMs);
      if (res.status !== 200) throw new Error(`Splunk HEC acknowledgement: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      const acks = (JSON.parse(res.text) as { acks?: Record<string, boolean> }).acks;
      if (acks?.[String(id)] === true) return;
      if (Date.now() + wait > until) throw new Error(`Splunk HEC: batch ${id} not acknowledged within ${limitMs} ms`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export const splunkKind: SinkKindSpec = {
  kind: 'splunk',
  secret: 'provided',
  parseConfig: (v) => ({ ...parseSplunkConfig(v) }),
  transport: (config, secret, ctx) => {
    if (secret === undefined) throw new TrailsealError('INTERNAL', 'a splunk sink holds its HEC token');
    return new SplunkTransport(config as unknown as SplunkConfig, secret, ctx);
  },
};

// --- Sumo Logic HTTP source ----------------------------------------------------

export interface SumoConfig {
  readonly category?: string;
  readonly name?: string;
  readonly host?: string;
  readonly timeout_ms?: number;
}

export function parseSumoConfig(v: unknown): SumoConfig {
  const c = object(v ?? {}, ['category', 'name', 'host', 'timeout_ms']);
  const out: Record<string, unknown> = {};
  for (const k of ['category', 'name', 'host']) {
    const t = text(c, k);
    if (t !== undefined) out[k] = t;
  }
  const t = timeout(c);
  if (t !== undefined) out['timeout_ms'] = t;
  return out;
}

/**
 * The source's URL is its credential (Sumo Logic docs, "HTTP Logs and
 * Metrics Source"), so it is the sink's secret, never part of its settings.
 */
export class SumoTransport implements Transport {
  readonly #url: string;

  constructor(
    private readonly c: SumoConfig,
    url: string,
    private readonly ctx: TransportContext,
  ) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error('the Sumo Logic source URL (the secret) is not a URL');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('the Sumo Logic source URL (the secret) must be http or https');
    this.#url = u.toString();
  }

  #headers(tenant: string): Record<string, string> {
    return {
      'content-type': 'text/plain; charset=utf-8',
      'x-sumo-fields': `tenant=${tenant}`,
      ...(this.c.category !== undefined ? { 'x-sumo-category': this.c.category } : {}),
      ...(this.c.name !== undefined ? { 'x-sumo-name': this.c.name } : {}),
      ...(this.c.host !== undefined ? { 'x-sumo-host': this.c.host } : {}),
    };
  }

  async #send(tenant: string, body: string): Promise<void> {
    const res = await post(this.#url, this.#headers(tenant), body, this.c.timeout_ms ?? 10_000);
    if (res.status !== 200) throw new Error(`Sumo Logic source: HTTP ${res.status}`);
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    // One event a line: json and ocsf events are one-line JSON, CEF lines escape line breaks.
    await this.#send(batch.sink.tenant, batch.records.map((_, i) => this.ctx.formatEvent(batch, i)).join('\n'));
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    await this.#send(beat.sink.tenant, canonicalize({ checkpoint: beat.checkpoint, origin: beat.origin, size: beat.size, tenant: beat.sink.tenant, type: 'trailseal.checkpoint' }));
  }
}

export const sumoKind: SinkKindSpec = {
  kind: 'sumo',
  secret: 'provided',
  parseConfig: (v) => ({ ...parseSumoConfig(v) }),
  transport: (config, secret, ctx) => {
    if (secret === undefined) throw new TrailsealError('INTERNAL', 'a sumo sink holds its source URL');
    return new SumoTransport(config as SumoConfig, secret, ctx);
  },
};
