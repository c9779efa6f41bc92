// What every driver shares: the plan check (a driver never writes records that
// do not continue the head it locked), the head's hash encoding, and the
// mapping of engine failures to the registry's codes.
import { CompactRange, TrailsealError, bytesEqual, isTrailsealError, toHex } from '@trailseal/format';
import type { AppendPlan, HeadRow, ReceiptRow } from './types.js';

/**
 * What a driver tells a builder it calls first, before looking the ids up:
 * none of them is stored (a producer re-sends rarely). The unique index on
 * event ids refuses a plan that is wrong there, and the driver builds again
 * with the ids looked up (AppendBuilder).
 */
export const NONE_KNOWN: ReadonlyMap<string, ReceiptRow> = new Map();

/**
 * The last line of defence against a fork or a gap: the records of a plan
 * must carry seq head.size, head.size + 1, ..., chain from head.prevHash,
 * and the new head must be their end.
 */
export function checkPlan(head: HeadRow, plan: AppendPlan): void {
  let size = head.size;
  let prev = head.prevHash;
  // The new right edge of the tree is recomputed from the old one and the
  // records' leaf hashes, so that a sequencer bug cannot store a head whose
  // root does not match its records (one node hash per record, next to an insert).
  // The same pass checks each record's tree nodes, which are stored for
  // proofs: exactly the nodes its leaf completes, in the order visited.
  const range = new CompactRange(0, head.size, head.range);
  for (const { sealed } of plan.records) {
    let k = 0;
    let nodesMatch = true;
    range.append(sealed.leafHash, (id, hash) => {
      const n = sealed.nodes[k++];
      if (n === undefined || n.id.level !== id.level || n.id.index !== id.index || !bytesEqual(n.hash, hash)) nodesMatch = false;
    });
    if (sealed.seq !== size || sealed.prevHash !== prev) {
      throw new TrailsealError('INTERNAL', `append plan does not continue the head: record seq ${sealed.seq} after size ${size}`, { seq: sealed.seq, size });
    }
    if (!nodesMatch || k !== sealed.nodes.length) {
      throw new TrailsealError('INTERNAL', `append plan: the tree nodes of record seq ${sealed.seq} are not the ones its leaf completes`, { seq: sealed.seq });
    }
    size++;
    prev = sealed.recordHash;
  }
  if (plan.bytes !== undefined && plan.bytes.count !== plan.records.length) {
    throw new TrailsealError('INTERNAL', `append plan holds ${plan.records.length} records but the bytes of ${plan.bytes.count}`);
  }
  if (plan.head.size !== size || plan.head.prevHash !== prev) {
    throw new TrailsealError('INTERNAL', `append plan head (size ${plan.head.size}) is not the end of its records (size ${size})`);
  }
  const edge = range.hashes;
  if (edge.length !== plan.head.range.length || edge.some((h, i) => toHex(h) !== toHex(plan.head.range[i]!))) {
    throw new TrailsealError('INTERNAL', `append plan head's tree edge does not match its records' leaf hashes (size ${size})`);
  }
}

/**
 * The seq of the record whose append completed the perfect tree node (level,
 * index), or undefined if no leaf below 2^53 completes it. Appending leaf i
 * completes node (l, i >> l) for l = 0, 1, ... as long as i + 1 is a multiple
 * of 2^l (CompactRange.append visits them bottom up), so node (l, j) is the
 * l-th hash completed by leaf (j + 1) * 2^l - 1. Stores that keep each
 * record's completed node hashes in its row (`records.nodes` in SQLite) find
 * a node here.
 */
export function nodeHome(level: number, index: number): number | undefined {
  if (!Number.isInteger(level) || !Number.isInteger(index) || level < 0 || level > 52 || index < 0) return undefined;
  const seq = (index + 1) * 2 ** level - 1;
  return seq <= Number.MAX_SAFE_INTEGER ? seq : undefined;
}

/** TREE_NODE_MISSING for node (level, index) of `tenant`; `context` says what needed it. */
export function nodeMissing(tenant: string, level: number, index: number, context?: string): TrailsealError {
  return new TrailsealError('TREE_NODE_MISSING', `${context === undefined ? '' : `${context}: `}node (level ${level}, index ${index}) of tenant ${tenant} is not stored`, { level, index });
}

/**
 * Writes the hashes of a record's tree nodes (checkPlan has checked they are
 * the ones its leaf completes, level 0 first) into `out` at `at`, back to
 * back; returns the end offset.
 */
export function packRecordNodes(nodes: readonly { readonly hash: Uint8Array }[], out: Uint8Array, at: number): number {
  for (const { hash } of nodes) {
    out.set(hash, at);
    at += 32;
  }
  return at;
}

/**
 * The statement behind Store.seqAtTime, for both engines (`tenant` and `ms`
 * are their placeholders): the first seq whose received_ms is at least ms,
 * or the head's size when there is none. received_at never decreases along a
 * tenant's log (the sequencer takes the later of its clock and the head's
 * last_received_ms; verifiers check it, docs/spec/bundle.md TIME_REORDER), so
 * a binary search over seq in [0, size) finds it: about log2(size)
 * primary-key probes, in one statement, in the statement's snapshot, with no
 * index on received_ms for every insert to keep (docs/stores.md, "Time queries").
 * The answer is one row (lo, hi) with lo = hi; lo < hi means the record at
 * (lo + hi) / 2 is missing below the head's size (seqAtTimeResult: INTERNAL);
 * no row: no such tenant.
 */
export function seqAtTimeSql(tenant: string, ms: string): string {
  return `WITH RECURSIVE s(lo, hi) AS (
      SELECT CAST(0 AS BIGINT), size FROM heads WHERE tenant = ${tenant}
      UNION ALL
      SELECT CASE WHEN r.received_ms >= ${ms} THEN s.lo ELSE (s.lo + s.hi) / 2 + 1 END,
             CASE WHEN r.received_ms >= ${ms} THEN (s.lo + s.hi) / 2 ELSE s.hi END
      FROM s JOIN records r ON r.tenant = ${tenant} AND r.seq = (s.lo + s.hi) / 2
      WHERE s.lo < s.hi)
    SELECT lo, hi FROM s ORDER BY hi - lo LIMIT 1`;
}

/** Store.seqAtTime's answer from the row seqAtTimeSql returned (undefined: no tenant, 0). */
export function seqAtTimeResult(tenant: string, row: { lo: number; hi: number } | undefined): number {
  if (row === undefined) return 0;
  if (row.lo !== row.hi) {
    // A record missing below the head's size: the store is damaged, not the request.
    const seq = Math.floor((row.lo + row.hi) / 2);
    throw new TrailsealError('INTERNAL', `record ${seq} of tenant ${tenant} is not stored, below the head's size: the store is damaged`, { seq });
  }
  return row.lo;
}

export function joinHashes(hashes: readonly Uint8Array[]): Buffer {
  return Buffer.concat(hashes.map((h) => Buffer.from(h.buffer, h.byteOffset, h.byteLength)));
}

export function splitHashes(buf: Uint8Array): Uint8Array[] {
  if (buf.length % 32 !== 0) throw new TrailsealError('INTERNAL', `stored compact range has ${buf.length} bytes, not a multiple of 32`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < buf.length; i += 32) out.push(new Uint8Array(buf.subarray(i, i + 32)));
  return out;
}

// SQLite result codes (https://www.sqlite.org/rescode.html) and PostgreSQL
// SQLSTATE classes / Node socket errors that mean "cannot commit now, nothing
// was written": the caller gets 503 and retries with the same event ids.
const UNAVAILABLE_SQLITE = /^SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CANTOPEN|CORRUPT|NOTADB|PROTOCOL|NOLFS|PERM)/;
// 25P02 (a statement in a failed transaction) is a driver bug, not an outage: not listed.
const UNAVAILABLE_PG_CLASSES = ['08', '53', '57', '58', '40'];
const UNAVAILABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENOSPC', 'EROFS', 'EACCES', 'EIO']);

export function storeFailure(e: unknown, what: string): unknown {
  if (isTrailsealError(e)) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  const message = e instanceof Error ? e.message : String(e);
  if (UNAVAILABLE_SQLITE.test(code) || UNAVAILABLE_NODE.has(code) || UNAVAILABLE_PG_CLASSES.some((c) => code.startsWith(c)) || /Connection terminated|timeout exceeded when trying to connect|not queryable|Query read timeout|connection is not open/i.test(message)) {
    return new TrailsealError('STORE_UNAVAILABLE', `${what}: ${code || message}`, { cause: code || message });
  }
  return e;
}
