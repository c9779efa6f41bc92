// Row shapes both SQL drivers read (column names as in docs/stores.md) and
// their mapping to the store contract's types. The drivers differ only in
// how api_keys.scopes is stored (SQLite: comma-separated text; PostgreSQL:
// text[]), so that is passed in already split.
import { splitHashes } from './common.js';
import type { ApiKeyRow, HeadRow, Scope, SinkPatch, SinkRow, TenantRow } from './types.js';

export interface HeadSql {
  size: number;
  prev_hash: string;
  range: Uint8Array;
  mac_generation: number;
  signing_generation: number;
  last_received_ms: number;
}

export interface TenantSql {
  id: string;
  name: string;
  origin: string;
  wrapped_key: Uint8Array;
  key_wrapper: string;
  created_at: string;
}

export interface KeySql<S> {
  id: string;
  tenant: string | null;
  name: string;
  scopes: S;
  secret_hash: Uint8Array;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export function headOf(r: HeadSql): HeadRow {
  return {
    size: r.size,
    prevHash: r.prev_hash,
    range: splitHashes(r.range),
    macGeneration: r.mac_generation,
    signingGeneration: r.signing_generation,
    lastReceivedAtMs: r.last_received_ms,
  };
}

export function tenantOf(r: TenantSql): TenantRow {
  return { id: r.id, name: r.name, origin: r.origin, wrappedKey: new Uint8Array(r.wrapped_key), keyWrapper: r.key_wrapper, createdAt: r.created_at };
}

export function keyOf(r: KeySql<unknown>, scopes: readonly Scope[]): ApiKeyRow {
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    scopes: [...scopes],
    secretHash: new Uint8Array(r.secret_hash),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

export interface SinkSql {
  id: string;
  tenant: string;
  name: string;
  kind: string;
  config: string;
  secret: Uint8Array | null;
  filter: string;
  format: string;
  state: string;
  cursor: number | string;
  created_at: string;
  last_error: string | null;
  last_error_at: string | null;
  paused_reason: string | null;
}

export function sinkOf(r: SinkSql): SinkRow {
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    kind: r.kind as SinkRow['kind'],
    config: r.config,
    secret: r.secret === null ? null : new Uint8Array(r.secret),
    filter: r.filter,
    format: r.format,
    state: r.state as SinkRow['state'],
    // PostgreSQL returns bigint as text.
    cursor: Number(r.cursor),
    createdAt: r.created_at,
    lastError: r.last_error,
    lastErrorAt: r.last_error_at,
    pausedReason: r.paused_reason,
  };
}

/** The columns a patch sets, in a fixed order, with their values (SQL identifiers never come from input). */
export function sinkPatchColumns(p: SinkPatch): [column: string, value: unknown][] {
  const out: [string, unknown][] = [];
  if (p.state !== undefined) out.push(['state', p.state]);
  if (p.cursor !== undefined) out.push(['cursor', p.cursor]);
  if (p.lastError !== undefined) out.push(['last_error', p.lastError]);
  if (p.lastErrorAt !== undefined) out.push(['last_error_at', p.lastErrorAt]);
  if (p.pausedReason !== undefined) out.push(['paused_reason', p.pausedReason]);
  return out;
}

export const SINK_COLUMNS = 'id, tenant, name, kind, config, secret, filter, format, state, cursor, created_at, last_error, last_error_at, paused_reason';

export function sinkValues(k: SinkRow): unknown[] {
  return [k.id, k.tenant, k.name, k.kind, k.config, k.secret === null ? null : Buffer.from(k.secret), k.filter, k.format, k.state, k.cursor, k.createdAt, k.lastError, k.lastErrorAt, k.pausedReason];
}
