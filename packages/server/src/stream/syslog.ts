// The syslog sink (docs/streaming-syslog.md): one RFC 5424 message per
// record, framed by octet counting (RFC 6587 section 3.4.1: `MSG-LEN SP
// SYSLOG-MSG`) over TCP, or over TLS as RFC 5425 specifies (which mandates
// the same framing, section 4.3). Octet counting, unlike LF-terminated
// framing (RFC 6587 3.4.2), lets a message hold newlines: a signed
// checkpoint note is several lines and travels unchanged.
//
// TCP has no application-level acknowledgement and neither has RFC 5425, so
// "delivered" here means: every byte of the batch was handed to the kernel
// on a connection that had shown no error or end. A receiver that crashes
// before writing what it read loses it; RELP (or an HTTP collector) is what
// closes that gap.
import { X509Certificate } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { isHostname, type LogRecord } from '@trailseal/format';
import type { DeliveryBatch, Heartbeat, Transport } from './engine.js';
import type { SinkKindSpec, TransportContext } from './kinds.js';
import { configError, configObject, timeoutSetting } from './settings.js';

export interface SyslogConfig {
  readonly host: string;
  readonly port: number;
  readonly tls?: boolean;
  /** PEM certificates trusted for the receiver's chain; without it, Node's bundled Mozilla roots. */
  readonly ca?: string;
  /** The name the receiver's certificate must carry (and the SNI); defaults to `host`. */
  readonly servername?: string;
  readonly app_name?: string;
  readonly hostname?: string;
  readonly facility?: number;
  /** Milliseconds a connect or a batch's write may take. */
  readonly timeout_ms?: number;
}

/**
 * The SD-ID of the integrity fields. A private SD-ID is `name@<PEN>` (RFC
 * 5424 section 6.3.2); 32473 is the Private Enterprise Number IANA reserves
 * for documentation (RFC 5612). Trailseal holds no PEN of its own yet, so it
 * uses this one deliberately; receivers match the SD-ID as a string, and a
 * registered PEN would replace it in a new stream format version.
 */
export const SD_ID = 'trailseal@32473';
/** MSGID of a heartbeat (a signed checkpoint). */
export const CHECKPOINT_MSGID = 'trailseal.checkpoint';
/** RFC 5424 section 6.4: a UTF-8 MSG starts with the BOM, so a receiver need not guess its encoding. */
const BOM = '\u{FEFF}';
const NIL = '-';
/** Facility 13, "log audit" (RFC 5424 section 6.2.1, table 1). */
const DEFAULT_FACILITY = 13;
const DEFAULT_APP_NAME = 'trailseal';
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_CA_CHARS = 256 * 1024;
const KEYS = ['host', 'port', 'tls', 'ca', 'servername', 'app_name', 'hostname', 'facility', 'timeout_ms'];

/**
 * Severity (RFC 5424 table 2) from the outcome. success: 6 informational, the
 * routine audit trail. denied: 4 warning, an authorization refusal is what
 * security monitoring alerts on. failure and error: 5 notice, a normal but
 * significant condition: the action did not happen, yet nothing is wrong with
 * the system that reports it (the record is not about Trailseal's health).
 */
export function severityOf(outcome: string): number {
  if (outcome === 'success') return 6;
  if (outcome === 'denied') return 4;
  return 5;
}

/** True for 1-`max` characters of PRINTUSASCII (%d33-126), the alphabet of HOSTNAME, APP-NAME and MSGID (RFC 5424 section 6). */
function isPrintUsAscii(s: string, max: number): boolean {
  return s.length >= 1 && s.length <= max && /^[\x21-\x7e]+$/.test(s);
}

/** Any string as a header field: non-PRINTUSASCII characters become `_`, cut to `max` (NILVALUE if empty). */
function headerField(s: string, max: number): string {
  const v = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return v === '' ? NIL : v;
}

/** SD-PARAM-VALUE escaping (RFC 5424 section 6.3.3): `"`, `\` and `]` are preceded by a backslash. */
export function sdEscape(v: string): string {
  return v.replace(/["\\\]]/g, (c) => `\\${c}`);
}

function sdElement(params: readonly (readonly [string, string])[]): string {
  return `[${SD_ID}${params.map(([k, v]) => ` ${k}="${sdEscape(v)}"`).join('')}]`;
}

export interface SyslogHeader {
  readonly facility: number;
  readonly hostname: string;
  readonly appName: string;
}

/**
 * One SYSLOG-MSG (RFC 5424 section 6): `<PRI>1 TIMESTAMP HOSTNAME APP-NAME
 * PROCID MSGID SD SP MSG`. PROCID is NILVALUE: a record is delivered by
 * whichever process holds the sink's lease, so a process id says nothing
 * about it. The timestamp is the log's received_at
 * (YYYY-MM-DDTHH:MM:SS.sssZ), a valid RFC 5424 TIMESTAMP as it stands.
 */
export function syslogMessage(h: SyslogHeader, severity: number, timestamp: string, msgid: string, sd: string, msg: string): string {
  return `<${h.facility * 8 + severity}>1 ${timestamp} ${h.hostname} ${h.appName} ${NIL} ${headerField(msgid, 32)} ${sd} ${BOM}${msg}`;
}

export function recordMessage(h: SyslogHeader, origin: string, r: { readonly seq: number; readonly record: LogRecord; readonly leafHash: string }, event: string): string {
  const sd = sdElement([
    ['tenant', r.record.tenant],
    ['seq', String(r.seq)],
    ['leaf_hash', r.leafHash],
    ['event_id', r.record.id],
    ['origin', origin],
  ]);
  return syslogMessage(h, severityOf(r.record.outcome), r.record.received_at, r.record.action, sd, event);
}

export function checkpointMessage(h: SyslogHeader, beat: { readonly origin: string; readonly size: number; readonly checkpoint: string; readonly tenant: string }, now: Date): string {
  const sd = sdElement([
    ['tenant', beat.tenant],
    ['size', String(beat.size)],
    ['origin', beat.origin],
  ]);
  return syslogMessage(h, 6, now.toISOString(), CHECKPOINT_MSGID, sd, beat.checkpoint);
}

/** Octet-counting framing (RFC 6587 section 3.4.1): MSG-LEN is the message's length in octets, not characters. */
export function frame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

function parseCa(pem: string): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate');
  for (const b of blocks) new X509Certificate(b);
}

export function parseSyslogConfig(v: unknown): SyslogConfig {
  const c = configObject(v, KEYS, 'syslog', 'a host and a port');
  const host = c['host'];
  if (typeof host !== 'string' || !(isIP(host) !== 0 || isHostname(host))) throw configError('host', 'must be a hostname or an IP address');
  const port = c['port'];
  if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 1 || port > 65535) throw configError('port', 'must be an integer from 1 to 65535');
  const out: Record<string, unknown> = { host, port };
  const tls = c['tls'];
  if (tls !== undefined && typeof tls !== 'boolean') throw configError('tls', 'must be true or false');
  if (tls !== undefined) out['tls'] = tls;
  for (const k of ['ca', 'servername'] as const) if (c[k] !== undefined && tls !== true) throw configError(k, 'is a TLS setting: it needs tls true');
  const ca = c['ca'];
  if (ca !== undefined) {
    if (typeof ca !== 'string' || ca.length > MAX_CA_CHARS) throw configError('ca', `must be PEM certificates of at most ${MAX_CA_CHARS} characters`);
    try {
      parseCa(ca);
    } catch (e) {
      throw configError('ca', `must be PEM certificates (${(e as Error).message})`);
    }
    out['ca'] = ca;
  }
  const servername = c['servername'];
  if (servername !== undefined) {
    if (typeof servername !== 'string' || !(isHostname(servername) || isIP(servername) !== 0)) throw configError('servername', 'must be a hostname or an IP address');
    out['servername'] = servername;
  }
  // RFC 5424 section 6.2.5: APP-NAME is 1-48 PRINTUSASCII; 6.2.4: HOSTNAME 1-255.
  const appName = c['app_name'];
  if (appName !== undefined) {
    if (typeof appName !== 'string' || !isPrintUsAscii(appName, 48) || appName === NIL) throw configError('app_name', 'must be 1 to 48 printable ASCII characters without spaces (RFC 5424 6.2.5)');
    out['app_name'] = appName;
  }
  const hostname = c['hostname'];
  if (hostname !== undefined) {
    if (typeof hostname !== 'string' || !isPrintUsAscii(hostname, 255) || hostname === NIL) throw configError('hostname', 'must be 1 to 255 printable ASCII characters without spaces (RFC 5424 6.2.4)');
    out['hostname'] = hostname;
  }
  const facility = c['facility'];
  if (facility !== undefined) {
    if (typeof facility !== 'number' || !Number.isSafeInteger(facility) || facility < 0 || facility > 23) throw configError('facility', 'must be an integer from 0 to 23 (RFC 5424 table 1)');
    out['facility'] = facility;
  }
  const timeout = timeoutSetting(c);
  if (timeout !== undefined) out['timeout_ms'] = timeout;
  return out as unknown as SyslogConfig;
}

/** A connection and, once it is unusable, why (an error, or the receiver ended it). */
interface Conn {
  readonly socket: Socket;
  broken?: Error;
}

/**
 * One connection, opened on first use and again after any failure. Sends are
 * serialized: a batch's frames go out in one write, in seq order, after the
 * previous send finished.
 */
export class SyslogTransport implements Transport {
  readonly #header: SyslogHeader;
  readonly #timeout: number;
  #conn: Conn | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly config: SyslogConfig,
    private readonly ctx: TransportContext,
    private readonly now: () => number = Date.now,
  ) {
    this.#header = {
      facility: config.facility ?? DEFAULT_FACILITY,
      hostname: config.hostname ?? headerField(osHostname(), 255),
      appName: config.app_name ?? DEFAULT_APP_NAME,
    };
    this.#timeout = config.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  }

  deliver(batch: DeliveryBatch): Promise<void> {
    const frames = batch.records.map((r, i) => frame(recordMessage(this.#header, batch.origin, r, this.ctx.formatEvent(batch, i))));
    return this.#send(Buffer.concat(frames));
  }

  heartbeat(beat: Heartbeat): Promise<void> {
    const msg = checkpointMessage(this.#header, { origin: beat.origin, size: beat.size, checkpoint: beat.checkpoint, tenant: beat.sink.tenant }, new Date(this.now()));
    return this.#send(frame(msg));
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn === undefined || conn.socket.destroyed) return;
    const s = conn.socket;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, 1000);
      s.end(() => {
        clearTimeout(t);
        s.destroy();
        resolve();
      });
    });
  }

  #send(bytes: Buffer): Promise<void> {
    const run = this.#queue.catch(() => undefined).then(() => this.#write(bytes));
    this.#queue = run;
    return run;
  }

  get #where(): string {
    return `syslog ${this.config.tls === true ? 'tls' : 'tcp'}://${this.config.host}:${this.config.port}`;
  }

  async #write(bytes: Buffer): Promise<void> {
    if (this.#closed) throw new Error(`${this.#where}: the transport is closed`);
    const conn = await this.#connection();
    const socket = conn.socket;
    await new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        socket.off('close', onClose);
        if (err === undefined) {
          resolve();
          return;
        }
        broken(conn, err);
        reject(new Error(`${this.#where}: ${err.message}`));
      };
      const onClose = (): void => finish(conn.broken ?? new Error('connection closed'));
      // A receiver that stops reading fills the kernel's buffers and the
      // write never completes: that is a failure too, after timeout_ms.
      const timer = setTimeout(() => finish(new Error(`write not accepted within ${this.#timeout} ms`)), this.#timeout);
      socket.once('close', onClose);
      socket.write(bytes, (err) => {
        // The callback fires once Node handed the bytes to the kernel. A
        // connection the receiver ended meanwhile may still have taken them
        // into a dead socket: count the batch delivered only if the
        // connection is still sound.
        if (err) finish(err);
        else if (conn.broken !== undefined) finish(conn.broken);
        else finish();
      });
    });
  }

  /** The open connection, or a new one once the last failed (or the receiver ended it). */
  async #connection(): Promise<Conn> {
    const current = this.#conn;
    if (current !== undefined && current.broken === undefined && !current.socket.destroyed) return current;
    current?.socket.destroy();
    this.#conn = undefined;
    const c = this.config;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const name = c.servername ?? c.host;
      const s: Socket =
        c.tls === true
          ? tlsConnect({
              host: c.host,
              port: c.port,
              // Certificates are always verified, the receiver's name against
              // its certificate (RFC 5425 sections 4.2.1 and 5.2); there is no
              // setting to turn that off.
              rejectUnauthorized: true,
              ...(c.ca !== undefined ? { ca: c.ca } : {}),
              // SNI takes names only (RFC 6066 section 3); an IP is still
              // checked against the certificate's IP subjectAltNames.
              ...(isIP(name) === 0 ? { servername: name } : {}),
              checkServerIdentity: (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert),
            })
          : new Socket().connect({ host: c.host, port: c.port });
      const ready = c.tls === true ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => fail(new Error(`no connection within ${this.#timeout} ms`)), this.#timeout);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        s.destroy();
        reject(new Error(`${this.#where}: ${e.message}`));
      };
      s.once('error', fail);
      s.once(ready, () => {
        clearTimeout(timer);
        s.off('error', fail);
        resolve(s);
      });
    });
    const conn: Conn = { socket };
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    // A syslog receiver sends nothing; reading anyway is how its end of the
    // connection (FIN or RST when it stops) is seen before the next write.
    socket.on('data', () => undefined);
    socket.on('end', () => broken(conn, new Error('the receiver closed the connection')));
    socket.on('error', (e: Error) => broken(conn, e));
    socket.on('close', () => broken(conn, new Error('connection closed')));
    this.#conn = conn;
    return conn;
  }
}

/** Marks a connection unusable (keeping the first reason) and releases it. */
function broken(conn: Conn, why: Error): void {
  conn.broken ??= why;
  conn.socket.destroy();
}

export const syslogKind: SinkKindSpec = {
  kind: 'syslog',
  secret: 'none',
  parseConfig: (v) => ({ ...parseSyslogConfig(v) }),
  transport: (config, _secret, ctx) => new SyslogTransport(parseSyslogConfig(config), ctx),
};
