// API keys. A token is `tsk_<16 hex id>_<43 base64url secret>` (256-bit
// secret); the store keeps the id, the scopes and SHA-256 of the secret, never
// the secret. Lookups go by id, then compare digests in constant time.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { TrailsealError } from '@trailseal/format';
import type { ApiKeyRow, Scope, Store } from './store/types.js';

const TOKEN_RE = /^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface Principal {
  readonly keyId: string;
  readonly keyName: string;
  /** The one tenant this key acts for; null for operator keys. */
  readonly tenant: string | null;
  readonly scopes: readonly Scope[];
}

export interface IssuedKey {
  readonly token: string;
  readonly row: ApiKeyRow;
}

export function issueApiKey(opts: { tenant: string | null; name: string; scopes: readonly Scope[]; expiresAt?: string | null; now: Date }): IssuedKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return {
    token: `tsk_${id}_${secret}`,
    row: {
      id,
      tenant: opts.tenant,
      name: opts.name,
      scopes: [...opts.scopes],
      secretHash: digest(secret),
      createdAt: opts.now.toISOString(),
      expiresAt: opts.expiresAt ?? null,
      revokedAt: null,
    },
  };
}

// One-shot hashing: every request checks its key, and a Hash object costs
// several times the hashing of 43 characters.
function digest(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

function unauthorized(message: string): TrailsealError {
  return new TrailsealError('UNAUTHORIZED', message);
}

/**
 * Resolves bearer tokens to principals. Key rows are cached for `cacheMs`
 * (default 1 s): a revocation through this process applies at once, one made
 * by another process on the same store within cacheMs.
 */
export class Authenticator {
  readonly #store: Store;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { row: ApiKeyRow | undefined; secretHash: Buffer | undefined; at: number }>();

  constructor(store: Store, cacheMs = 1000) {
    this.#store = store;
    this.#cacheMs = cacheMs;
  }

  invalidate(id: string): void {
    this.#cache.delete(id);
  }

  async authenticate(header: string | undefined, now = Date.now()): Promise<Principal> {
    if (header === undefined || header === '') throw unauthorized('missing Authorization header; send `Authorization: Bearer <api key>`');
    const m = /^Bearer ([^\s]+)$/i.exec(header);
    if (m === null) throw unauthorized('the Authorization header must be `Bearer <api key>`');
    const t = TOKEN_RE.exec(m[1]!);
    if (t === null) throw unauthorized('the bearer token is not a Trailseal API key');
    const [, id, secret] = t as unknown as [string, string, string];
    let hit = this.#cache.get(id);
    if (hit === undefined || now - hit.at > this.#cacheMs) {
      const row = await this.#store.getApiKey(id);
      hit = { row, secretHash: row === undefined ? undefined : Buffer.from(row.secretHash), at: now };
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(id, hit);
    }
    const row = hit.row;
    // One message for unknown and wrong secret: no key-id oracle.
    if (row === undefined || hit.secretHash === undefined || !timingSafeEqual(hit.secretHash, digest(secret))) throw unauthorized('unknown API key');
    if (row.revokedAt !== null) throw unauthorized(`API key ${id} was revoked at ${row.revokedAt}`);
    if (row.expiresAt !== null && Date.parse(row.expiresAt) <= now) throw unauthorized(`API key ${id} expired at ${row.expiresAt}`);
    return { keyId: row.id, keyName: row.name, tenant: row.tenant, scopes: row.scopes };
  }
}

export function requireScope(p: Principal, scope: Scope): void {
  if (!p.scopes.includes(scope)) throw new TrailsealError('FORBIDDEN', `API key ${p.keyId} lacks the ${scope} scope`, { scope });
}
