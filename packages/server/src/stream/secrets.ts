// Sink secrets at rest: envelope encryption. A random 32-byte data key is
// wrapped by the key wrapper (the same custody as tenant keys: the local
// root key or a KMS), with associated data naming the tenant and the sink, so
// a wrapped value moved to another row does not open; the secret itself is
// AES-256-GCM under the data key. Layout: u16 length of the wrapped data key
// || wrapped data key || nonce (12) || ciphertext || tag (16).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TrailsealError } from '@trailseal/format';
import type { KeyWrapper } from '../keyring.js';

const NONCE = 12;
const TAG = 16;

/** The associated data of a sink's data key: never a bare tenant id, which tenant keys use. */
export function sinkSecretContext(tenant: string, sinkId: string): string {
  return `${tenant}#sink:${sinkId}`;
}

export async function sealSecret(wrapper: KeyWrapper, context: string, secret: string): Promise<Uint8Array> {
  const dataKey = new Uint8Array(randomBytes(32));
  const wrapped = await wrapper.wrap(context, dataKey);
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', dataKey, nonce);
  c.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(wrapped.length);
  return new Uint8Array(Buffer.concat([len, wrapped, nonce, body, c.getAuthTag()]));
}

export async function openSecret(wrapper: KeyWrapper, context: string, sealed: Uint8Array): Promise<string> {
  const b = Buffer.from(sealed);
  const n = b.length >= 2 ? b.readUInt16BE(0) : -1;
  if (n < 0 || b.length < 2 + n + NONCE + TAG) throw new TrailsealError('KEY_INVALID', `the stored secret of ${context} is malformed`);
  const dataKey = await wrapper.unwrap(context, b.subarray(2, 2 + n));
  const d = createDecipheriv('aes-256-gcm', dataKey, b.subarray(2 + n, 2 + n + NONCE));
  d.setAAD(Buffer.from(context, 'utf8'));
  d.setAuthTag(b.subarray(b.length - TAG));
  try {
    return Buffer.concat([d.update(b.subarray(2 + n + NONCE, b.length - TAG)), d.final()]).toString('utf8');
  } catch {
    throw new TrailsealError('KEY_INVALID', `the stored secret of ${context} does not open (altered row, or another root key)`);
  }
}
