// HTTP collector sinks (docs/streaming-collectors.md): Splunk's HTTP Event
// Collector and a Sumo Logic HTTP source. A batch is one POST (or a few, to
// stay within the collectors' request size); the receiver's 200 is the
// acknowledgement, except with Splunk's indexer acknowledgement on, where
// only the ack poll's `true` is (Splunk docs, "About HTTP Event Collector
// Indexer Acknowledgment": without it a 200 means the event looked valid,
// sent before it enters the processing pipeline, so received, not indexed).
import { randomUUID } from 'node:crypto';
import { TrailsealError } from '@trailseal/format';
import type { DeliveryBatch, Heartbeat, Transport } from './engine.js';
import type { SinkKindSpec, TransportContext } from './kinds.js';
import { checkpointJson, configError, configObject, httpUrlSetting, postWithTimeout, timeoutSetting } from './settings.js';

/** The base URL of a collector: no credentials, query or fragment. */
function httpUrl(v: unknown, field: string): string {
  const u = httpUrlSetting(v, field);
  if (u.search !== '' || u.hash !== '') throw configError(field, 'must be the base URL of the collector, without a query or fragment');
  return u.toString().replace(/\/+$/, '');
}

function text(c: Record<string, unknown>, k: string, max = 256): string | undefined {
  const v = c[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0 || v.length > max || /[\r\n]/.test(v)) throw configError(k, `must be a string of 1 to ${max} characters on one line`);
  return v;
}

/**
 * Bodies of at most `max` bytes of whole lines (a single longer line goes
 * alone). Sumo Logic takes "up to but not exceeding 1MB of uncompressed data"
 * a request (docs, "HTTP Logs and Metrics Source", data payload
 * considerations), and older Splunk releases and Splunk Cloud cap HEC
 * requests similarly (inputs.conf `max_content_length`); a batch of 500 OCSF
 * events can exceed that.
 */
function chunks(lines: readonly string[], max = 1_000_000): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let bytes = 0;
  for (const l of lines) {
    const n = Buffer.byteLength(l) + 1;
    if (cur.length > 0 && bytes + n > max) {
      out.push(cur.join('\n'));
      cur = [];
      bytes = 0;
    }
    cur.push(l);
    bytes += n;
  }
  if (cur.length > 0) out.push(cur.join('\n'));
  return out;
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

/**
 * Validates a splunk sink's settings. With `ack` on and no `channel` given,
 * a channel is generated here, so that it is stored with the sink and the
 * same channel serves every process and restart: ackIds are per channel
 * (Splunk docs, "About HTTP Event Collector Indexer Acknowledgment").
 */
export function parseSplunkConfig(v: unknown): SplunkConfig {
  const c = configObject(v, ['url', 'index', 'source', 'sourcetype', 'host', 'ack', 'channel', 'timeout_ms'], 'splunk', 'a url');
  const ack = c['ack'];
  if (ack !== undefined && typeof ack !== 'boolean') throw configError('ack', 'must be true or false');
  const channel = text(c, 'channel', 36);
  if (channel !== undefined && !GUID.test(channel)) throw configError('channel', 'must be a GUID');
  const out: Record<string, unknown> = { url: httpUrl(c['url'], 'url') };
  for (const k of ['index', 'source', 'sourcetype', 'host']) {
    const t = text(c, k);
    if (t !== undefined) out[k] = t;
  }
  if (ack !== undefined) out['ack'] = ack;
  if (ack === true) out['channel'] = channel ?? randomUUID();
  else if (channel !== undefined) out['channel'] = channel;
  const t = timeoutSetting(c);
  if (t !== undefined) out['timeout_ms'] = t;
  return out as unknown as SplunkConfig;
}

interface HecAnswer {
  text?: string;
  code?: number;
  ackId?: number;
}

export class SplunkTransport implements Transport {
  constructor(
    private readonly c: SplunkConfig,
    private readonly token: string,
    private readonly ctx: TransportContext,
    private readonly now: () => number = Date.now,
  ) {}

  #headers(): Record<string, string> {
    return { authorization: `Splunk ${this.token}`, 'content-type': 'application/json', ...(this.c.channel !== undefined ? { 'x-splunk-request-channel': this.c.channel } : {}) };
  }

  /**
   * One HEC event object (Splunk docs, "Format events for HTTP Event
   * Collector"): `time` in epoch seconds with milliseconds, the metadata,
   * the event, and `fields` as indexed fields (searchable as tenant::acme).
   */
  #event(timeMs: number, event: string, sourcetype: string, fields: Record<string, string>): string {
    const meta = { fields, host: this.c.host, index: this.c.index, source: this.c.source ?? 'trailseal', sourcetype, time: timeMs / 1000 };
    const head = JSON.stringify(Object.fromEntries(Object.entries(meta).filter(([, x]) => x !== undefined)));
    return `{"event":${event},${head.slice(1)}`;
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    const sourcetype = this.c.sourcetype ?? `trailseal:${this.ctx.format}`;
    // json and ocsf events are JSON objects already; a CEF line is a JSON string.
    const events = batch.records.map((r, i) => {
      const e = this.ctx.formatEvent(batch, i);
      return this.#event(Date.parse(r.record.received_at), this.ctx.format === 'cef' ? JSON.stringify(e) : e, sourcetype, { tenant: batch.sink.tenant, seq: String(r.seq), leaf_hash: r.leafHash });
    });
    await this.#send(events);
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    await this.#send([this.#event(this.now(), checkpointJson(beat), 'trailseal:checkpoint', { tenant: beat.sink.tenant })]);
  }

  /** HEC takes event objects concatenated in one body ("Format events for HTTP Event Collector", batching). */
  async #send(events: readonly string[]): Promise<void> {
    const limit = this.c.timeout_ms ?? 10_000;
    const ackIds: number[] = [];
    for (const body of chunks(events)) {
      const res = await postWithTimeout(`${this.c.url}/services/collector/event`, this.#headers(), body, limit, new URL(this.c.url).origin);
      let answer: HecAnswer = {};
      try {
        answer = JSON.parse(res.text) as HecAnswer;
      } catch {
        // HEC answers JSON; a proxy in front of it may not. The status tells.
      }
      // Status and code per Splunk docs, "Troubleshoot HTTP Event Collector"
      // (e.g. 400 code 6 invalid data format, 400 code 10 data channel
      // missing, 403 code 4 invalid token, 503 code 9 server busy).
      if (res.status !== 200 || answer.code !== 0) throw new Error(`Splunk HEC: HTTP ${res.status}${answer.text !== undefined ? ` (code ${answer.code ?? '?'}: ${answer.text})` : ''}`);
      if (this.c.ack === true) {
        if (typeof answer.ackId !== 'number') throw new Error('Splunk HEC: acknowledgement is on but the answer holds no ackId (is it enabled on the token?)');
        ackIds.push(answer.ackId);
      }
    }
    if (ackIds.length > 0) await this.#awaitAcks(ackIds, limit);
  }

  /**
   * Polls /services/collector/ack on the sink's channel until every ackId
   * is true (indexed), or fails after the timeout: the batch is then sent
   * again, so an event Splunk indexed late arrives twice, never not at all.
   */
  async #awaitAcks(ids: readonly number[], limitMs: number): Promise<void> {
    const until = this.now() + limitMs;
    const pending = new Set(ids);
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      const res = await postWithTimeout(`${this.c.url}/services/collector/ack`, this.#headers(), JSON.stringify({ acks: [...pending] }), limitMs, new URL(this.c.url).origin);
      let acks: Record<string, boolean> | undefined;
      try {
        acks = (JSON.parse(res.text) as { acks?: Record<string, boolean> }).acks;
      } catch {
        acks = undefined;
      }
      if (res.status !== 200 || acks === undefined) throw new Error(`Splunk HEC acknowledgement: HTTP ${res.status} ${res.text.slice(0, 200)}`);
      for (const id of [...pending]) if (acks[String(id)] === true) pending.delete(id);
      if (pending.size === 0) return;
      if (this.now() + wait > until) throw new Error(`Splunk HEC: ackId ${[...pending].join(', ')} not indexed within ${limitMs} ms`);
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
  /** Extra fields for X-Sumo-Fields, next to `tenant`. */
  readonly fields?: Readonly<Record<string, string>>;
  readonly timeout_ms?: number;
}

// Sumo Logic docs, "Fields": names of letters, digits and underscores; the
// header is `key=value` pairs separated by commas, so values hold neither.
const FIELD_NAME = /^[A-Za-z0-9_]{1,255}$/;
const FIELD_VALUE = /^[^,=\r\n]{1,255}$/;

export function parseSumoConfig(v: unknown): SumoConfig {
  const c = configObject(v ?? {}, ['category', 'name', 'host', 'fields', 'timeout_ms'], 'sumo', 'its settings');
  const out: Record<string, unknown> = {};
  for (const k of ['category', 'name', 'host']) {
    const t = text(c, k);
    if (t !== undefined) out[k] = t;
  }
  const fields = c['fields'];
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw configError('fields', 'must be an object of names to string values');
    const entries = Object.entries(fields as Record<string, unknown>);
    if (entries.length > 30) throw configError('fields', 'has at most 30 members');
    for (const [k, x] of entries) {
      if (!FIELD_NAME.test(k) || k.toLowerCase() === 'tenant') throw configError('fields', `member ${JSON.stringify(k)} must be a name of letters, digits and _ (tenant is set by the service)`);
      if (typeof x !== 'string' || !FIELD_VALUE.test(x)) throw configError('fields', `member ${k} must be a string of 1 to 255 characters without , or =`);
    }
    out['fields'] = fields;
  }
  const t = timeoutSetting(c);
  if (t !== undefined) out['timeout_ms'] = t;
  return out;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks a Sumo Logic source URL. Sumo's are https (docs, "Upload Data to an
 * HTTP Source"); http is let through only to a loopback address (a local
 * relay, the tests). The create request cannot check it (a kind validates
 * only its config), so a bad one shows as the sink's lastError.
 */
export function sumoSourceUrl(secret: string): string {
  let u: URL;
  try {
    u = new URL(secret);
  } catch {
    throw new Error('the Sumo Logic source URL (the sink secret) is not a URL');
  }
  if (u.username !== '' || u.password !== '') throw new Error('the Sumo Logic source URL (the sink secret) must not hold credentials');
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) throw new Error('the Sumo Logic source URL (the sink secret) must be https');
  return u.toString();
}

/**
 * The source's URL is its credential (Sumo Logic docs, "HTTP Logs and
 * Metrics Source": it "securely encodes the Collector and Source
 * information"), so it is the sink's secret, never part of its settings,
 * and never in an error message.
 */
export class SumoTransport implements Transport {
  readonly #url: string;

  constructor(
    private readonly c: SumoConfig,
    url: string,
    private readonly ctx: TransportContext,
  ) {
    this.#url = sumoSourceUrl(url);
  }

  /** Metadata headers per Sumo Logic docs, "Upload Data to an HTTP Source" (X-Sumo-Category, -Name, -Host, -Fields). */
  #headers(tenant: string): Record<string, string> {
    const fields = [`tenant=${tenant}`, ...Object.entries(this.c.fields ?? {}).map(([k, v]) => `${k}=${v}`)].join(',');
    return {
      'content-type': 'text/plain; charset=utf-8',
      'x-sumo-fields': fields,
      ...(this.c.category !== undefined ? { 'x-sumo-category': this.c.category } : {}),
      ...(this.c.name !== undefined ? { 'x-sumo-name': this.c.name } : {}),
      ...(this.c.host !== undefined ? { 'x-sumo-host': this.c.host } : {}),
    };
  }

  async #send(tenant: string, lines: readonly string[]): Promise<void> {
    for (const body of chunks(lines)) {
      const res = await postWithTimeout(this.#url, this.#headers(tenant), body, this.c.timeout_ms ?? 10_000, new URL(this.#url).origin);
      if (res.status !== 200) throw new Error(`Sumo Logic source: HTTP ${res.status}`);
    }
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    // One event a line (Sumo splits a body into messages at line breaks):
    // json and ocsf events are one-line JSON, CEF lines escape line breaks.
    await this.#send(
      batch.sink.tenant,
      batch.records.map((_, i) => this.ctx.formatEvent(batch, i)),
    );
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    await this.#send(beat.sink.tenant, [checkpointJson(beat)]);
  }
}

export const sumoKind: SinkKindSpec = {
  kind: 'sumo',
  secret: 'provided',
  parseConfig: (v) => ({ ...parseSumoConfig(v) }),
  checkSecret: (secret) => {
    sumoSourceUrl(secret);
  },
  transport: (config, secret, ctx) => {
    if (secret === undefined) throw new TrailsealError('INTERNAL', 'a sumo sink holds its source URL');
    return new SumoTransport(config as SumoConfig, secret, ctx);
  },
};
