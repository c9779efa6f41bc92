// Row shapes both SQL drivers read (column names as in docs/stores.md) and
// their mapping to the store contract's types. The drivers differ only in
// how api_keys.scopes is stored (SQLite: comma-separated text; PostgreSQL:
// text[]), so that is passed in already split.
import { splitHashes } from './common.js';
import type { ApiKeyRow, HeadRow, Scope, TenantRow } from './types.js';

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
