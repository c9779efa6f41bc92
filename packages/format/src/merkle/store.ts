// An in-memory node store: for tests, fixtures and the offline verifier, which
// rebuilds a log's tree from its records and then serves proofs from it.

import { TrailsealError } from '../errors.js';
import { checkSize } from './bits.js';
import type { NodeId } from './compact.js';
import { HASH_SIZE } from './hash.js';
import type { NodeReader } from './proof.js';

export class MemoryNodeStore implements NodeReader {
  // One map per level, keyed by index: numbers hash faster than composite
  // string keys, and indices up to 2^53 - 1 stay exact.
  readonly #levels: Map<number, Uint8Array>[] = [];
  #count = 0;

  /** Number of stored nodes. */
  get size(): number {
    return this.#count;
  }

  put(id: NodeId, hash: Uint8Array): void {
    checkSize('level', id.level);
    checkSize('index', id.index);
    if (id.level > 63 || hash.length !== HASH_SIZE) {
      throw new TrailsealError('TREE_NODE_MISSING', `cannot store node (level ${id.level}, index ${id.index}): bad level or hash size`, {
        level: id.level,
        index: id.index,
      });
    }
    let m = this.#levels[id.level];
    if (m === undefined) {
      for (let l = this.#levels.length; l <= id.level; l++) this.#levels.push(new Map());
      m = this.#levels[id.level]!;
    }
    if (!m.has(id.index)) this.#count++;
    m.set(id.index, hash);
  }

  get(id: NodeId): Uint8Array | undefined {
    return this.#levels[id.level]?.get(id.index);
  }

  getNodes(ids: readonly NodeId[]): Uint8Array[] {
    const out: Uint8Array[] = new Array<Uint8Array>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const { level, index } = ids[i]!;
      const h = this.#levels[level]?.get(index);
      if (h === undefined) {
        throw new TrailsealError('TREE_NODE_MISSING', `node (level ${level}, index ${index}) is not in the store`, {
          level,
          index,
        });
      }
      out[i] = h;
    }
    return out;
  }
}
