// The key hierarchy (docs/spec/keys-and-mac.md):
//
//   root key (32 bytes, held by the operator: key file, environment or KMS)
//     -> tenant key       HKDF-SHA256(root, salt "trailseal/v1 tenant", info tenant id)
//          -> MAC epoch key     HKDF-SHA256(tenant key, salt "trailseal/v1", info "mac-epoch <YYYY-MM-DD> g<generation>")
//          -> signing seed      HKDF-SHA256(tenant key, salt "trailseal/v1", info "signing-ed25519 g<generation>")
//
// A tenant key may also be random and stored wrapped under the root key; the
// derivations below it are the same. Epoch keys are one-way derivations, so
// disclosing one day's MAC key to an auditor discloses no other day's key and
// nothing above it (RFC 5869 section 3.3: HKDF outputs are independent).
import { toHex, utf8 } from './bytes.js';
import { cryptoProvider } from './crypto/provider.js';
import { TrailsealError } from './errors.js';

const HASH_LEN = 32;
export const KEY_SIZE = 32;

/** HKDF-Extract (RFC 5869 section 2.2). An empty salt means HashLen zero bytes. */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return cryptoProvider().hmacSha256(salt.length === 0 ? new Uint8Array(HASH_LEN) : salt, ikm);
}

/** HKDF-Expand (RFC 5869 section 2.3). */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_LEN) {
    throw new TrailsealError('HKDF_LENGTH', `HKDF-SHA256 output length must be 0..${255 * HASH_LEN}, got ${length}`);
  }
  const out = new Uint8Array(length);
  const c = cryptoProvider();
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    t = c.hmacSha256(prk, t, info, Uint8Array.of(i));
    out.set(t.subarray(0, Math.min(HASH_LEN, length - o)), o);
    o += HASH_LEN;
  }
  return out;
}

/** HKDF-SHA256 (RFC 5869 section 2). */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}

function assertKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_SIZE) {
    throw new TrailsealError('KEY_INVALID', `${what} must be ${KEY_SIZE} bytes`, { field: what });
  }
}

const TENANT_SALT = utf8('trailseal/v1 tenant');
const PURPOSE_SALT = utf8('trailseal/v1');

export function deriveTenantKey(rootKey: Uint8Array, tenantId: string): Uint8Array {
  assertKey(rootKey, 'root key');
  return hkdf(rootKey, TENANT_SALT, utf8(tenantId), KEY_SIZE);
}

function assertGeneration(generation: number): void {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new TrailsealError('KEY_INVALID', `key generation must be a non-negative integer, got ${generation}`, { field: 'generation' });
  }
}

/** The MAC epoch of a log timestamp: its UTC calendar day. */
export function macEpochOf(receivedAt: string): string {
  // received_at is always the log's own UTC timestamp (YYYY-MM-DDTHH:MM:SS.sssZ).
  return receivedAt.slice(0, 10);
}

const EPOCH_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

export function deriveMacEpochKey(tenantKey: Uint8Array, epoch: string, generation = 0): Uint8Array {
  assertKey(tenantKey, 'tenant key');
  assertGeneration(generation);
  if (!EPOCH_RE.test(epoch)) {
    throw new TrailsealError('KEY_INVALID', `MAC epoch must be a UTC date YYYY-MM-DD, got ${JSON.stringify(epoch)}`, { field: 'epoch' });
  }
  return hkdf(tenantKey, PURPOSE_SALT, utf8(`mac-epoch ${epoch} g${generation}`), KEY_SIZE);
}

export function deriveSigningSeed(tenantKey: Uint8Array, generation = 0): Uint8Array {
  assertKey(tenantKey, 'tenant key');
  assertGeneration(generation);
  return hkdf(tenantKey, PURPOSE_SALT, utf8(`signing-ed25519 g${generation}`), KEY_SIZE);
}

const FINGERPRINT_PREFIX = utf8('trailseal/v1 key-id\n');

/**
 * A public fingerprint of a secret key: 8 bytes of SHA-256 over a fixed prefix
 * and the key. It lets a verifier tell "wrong key supplied" from "record
 * altered" without revealing anything about a 256-bit key.
 */
export function keyFingerprint(key: Uint8Array): string {
  return toHex(cryptoProvider().sha256(FINGERPRINT_PREFIX, key).subarray(0, 8));
}

export interface MacKeyId {
  readonly epoch: string;
  readonly generation: number;
  readonly fingerprint: string;
}

const MAC_KEY_ID_RE = /^mac:(\d{4}-\d{2}-\d{2}):g(0|[1-9]\d{0,8}):([0-9a-f]{16})$/;

/** Whether `id` is a well-formed MAC key id (the one rule the schema and parseMacKeyId share). */
export function isMacKeyId(id: string): boolean {
  const m = MAC_KEY_ID_RE.exec(id);
  return m !== null && EPOCH_RE.test(m[1]!);
}

/** `mac:<YYYY-MM-DD>:g<generation>:<16 hex fingerprint>` */
export function formatMacKeyId(epoch: string, generation: number, key: Uint8Array): string {
  return `mac:${epoch}:g${generation}:${keyFingerprint(key)}`;
}

export function parseMacKeyId(id: string): MacKeyId {
  const m = MAC_KEY_ID_RE.exec(id);
  if (m === null || !isMacKeyId(id)) {
    throw new TrailsealError('KEY_ID_MALFORMED', `mac_key_id ${JSON.stringify(id)} is not mac:<YYYY-MM-DD>:g<generation>:<16 hex>`, { field: 'mac_key_id' });
  }
  return { epoch: m[1]!, generation: Number(m[2]), fingerprint: m[3]! };
}

/** A MAC epoch key together with its id, as disclosed to an auditor. */
export interface MacKey {
  readonly id: string;
  readonly key: Uint8Array;
}

export function macKeyFor(tenantKey: Uint8Array, epoch: string, generation = 0): MacKey {
  const key = deriveMacEpochKey(tenantKey, epoch, generation);
  return { id: formatMacKeyId(epoch, generation, key), key };
}
