// Hashing and signatures go through one small provider so that the pure core
// runs in a browser (pure-JS @noble, the default) while Node.js gets OpenSSL
// through node:crypto (installed by the package's "node" export condition).
// All operations are synchronous: verification takes its trust as arguments
// and never awaits.

import { nobleProvider } from './noble.js';

/** Bytes, or a string that stands for its UTF-8 encoding. */
export type Bytes = Uint8Array | string;

export interface Sha256Hasher {
  update(data: Bytes): void;
  /** The digest of everything fed so far; the hasher is spent afterwards. */
  digest(): Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;
  /** SHA-256 of the concatenation of the parts. */
  sha256(...parts: Bytes[]): Uint8Array;
  hmacSha256(key: Uint8Array, ...parts: Bytes[]): Uint8Array;
  /**
   * SHA-256(data) and SHA-256(0x00 || data) together: the chain hash and the
   * RFC 6962 leaf hash every record needs, from one encoding of the data.
   */
  sha256AndLeafHash(data: Bytes): { readonly hash: Uint8Array; readonly leafHash: Uint8Array };
  /** An incremental SHA-256, for digests of files read in chunks (constant memory). */
  createSha256(): Sha256Hasher;
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  ed25519Sign(seed: Uint8Array, message: Bytes): Uint8Array;
  /** RFC 8032 verification; false (never a throw) for any malformed input. */
  ed25519Verify(publicKey: Uint8Array, message: Bytes, signature: Uint8Array): boolean;
  randomBytes(n: number): Uint8Array;
}

let current: CryptoProvider = nobleProvider;

export function setCryptoProvider(provider: CryptoProvider): void {
  current = provider;
}

export function cryptoProvider(): CryptoProvider {
  return current;
}
