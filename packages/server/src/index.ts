// Public API of @trailseal/server: the service, its stores and its pieces, for
// embedding and for tests. The `trailseal` command is src/cli/main.ts.
export * from './auth.js';
export * from './config.js';
export * from './keyring.js';
export * from './metrics.js';
export * from './server.js';
export { buildApp, DEFAULT_HTTP_LIMITS, type AppOptions, type HttpLimits } from './http/app.js';
export { problemOf, PROBLEM_TYPE_PREFIX, type Problem } from './http/problem.js';
export { prepareEvents, prepareEventsStrictly, type BodyKind, type BodyLimits } from './http/body.js';
export { IngestThreads, THREAD_MIN_BYTES, type PreparedCounts } from './http/ingest.js';
export { LogService, SYSTEM_TENANT, type CreatedTenant, type LogServiceOptions } from './log/service.js';
export { TenantWriter, type Receipt } from './log/writer.js';
export * from './store/types.js';
export { SqliteStore } from './store/sqlite.js';
export { SQLITE_PAGE_SIZE, configureSqlite } from './store/sqlite-engine.js';
export { PostgresStore } from './store/postgres.js';
export { openApiDocument } from './http/openapi.js';
export { exportBundle, type ExportOptions, type ExportResult } from './cli/export.js';
export * from './stream/formats.js';
export { SinkService, parseSinkRequest, type CreateSinkRequest, type SinkView } from './stream/sinks.js';
export { DeliveryEngine, type DeliveryBatch, type EngineOptions, type Heartbeat, type SinkHealth, type Transport } from './stream/engine.js';
