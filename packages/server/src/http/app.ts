// The HTTP API (docs/api.md; /openapi.json). Every request but the health,
// metrics and OpenAPI routes carries `Authorization: Bearer <api key>` and
// acts for exactly one tenant: the key's own (operator keys: the system log).
// Bodies are attacker-controlled: they are parsed by the strict parser of the
// format core (duplicate names, lone surrogates, depth and size limits) and
// every event is validated before anything is queued; a batch is atomic.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  TrailsealError,
  consistencyProofAsync,
  inclusionProofAsync,
  isIP,
  isTrailsealError,
  toBase64,
  formatTlogProof,
  type PreparedEvents,
} from '@trailseal/format';
import { requireScope, type Authenticator, type Principal } from '../auth.js';
import { SYSTEM_TENANT, type LogService } from '../log/service.js';
import type { Receipt } from '../log/writer.js';
import type { ApiKeyRow, Scope } from '../store/types.js';
import { openApiDocument } from './openapi.js';
import { parseBody, type Body, type BodyKind, type BodyLimits } from './body.js';
import { IngestThreads } from './ingest.js';
import { fromFrameworkError, problemOf } from './problem.js';
import { registerTiles } from './tiles.js';
import { registerVerifierPage } from './verifier-page.js';
import { exportAuditLog, parseExportRequest, prepareExport, streamExport } from '../log/export.js';
import { Readable } from 'node:stream';
import { parseSinkRequest, type SinkService } from '../stream/sinks.js';

/** How far an export's stream reads ahead of the socket (see the export route). */
const EXPORT_READ_AHEAD_BYTES = 8 * 1024 * 1024;

export interface HttpLimits {
  /** Largest request body, in bytes. */
  readonly maxBodyBytes: number;
  /** Most events in one POST /v1/events. */
  readonly maxBatchEvents: number;
  /** Most records in one page of GET /v1/events. */
  readonly maxPage: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 16 * 1024 * 1024, maxBatchEvents: 10_000, maxPage: 1000 };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AppOptions {
  readonly service: LogService;
  /** Streaming sinks; without it the /v1/sinks routes answer NOT_FOUND. */
  readonly sinks?: SinkService;
  readonly auth: Authenticator;
  readonly limits?: Partial<HttpLimits>;
  readonly logger?: boolean | object;
  /** Threads that prepare large POST /v1/events bodies (ingest.ts); 0 or absent: the event loop prepares every body. */
  readonly ingestThreads?: number;
}

/**
 * The body of a 201 answer to POST /v1/events, `{"receipts":[...]}`, as
 * JSON.stringify spells it (members in the order of Receipt), written as
 * bytes: for a 1000-event batch, JSON.stringify and the encoding of its
 * string cost the event loop about 0.45 us per receipt, this about 0.22
 * (bench/README.md, seventh session). A receipt's strings are hex digits and
 * log timestamps (RFC 3339, ASCII without quotes or backslashes): their own
 * JSON spelling, one byte per char.
 */
export function receiptsBody(receipts: readonly Receipt[]): Buffer {
  let size = 16;
  for (const r of receipts) size += 80 + r.leafHash.length + r.receivedAt.length;
  const out = Buffer.allocUnsafe(size);
  let o = out.write('{"receipts":[', 0, 'latin1');
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i]!;
    if (i > 0) out[o++] = 0x2c;
    o += out.write(`{"seq":${r.seq},"leafHash":"${r.leafHash}","receivedAt":"${r.receivedAt}"${r.duplicate === true ? ',"duplicate":true}' : '}'}`, o, 'latin1');
  }
  o += out.write(']}', o, 'latin1');
  return out.subarray(0, o);
}

/** The only bodies the API takes, JSON and NDJSON, each turned into a value by `parse`; any other media type is refused. */
function setBodyParsers(app: FastifyInstance, parse: (bytes: Buffer, kind: BodyKind) => Promise<unknown>): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'buffer' }, (_req: FastifyRequest, bytes: Buffer) => parse(bytes, 'json'));
  app.addContentTypeParser(['application/x-ndjson', 'application/jsonl'], { parseAs: 'buffer' }, (_req: FastifyRequest, bytes: Buffer) => parse(bytes, 'ndjson'));
}

export function buildApp(opts: AppOptions): FastifyInstance {
  const svc = opts.service;
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...opts.limits };
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: limits.maxBodyBytes,
    // Receipts wait for a durable commit; do not let a slow disk trip Fastify's own timers.
    requestTimeout: 0,
    return503OnClosing: true,
    // One log line per request at 10k requests/s is a denial of service on the log itself.
    logController: new LogController({ disableRequestLogging: true }),
  });

  const bodyLimits: BodyLimits = { maxBytes: limits.maxBodyBytes, maxMembers: Math.max(limits.maxBatchEvents, 10_000), maxBatchEvents: limits.maxBatchEvents };
  setBodyParsers(app, async (bytes, kind) => parseBody(bytes, kind, bodyLimits));
  const ingest = new IngestThreads(opts.ingestThreads ?? 0, bodyLimits);
  svc.metrics.bodiesPrepared = () => ingest.prepared;
  app.addHook('onReady', async () => ingest.start());
  app.addHook('onClose', () => ingest.close());

  app.setErrorHandler((err, req, reply) => {
    const e = fromFrameworkError(err, { bodyLimit: limits.maxBodyBytes });
    if (e.code === 'INTERNAL') req.log.error({ err }, 'internal error');
    // An operator must see the store failing (disk full, read-only, database down) without a client telling them.
    else if (e.code === 'STORE_UNAVAILABLE') req.log.warn({ code: e.code, detail: e.message }, 'store unavailable');
    svc.metrics.rejected(e.code);
    sendProblem(reply, e, req.url);
  });
  app.setNotFoundHandler((req, reply) => {
    svc.metrics.rejected('NOT_FOUND');
    sendProblem(reply, new TrailsealError('NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`), req.url);
  });

  const authed =
    (scope: Scope) =>
    async (req: FastifyRequest): Promise<void> => {
      const p = await opts.auth.authenticate(req.headers.authorization);
      requireScope(p, scope);
      req.principal = p;
    };
  const tenantOf = (req: FastifyRequest): string => req.principal!.tenant ?? SYSTEM_TENANT;
  const actorOf = (req: FastifyRequest) => ({ id: req.principal!.keyId, type: 'service' as const, name: req.principal!.keyName });
  const sourceOf = (req: FastifyRequest) => (isIP(req.ip) ? { ip: req.ip } : undefined);
  const auditRead = async (req: FastifyRequest, operation: string, query: Record<string, unknown>, count: number): Promise<void> => {
    const source = sourceOf(req);
    await svc.serviceRecord(tenantOf(req), 'trailseal.audit.read', { type: 'audit_read', operation, query, count }, { actor: actorOf(req), ...(source ? { source } : {}) });
  };

  // --- operations ------------------------------------------------------------
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    await svc.store.ping().catch((e: unknown) => {
      throw isTrailsealError(e) ? e : new TrailsealError('STORE_UNAVAILABLE', 'the store does not answer');
    });
    reply.send({ status: 'ready', store: svc.store.kind, queued: svc.queued });
  });
  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(svc.metrics.render()));
  app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(openApiDocument()));
  registerVerifierPage(app);

  // --- ingest ------------------------------------------------------------------
  // Its own content type parsers (an encapsulated context): the body is
  // prepared whole, parsed, checked and cut into canonical parts, before the
  // handler runs, on an ingest thread if it is large.
  void app.register(async (scoped) => {
    setBodyParsers(scoped, (bytes, kind) => ingest.prepare(bytes, kind));
    scoped.post('/v1/events', { onRequest: authed('ingest') }, async (req, reply) => {
      const prepared = req.body as PreparedEvents | undefined;
      if (prepared === undefined) throw new TrailsealError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson');
      const receipts = await svc.ingest(tenantOf(req), prepared);
      reply.code(201).type('application/json; charset=utf-8').send(receiptsBody(receipts));
    });
  });

  // --- reads -------------------------------------------------------------------
  app.get('/v1/events/:seq', { onRequest: authed('read') }, async (req, reply) => {
    const tenant = tenantOf(req);
    const seq = seqParam((req.params as { seq: string }).seq, 'seq');
    const rec = await svc.store.getRecord(tenant, seq);
    if (rec === undefined) throw new TrailsealError('NOT_FOUND', `tenant ${tenant} has no record ${seq}`, { field: 'seq' });
    await auditRead(req, 'get', { seq }, 1);
    reply.type('application/json').send(rec.canonical);
  });

  app.get('/v1/events', { onRequest: authed('read') }, async (req, reply) => {
    const tenant = tenantOf(req);
    const q = req.query as Record<string, string | undefined>;
    const limit = q['limit'] === undefined ? 100 : intParam(q['limit'], 'limit', 1, limits.maxPage);
    let from: number;
    let to: number | undefined;
    if (q['cursor'] !== undefined) {
      ({ from, to } = decodeCursor(q['cursor']));
    } else {
      from = q['from'] === undefined ? 0 : seqParam(q['from'], 'from');
      if (q['since'] !== undefined) from = Math.max(from, await svc.store.seqAtTime(tenant, timeParam(q['since'], 'since')));
      if (q['until'] !== undefined) to = await svc.store.seqAtTime(tenant, timeParam(q['until'], 'until'));
    }
    const rows = await svc.store.listRecords(tenant, { fromSeq: from, ...(to !== undefined ? { toSeq: to } : {}), limit });
    const last = rows[rows.length - 1];
    const next = rows.length === limit && last !== undefined ? encodeCursor(last.seq + 1, to) : null;
    // The resolved range, not the raw query string: what was read, in bounded, validated values.
    await auditRead(req, 'list', { from, ...(to !== undefined ? { to } : {}), limit }, rows.length);
    // The records are sent as stored (canonical bytes), not re-serialized.
    reply.type('application/json').send(`{"records":[${rows.map((r) => r.canonical).join(',')}],"next":${JSON.stringify(next)}}`);
  });

  app.get('/v1/events/:seq/proof', { onRequest: authed('read') }, async (req, reply) => {
    const tenant = tenantOf(req);
    const seq = seqParam((req.params as { seq: string }).seq, 'seq');
    const q = req.query as Record<string, string | undefined>;
    let cp;
    if (q['size'] !== undefined) {
      const size = seqParam(q['size'], 'size');
      cp = await svc.store.checkpointAt(tenant, size);
      if (cp === undefined) throw new TrailsealError('NOT_FOUND', `no checkpoint of size ${size} was signed; omit size for the latest`, { field: 'size' });
    } else {
      cp = await svc.store.latestCheckpoint(tenant);
      // A record newer than the latest checkpoint gets a checkpoint signed now.
      if (cp === undefined || seq >= cp.size) cp = await svc.checkpoint(tenant);
    }
    if (seq >= cp.size) throw new TrailsealError('NOT_FOUND', `record ${seq} is not in the tree of size ${cp.size}`, { field: 'seq' });
    const proof = await inclusionProofAsync({ getNodes: (ids) => svc.store.getNodes(tenant, ids) }, seq, cp.size);
    reply.type('text/plain; charset=utf-8').send(formatTlogProof({ index: seq, proof, checkpoint: cp.note }));
  });

  app.get('/v1/checkpoint', { onRequest: authed('read') }, async (req, reply) => {
    const cp = await svc.store.latestCheckpoint(tenantOf(req));
    if (cp === undefined) throw new TrailsealError('NOT_FOUND', 'no checkpoint yet');
    reply.type('text/plain; charset=utf-8').send(cp.note);
  });

  app.post('/v1/checkpoint', { onRequest: authed('read') }, async (req, reply) => {
    const cp = await svc.checkpoint(tenantOf(req));
    reply.type('text/plain; charset=utf-8').send(cp.note);
  });

  app.get('/v1/consistency', { onRequest: authed('read') }, async (req, reply) => {
    const tenant = tenantOf(req);
    const q = req.query as Record<string, string | undefined>;
    if (q['from'] === undefined) throw new TrailsealError('QUERY_INVALID', 'from is required', { field: 'from' });
    if (q['to'] === undefined) throw new TrailsealError('QUERY_INVALID', 'to is required', { field: 'to' });
    const from = seqParam(q['from'], 'from');
    const to = seqParam(q['to'], 'to');
    const head = await svc.store.getHead(tenant);
    if (from < 1 || from > to) throw new TrailsealError('QUERY_INVALID', `need 1 <= from <= to, got from=${from} to=${to}`, { field: 'from' });
    if (head === undefined || to > head.size) throw new TrailsealError('QUERY_INVALID', `to=${to} is beyond the log's size ${head?.size ?? 0}`, { field: 'to' });
    const proof = await consistencyProofAsync({ getNodes: (ids) => svc.store.getNodes(tenant, ids) }, from, to);
    reply.type('text/plain; charset=utf-8').send(proof.map((h) => `${toBase64(h)}\n`).join(''));
  });

  // --- evidence bundles (docs/spec/bundle.md, "Export stream") ------------------
  app.post('/v1/exports', { onRequest: authed('export') }, async (req, reply) => {
    const tenant = tenantOf(req);
    const prepared = await prepareExport(svc, tenant, parseExportRequest(objectBody(req.body)));
    // The export is recorded before a byte of it leaves: an export that cannot be recorded does not happen.
    const source = sourceOf(req);
    const receipt = await svc.serviceRecord(tenant, 'trailseal.audit.export', exportAuditLog(prepared), { actor: actorOf(req), ...(source ? { source } : {}) });
    if (prepared.expected !== undefined) reply.header('trailseal-export-records', String(prepared.expected));
    reply.header('trailseal-export-seq', String(receipt.seq));
    reply.type('application/x-ndjson; charset=utf-8');
    // The next page is read from the store while the socket drains the one
    // before (a page is about 3 MB): with the default 16 KiB mark the two took
    // turns. Memory stays bounded by this mark plus one page.
    return reply.send(Readable.from(streamExport(svc, prepared, receipt.seq, Date.now()), { objectMode: false, highWaterMark: EXPORT_READ_AHEAD_BYTES }));
  });

  // --- streaming sinks (docs/streaming.md): they send records out, so they need the export scope
  const sinksOf = (): SinkService => {
    if (opts.sinks === undefined) throw new TrailsealError('NOT_FOUND', 'streaming is not enabled on this service');
    return opts.sinks;
  };
  const sinkId = (req: FastifyRequest): string => (req.params as { id: string }).id;
  app.post('/v1/sinks', { onRequest: authed('export') }, async (req, reply) => {
    const created = await sinksOf().create(tenantOf(req), parseSinkRequest(objectBody(req.body)), actorOf(req));
    reply.code(201).send(created);
  });
  app.get('/v1/sinks', { onRequest: authed('export') }, async (req) => ({ sinks: await sinksOf().list(tenantOf(req)) }));
  app.get('/v1/sinks/:id', { onRequest: authed('export') }, async (req) => {
    const s = sinksOf();
    return s.view(await s.get(tenantOf(req), sinkId(req)));
  });
  app.post('/v1/sinks/:id/pause', { onRequest: authed('export') }, async (req) => sinksOf().pause(tenantOf(req), sinkId(req), actorOf(req)));
  app.post('/v1/sinks/:id/resume', { onRequest: authed('export') }, async (req) => sinksOf().resume(tenantOf(req), sinkId(req), actorOf(req)));
  app.post('/v1/sinks/:id/replay', { onRequest: authed('export') }, async (req) => {
    const b = objectBody(req.body);
    const from = b['from_seq'];
    if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0) throw new TrailsealError('QUERY_INVALID', 'from_seq must be a non-negative integer', { field: 'from_seq' });
    return sinksOf().replay(tenantOf(req), sinkId(req), from, actorOf(req));
  });
  app.delete('/v1/sinks/:id', { onRequest: authed('export') }, async (req, reply) => {
    await sinksOf().delete(tenantOf(req), sinkId(req), actorOf(req));
    reply.code(204).send();
  });

  app.get('/v1/log', { onRequest: authed('read') }, async (req) => svc.logInfo(tenantOf(req)));

  registerTiles(app, {
    service: svc,
    authorize: async (req) => {
      await authed('read')(req);
      return tenantOf(req);
    },
    auditRead,
  });

  // --- administration (operator keys) -----------------------------------------
  app.post('/v1/admin/tenants', { onRequest: authed('admin') }, async (req, reply) => {
    const b = objectBody(req.body);
    const id = b['id'];
    const name = b['name'] ?? id;
    if (typeof id !== 'string') throw new TrailsealError('QUERY_INVALID', 'id must be a string', { field: 'id' });
    if (typeof name !== 'string' || name.length > 256) throw new TrailsealError('QUERY_INVALID', 'name must be a string of at most 256 characters', { field: 'name' });
    reply.code(201).send(await svc.createTenant(id, name, actorOf(req)));
  });

  app.get('/v1/admin/tenants', { onRequest: authed('admin') }, async () => {
    const rows = await svc.store.listTenants();
    return { tenants: rows.map((t) => ({ id: t.id, name: t.name, origin: t.origin, createdAt: t.createdAt })) };
  });

  app.post('/v1/admin/tenants/:id/keys', { onRequest: authed('admin') }, async (req, reply) => {
    const tenant = (req.params as { id: string }).id;
    const k = keyRequest(objectBody(req.body), ['ingest', 'read', 'export'], ['ingest', 'read']);
    reply.code(201).send(await svc.issueKey(tenant, k.name, k.scopes, k.expiresAt, actorOf(req)));
  });

  // Operator keys act on no tenant: administration, and reading the system log.
  app.post('/v1/admin/keys', { onRequest: authed('admin') }, async (req, reply) => {
    const k = keyRequest(objectBody(req.body), ['admin', 'read', 'export'], ['admin', 'read', 'export']);
    reply.code(201).send(await svc.issueKey(null, k.name, k.scopes, k.expiresAt, actorOf(req)));
  });

  const keyList = (rows: readonly ApiKeyRow[]) => ({
    keys: rows.map((k) => ({ id: k.id, name: k.name, scopes: k.scopes, createdAt: k.createdAt, expiresAt: k.expiresAt, revokedAt: k.revokedAt })),
  });
  app.get('/v1/admin/keys', { onRequest: authed('admin') }, async () => keyList(await svc.store.listApiKeys(null)));
  app.get('/v1/admin/tenants/:id/keys', { onRequest: authed('admin') }, async (req) => {
    const tenant = (req.params as { id: string }).id;
    if ((await svc.store.getTenant(tenant)) === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    return keyList(await svc.store.listApiKeys(tenant));
  });

  app.delete('/v1/admin/keys/:id', { onRequest: authed('admin') }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    await svc.revokeKey(id, actorOf(req));
    opts.auth.invalidate(id);
    reply.code(204).send();
  });

  app.post('/v1/admin/tenants/:id/rotate', { onRequest: authed('admin') }, async (req, reply) => {
    const tenant = (req.params as { id: string }).id;
    const b = objectBody(req.body);
    const purpose = b['purpose'];
    if (purpose !== 'signing' && purpose !== 'mac') throw new TrailsealError('QUERY_INVALID', 'purpose must be signing or mac', { field: 'purpose' });
    const reason = typeof b['reason'] === 'string' ? b['reason'].slice(0, 256) : 'operator request';
    const receipt = await svc.rotate(tenant, purpose, reason);
    reply.code(201).send({ receipt, verifierKey: (await svc.logInfo(tenant)).verifierKey });
  });

  return app;
}

function sendProblem(reply: FastifyReply, e: TrailsealError, instance: string): void {
  const p = problemOf(e, instance.split('?')[0]);
  if (e.code === 'OVERLOADED' || e.code === 'STORE_UNAVAILABLE') reply.header('retry-after', String(e.details['retryAfter'] ?? 1));
  if (e.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Bearer realm="trailseal"');
  reply.code(p.status).type('application/problem+json').send(JSON.stringify(p));
}

/** The body of a key issue: name, scopes (a non-empty subset of `allowed`), expiresAt. */
function keyRequest(b: Record<string, unknown>, allowed: readonly Scope[], defaults: readonly Scope[]): { name: string; scopes: Scope[]; expiresAt: string | null } {
  const name = b['name'] ?? 'api key';
  const scopes = b['scopes'] ?? defaults;
  const expiresAt = b['expiresAt'] ?? null;
  if (typeof name !== 'string' || name.length === 0 || name.length > 256) throw new TrailsealError('QUERY_INVALID', 'name must be 1 to 256 characters', { field: 'name' });
  if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => (allowed as readonly unknown[]).includes(s))) {
    throw new TrailsealError('QUERY_INVALID', `scopes must be a non-empty list of ${allowed.join(', ')}`, { field: 'scopes' });
  }
  if (expiresAt !== null && (typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt)))) {
    throw new TrailsealError('QUERY_INVALID', 'expiresAt must be an RFC 3339 date-time or null', { field: 'expiresAt' });
  }
  return { name, scopes: [...new Set(scopes as Scope[])], expiresAt: expiresAt as string | null };
}

function objectBody(body: unknown): Record<string, unknown> {
  const b = (body as Body | undefined)?.items;
  if (b === undefined || (body as Body).batch || b.length !== 1 || typeof b[0] !== 'object' || b[0] === null) {
    throw new TrailsealError('BODY_INVALID', 'the body must be one JSON object', { field: 'body' });
  }
  return b[0] as Record<string, unknown>;
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

function seqParam(v: string, field: string): number {
  if (!DECIMAL.test(v) || !Number.isSafeInteger(Number(v))) throw new TrailsealError('QUERY_INVALID', `${field} must be a decimal integer without leading zeros`, { field });
  return Number(v);
}

function intParam(v: string, field: string, min: number, max: number): number {
  const n = seqParam(v, field);
  if (n < min || n > max) throw new TrailsealError('QUERY_INVALID', `${field} must be between ${min} and ${max}`, { field });
  return n;
}

function timeParam(v: string, field: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new TrailsealError('QUERY_INVALID', `${field} must be an RFC 3339 date-time`, { field });
  return ms;
}

function encodeCursor(from: number, to: number | undefined): string {
  return Buffer.from(to === undefined ? `v1:${from}` : `v1:${from}:${to}`).toString('base64url');
}

function decodeCursor(c: string): { from: number; to: number | undefined } {
  const m = /^v1:(0|[1-9]\d{0,15})(?::(0|[1-9]\d{0,15}))?$/.exec(Buffer.from(c, 'base64url').toString('latin1'));
  if (m === null) throw new TrailsealError('QUERY_INVALID', 'cursor is not one this service issued', { field: 'cursor' });
  return { from: Number(m[1]), to: m[2] === undefined ? undefined : Number(m[2]) };
}
