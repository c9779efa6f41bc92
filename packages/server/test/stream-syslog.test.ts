// The syslog sink against a real rsyslogd started by this test on loopback:
// RFC 5424 messages with octet-counting framing (RFC 6587 3.4.1) over TCP and
// over TLS (RFC 5425, rsyslog's gtls driver and a CA made here with the
// openssl CLI). rsyslog writes each received message verbatim (%rawmsg%) to
// a file; the test parses that file strictly and judges by what it holds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, parseVerifierKey } from '@trailseal/format';
import { formatRecord } from '../src/stream/formats.js';
import { waitFor } from './support/receiver.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', ...(process.env['PATH'] ?? '').split(':').map((d) => join(d, 'rsyslogd'))].find((p) => existsSync(p));
const OPENSSL_OK = spawnSync('openssl', ['version']).status === 0;
const available = RSYSLOGD !== undefined && OPENSSL_OK;
if (!available && process.env['CI'] !== 'true') {
  console.warn('\n*** SKIPPING the syslog sink suite: rsyslogd (apt-get install rsyslog rsyslog-gnutls) or openssl is not installed ***\n');
}

/** What rsyslog writes after each message: messages may hold newlines (a checkpoint note), so a plain LF cannot separate them. */
const SEP = '\n=====trailseal-test-end=====\n';
const BOM = '\u{FEFF}';

interface Syslog5424 {
  pri: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  sd: Map<string, Map<string, string>>;
  msg: string;
}

/** A strict RFC 5424 parser (section 6): header, STRUCTURED-DATA with 6.3.3 escapes, then SP and MSG (UTF-8 with a BOM here). */
function parse5424(m: string): Syslog5424 {
  const h = /^<(\d{1,3})>1 (\S+) ([\x21-\x7e]{1,255}) ([\x21-\x7e]{1,48}) ([\x21-\x7e]{1,128}) ([\x21-\x7e]{1,32}) /.exec(m);
  if (h === null) throw new Error(`not an RFC 5424 header: ${m.slice(0, 120)}`);
  let i = h[0].length;
  const sd = new Map<string, Map<string, string>>();
  if (m[i] === '-') i++;
  else {
    while (m[i] === '[') {
      const id = /^\[([^ =\]"]{1,32})/.exec(m.slice(i));
      if (id === null) throw new Error('bad SD-ID');
      i += id[0].length;
      const params = new Map<string, string>();
      while (m[i] === ' ') {
        const name = /^ ([^ =\]"]{1,32})="/.exec(m.slice(i));
        if (name === null) throw new Error('bad SD-PARAM');
        i += name[0].length;
        let v = '';
        for (;;) {
          const c = m[i++];
          if (c === undefined) throw new Error('unterminated SD-PARAM-VALUE');
          if (c === '\\' && (m[i] === '"' || m[i] === '\\' || m[i] === ']')) v += m[i++];
          else if (c === '"') break;
          else if (c === ']') throw new Error('unescaped ] in SD-PARAM-VALUE');
          else v += c;
        }
        params.set(name[1]!, v);
      }
      if (m[i++] !== ']') throw new Error('unterminated SD-ELEMENT');
      sd.set(id[1]!, params);
    }
  }
  if (m[i] !== ' ' || m[i + 1] !== BOM) throw new Error(`MSG must follow SP and start with a BOM: ${JSON.stringify(m.slice(i, i + 10))}`);
  return { pri: Number(h[1]), timestamp: h[2]!, hostname: h[3]!, appName: h[4]!, procId: h[5]!, msgId: h[6]!, sd, msg: m.slice(i + 2) };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA and a server certificate for 127.0.0.1 and localhost it signed, in `dir`. */
function makePki(dir: string, prefix: string): { ca: string; cert: string; key: string } {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', `${prefix}ca.key`, '-out', `${prefix}ca.pem`, '-days', '2', '-subj', `/CN=${prefix}trailseal test CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  openssl(dir, 'req', ...ec, '-keyout', `${prefix}key.pem`, '-out', `${prefix}srv.csr`, '-subj', '/CN=localhost');
  writeFileSync(join(dir, `${prefix}ext.cnf`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(dir, 'x509', '-req', '-in', `${prefix}srv.csr`, '-CA', `${prefix}ca.pem`, '-CAkey', `${prefix}ca.key`, '-CAcreateserial', '-out', `${prefix}cert.pem`, '-days', '2', '-extfile', `${prefix}ext.cnf`);
  return { ca: join(dir, `${prefix}ca.pem`), cert: join(dir, `${prefix}cert.pem`), key: join(dir, `${prefix}key.pem`) };
}

/** An rsyslogd of its own (config, work directory, pid file, output file) listening on one loopback port. */
class Rsyslog {
  readonly out: string;
  readonly #conf: string;
  readonly #pid: string;
  #proc: ChildProcess | undefined;
  #stderr = '';

  constructor(
    readonly dir: string,
    readonly port: number,
    tls?: { ca: string; cert: string; key: string },
  ) {
    this.out = join(dir, 'received.log');
    this.#conf = join(dir, 'rsyslog.conf');
    this.#pid = join(dir, 'rsyslogd.pid');
    const driver = tls === undefined ? '' : ` defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="${tls.ca}" defaultNetstreamDriverCertFile="${tls.cert}" defaultNetstreamDriverKeyFile="${tls.key}"`;
    writeFileSync(
      this.#conf,
      [
        // Keep messages exactly as sent: no escaping of control characters
        // (a checkpoint note holds LFs), no dropped trailing LF, room for OCSF events.
        `global(workDirectory="${dir}" maxMessageSize="64k" parser.escapeControlCharactersOnReceive="off" parser.dropTrailingLFOnReception="off"${driver})`,
        tls === undefined ? 'module(load="imtcp")' : 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")',
        `input(type="imtcp" address="127.0.0.1" port="${port}")`,
        `template(name="raw" type="list") { property(name="rawmsg") constant(value="${SEP.replace(/\n/g, '\\n')}") }`,
        `if $inputname == "imtcp" then { action(type="omfile" file="${this.out}" template="raw") }`,
        '',
      ].join('\n'),
    );
  }

  async start(): Promise<void> {
    rmSync(this.#pid, { force: true });
    const p = spawn(RSYSLOGD!, ['-n', '-f', this.#conf, '-i', this.#pid], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.#proc = p;
    await waitFor(`rsyslogd listening on ${this.port}`, async () => {
      if (p.exitCode !== null) throw new Error(`rsyslogd exited ${p.exitCode}: ${this.#stderr}`);
      return new Promise<boolean>((resolve) => {
        const s = connect(this.port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
    }, 10_000);
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = undefined;
    if (p === undefined || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (p.exitCode === null) {
      p.kill('SIGKILL');
      await exited;
    }
  }

  /** Every message received so far, parsed. */
  messages(): Syslog5424[] {
    if (!existsSync(this.out)) return [];
    const parts = readFileSync(this.out, 'utf8').split(SEP);
    // The last part is what follows the last separator: empty, or a message still being written.
    return parts.slice(0, -1).map(parse5424);
  }
}

const SD_ID = 'trailseal@32473';
const seqOf = (m: Syslog5424): number => Number(m.sd.get(SD_ID)!.get('seq'));
const records = (ms: Syslog5424[]): Syslog5424[] => ms.filter((m) => m.msgId !== 'trailseal.checkpoint');
const hasAll = (ms: Syslog5424[], to: number): boolean => new Set(records(ms).map(seqOf)).size >= to && records(ms).every((m) => seqOf(m) < to);
const SEVERITY: Record<string, number> = { success: 6, denied: 4, failure: 5, error: 5 };

describe.runIf(available || process.env['CI'] === 'true')('the syslog sink against a real rsyslogd', () => {
  let svc: TestService;
  let dir: string;
  const daemons: Rsyslog[] = [];
  let n = 0;

  beforeAll(async () => {
    if (!available) throw new Error('CI=true: rsyslogd and openssl must be installed (.ci/run installs rsyslog and rsyslog-gnutls)');
    dir = mkdtempSync(join(tmpdir(), 'trailseal-syslog-'));
    svc = await startTestService({ 'sink-heartbeat-ms': '300', 'sink-pause-after-ms': '60000' });
  });

  afterAll(async () => {
    await svc?.stop();
    for (const d of daemons) await d.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const daemon = async (name: string, tls?: { ca: string; cert: string; key: string }): Promise<Rsyslog> => {
    const d = new Rsyslog(mkdtempSync(join(dir, `${name}-`)), await freePort(), tls);
    daemons.push(d);
    await d.start();
    return d;
  };
  const ingest = async (apiKey: string, count: number): Promise<void> => {
    const outcomes = ['success', 'denied', 'failure', 'error'];
    // Ids with the characters SD-PARAM-VALUE escapes (RFC 5424 6.3.3), and a non-ASCII name in the MSG.
    const events = Array.from({ length: count }, () => ({ id: `e-${n++}${n % 7 === 0 ? '"]\\x' : ''}`, time: new Date().toISOString(), action: n % 5 === 0 ? 'document.permission.share.external.link.create' : 'file.download', outcome: outcomes[n % 4], actor: { id: 'u1', type: 'user', name: 'Zoë Ørsted' }, target: { type: 'file', name: 'naïve ] "q" \\ résumé.pdf' } }));
    const res = await call(svc.url, 'POST', '/v1/events', { token: apiKey, body: JSON.stringify(events) });
    expect(res.status, res.text).toBe(201);
  };
  const size = async (apiKey: string): Promise<number> => (await call(svc.url, 'GET', '/v1/log', { token: apiKey })).json<{ size: number }>().size;
  const createSink = async (apiKey: string, config: Record<string, unknown>, format = 'json'): Promise<string> => {
    const res = await call(svc.url, 'POST', '/v1/sinks', { token: apiKey, body: JSON.stringify({ name: 'syslog', kind: 'syslog', config, format, from_seq: 0 }) });
    expect(res.status, res.text).toBe(201);
    return res.json<{ sink: { id: string } }>().sink.id;
  };
  const health = async (apiKey: string, id: string): Promise<{ lastError: string | null; lag: number }> => (await call(svc.url, 'GET', `/v1/sinks/${id}`, { token: apiKey })).json<{ health: { lastError: string | null; lag: number } }>().health;

  /** Every record 0..end-1 arrived (at least once), first arrivals in seq order, each matching the stored record byte for byte. */
  const checkRecords = async (t: { id: string; apiKey: string }, ms: Syslog5424[], end: number, format: 'json' | 'cef', hostname: string): Promise<void> => {
    const firsts: number[] = [];
    const seen = new Set<number>();
    for (const m of records(ms)) {
      const s = seqOf(m);
      if (!seen.has(s)) firsts.push(s);
      seen.add(s);
    }
    expect(firsts).toEqual(Array.from({ length: end }, (_, i) => i));
    const origin = records(ms)[0]!.sd.get(SD_ID)!.get('origin')!;
    expect(origin).toMatch(new RegExp(`/${t.id}$`));
    const bySeq = new Map(records(ms).map((m) => [seqOf(m), m]));
    for (let seq = 0; seq < end; seq++) {
      const m = bySeq.get(seq)!;
      const stored = (await call(svc.url, 'GET', `/v1/events/${seq}`, { token: t.apiKey })).text;
      const record = JSON.parse(stored) as { id: string; action: string; outcome: string; received_at: string };
      const leaf = createHash('sha256').update(Buffer.of(0)).update(stored).digest('hex');
      expect(Object.fromEntries(m.sd.get(SD_ID)!)).toEqual({ tenant: t.id, seq: String(seq), leaf_hash: leaf, event_id: record.id, origin });
      expect(m.pri).toBe(13 * 8 + SEVERITY[record.outcome]!);
      expect(m.timestamp).toBe(record.received_at);
      expect(m.msgId).toBe(record.action.slice(0, 32));
      expect(m.hostname).toBe(hostname);
      expect(m.appName).toBe('trailseal');
      expect(m.procId).toBe('-');
      // json: the canonical envelope around the stored bytes, built here independently of the formatter.
      const expected = format === 'json' ? `{"leaf_hash":"${leaf}","origin":${JSON.stringify(origin)},"record":${stored},"seq":${seq},"tenant":${JSON.stringify(t.id)}}` : formatRecord('cef', JSON.parse(stored), { origin, leafHash: leaf });
      expect(m.msg).toBe(expected);
    }
  };

  const checkHeartbeat = async (d: Rsyslog, t: { verifierKey: string }, end: number): Promise<void> => {
    await waitFor('a checkpoint covering the records', () => d.messages().some((m) => m.msgId === 'trailseal.checkpoint' && Number(m.sd.get(SD_ID)!.get('size')) >= end));
    const beat = d.messages().find((m) => m.msgId === 'trailseal.checkpoint' && Number(m.sd.get(SD_ID)!.get('size')) >= end)!;
    // The note's newlines survived: octet counting frames it whole.
    expect(beat.msg.split('\n').length).toBeGreaterThan(3);
    expect(openCheckpoint(beat.msg, [parseVerifierKey(t.verifierKey)]).size).toBe(Number(beat.sd.get(SD_ID)!.get('size')));
    expect(beat.pri).toBe(13 * 8 + 6);
  };

  it('over TCP: every record once at least, in seq order, as RFC 5424 with its integrity fields; a heartbeat; an rsyslog restart loses nothing', async () => {
    const d = await daemon('tcp');
    const t = await createTenant(svc, 'sys1');
    const sink = await createSink(t.apiKey, { host: '127.0.0.1', port: d.port, hostname: 'ts-test.example' });
    await ingest(t.apiKey, 120);
    let end = await size(t.apiKey);
    await waitFor('every record in rsyslog', () => hasAll(d.messages(), end));
    await checkRecords(t, d.messages(), end, 'json', 'ts-test.example');
    await checkHeartbeat(d, t, end);

    // An outage: rsyslog stops, records commit meanwhile, the engine retries until it is back.
    await d.stop();
    await new Promise((r) => setTimeout(r, 300));
    await ingest(t.apiKey, 60);
    await waitFor('a failed delivery', async () => (await health(t.apiKey, sink)).lastError !== null, 5000);
    expect((await health(t.apiKey, sink)).lastError).toMatch(/syslog tcp:\/\/127\.0\.0\.1:\d+: .*(ECONNREFUSED|closed|ECONNRESET|EPIPE)/);
    await new Promise((r) => setTimeout(r, 1500));
    await d.start();
    end = await size(t.apiKey);
    await waitFor('every record after the restart', () => hasAll(d.messages(), end), 20_000);
    await checkRecords(t, d.messages(), end, 'json', 'ts-test.example');
  }, 40_000);

  it('over TLS (RFC 5425): the receiver is authenticated with the configured CA; CEF events arrive whole', async () => {
    const pki = makePki(dir, 'a-');
    const other = makePki(dir, 'b-');
    const d = await daemon('tls', pki);
    const t = await createTenant(svc, 'sys2');
    const ca = readFileSync(pki.ca, 'utf8');
    await createSink(t.apiKey, { host: '127.0.0.1', port: d.port, tls: true, ca }, 'cef');
    // A sink trusting another CA never delivers: the certificate is always verified.
    const untrusted = await createSink(t.apiKey, { host: '127.0.0.1', port: d.port, tls: true, ca: readFileSync(other.ca, 'utf8') });
    await ingest(t.apiKey, 80);
    const end = await size(t.apiKey);
    await waitFor('every record in rsyslog', () => hasAll(d.messages(), end));
    // Without a hostname setting, HOSTNAME is the machine's (RFC 5424 6.2.4).
    await checkRecords(t, d.messages(), end, 'cef', hostname());
    await checkHeartbeat(d, t, end);
    const h = await health(t.apiKey, untrusted);
    expect(h.lastError).toMatch(/certificate/i);
    expect(h.lag).toBeGreaterThan(0);
  }, 40_000);

  it('refuses bad settings naming the member', async () => {
    const t = await createTenant(svc, 'sys3');
    for (const [config, field] of [
      [{ port: 514 }, 'config.host'],
      [{ host: 'bad host', port: 514 }, 'config.host'],
      [{ host: '127.0.0.1', port: 0 }, 'config.port'],
      [{ host: '127.0.0.1', port: 514, protocol: 'udp' }, 'config.protocol'],
      [{ host: '127.0.0.1', port: 514, ca: 'x' }, 'config.ca'],
      [{ host: '127.0.0.1', port: 514, tls: true, ca: 'not a certificate' }, 'config.ca'],
      [{ host: '127.0.0.1', port: 514, facility: 24 }, 'config.facility'],
      [{ host: '127.0.0.1', port: 514, app_name: 'a'.repeat(49) }, 'config.app_name'],
      [{ host: '127.0.0.1', port: 514, hostname: 'has space' }, 'config.hostname'],
      [{ host: '127.0.0.1', port: 514, timeout_ms: 5 }, 'config.timeout_ms'],
    ] as const) {
      const res = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'x', kind: 'syslog', config }) });
      expect({ status: res.status, body: res.json() }).toMatchObject({ status: 400, body: { code: 'QUERY_INVALID', field } });
    }
    const secret = await call(svc.url, 'POST', '/v1/sinks', { token: t.apiKey, body: JSON.stringify({ name: 'x', kind: 'syslog', config: { host: '127.0.0.1', port: 514 }, secret: 's' }) });
    expect(secret.json()).toMatchObject({ code: 'QUERY_INVALID', field: 'secret' });
  });
});
