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

export interface ChainAndLeafHash {
  /** Lowercase hex SHA-256: the next record's prev_hash. */
  readonly hashHex: string;
  readonly leafHash: Uint8Array;
}

export interface RecordDigests extends ChainAndLeafHash {
  /** Lowercase hex HMAC-SHA256. */
  readonly mac: string;
  /**
   * The record bytes (UTF-8), as hashed. A view the provider may reuse at its
   * next call: copy it before calling again.
   */
  readonly encoded: Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;
  /** SHA-256 of the concatenation of the parts. */
  sha256(...parts: Bytes[]): Uint8Array;
  hmacSha256(key: Uint8Array, ...parts: Bytes[]): Uint8Array;
  /**
   * The same MAC as lowercase hex, the form a record's `mac` spells: a
   * verifier compares texts without converting (on Node.js the hex comes
   * from OpenSSL's digest directly).
   */
  hmacSha256Hex(key: Uint8Array, ...parts: Bytes[]): string;
  /**
   * SHA-256(data) and SHA-256(0x00 || data) together: the chain hash (as the
   * lowercase hex a record's prev_hash spells it) and the RFC 6962 leaf hash
   * every record needs, from one encoding of the data.
   */
  sha256AndLeafHash(data: Bytes): ChainAndLeafHash;
  /**
   * The three digests that seal a record (docs/spec/keys-and-mac.md), from its
   * canonical JSON split around the `mac` member: `mac` = HMAC-SHA256(key,
   * head || "," || tail), then the record bytes head || `,"mac":"` || hex(mac)
   * || `",` || tail, and their sha256AndLeafHash. Head and tail each come as
   * pieces to concatenate (text, or bytes already encoded). One operation so
   * that a provider can lay head and tail out once for all three.
   */
  recordDigests(key: Uint8Array, head: readonly Bytes[], tail: readonly Bytes[]): RecordDigests;
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
