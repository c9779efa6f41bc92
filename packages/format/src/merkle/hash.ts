// RFC 6962 section 2.1 (RFC 9162 section 2.1.1) hashing with SHA-256. The one
// byte prefixes separate leaves from interior nodes so that no leaf can be
// passed off as a subtree (second-preimage resistance of the tree).

import { cryptoProvider, type Bytes } from '../crypto/provider.js';

export const HASH_SIZE = 32;

/** SHA-256(0x00 || data). A string stands for its UTF-8 bytes. */
export function leafHash(data: Bytes): Uint8Array {
  // U+0000 encodes to the single byte 0x00 in UTF-8, so a string leaf is
  // hashed in one call with no copy.
  if (typeof data === 'string') return cryptoProvider().sha256(`\u0000${data}`);
  // One contiguous buffer: the Node.js provider hashes a single part with the
  // one-shot API, which is markedly faster than a streaming hash object.
  const buf = new Uint8Array(1 + data.length);
  buf.set(data, 1);
  return cryptoProvider().sha256(buf);
}

// Interior nodes are hashed constantly (about one per appended leaf, up to
// 53 per proof), so their 65-byte input is built in one reused buffer. This
// is safe because sha256 is synchronous and returns a fresh array.
const scratch = new Uint8Array(1 + 2 * HASH_SIZE);
scratch[0] = 1;

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    scratch.set(left, 1);
    scratch.set(right, 1 + HASH_SIZE);
    return cryptoProvider().sha256(scratch);
  }
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return cryptoProvider().sha256(buf);
}

/** MTH({}) = SHA-256 of the empty string: the root of the empty tree. */
export function emptyRoot(): Uint8Array {
  return cryptoProvider().sha256(new Uint8Array(0));
}

/** Hash of the RFC 6962 subtree formed by perfect subtrees, left to right, given as hashes[from..to). */
export function foldRight(hashes: readonly Uint8Array[], from: number, to: number): Uint8Array {
  // In the RFC tree a range that starts on a boundary aligned to its own size
  // splits its perfect subtrees off from the left, so the hash folds from the
  // right: h0 (h1 (h2 h3)).
  let h = hashes[to - 1]!;
  for (let i = to - 2; i >= from; i--) h = nodeHash(hashes[i]!, h);
  return h;
}
