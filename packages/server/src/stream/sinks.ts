// Sinks of a tenant (docs/streaming.md): created, listed, paused, resumed,
// replayed and deleted through the API, each change a record in the tenant's
// log; delivered by the DeliveryEngine. A sink's secret is generated here,
// shown once, and stored only wrapped by the key wrapper.
import { randomBytes } from 'node:crypto';
import { TrailsealError, canonicalize, parseEventFilter, type EventFilter, type SystemEventFields } from '@trailseal/format';
import type { KeyWrapper } from '../keyring.js';
import type { LogService } from '../log/service.js';
import type { SinkKind, SinkRow } from '../store/types.js';
import { DeliveryEngine, type DeliveryBatch, type EngineOptions, type SinkHealth, type Transport } from './engine.js';
import { formatRecord, type StreamFormat } from './formats.js';
import { WebhookTransport, parseWebhookConfig } from './webhook.js';

export const SINK_KINDS: readonly SinkKind[] = ['webhook'];
export const STREAM_FORMATS: readonly StreamFormat[] = ['json', 'ocsf', 'cef'];

export interface CreateSinkRequest {
  readonly name: string;
  readonly kind: SinkKind;
  readonly config: Record<string, unknown>;
  readonly filter?: EventFilter;
  readonly format: StreamFormat;
  /** First seq to deliver (default: the log's size now, so only new events). */
  readonly fromSeq?: number;
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

/** Validates the body of POST /v1/sinks. */
export function parseSinkRequest(body: Record<string, unknown>): CreateSinkRequest {
  const allowed = ['name', 'kind', 'config', 'filter', 'format', 'from_seq'];
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw bad(k, `is not a sink setting (${allowed.join(', ')})`);
  const name = body['name'];
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) throw bad('name', 'must be a string of 1 to 128 characters');
  const kind = body['kind'];
  if (typeof kind !== 'string' || !(SINK_KINDS as readonly string[]).includes(kind)) throw bad('kind', `must be one of ${SINK_KINDS.join(', ')}`);
  const format = body['format'] ?? 'json';
  if (typeof format !== 'string' || !(STREAM_FORMATS as readonly string[]).includes(format)) throw bad('format', `must be one of ${STREAM_FORMATS.join(', ')}`);
  const config = parseWebhookConfig(body['config']);
  const fromSeq = body['from_seq'];
  if (fromSeq !== undefined && (typeof fromSeq !== 'number' || !Number.isSafeInteger(fromSeq) || fromSeq < 0)) throw bad('from_seq', 'must be a non-negative integer');
  return {
    name,
    kind: kind as SinkKind,
    config: { ...config },
    ...(body['filter'] !== undefined ? { filter: parseEventFilter(body['filter'], 'filter', bad) } : {}),
    format: format as StreamFormat,
    ...(fromSeq !== undefined ? { fromSeq } : {}),
  };
}

const SECRET_AAD = (sink: SinkRow | { tenant: string; id: string }): string => `${sink.tenant}#sink:${sink.id}`;

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
    if (sink.secret === null) throw new TrailsealError('INTERNAL', `sink ${sink.id} has no secret`);
    const secret = `whsec_${Buffer.from(await this.wrapper.unwrap(SECRET_AAD(sink), sink.secret)).toString('base64')}`;
    const format = sink.format as StreamFormat;
    const formatEvent = (b: DeliveryBatch, i: number): string => {
      const r = b.records[i]!;
      const text = formatRecord(format, r.record, { origin: b.origin, leafHash: r.leafHash });
      // CEF is a line of text; json and ocsf are JSON already.
      return format === 'cef' ? JSON.stringify(text) : text;
    };
    return new WebhookTransport(parseWebhookConfig(JSON.parse(sink.config)), secret, formatEvent);
  }

  async create(tenant: string, req: CreateSinkRequest, actor?: SystemEventFields['actor']): Promise<{ sink: SinkView; secret: string }> {
    const head = await this.svc.store.getHead(tenant);
    if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    if (req.fromSeq !== undefined && req.fromSeq > head.size) throw bad('from_seq', `is beyond the log's size ${head.size}`);
    const id = `snk_${randomBytes(8).toString('hex')}`;
    const key = new Uint8Array(randomBytes(32));
    const row: SinkRow = {
      id,
      tenant,
      name: req.name,
      kind: req.kind,
      config: canonicalize(req.config),
      secret: await this.wrapper.wrap(SECRET_AAD({ tenant, id }), key),
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
    return { sink: await this.view(row), secret: `whsec_${Buffer.from(key).toString('base64')}` };
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
