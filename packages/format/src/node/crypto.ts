// The Node.js provider: OpenSSL through node:crypto, several times faster than
// pure JS for SHA-256 and Ed25519. The only file of @trailseal/format that may
// import a Node.js module (test/architecture.test.ts enforces this).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  hash as oneShotHash,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import type { Bytes, CryptoProvider } from '../crypto/provider.js';
import { MAC_MEMBER_BYTES } from '../record-bytes.js';

// RFC 8410 DER prefixes that wrap a raw Ed25519 seed / public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// Key objects are costly to build; a log signs with a handful of keys.
const privateKeys = new Map<string, KeyObject>();
const publicKeys = new Map<string, KeyObject>();
const CACHE_LIMIT = 1024;

function remember(cache: Map<string, KeyObject>, id: string, make: () => KeyObject): KeyObject {
  let k = cache.get(id);
  if (k === undefined) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    k = make();
    cache.set(id, k);
  }
  return k;
}

function privateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new Error('Ed25519 seed must be 32 bytes');
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  return remember(privateKeys, der.toString('base64'), () =>
    createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }),
  );
}

function view(b: Bytes): Buffer | string {
  return typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function asUint8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// One-shot hashing (crypto.hash) of one contiguous buffer is markedly faster
// than a streaming Hash object with several update() calls, so multi-part
// inputs are laid out in a scratch buffer first. Everything here is
// synchronous, so one scratch buffer per thread is safe to reuse.
let scratch = Buffer.allocUnsafe(64 * 1024);
// The same memory as a plain Uint8Array: its subarray() costs a fraction of
// Buffer#subarray's, and crypto.hash takes any ArrayBufferView.
let plain = new Uint8Array(scratch.buffer, scratch.byteOffset, scratch.length);

/** Writes `parts` into the scratch buffer from `offset`; returns the end offset. */
function layout(offset: number, parts: readonly Bytes[]): number {
  let need = offset;
  for (const p of parts) need += typeof p === 'string' ? 3 * p.length : p.length;
  if (need > scratch.length) {
    const bigger = Buffer.allocUnsafe(Math.max(need, 2 * scratch.length));
    scratch.copy(bigger, 0, 0, offset);
    scratch = bigger;
    plain = new Uint8Array(bigger.buffer, bigger.byteOffset, bigger.length);
  }
  let o = offset;
  for (const p of parts) {
    if (typeof p === 'string') o += scratch.write(p, o, 'utf8');
    else {
      scratch.set(p, o);
      o += p.length;
    }
  }
  return o;
}

// crypto.hash returning a Buffer costs about 0.6 us more per call than
// returning a string (Node.js 20: the Buffer's backing store is made in C++),
// more than hashing 1 KiB. So digests come back as latin1 strings, one code
// unit per byte, and are copied into a JS-allocated array.
function digestBytes(s: string): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

function oneShot(b: Uint8Array | string): Uint8Array {
  return digestBytes(oneShotHash('sha256', b, 'binary'));
}

const BLOCK = 64;
// RFC 2104: K xor ipad and K xor opad, per key (keys are 32 bytes, never hashed first).
const pads = new WeakMap<Uint8Array, { ipad: Buffer; opad: Buffer }>();

function padsFor(key: Uint8Array): { ipad: Buffer; opad: Buffer } {
  let p = pads.get(key);
  if (p === undefined) {
    const k = key.length > BLOCK ? createHash('sha256').update(key).digest() : key;
    const ipad = Buffer.alloc(BLOCK, 0x36);
    const opad = Buffer.alloc(BLOCK, 0x5c);
    for (let i = 0; i < k.length; i++) {
      ipad[i]! ^= k[i]!;
      opad[i]! ^= k[i]!;
    }
    p = { ipad, opad };
    pads.set(key, p);
  }
  return p;
}

// HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)), RFC 2104 section 2: the
// scratch buffer holds K ^ ipad || m, the outer input has a buffer of its own
// so that the scratch buffer keeps the message.
const outer = Buffer.allocUnsafe(BLOCK + 32);

/** Puts K ^ ipad at the start of the scratch buffer (the message goes after it); returns K ^ opad. */
function startHmac(key: Uint8Array): Buffer {
  const { ipad, opad } = padsFor(key);
  scratch.set(ipad, 0);
  return opad;
}

/** (K ^ opad) || H(scratch[0, end)): the outer hash's input once the message ends at `end`. */
function outerInput(opad: Buffer, end: number): Buffer {
  opad.copy(outer, 0);
  outer.write(oneShotHash('sha256', plain.subarray(0, end), 'binary'), BLOCK, 'latin1');
  return outer;
}

const COMMA: readonly Bytes[] = [','];

export const nodeProvider: CryptoProvider = {
  name: 'node',
  sha256(...parts) {
    if (parts.length === 1) return oneShot(parts[0]!);
    // layout() may replace the scratch buffer: take the end offset first.
    const end = layout(0, parts);
    return oneShot(plain.subarray(0, end));
  },
  hmacSha256(key, ...parts) {
    const opad = startHmac(key);
    return oneShot(outerInput(opad, layout(BLOCK, parts)));
  },
  hmacSha256Hex(key, ...parts) {
    const opad = startHmac(key);
    return oneShotHash('sha256', outerInput(opad, layout(BLOCK, parts)), 'hex');
  },
  sha256AndLeafHash(data) {
    scratch[0] = 0;
    const end = layout(1, [data]);
    return { hashHex: oneShotHash('sha256', plain.subarray(1, end), 'hex'), leafHash: oneShot(plain.subarray(0, end)) };
  },
  recordDigests(key, head, tail) {
    // One UTF-8 encoding of head and tail serves all three digests. Laid out
    // as K^ipad || head || "," || tail for the inner HMAC hash; then the tail
    // moves right to make room for the mac member, and the last ipad byte
    // becomes the 0x00 of the leaf hash (RFC 6962 section 2.1).
    const opad = startHmac(key);
    const commaAt = layout(BLOCK, head);
    const end = layout(layout(commaAt, COMMA), tail);
    const mac = oneShotHash('sha256', outerInput(opad, end), 'hex');
    const recordEnd = end + MAC_MEMBER_BYTES;
    if (recordEnd > scratch.length) layout(end, [' '.repeat(MAC_MEMBER_BYTES)]);
    scratch.copyWithin(commaAt + MAC_MEMBER_BYTES, commaAt, end);
    scratch.write(`,"mac":"${mac}",`, commaAt, 'latin1');
    scratch[BLOCK - 1] = 0;
    const encoded = plain.subarray(BLOCK, recordEnd);
    return {
      mac,
      encoded,
      hashHex: oneShotHash('sha256', encoded, 'hex'),
      leafHash: oneShot(plain.subarray(BLOCK - 1, recordEnd)),
    };
  },
  createSha256() {
    const h = createHash('sha256');
    return {
      update(data) {
        h.update(view(data));
      },
      digest: () => asUint8(h.digest()),
    };
  },
  ed25519PublicKey(seed) {
    const jwk = createPublicKey(privateKey(seed)).export({ format: 'jwk' });
    return asUint8(Buffer.from(jwk.x!, 'base64url'));
  },
  ed25519Sign(seed, message) {
    const m = typeof message === 'string' ? Buffer.from(message, 'utf8') : view(message);
    return asUint8(sign(null, m as Buffer, privateKey(seed)));
  },
  ed25519Verify(publicKey, message, signature) {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      const der = Buffer.concat([SPKI_PREFIX, publicKey]);
      const key = remember(publicKeys, der.toString('base64'), () =>
        createPublicKey({ key: der, format: 'der', type: 'spki' }),
      );
      const m = typeof message === 'string' ? Buffer.from(message, 'utf8') : view(message);
      return verify(null, m as Buffer, key, signature);
    } catch {
      return false;
    }
  },
  randomBytes(n) {
    return asUint8(randomBytes(n));
  },
};
