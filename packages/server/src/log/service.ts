// The log service without HTTP: tenants, their writers, the ingest queue
// limit, service records and the checkpoint cadence. The HTTP layer (http/)
// and the `trailseal tenant create --data` command both drive this class.
import { randomBytes } from 'node:crypto';
import { LogSealer, TENANT_RE, TrailsealError, deriveSigningSeed, type PreparedEvents, type SealedRecord, type SystemEventFields } from '@trailseal/format';
import { issueApiKey } from '../auth.js';
import type { KeyWrapper } from '../keyring.js';
import { Metrics } from '../metrics.js';
import type { Scope, Store, TenantRow } from '../store/types.js';
import { TenantWriter, type Receipt } from './writer.js';

/** The log the service writes its own records to (service start and stop, tenant creation). */
export const SYSTEM_TENANT = 'trailseal-system';
const RESERVED_PREFIX = 'trailseal-';

export interface LogServiceOptions {
  readonly store: Store;
  readonly wrapper: KeyWrapper;
  /** Host-like name under which tenants' checkpoint origins are `<logName>/tenants/<id>`. */
  readonly logName: string;
  readonly maxBatch?: number;
  readonly batchWindowMs?: number;
  /** Events queued across all tenants before ingest answers 503. */
  readonly maxQueue?: number;
  /** Checkpoint cadence while a log grows, in ms; 0 disables the timer. */
  readonly checkpointIntervalMs?: number;
  readonly now?: () => number;
}

export interface CreatedTenant {
  readonly id: string;
  readonly apiKey: string;
  readonly verifierKey: string;
}

export class LogService {
  readonly store: Store;
  readonly metrics = new Metrics();
  readonly #wrapper: KeyWrapper;
  readonly #logName: string;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #batchWindowMs: number;
  readonly #now: () => number;
  readonly #writers = new Map<string, Promise<TenantWriter>>();
  readonly #ready = new Map<string, TenantWriter>();
  #queued = 0;
  /** Called after every commit with the tenant: the delivery engine wakes its sinks. */
  onCommit: (tenant: string) => void = () => undefined;
  /** Where background failures (checkpoint signing) are reported; the server points it at its structured log. */
  reportError: (message: string, err: unknown) => void = () => undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: LogServiceOptions) {
    this.store = opts.store;
    this.#wrapper = opts.wrapper;
    this.#logName = opts.logName;
    this.#maxQueue = opts.maxQueue ?? 100_000;
    this.#maxBatch = opts.maxBatch ?? 1000;
    this.#batchWindowMs = opts.batchWindowMs ?? 0;
    this.#now = opts.now ?? Date.now;
    this.metrics.queueDepth = () => this.#queued;
    this.metrics.checkpointAgeSeconds = () => this.#checkpointAges();
    const every = opts.checkpointIntervalMs ?? 1000;
    if (every > 0) {
      this.#timer = setInterval(() => void this.checkpointGrowing(), every);
      this.#timer.unref();
    }
  }

  get queued(): number {
    return this.#queued;
  }

  /** Creates the schema and the system log if needed. */
  async init(): Promise<void> {
    await this.store.migrate();
    if ((await this.store.getTenant(SYSTEM_TENANT)) === undefined) {
      try {
        await this.#createTenantRow(SYSTEM_TENANT, 'Trailseal service log');
      } catch (e) {
        // Another process created it first.
        if (!(e instanceof TrailsealError && e.code === 'TENANT_EXISTS')) throw e;
      }
    }
  }

  origin(tenant: string): string {
    return `${this.#logName}/tenants/${tenant}`;
  }

  /** The tenant's writer, loading the tenant and unwrapping its key on first use. */
  writer(tenant: string): Promise<TenantWriter> {
    let w = this.#writers.get(tenant);
    if (w === undefined) {
      w = this.#loadWriter(tenant);
      this.#writers.set(tenant, w);
      w.then(
        (ready) => this.#ready.set(tenant, ready),
        () => this.#writers.delete(tenant),
      );
    }
    return w;
  }

  async #loadWriter(tenant: string): Promise<TenantWriter> {
    const row = await this.store.getTenant(tenant);
    if (row === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    const key = await this.#wrapper.unwrap(row.id, row.wrappedKey);
    return new TenantWriter(
      this.store,
      row,
      key,
      { maxBatch: this.#maxBatch, batchWindowMs: this.#batchWindowMs, now: this.#now },
      {
        committed: (t, s) => {
          this.metrics.observeCommit(s.ms, s.events, s.records);
          this.onCommit(t);
        },
        dequeued: (n) => {
          this.#queued -= n;
        },
      },
    );
  }

  /**
   * Appends validated events for one tenant, prepared (readEvents, or
   * preparedFromParts of canonicalEventParts); OVERLOADED when the queue is
   * full (nothing is queued then).
   */
  async ingest(tenant: string, events: PreparedEvents): Promise<Receipt[]> {
    const w = await this.writer(tenant);
    const count = events.ids.length;
    if (this.#queued + count > this.#maxQueue) {
      throw new TrailsealError('OVERLOADED', `the ingest queue holds ${this.#queued} events (limit ${this.#maxQueue}); retry with the same event ids`, { retryAfter: 1 });
    }
    this.#queued += count;
    try {
      return await w.append(events);
    } catch (e) {
      this.metrics.commitFailures++;
      throw e;
    }
  }

  /** Writes one service record (docs/spec/event-record.md, "Service records") to a tenant's log. */
  async serviceRecord(tenant: string, action: string, log: Record<string, unknown>, fields: SystemEventFields = {}): Promise<Receipt> {
    const w = await this.writer(tenant);
    const [r] = await w.appendSystem((s, at) => ({ records: [s.systemEvent(action, log, at, fields)] }));
    return r!;
  }

  /** Rotates a tenant's signing key or MAC key generation, as a signed record in its log. */
  async rotate(tenant: string, purpose: 'signing' | 'mac', reason: string): Promise<Receipt> {
    const w = await this.writer(tenant);
    const [r] = await w.appendSystem((s, at, head): { records: SealedRecord[]; signingRotated?: boolean } =>
      purpose === 'mac'
        ? { records: [s.rotateMacKeys(at, reason)] }
        : { records: [s.rotateSigningKey(w.signingSeed(head.signingGeneration + 1), at, reason)], signingRotated: true },
    );
    return r!;
  }

  /** A tenant's log as a verifier sees it now: origin, size, and the verifier key signing its checkpoints. */
  async logInfo(tenant: string): Promise<{ tenant: string; origin: string; size: number; verifierKey: string }> {
    const w = await this.writer(tenant);
    const head = await this.store.getHead(tenant);
    if (head === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    return { tenant, origin: w.tenant.origin, size: head.size, verifierKey: w.verifierKeyAt(head.signingGeneration) };
  }

  /**
   * Creates a tenant: a random tenant key (stored wrapped), the genesis
   * record and its first checkpoint, and an API key with the ingest, read and
   * export scopes. The system log records the creation.
   */
  async createTenant(id: string, name: string, actor?: SystemEventFields['actor']): Promise<CreatedTenant> {
    if (!TENANT_RE.test(id)) throw new TrailsealError('QUERY_INVALID', `tenant id ${JSON.stringify(id)} must match ${TENANT_RE.source}`, { field: 'id' });
    if (id.startsWith(RESERVED_PREFIX)) throw new TrailsealError('QUERY_INVALID', `tenant ids starting with ${RESERVED_PREFIX} are reserved`, { field: 'id' });
    const verifierKey = await this.#createTenantRow(id, name);
    const issued = issueApiKey({ tenant: id, name: 'initial', scopes: ['ingest', 'read', 'export'], now: new Date(this.#now()) });
    await this.store.putApiKey(issued.row);
    await this.serviceRecord(id, 'trailseal.apikey.create', { type: 'api_key', key_id: issued.row.id, name: issued.row.name, scopes: [...issued.row.scopes] }, actor ? { actor } : {});
    await this.serviceRecord(SYSTEM_TENANT, 'trailseal.tenant.create', { type: 'tenant', tenant: id, origin: this.origin(id), verifier_key: verifierKey }, actor ? { actor } : {});
    return { id, apiKey: issued.token, verifierKey };
  }

  async #createTenantRow(id: string, name: string): Promise<string> {
    const key = new Uint8Array(randomBytes(32));
    const origin = this.origin(id);
    const row: TenantRow = { id, name, origin, wrappedKey: await this.#wrapper.wrap(id, key), keyWrapper: this.#wrapper.id, createdAt: new Date(this.#now()).toISOString() };
    const sealer = new LogSealer({ tenant: id, origin, tenantKey: key, signingSeed: deriveSigningSeed(key, 0) });
    const at = this.#now();
    const genesis = sealer.genesis(at);
    const st = sealer.state;
    await this.store.createTenant(row, {
      records: [{ sealed: genesis, eventId: null }],
      head: { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: st.macGeneration, signingGeneration: 0, lastReceivedAtMs: at },
    });
    await this.store.putCheckpoint(id, { size: 1, note: sealer.checkpoint() });
    return sealer.verifierKey;
  }

  /** Issues another API key for a tenant (or an operator key with tenant null). */
  async issueKey(tenant: string | null, name: string, scopes: readonly Scope[], expiresAt: string | null, actor?: SystemEventFields['actor']): Promise<{ id: string; apiKey: string }> {
    if (tenant !== null && (await this.store.getTenant(tenant)) === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
    const issued = issueApiKey({ tenant, name, scopes, expiresAt, now: new Date(this.#now()) });
    await this.store.putApiKey(issued.row);
    await this.serviceRecord(tenant ?? SYSTEM_TENANT, 'trailseal.apikey.create', { type: 'api_key', key_id: issued.row.id, name, scopes: [...scopes] }, actor ? { actor } : {});
    return { id: issued.row.id, apiKey: issued.token };
  }

  async revokeKey(id: string, actor?: SystemEventFields['actor']): Promise<void> {
    const row = await this.store.getApiKey(id);
    if (row === undefined || !(await this.store.revokeApiKey(id, new Date(this.#now()).toISOString()))) {
      throw new TrailsealError('NOT_FOUND', `no unrevoked API key ${id}`, { field: 'id' });
    }
    await this.serviceRecord(row.tenant ?? SYSTEM_TENANT, 'trailseal.apikey.revoke', { type: 'api_key', key_id: id }, actor ? { actor } : {});
  }

  /** Signs a checkpoint for every tenant this process wrote to since its last checkpoint. */
  async checkpointGrowing(): Promise<void> {
    for (const w of [...this.#ready.values()]) {
      if (w.committedSize <= w.lastCheckpointSize) continue;
      await w.checkpoint().catch((e: unknown) => this.reportError(`checkpoint of tenant ${w.tenant.id} failed`, e));
    }
  }

  /** A fresh checkpoint of the tenant's committed head (signed now if none covers it). */
  async checkpoint(tenant: string): Promise<{ size: number; note: string }> {
    return (await this.writer(tenant)).checkpoint();
  }

  #checkpointAges(): Map<string, number> {
    const out = new Map<string, number>();
    const now = this.#now();
    for (const [tenant, w] of this.#ready) if (w.lastCheckpointAt > 0) out.set(tenant, (now - w.lastCheckpointAt) / 1000);
    return out;
  }

  /** Stops the checkpoint timer and signs a last checkpoint for every tenant written to. */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.checkpointGrowing();
  }
}
