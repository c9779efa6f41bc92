// Wiring: configuration -> store -> keys -> log service -> HTTP. Used by
// `trailseal serve`, `npm start` and the tests (which start real servers on
// port 0).
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Authenticator, issueApiKey } from './auth.js';
import type { ServeConfig } from './config.js';
import { buildApp } from './http/app.js';
import { LocalKeyWrapper, loadRootKey, type KeyWrapper } from './keyring.js';
import { LogService, SYSTEM_TENANT } from './log/service.js';
import { SqliteStore } from './store/sqlite.js';
import { SQLITE_PAGE_SIZE } from './store/sqlite-engine.js';
import { SinkService } from './stream/sinks.js';
import type { Store } from './store/types.js';

export const VERSION = '0.1.0';

/** The SQLite database of a data directory. */
export function sqlitePath(dataDir: string): string {
  return join(dataDir, 'trailseal.db');
}

export async function openStore(cfg: Pick<ServeConfig, 'store' | 'dataDir'>): Promise<Store> {
  if (cfg.store === 'sqlite') {
    mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    return new SqliteStore({ path: sqlitePath(cfg.dataDir) });
  }
  // Loaded only when asked for: the embedded default never loads the pg driver.
  const { PostgresStore } = await import('./store/postgres.js');
  return PostgresStore.connect({ url: cfg.store });
}

export function openKeyWrapper(cfg: Pick<ServeConfig, 'rootKeyFile' | 'dataDir'>, create: boolean): { wrapper: KeyWrapper; created: boolean; source: string } {
  if (create) mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const root = loadRootKey({ env: process.env['TRAILSEAL_ROOT_KEY'], file: cfg.rootKeyFile, create });
  return { wrapper: new LocalKeyWrapper(root.key), created: root.created, source: root.source };
}

export interface RunningService {
  readonly app: FastifyInstance;
  readonly service: LogService;
  readonly url: string;
  /** The operator token, when this start created it (shown once, stored hashed). */
  readonly adminToken: string | undefined;
  /** What the operator should know about this start (`trailseal serve` prints them; also logged as warnings). */
  readonly notices: readonly string[];
  close(): Promise<void>;
}

export async function startService(cfg: ServeConfig, opts: { logger?: boolean | object } = {}): Promise<RunningService> {
  const keys = openKeyWrapper(cfg, true);
  const store = await openStore(cfg);
  const service = new LogService({
    store,
    wrapper: keys.wrapper,
    logName: cfg.logName,
    maxBatch: cfg.maxBatch,
    batchWindowMs: cfg.batchWindowMs,
    maxQueue: cfg.maxQueue,
    checkpointIntervalMs: cfg.checkpointIntervalMs,
  });
  await service.init();
  let adminToken: string | undefined;
  if ((await store.listApiKeys(null)).length === 0) {
    // Several processes may start together on a new database: one wins.
    const issued = issueApiKey({ tenant: null, name: 'admin (first start)', scopes: ['admin', 'read', 'export'], now: new Date() });
    if (await store.putFirstOperatorKey(issued.row)) {
      await service.serviceRecord(SYSTEM_TENANT, 'trailseal.apikey.create', { type: 'api_key', key_id: issued.row.id, name: issued.row.name, scopes: [...issued.row.scopes] });
      adminToken = issued.token;
    }
  }
  const sinks = new SinkService(service, keys.wrapper, {
    heartbeatMs: cfg.sinkHeartbeatMs,
    pauseAfterMs: cfg.sinkPauseAfterMs,
    leaseMs: cfg.sinkLeaseMs,
  });
  const app = buildApp({
    service,
    sinks,
    auth: new Authenticator(store),
    limits: { maxBodyBytes: cfg.maxBodyBytes, maxBatchEvents: cfg.maxBatchEvents },
    ingestThreads: cfg.ingestThreads,
    logger: opts.logger ?? (cfg.logLevel === 'silent' ? false : { level: cfg.logLevel }),
  });
  service.reportError = (message, err) => app.log.error({ err }, message);
  await sinks.engine.start();
  await app.listen({ host: cfg.host, port: cfg.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : cfg.port;
  const url = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
  const notices: string[] = [];
  if (store instanceof SqliteStore) {
    const pageSize = store.pageSize();
    if (pageSize < SQLITE_PAGE_SIZE) {
      notices.push(
        `The SQLite database has pages of ${pageSize} bytes; databases this build creates have ${SQLITE_PAGE_SIZE}, which cost its writer thread about two fifths less CPU per record. To rebuild it, stop the service and run: trailseal store rebuild --data ${cfg.dataDir} (docs/operations.md, "SQLite page size").`,
      );
    }
  }
  for (const n of notices) app.log.warn(n);
  const about = { type: 'service', version: VERSION, host: hostname(), pid: process.pid, store: store.kind, url };
  await service.serviceRecord(SYSTEM_TENANT, 'trailseal.service.start', about);
  let closing: Promise<void> | undefined;
  return {
    app,
    service,
    url,
    adminToken,
    notices,
    close: () => {
      closing ??= (async () => {
        await app.close();
        await sinks.engine.stop();
        await service.serviceRecord(SYSTEM_TENANT, 'trailseal.service.stop', about).catch(() => undefined);
        await service.close();
        await store.close();
      })();
      return closing;
    },
  };
}
