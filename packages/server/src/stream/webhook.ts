// The webhook sink: an HTTPS (or HTTP) POST per batch, signed as Standard
// Webhooks specifies (https://www.standardwebhooks.com, "Signature scheme"):
// `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`
// = "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)),
// where the key is the base64 part of the `whsec_` secret. The receiver
// acknowledges with any 2xx; anything else, or no answer in time, is a
// failure the engine retries. The id of a batch names its tenant and seqs, so
// a receiver can tell a retry from a new message.
import { createHmac, randomBytes } from 'node:crypto';
import { TrailsealError, canonicalize } from '@trailseal/format';
import type { DeliveryBatch, Heartbeat, Transport } from './engine.js';
import type { SinkKindSpec, TransportContext } from './kinds.js';
import { checkpointJson, configObject, httpUrlSetting, postWithTimeout, timeoutSetting } from './settings.js';

export interface WebhookConfig {
  readonly url: string;
  /** Milliseconds to wait for the receiver's answer. */
  readonly timeout_ms?: number;
}

const SECRET_PREFIX = 'whsec_';

/** A new signing secret, in the Standard Webhooks form (whsec_ + base64 of 32 random bytes). */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

export function parseWebhookConfig(v: unknown): WebhookConfig {
  const c = configObject(v, ['url', 'timeout_ms'], 'webhook', 'a url');
  const url = httpUrlSetting(c['url'], 'url');
  const timeout = timeoutSetting(c);
  return { url: url.toString(), ...(timeout !== undefined ? { timeout_ms: timeout } : {}) };
}

export class WebhookTransport implements Transport {
  readonly #key: Buffer;

  constructor(
    private readonly config: WebhookConfig,
    secret: string,
    private readonly ctx: TransportContext,
    private readonly now: () => number = Date.now,
  ) {
    if (!secret.startsWith(SECRET_PREFIX)) throw new TrailsealError('INTERNAL', 'a webhook secret starts with whsec_');
    this.#key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    const first = batch.records[0]!.seq;
    const last = batch.records[batch.records.length - 1]!.seq;
    // CEF lines travel as JSON strings; json and ocsf events are JSON already.
    const events = batch.records.map((_, i) => (this.ctx.format === 'cef' ? JSON.stringify(this.ctx.formatEvent(batch, i)) : this.ctx.formatEvent(batch, i)));
    // The envelope is canonical JSON around the formatted events, which are already JSON texts.
    const head = canonicalize({ origin: batch.origin, tenant: batch.sink.tenant, type: 'trailseal.events' });
    const body = `{"events":[${events.join(',')}],${head.slice(1)}`;
    await this.#post(`evt_${batch.sink.tenant}_${first}_${last}`, body);
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    await this.#post(`ckpt_${beat.sink.tenant}_${beat.size}`, checkpointJson(beat));
  }

  async #post(id: string, body: string): Promise<void> {
    const timestamp = String(Math.floor(this.now() / 1000));
    const signature = createHmac('sha256', this.#key).update(`${id}.${timestamp}.${body}`).digest('base64');
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}`, 'user-agent': 'trailseal-webhook/1' };
    const res = await postWithTimeout(this.config.url, headers, body, this.config.timeout_ms ?? 10_000, `webhook ${this.config.url}`);
    if (res.status < 200 || res.status > 299) throw new Error(`webhook ${this.config.url}: HTTP ${res.status}`);
  }
}

export const webhookKind: SinkKindSpec = {
  kind: 'webhook',
  secret: 'generated',
  parseConfig: (v) => ({ ...parseWebhookConfig(v) }),
  generateSecret: newWebhookSecret,
  transport: (config, secret, ctx) => {
    if (secret === undefined) throw new TrailsealError('INTERNAL', 'a webhook sink has a signing secret');
    return new WebhookTransport(parseWebhookConfig(config), secret, ctx);
  },
};
