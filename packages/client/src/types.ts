import type { TrailsealClientError } from './errors.js';

/**
 * An event as a producer sends it (event record v1, docs/spec/event-record.md).
 * The type is deliberately loose: the service is the one validator, and the
 * schema can grow without a client release. The members are:
 *
 * - `id` (string, 1..128 printable ASCII, no space): the idempotency key.
 *   Optional here: the client assigns `crypto.randomUUID()` when it is absent.
 *   Give your own when the same logical event may be emitted twice (for
 *   example by a job that is re-run), so that the log stores it once.
 * - `time` (required): RFC 3339 date-time with `Z` or an offset, when it
 *   happened. A `Date` works too: JSON.stringify turns it into such a string.
 * - `action` (required): dotted lower-case name, e.g. `file.download`.
 * - `outcome` (required): `success`, `failure`, `denied` or `error`.
 * - `actor` (required): `{ id, type, ... }`, who acted; `type` is `user`,
 *   `service`, `system`, `device` or `anonymous`.
 * - optional: `source`, `target`, `transfer`, `authorization`, and `context`
 *   (free-form JSON, at most 16 KiB).
 *
 * Unknown members and members set by the log (`seq`, `tenant`, ...) are
 * rejected by the service with 422.
 */
export type TrailsealEvent = Record<string, unknown>;

/** The service's acknowledgement of one stored event. */
export interface Receipt {
  /** The event's id: yours, or the one the client assigned. */
  readonly id: string;
  /** Position of the record in the tenant's log (its Merkle leaf index). */
  readonly seq: number;
  /** Lowercase hex SHA-256(0x00 || record bytes), the Merkle leaf hash. */
  readonly leafHash: string;
  /** When the log sealed the record: RFC 3339, UTC, millisecond precision. */
  readonly receivedAt: string;
  /**
   * True when the service already held an event with this id and returned
   * its original receipt (for example after a retry whose first answer was
   * lost); nothing new was stored.
   */
  readonly duplicate: boolean;
}

/** A stored record as the service returns it: the event plus the log's fields. */
export interface StoredRecord {
  readonly v?: number;
  readonly tenant?: string;
  readonly seq?: number;
  readonly id?: string;
  readonly received_at?: string;
  readonly prev_hash?: string;
  readonly mac_key_id?: string;
  readonly mac?: string;
  readonly [member: string]: unknown;
}

export interface RecordResult {
  /** The record's exact canonical bytes as text: what its hashes and MAC cover. Verify this, not a re-serialization. */
  readonly text: string;
  readonly record: StoredRecord;
}

/** Where a listing starts: by sequence number, or by receive time. */
export interface ListQuery {
  /** First seq to return. Excludes `since`/`until`. */
  from?: number;
  /** Earliest `received_at`, inclusive (RFC 3339 string or Date). */
  since?: string | Date;
  /** Latest `received_at` (RFC 3339 string or Date). */
  until?: string | Date;
}

export interface ListOptions extends ListQuery {
  /** Maximum records in the page (the service has its own cap). */
  limit?: number;
  /** The `next` cursor of a previous page; `from`, `since` and `until` must then be absent (the cursor carries them). */
  cursor?: string;
}

export interface RecordsOptions extends ListQuery {
  /** Records per request. */
  pageSize?: number;
}

export interface Page {
  readonly records: readonly StoredRecord[];
  /** Cursor of the next page, or null on the last page. */
  readonly next: string | null;
}

export interface Tenant {
  readonly id: string;
  /** The tenant's API key. The service shows it once: store it now. */
  readonly apiKey: string;
  /** The note verifier key that signs the tenant's checkpoints. */
  readonly verifierKey: string;
}

export interface ApiKeyOptions {
  /** A label for the key (default on the service: "api key"). */
  name?: string;
  /** Scopes among `ingest`, `read`, `export` (default on the service: ingest and read). */
  scopes?: readonly string[];
  /** RFC 3339 expiry, or null for none. */
  expiresAt?: string | null;
}

export interface ApiKey {
  /** The key's public id (for revokeApiKey). */
  readonly id: string;
  /** The bearer token. The service shows it once: store it now. */
  readonly apiKey: string;
}

/** What the client tells `onError` about a failure. */
export interface ErrorContext {
  /** Ids of the events concerned (empty if the event never got one). */
  readonly ids: readonly string[];
  /** Whether the client will try again (true) or has rejected the emits (false). */
  readonly willRetry: boolean;
  /** Which attempt failed, from 1; 0 when nothing was sent. */
  readonly attempt: number;
}

export interface ClientOptions {
  /** Base URL of the service, e.g. `https://log.example.com` (a path prefix is kept). */
  url: string;
  /** The tenant API key, sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Token for the admin endpoints (`createTenant`); defaults to `apiKey`. */
  adminToken?: string;
  /** A fetch implementation; defaults to the global one. */
  fetch?: typeof fetch;
  /** Maximum events per automatic batch (default 500). */
  batchSize?: number;
  /** Maximum UTF-8 bytes of one request body (default 4 MiB). Keep it at or below the service's body limit. */
  maxBatchBytes?: number;
  /** How long an emitted event may wait for companions before its batch is sent (default 50 ms). 0 sends as soon as a request slot is free. */
  flushIntervalMs?: number;
  /** Maximum events accepted but not yet acknowledged or failed (default 100 000). Beyond it `emit` rejects with CLIENT_QUEUE_FULL. */
  maxQueue?: number;
  /** Batches in flight at once (default 1). Above 1, batches may be stored out of emit order. */
  concurrency?: number;
  /** Retries after the first attempt (default 8). */
  maxRetries?: number;
  /** Backoff base (default 100 ms): retry n waits a random time in [0, min(retryMaxMs, retryBaseMs * 2^n)). */
  retryBaseMs?: number;
  /** Backoff cap (default 10 000 ms). */
  retryMaxMs?: number;
  /**
   * Longest `Retry-After` the client will wait (default 60 000 ms). A longer
   * one fails the batch at once (with `retryAfterMs` set) rather than hold the
   * queue, and the client never retries sooner than the service asked.
   */
  maxRetryAfterMs?: number;
  /** Per-request timeout, covering the whole answer (default 30 000 ms). */
  timeoutMs?: number;
  /**
   * Called on every failed attempt (`willRetry` true) and every rejection of
   * an emit (`willRetry` false): the place to log and count. When it is set,
   * emit promises are also marked handled, so fire-and-forget `emit()` calls
   * whose failures reach `onError` do not raise unhandled rejections.
   */
  onError?: (error: TrailsealClientError, context: ErrorContext) => void;
}
