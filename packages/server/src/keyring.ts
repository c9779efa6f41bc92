// Key custody in the service. Tenant keys are 32 random bytes, stored only
// encrypted ("wrapped") under the root key (docs/spec/keys-and-mac.md allows
// this in place of deriving them): a copy of the database alone discloses no
// key, and a tenant key can be destroyed without touching any other.
//
// The KeyWrapper interface is the plug-in point for an external KMS or HSM
// (docs/operations.md, "Root key and KMS"): an implementation that calls the
// KMS's encrypt/decrypt (or wrap/unwrap) for the tenant key never lets the
// root key into this process.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { TrailsealError, hkdf, keyFingerprint, utf8 } from '@trailseal/format';

export interface KeyWrapper {
  /** Stable id stored beside each wrapped key, e.g. `local:<root key fingerprint>` or `aws-kms:<key arn>`. */
  readonly id: string;
  wrap(tenant: string, key: Uint8Array): Promise<Uint8Array>;
  unwrap(tenant: string, wrapped: Uint8Array): Promise<Uint8Array>;
}

const WRAP_VERSION = 1;
const NONCE = 12;
const TAG = 16;

/**
 * AES-256-GCM under a key-encryption key derived from the root key; the tenant
 * id is the associated data, so a wrapped key copied onto another tenant's row
 * does not unwrap. Layout: version (1) || nonce (12) || ciphertext (32) || tag (16).
 */
export class LocalKeyWrapper implements KeyWrapper {
  readonly id: string;
  readonly #kek: Uint8Array;

  constructor(rootKey: Uint8Array) {
    if (rootKey.length !== 32) throw new TrailsealError('CONFIG_INVALID', 'the root key must be 32 bytes');
    this.#kek = hkdf(rootKey, utf8('trailseal/v1 kek'), utf8('tenant-key-wrap'), 32);
    this.id = `local:${keyFingerprint(rootKey)}`;
  }

  async wrap(tenant: string, key: Uint8Array): Promise<Uint8Array> {
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', this.#kek, nonce);
    c.setAAD(aad(tenant));
    const body = Buffer.concat([c.update(key), c.final()]);
    return new Uint8Array(Buffer.concat([Buffer.of(WRAP_VERSION), nonce, body, c.getAuthTag()]));
  }

  async unwrap(tenant: string, wrapped: Uint8Array): Promise<Uint8Array> {
    if (wrapped.length !== 1 + NONCE + 32 + TAG || wrapped[0] !== WRAP_VERSION) {
      throw new TrailsealError('KEY_INVALID', `the stored key of tenant ${tenant} is not a version ${WRAP_VERSION} wrapped key`);
    }
    const d = createDecipheriv('aes-256-gcm', this.#kek, wrapped.subarray(1, 1 + NONCE));
    d.setAAD(aad(tenant));
    d.setAuthTag(wrapped.subarray(wrapped.length - TAG));
    try {
      return new Uint8Array(Buffer.concat([d.update(wrapped.subarray(1 + NONCE, wrapped.length - TAG)), d.final()]));
    } catch {
      throw new TrailsealError('KEY_INVALID', `the stored key of tenant ${tenant} does not unwrap under this root key (wrong root key, or the row was altered)`);
    }
  }
}

function aad(tenant: string): Uint8Array {
  return utf8(`trailseal/v1 tenant-key ${tenant}`);
}

/**
 * The root key, from (in order) the TRAILSEAL_ROOT_KEY environment variable
 * (64 hex digits) or a key file holding 64 hex digits. With `create`, a
 * missing key file is created with 32 random bytes, readable by the owner only.
 */
export function loadRootKey(opts: { env?: string | undefined; file: string; create: boolean }): { key: Uint8Array; source: string; created: boolean } {
  if (opts.env !== undefined && opts.env !== '') return { key: parseRootKey(opts.env, 'TRAILSEAL_ROOT_KEY'), source: 'environment', created: false };
  if (!existsSync(opts.file)) {
    if (!opts.create) throw new TrailsealError('CONFIG_INVALID', `no root key: set TRAILSEAL_ROOT_KEY or create the key file ${opts.file}`, { field: 'rootKeyFile' });
    const key = randomBytes(32);
    writeFileSync(opts.file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(opts.file, 0o600);
    return { key: new Uint8Array(key), source: opts.file, created: true };
  }
  return { key: parseRootKey(readFileSync(opts.file, 'utf8').trim(), opts.file), source: opts.file, created: false };
}

function parseRootKey(text: string, where: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text.trim())) throw new TrailsealError('CONFIG_INVALID', `the root key in ${where} must be 64 hex digits (32 bytes)`, { field: where });
  return new Uint8Array(Buffer.from(text.trim(), 'hex'));
}
