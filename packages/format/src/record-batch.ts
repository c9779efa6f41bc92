// The bytes of a batch of sealed records, back to back in one buffer with
// the offset where each ends: what a store writes for an append, collected
// from the encoding the sealer hashed (LogSealer.collectInto), so that the
// records' canonical strings need not be flattened, joined, copied to a
// writer thread and encoded again.

import { TrailsealError } from './errors.js';

/** Buffers handed back for reuse (RecordBytesBatch.recycle), at most POOL_SIZE, none over POOL_MAX_BYTES. */
const pool: ArrayBuffer[] = [];
const POOL_SIZE = 4;
const POOL_MAX_BYTES = 8 * 1024 * 1024;

/** Record bytes in sealing order. */
export class RecordBytesBatch {
  #buf: Uint8Array;
  #length = 0;
  readonly #ends: number[] = [];

  /** A batch of `capacity` bytes to start with: a recycled buffer if one is that large, or a new one. */
  constructor(capacity = 64 * 1024) {
    const at = pool.findIndex((b) => b.byteLength >= capacity);
    this.#buf = at === -1 ? new Uint8Array(capacity) : new Uint8Array(pool.splice(at, 1)[0]!);
  }

  /**
   * Hands back the buffer of a batch that a store transferred to another
   * thread and got back, for the next batch of this thread: a new buffer
   * costs the sealing thread its allocation and zeroing (a 1000-record batch
   * is 2 MB; the constructor and #add took 6.3% of the event loop under batch
   * load, 0.9% with buffers reused: bench/README.md). Only a buffer that
   * nothing else refers to may come here: one received by transfer, whose
   * sender's views are detached.
   */
  static recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || buffer.byteLength > POOL_MAX_BYTES || pool.includes(buffer)) return;
    if (pool.length >= POOL_SIZE) pool.shift();
    pool.push(buffer);
  }

  /** Appends a copy of one record's bytes; returns its index. */
  add(bytes: Uint8Array): number {
    const end = this.#length + bytes.length;
    if (end > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(end, 2 * this.#buf.length));
      bigger.set(this.#buf.subarray(0, this.#length));
      this.#buf = bigger;
    }
    this.#buf.set(bytes, this.#length);
    this.#length = end;
    return this.#ends.push(end) - 1;
  }

  /** Record i's bytes: a view, readable until the batch's buffer is handed to another thread. */
  record(i: number): Uint8Array {
    const end = this.#ends[i];
    if (end === undefined) throw new TrailsealError('INTERNAL', `the batch holds ${this.#ends.length} records, not record ${i}`);
    // A transferred buffer is detached: it reads as empty.
    if (this.#buf.byteLength === 0) throw new TrailsealError('INTERNAL', 'the batch was handed to a store; read the record from it');
    return this.#buf.subarray(i === 0 ? 0 : this.#ends[i - 1]!, end);
  }

  /** How many records it holds. */
  get count(): number {
    return this.#ends.length;
  }

  /** All the bytes; record i is data[ends[i-1] ?? 0, ends[i]). A view of a buffer this batch owns alone (it may be transferred). */
  get data(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  get ends(): readonly number[] {
    return this.#ends;
  }
}
