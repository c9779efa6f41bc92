// An in-memory node store: for tests, fixtures and the offline verifier, which
// rebuilds a log's tree from its records and then serves proofs from it.

import { TrailsealError } from '../errors.js';
import { checkSize } from './bits.js';
import type { NodeId } from './compact.js';
import { HASH_SIZE } from './hash.js';
import type { NodeReader } from './proof.js';

// Hashes are copied into fixed-size slabs rather than kept as millions of
// separate 32-byte arrays: a tree of n leaves has 2n nodes, and one small
// buffer object each makes every garbage collection walk them all (about ten
// times slower proofs at a million leaves) and costs several times the memory.
const SLAB_SLOTS = 1 << 15;

export class MemoryNodeStore implements NodeReader {
  // Per level, leaf index -> slot number; numbers keep indices up to 2^53 - 1
  // exact and hash faster than composite string keys.
  readonly #levels: Map<number, number>[] = [];
  readonly #slabs: Uint8Array[] = [];
  #count = 0;

  /** Number of stored nodes. */
  get size(): number {
    return this.#count;
  }

  /** Stores (a copy of) the hash of a perfect node; storing a node again replaces it. */
  put(id: NodeId, hash: Uint8Array): void {
    checkSize('level', id.level);
    checkSize('index', id.index);
    if (id.level > 63 || !(hash instanceof Uint8Array) || hash.length !== HASH_SIZE) {
      throw new TrailsealError('TREE_NODE_MISSING', `cannot store node (level ${id.level}, index ${id.index}): bad level or hash size`, {
        level: id.level,
        index: id.index,
      });
    }
    while (this.#levels.length <= id.level) this.#levels.push(new Map());
    const slots = this.#levels[id.level]!;
    let slot = slots.get(id.index);
    if (slot === undefined) {
      slot = this.#count++;
      if (slot % SLAB_SLOTS === 0) this.#slabs.push(new Uint8Array(SLAB_SLOTS * HASH_SIZE));
      slots.set(id.index, slot);
    }
    this.#slabs[Math.floor(slot / SLAB_SLOTS)]!.set(hash, (slot % SLAB_SLOTS) * HASH_SIZE);
  }

  /** A copy of the stored hash, or undefined. */
  get(id: NodeId): Uint8Array | undefined {
    const slot = this.#levels[id.level]?.get(id.index);
    return slot === undefined ? undefined : this.#read(slot);
  }

  getNodes(ids: readonly NodeId[]): Uint8Array[] {
    const out = new Array<Uint8Array>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const { level, index } = ids[i]!;
      const slot = this.#levels[level]?.get(index);
      if (slot === undefined) {
        throw new TrailsealError('TREE_NODE_MISSING', `node (level ${level}, index ${index}) is not in the store`, {
          level,
          index,
        });
      }
      out[i] = this.#read(slot);
    }
    return out;
  }

  // Copies, so that a caller altering a proof cannot alter the store.
  #read(slot: number): Uint8Array {
    const at = (slot % SLAB_SLOTS) * HASH_SIZE;
    return this.#slabs[Math.floor(slot / SLAB_SLOTS)]!.slice(at, at + HASH_SIZE);
  }
}
