// The bytes of a batch of sealed records, back to back in one buffer with
// the offset where each ends: what a store writes for an append, collected
// from the encoding the sealer hashed (LogSealer.collectInto), so that the
// records' canonical strings need not be flattened, joined, copied to a
// writer thread and encoded again.

/** Record bytes in sealing order. */
export class RecordBytesBatch {
  #buf: Uint8Array;
  #length = 0;
  readonly #ends: number[] = [];

  constructor(capacity = 64 * 1024) {
    this.#buf = new Uint8Array(capacity);
  }

  /**
   * Appends a copy of one record's bytes; returns a view of the copy, which
   * stays readable until the batch's buffer is transferred.
   */
  add(bytes: Uint8Array): Uint8Array {
    const end = this.#length + bytes.length;
    if (end > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(end, 2 * this.#buf.length));
      bigger.set(this.#buf.subarray(0, this.#length));
      this.#buf = bigger;
    }
    this.#buf.set(bytes, this.#length);
    const copy = this.#buf.subarray(this.#length, end);
    this.#length = end;
    this.#ends.push(end);
    return copy;
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
