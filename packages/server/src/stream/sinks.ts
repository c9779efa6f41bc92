// Sinks of a tenant (docs/streaming.md): created, listed, paused, resumed,
// replayed and deleted through the API, each change a record in the tenant's
// log; delivered by the DeliveryEngine. A sink's secret is generated here,
// shown once, and stored only wrapped by the key wrapper.
import { randomBytes } from 'node:crypto';
import { TrailsealError, canonicalize, parseEventFilter, type EventFilter, type SystemEventFields } from '@trailseal/format';
import type { KeyWrapper } from '../keyring.js';
import type { LogService } from '../log/service.js';
import type { SinkKind, SinkRow } from '../store/types.js';
import { DeliveryEngine, type EngineOptions, type SinkHealth, type Transport } from './engine.js';
import { formatRecord, type StreamFormat } from './formats.js';
import { SINK_KIND_SPECS, type SinkKindSpec } from './kinds.js';
import { openSecret, sealSecret, sinkSecretContext } from './secrets.js';

export const STREAM_FORMATS: readonly StreamFormat[] = ['json', 'ocsf', 'cef'];
/** Longest secret a request may give (a token). */
const MAX_SECRET = 4096;

export interface CreateSinkRequest {
  readonly name: string;
  readonly kind: SinkKind;
  readonly config: Record<string, unknown>;
  readonly filter?: EventFilter;
  readonly format: StreamFormat;
  /** First seq to deliver (default: the log's size now, so only new events). */
  readonly fromSeq?: number;
  /** For kinds that take a secret from the request (a token). */
  readonly secret?: string;
}

export interface SinkView {
  readonly id: string;
  readonly name: string;
  readonly kind: SinkKind;
  readonly config: unknown;
  readonly filter: unknown;
  readonly format: string;
  readonly createdAt: string;
  readonly health: SinkHealth;
}

function bad(field: string, message: string): TrailsealError {
  return new TrailsealError('QUERY_INVALID', `${field} ${message}`, { field });
}

function kindSpec(kind: string): SinkKindSpec {
  const spec = SINK_KIND_SPECS[kind];
  if (spec === undefined) throw new TrailsealError('INTERNAL', `no sink kind ${kind}`);
  return spec;
}

/** Validates the body of POST /v1/sinks. */
export function parseSinkRequest(body: Record<string, unknown>): CreateSinkRequest {
  const allowed = ['name', 'kind', 'config', 'filter', 'format', 'from_seq', 'secret'];
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw bad(k, `is not a sink setting (${allowed.join(', ')})`);
  const name = body['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw bad('name', 'must be a string of 1 to 128 characters');
  const kind = body['kind'];
  const kinds = Object.keys(SINK_KIND_SPECS);
  if (typeof kind !== 'string' || !Object.hasOwn(SINK_KIND_SPECS, kind)) throw bad('kind', `must be one of ${kinds.join(', ')}`);
  const spec = kindSpec(kind);
  const format = body['format'] ?? 'json';
  if (typeof format !== 'string' || !(STREAM_FORMATS as readonly string[]).includes(format)) throw bad('format', `must be one of ${STREAM_FORMATS.join(', ')}`);
  const config = spec.parseConfig(body['config']);
  const fromSeq = body['from_seq'];
  if (fromSeq !== undefined && (typeof fromSeq !== 'number' || !Number.isSafeInteger(fromSeq) || fromSeq < 0)) throw bad('from_seq', 'must be a non-negative integer');
  const secret = body['secret'];
  if (secret !== undefined && (spec.secret === 'generated' || spec.secret === 'none')) throw bad('secret', `is not taken by a ${kind} sink${spec.secret === 'generated' ? ' (the service makes one)' : ''}`);
  if (secret === undefined && spec.secret === 'provided') throw bad('secret', `is required for a ${kind} sink`);
  if (secret !== undefined && (typeof secret !== 'string' || secret.length === 0 || secret.length > MAX_SECRET)) throw bad('secret', `must be a string of 1 to ${MAX_SECRET} characters`);
  if (typeof secret === 'string' && spec.checkSecret !== undefined) {
    try {
      spec.checkSecret(secret);
    } catch (e) {
      throw new TrailsealError('QUERY_INVALID', (e as Error).message, { field: 'secret' });
    }
  }
  return {
    name,
    kind: kind as SinkKind,
    config,
    ...(body['filter'] !== undefined ? { filter: parseEventFilter(body['filter'], 'filter', bad) } : {}),
    format: format as StreamFormat,
    ...(fromSeq !== undefined ? { fromSeq } : {}),
    ...(typeof secret === 'string' ? { secret } : {}),
  };
}

export class SinkService {
  readonly engine: DeliveryEngine;

  constructor(
    private readonly svc: LogService,
    private readonly wrapper: KeyWrapper,
    opts: EngineOptions = {},
  ) {
    this.engine = new DeliveryEngine(
      {
        store: svc.store,
        transport: (sink) => this.#transport(sink),
        origin: (tenant) => svc.origin(tenant),
        alert: async (tenant, action, log) => {
          await svc.serviceRecord(tenant, action, log);
        },
        reportError: (message, err) => svc.reportError(message, err),
        metrics: {
          delivered: (sink, n) => svc.metrics.sinkDelivered(sink.tenant, sink.id, n),
          failed: (sink) => svc.metrics.sinkFailed(sink.tenant, sink.id),
        },
      },
      opts,
    );
    svc.metrics.sinkLags = () => this.engine.lags();
    svc.onCommit = (tenant) => this.engine.notify(tenant);
  }

  async #transport(sink: SinkRow): Promise<Transport> {
    const secret = sink.secret === null ? undefined : await openSecret(this.wrapper, sinkSecretContext(sink.tenant, sink.id), sink.secret);
    const format = sink.format as StreamFormat;
    return kindSpec(sink.kind).transport(JSON.parse(sink.config) as Record<string, unknown>, secret, {
      format,
      formatEvent: (b, i) => {
        const r = b.records[i]!;
        return formatRecord(format, r.record, { origin: b.origin, leafHash: r.leafHash });
      },
    });
  }

  /** Creates a sink; `secret` is the generated one (shown once), absent for kinds that take theirs from the request. */
  async create(tenant: string, req: CreateSinkRequest, actor?: SystemEventFields['actor']): Promise<{ sink: SinkView; secret?: string }> {
    const head = await this.svc.store.getHead(tenant);
    if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    if (req.fromSeq !== undefined && req.fromSeq > head.size) throw bad('from_seq', `is beyond the log's size ${head.size}`);
    const id = `snk_${randomBytes(8).toString('hex')}`;
    const spec = kindSpec(req.kind);
    const generated = spec.secret === 'generated' ? spec.generateSecret!() : undefined;
    const secret = generated ?? req.secret;
    const row: SinkRow = {
      id,
      tenant,
      name: req.name,
      kind: req.kind,
      config: canonicalize(req.config),
      secret: secret === undefined ? null : await sealSecret(this.wrapper, sinkSecretContext(tenant, id), secret),
      filter: canonicalize(req.filter ?? {}),
      format: req.format,
      state: 'active',
      cursor: req.fromSeq ?? head.size,
      createdAt: new Date().toISOString(),
      lastError: null,
      lastErrorAt: null,
      pausedReason: null,
    };
    await this.svc.store.putSink(row);
    await this.#record(tenant, 'trailseal.sink.create', row, actor, { kind: row.kind, format: row.format, filter: req.filter ?? {}, from_seq: row.cursor });
    await this.engine.sync();
    return { sink: await this.view(row), ...(generated !== undefined ? { secret: generated } : {}) };
  }

  async #record(tenant: string, action: string, sink: SinkRow, actor: SystemEventFields['actor'] | undefined, extra: Record<string, unknown> = {}): Promise<void> {
    await this.svc.serviceRecord(tenant, action, { type: 'sink', sink_id: sink.id, name: sink.name, ...extra }, actor ? { actor } : {});
  }

  async view(row: SinkRow): Promise<SinkView> {
    return { id: row.id, name: row.name, kind: row.kind, config: JSON.parse(row.config), filter: JSON.parse(row.filter), format: row.format, createdAt: row.createdAt, health: await this.engine.health(row) };
  }

  /** The tenant's sink, or NOT_FOUND (another tenant's sink is not found either). */
  async get(tenant: string, id: string): Promise<SinkRow> {
    const row = await this.svc.store.getSink(id);
    if (row === undefined || row.tenant !== tenant) throw new TrailsealError('NOT_FOUND', `tenant ${tenant} has no sink ${id}`, { field: 'id' });
    return row;
  }

  async list(tenant: string): Promise<SinkView[]> {
    return Promise.all((await this.svc.store.listSinks(tenant)).map((r) => this.view(r)));
  }

  async pause(tenant: string, id: string, actor?: SystemEventFields['actor']): Promise<SinkView> {
    const row = await this.get(tenant, id);
    await this.svc.store.patchSink(id, { state: 'paused', pausedReason: 'paused by an operator' });
    await this.#record(tenant, 'trailseal.sink.pause', row, actor);
    await this.engine.sync();
    return this.view(await this.get(tenant, id));
  }

  async resume(tenant: string, id: string, actor?: SystemEventFields['actor']): Promise<SinkView> {
    const row = await this.get(tenant, id);
    await this.svc.store.patchSink(id, { state: 'active', pausedReason: null });
    await this.#record(tenant, 'trailseal.sink.resume', row, actor);
    await this.engine.sync();
    return this.view(await this.get(tenant, id));
  }

  async replay(tenant: string, id: string, fromSeq: number, actor?: SystemEventFields['actor']): Promise<SinkView> {
    const row = await this.get(tenant, id);
    const head = await this.svc.store.getHead(tenant);
    if (fromSeq > (head?.size ?? 0)) throw bad('from_seq', `is beyond the log's size ${head?.size ?? 0}`);
    await this.engine.replay(id, fromSeq);
    await this.#record(tenant, 'trailseal.sink.replay', row, actor, { from_seq: fromSeq });
    return this.view(await this.get(tenant, id));
  }

  async delete(tenant: string, id: string, actor?: SystemEventFields['actor']): Promise<void> {
    const row = await this.get(tenant, id);
    await this.svc.store.deleteSink(id);
    await this.#record(tenant, 'trailseal.sink.delete', row, actor);
    await this.engine.sync();
  }
}
