// @trailseal/client: the TypeScript SDK for producers and readers of a
// Trailseal log service. Pure: uses only fetch, AbortController, timers and
// Web Crypto, so it runs in Node.js >= 18, browsers, Deno and Bun.
export { TrailsealClient } from './client.js';
export { TrailsealClientError, type ClientErrorCode, type FieldError, type TrailsealClientErrorInit } from './errors.js';
export { RETRYABLE_STATUSES, backoffDelay, parseRetryAfter, retryDelay } from './retry.js';
export type { ApiKey, ApiKeyOptions, ClientOptions, ErrorContext, ListOptions, ListQuery, Page, Receipt, RecordResult, RecordsOptions, StoredRecord, Tenant, TrailsealEvent } from './types.js';

export const VERSION = '0.1.0';
