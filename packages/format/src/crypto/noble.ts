// The portable provider: audited pure-JS implementations that run unchanged in
// browsers, workers and Node.js. Used by default; Node.js swaps in node:crypto.
import { ed25519 } from '@noble/curves/ed25519.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, toHex } from '../bytes.js';
import type { Bytes, CryptoProvider } from './provider.js';

const encoder = new TextEncoder();
const asBytes = (b: Bytes): Uint8Array => (typeof b === 'string' ? encoder.encode(b) : b);

const concat = (parts: readonly Bytes[]): Uint8Array => concatBytes(...parts.map(asBytes));

interface GlobalCrypto {
  getRandomValues(a: Uint8Array): Uint8Array;
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  sha256(...parts) {
    if (parts.length === 1) return sha256(asBytes(parts[0]!));
    const h = sha256.create();
    for (const p of parts) h.update(asBytes(p));
    return h.digest();
  },
  hmacSha256(key, ...parts) {
    const h = hmac.create(sha256, key);
    for (const p of parts) h.update(asBytes(p));
    return h.digest();
  },
  hmacSha256Hex(key, ...parts) {
    return toHex(this.hmacSha256(key, ...parts));
  },
  sha256AndLeafHash(data) {
    const bytes = asBytes(data);
    const prefixed = new Uint8Array(bytes.length + 1);
    prefixed.set(bytes, 1);
    return { hashHex: toHex(sha256(bytes)), leafHash: sha256(prefixed) };
  },
  recordDigests(key, head, tail) {
    const h = concat(head);
    const t = concat(tail);
    const mac = this.hmacSha256Hex(key, h, ',', t);
    const encoded = concat([h, `,"mac":"${mac}",`, t]);
    return { mac, encoded, ...this.sha256AndLeafHash(encoded) };
  },
  createSha256() {
    const h = sha256.create();
    return {
      update(data) {
        h.update(asBytes(data));
      },
      digest: () => h.digest(),
    };
  },
  ed25519PublicKey(seed) {
    return ed25519.getPublicKey(seed);
  },
  ed25519Sign(seed, message) {
    return ed25519.sign(asBytes(message), seed);
  },
  ed25519Verify(publicKey, message, signature) {
    try {
      // zip215: false gives the strict RFC 8032 rules, matching OpenSSL.
      return ed25519.verify(signature, asBytes(message), publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  randomBytes(n) {
    const c = (globalThis as { crypto?: GlobalCrypto }).crypto;
    if (c === undefined) throw new Error('no secure random source (globalThis.crypto) in this runtime');
    return c.getRandomValues(new Uint8Array(n));
  },
};
