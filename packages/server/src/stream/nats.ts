// The NATS JetStream sink (docs/streaming-nats.md): one JetStream message per
// event on the sink's subject, published with `Nats-Msg-Id:
// <tenant>:<sink id>:<seq>` so that the stream drops a message it already
// holds (a retried batch, a replay) within its duplicate window, and only
// that: two sinks publishing into one stream never drop each other's. A
// batch is acknowledged when the stream acknowledged every message of it: the
// messages go out pipelined on one connection (so the stream stores them in
// seq order) and then every publish acknowledgement is awaited. A heartbeat is a message on the same
// subject with `Trailseal-Type: checkpoint`, so the stream that holds the
// events holds it too, after the records it covers.
//
// Client: @nats-io/transport-node and @nats-io/jetstream (nats.js v3, the
// line the NATS maintainers develop; the older `nats` package only gets fixes).
import { jetstream, type JetStreamClient, type JetStreamPublishOptions } from '@nats-io/jetstream';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { DeliveryBatch, Heartbeat, Transport } from './engine.js';
import type { SinkRow } from '../store/types.js';
import type { SinkKindSpec, TransportContext } from './kinds.js';
import { configError, configObject, timeoutSetting } from './settings.js';

export interface NatsConfig {
  /** nats://host:port URLs of the cluster's servers (credentials go in the secret). */
  readonly servers: readonly string[];
  /** The subject to publish on; `{tenant}` is replaced by the tenant id. */
  readonly subject: string;
  /** The stream expected to capture the messages: the server refuses a publish that another stream (or none) would capture. */
  readonly stream?: string;
  /** Milliseconds to wait for a connection and for each publish acknowledgement. */
  readonly timeout_ms?: number;
}

const SETTINGS = ['servers', 'subject', 'stream', 'timeout_ms'];
const DEFAULT_TIMEOUT_MS = 10_000;
/** A subject token: no whitespace, no separator, no wildcard; `{tenant}` may stand within it. */
const TOKEN_RE = /^[^\s.*>]+$/;
/** JetStream stream names: no whitespace, `.`, wildcards or path separators (server's isValidName and file store). */
const STREAM_RE = /^[^\s.*>/\\]{1,255}$/;

export function parseNatsConfig(v: unknown): NatsConfig {
  const c = configObject(v, SETTINGS, 'nats', 'servers and subject');

  const servers = c['servers'];
  if (!Array.isArray(servers) || servers.length === 0 || servers.length > 16) throw configError('servers', 'must be a list of 1 to 16 nats://host:port URLs');
  const parsed = servers.map((s) => {
    let u: URL;
    try {
      if (typeof s !== 'string') throw new Error('not a string');
      u = new URL(s);
    } catch {
      throw configError('servers', 'must be a list of nats://host:port URLs');
    }
    if (u.protocol !== 'nats:' || u.hostname === '' || u.username !== '' || u.password !== '' || (u.pathname !== '' && u.pathname !== '/') || u.search !== '' || u.hash !== '') {
      throw configError('servers', 'must be nats://host:port URLs without credentials, path or query (credentials go in the secret)');
    }
    return `nats://${u.host}${u.port === '' ? ':4222' : ''}`;
  });

  const subject = c['subject'];
  if (typeof subject !== 'string' || subject.length === 0 || subject.length > 255) throw configError('subject', 'must be a subject of 1 to 255 characters');
  if (!subject.split('.').every((t) => TOKEN_RE.test(t))) {
    throw configError('subject', 'must be dot-separated tokens without whitespace or wildcards (* and >); {tenant} stands for the tenant id');
  }
  const braces = subject.replaceAll('{tenant}', '');
  if (braces.includes('{') || braces.includes('}')) throw configError('subject', 'may name only {tenant} in braces');

  const stream = c['stream'];
  if (stream !== undefined && (typeof stream !== 'string' || !STREAM_RE.test(stream))) throw configError('stream', 'must be a JetStream stream name (no whitespace, ., *, >, / or \\)');

  const timeout = timeoutSetting(c);

  return { servers: parsed, subject, ...(stream !== undefined ? { stream: stream as string } : {}), ...(timeout !== undefined ? { timeout_ms: timeout } : {}) };
}

/** How the secret authenticates: `user:password` when it holds a colon, otherwise a token. */
function credentials(secret: string | undefined): { token: string } | { user: string; pass: string } | Record<string, never> {
  if (secret === undefined || secret === '') return {};
  const colon = secret.indexOf(':');
  return colon < 0 ? { token: secret } : { user: secret.slice(0, colon), pass: secret.slice(colon + 1) };
}

interface Connected {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
}

/** `Nats-Msg-Id`: names the tenant and the sink, so that only a sink's own copies dedupe (docs/streaming-nats.md). */
function messageId(sink: SinkRow, what: string): string {
  return `${sink.tenant}:${sink.id}:${what}`;
}

/** The headers of a message (docs/streaming-nats.md), with `place` (seq and leaf hash, or size) after the sink. */
function messageHeaders(type: 'event' | 'checkpoint', sink: SinkRow, origin: string, contentType: string, place: readonly (readonly [string, string])[]): MsgHdrs {
  const h = headers();
  h.set('Trailseal-Type', type);
  h.set('Trailseal-Tenant', sink.tenant);
  h.set('Trailseal-Sink', sink.id);
  for (const [name, value] of place) h.set(name, value);
  h.set('Trailseal-Origin', origin);
  h.set('Content-Type', contentType);
  return h;
}

export class NatsTransport implements Transport {
  #conn: Promise<Connected> | undefined;
  #closed = false;
  readonly #timeout: number;

  constructor(
    private readonly config: NatsConfig,
    private readonly secret: string | undefined,
    private readonly ctx: TransportContext,
  ) {
    this.#timeout = config.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  }

  async deliver(batch: DeliveryBatch): Promise<void> {
    const { js } = await this.#connected();
    const tenant = batch.sink.tenant;
    const subject = this.#subject(tenant);
    const type = this.ctx.format === 'cef' ? 'text/plain; charset=utf-8' : 'application/json';
    // Every publish is put on the wire before the first acknowledgement is
    // awaited: the order of the calls is the order on the connection, hence
    // the order in the stream. allSettled keeps a failure from leaving other
    // acknowledgements unobserved.
    const acks = await Promise.allSettled(
      batch.records.map((r, i) => {
        const h = messageHeaders('event', batch.sink, batch.origin, type, [
          ['Trailseal-Seq', String(r.seq)],
          ['Trailseal-Leaf-Hash', r.leafHash],
        ]);
        return js.publish(subject, this.ctx.formatEvent(batch, i), this.#options(messageId(batch.sink, String(r.seq)), h));
      }),
    );
    const failed = acks.findIndex((a) => a.status === 'rejected');
    if (failed >= 0) {
      const reason = (acks[failed] as PromiseRejectedResult).reason as Error;
      throw new Error(`nats ${subject}: seq ${batch.records[failed]!.seq} not acknowledged: ${reason.message}`);
    }
  }

  async heartbeat(beat: Heartbeat): Promise<void> {
    const { js } = await this.#connected();
    const tenant = beat.sink.tenant;
    const subject = this.#subject(tenant);
    const h = messageHeaders('checkpoint', beat.sink, beat.origin, 'text/plain; charset=utf-8', [['Trailseal-Size', String(beat.size)]]);
    try {
      await js.publish(subject, beat.checkpoint, this.#options(messageId(beat.sink, `checkpoint:${beat.size}`), h));
    } catch (e) {
      throw new Error(`nats ${subject}: checkpoint ${beat.size} not acknowledged: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined) return;
    const c = await conn.catch(() => undefined);
    // drain() lets acknowledgements in flight arrive before the socket closes.
    if (c !== undefined && !c.nc.isClosed()) await c.nc.drain().catch(() => c.nc.close());
  }

  #subject(tenant: string): string {
    return this.config.subject.replaceAll('{tenant}', tenant);
  }

  #options(msgID: string, h: MsgHdrs): Partial<JetStreamPublishOptions> {
    return { msgID, headers: h, timeout: this.#timeout, ...(this.config.stream !== undefined ? { expect: { streamName: this.config.stream } } : {}) };
  }

  /**
   * The connection, made on first use. The client reconnects by itself
   * (without limit) once connected; a first connection that fails, or one the
   * client gave up on, is made again on the next delivery, which the engine
   * retries with backoff.
   */
  #connected(): Promise<Connected> {
    if (this.#closed) return Promise.reject(new Error('nats transport closed'));
    if (this.#conn === undefined) {
      const conn = connect({
        servers: [...this.config.servers],
        name: 'trailseal',
        timeout: this.#timeout,
        maxReconnectAttempts: -1,
        ...credentials(this.secret),
      }).then((nc) => {
        void nc.closed().then(() => {
          if (this.#conn === conn) this.#conn = undefined;
        });
        return { nc, js: jetstream(nc, { timeout: this.#timeout }) };
      });
      conn.catch(() => {
        if (this.#conn === conn) this.#conn = undefined;
      });
      this.#conn = conn;
    }
    return this.#conn.catch((e: unknown) => {
      throw new Error(`nats ${this.config.servers.join(',')}: ${(e as Error).message}`);
    });
  }
}

export const natsKind: SinkKindSpec = {
  kind: 'nats',
  secret: 'optional',
  parseConfig: (v) => ({ ...parseNatsConfig(v) }),
  transport: (config, secret, ctx) => new NatsTransport(parseNatsConfig(config), secret, ctx),
};
