// Evidence bundle export (docs/spec/bundle.md). An export is resolved and
// recorded first (prepareExport: the selection becomes a seq range inside a
// freshly signed checkpoint, and the export is a record of the log), then
// streamed (streamExport): the events file line by line, read from the store
// in pages, and last the trailer with manifest.json and manifest.sig, whose
// SHA-256 and counts cover what was streamed. Memory is one page.
import {
  BUNDLE_MEDIA_TYPE,
  BUNDLE_SPEC,
  BUNDLE_FILES,
  KEY_ROTATION_ACTION,
  TrailsealError,
  canonicalize,
  consistencyProofAsync,
  cryptoProvider,
  filterFacts,
  filterMatches,
  formatManifest,
  formatTlogProof,
  inclusionProofAsync,
  inclusionProofFromNodes,
  inclusionProofNodes,
  isPlainObject,
  logTimestamp,
  newEd25519Signer,
  openCheckpoint,
  parseEventFilter,
  parseVerifierKey,
  proofLine,
  rangeNodes,
  signManifest,
  toBase64,
  toHex,
  type BundleManifest,
  type EventFilter,
  type NodeId,
  type Selection,
} from '@trailseal/format';
import type { Store } from '../store/types.js';
import type { LogService } from './service.js';

export interface ExportRequest {
  readonly fromSeq?: number;
  readonly toSeq?: number;
  /** Time window [from, to), epoch milliseconds. */
  readonly from?: number;
  readonly to?: number;
  readonly filter?: EventFilter;
  /** An earlier checkpoint (signed note) to prove consistency from. */
  readonly sinceCheckpoint?: string;
  readonly discloseMacKeys?: boolean;
}

const REQUEST_MEMBERS = ['from_seq', 'to_seq', 'from', 'to', 'filter', 'since_checkpoint', 'disclose_mac_keys'];

function bad(field: string, message: string): TrailsealError {
  return new TrailsealError('QUERY_INVALID', `${field} ${message}`, { field });
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Validates the body of POST /v1/exports (docs/spec/http-api.md, "Exports"). */
export function parseExportRequest(body: unknown): ExportRequest {
  if (!isPlainObject(body)) throw new TrailsealError('BODY_INVALID', 'the body must be one JSON object', { field: 'body' });
  for (const k of Object.keys(body)) if (!REQUEST_MEMBERS.includes(k)) throw bad(k, `is not an export option (${REQUEST_MEMBERS.join(', ')})`);
  const seq = (k: string): number | undefined => {
    const v = body[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(k, 'must be a non-negative integer');
    return v;
  };
  const time = (k: string): number | undefined => {
    const v = body[k];
    if (v === undefined) return undefined;
    const ms = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : Number.NaN;
    if (Number.isNaN(ms)) throw bad(k, 'must be an RFC 3339 date-time');
    return ms;
  };
  const r: { -readonly [K in keyof ExportRequest]: ExportRequest[K] } = {};
  const fromSeq = seq('from_seq');
  const toSeq = seq('to_seq');
  const from = time('from');
  const to = time('to');
  if ((fromSeq !== undefined || toSeq !== undefined) && (from !== undefined || to !== undefined)) throw bad('from', 'and from_seq/to_seq exclude each other: select by seq or by time');
  if ((from === undefined) !== (to === undefined)) throw bad(from === undefined ? 'from' : 'to', 'is required with a time window (give both from and to)');
  if (fromSeq !== undefined && toSeq !== undefined && toSeq < fromSeq) throw bad('to_seq', 'is before from_seq');
  if (from !== undefined && to !== undefined && to < from) throw bad('to', 'is before from');
  if (fromSeq !== undefined) r.fromSeq = fromSeq;
  if (toSeq !== undefined) r.toSeq = toSeq;
  if (from !== undefined) r.from = from;
  if (to !== undefined) r.to = to;
  if (body['filter'] !== undefined) r.filter = parseEventFilter(body['filter'], 'filter', bad);
  if (body['since_checkpoint'] !== undefined) {
    if (typeof body['since_checkpoint'] !== 'string') throw bad('since_checkpoint', 'must be a signed checkpoint note');
    r.sinceCheckpoint = body['since_checkpoint'];
  }
  if (body['disclose_mac_keys'] !== undefined) {
    if (typeof body['disclose_mac_keys'] !== 'boolean') throw bad('disclose_mac_keys', 'must be true or false');
    r.discloseMacKeys = body['disclose_mac_keys'];
  }
  return r;
}

/** An export resolved to seq ranges inside one signed checkpoint. */
export interface PreparedExport {
  readonly tenant: string;
  readonly origin: string;
  readonly selection: Selection;
  /** Records [begin, end) are read; for a filter, those that match are exported. */
  readonly begin: number;
  readonly end: number;
  readonly checkpoint: { readonly size: number; readonly note: string };
  readonly request: ExportRequest;
  /** Records known to be exported (undefined for a filter). */
  readonly expected: number | undefined;
  /** Size of the since_checkpoint, opened and checked against this log's keys. */
  readonly sinceSize: number | undefined;
}

/** The audit record's `log` member: what was exported, in bounded, validated values. */
export function exportAuditLog(p: PreparedExport): Record<string, unknown> {
  return { type: 'export', selection: p.selection, checkpoint_size: p.checkpoint.size, mac_keys_disclosed: p.request.discloseMacKeys === true, ...(p.request.sinceCheckpoint !== undefined ? { since_checkpoint: true } : {}) };
}

/** Resolves the request against a checkpoint signed now; QUERY_INVALID for a range beyond it. */
export async function prepareExport(svc: LogService, tenant: string, req: ExportRequest): Promise<PreparedExport> {
  const w = await svc.writer(tenant);
  const cp = await svc.checkpoint(tenant);
  const n = cp.size;
  let begin = 0;
  let end = n;
  let selection: Selection;
  if (req.from !== undefined && req.to !== undefined) {
    begin = Math.min(await svc.store.seqAtTime(tenant, req.from), n);
    end = Math.min(await svc.store.seqAtTime(tenant, req.to), n);
    selection = { type: 'time', from: logTimestamp(req.from), to: logTimestamp(req.to) };
  } else {
    begin = req.fromSeq ?? 0;
    end = req.toSeq ?? n;
    if (end > n) throw bad('to_seq', `is beyond the log's size ${n}`);
    if (begin > end) throw bad('from_seq', `is beyond the end of the range (${end})`);
    selection = req.fromSeq === undefined && req.toSeq === undefined ? { type: 'all' } : { type: 'seq', from_seq: begin, to_seq: end };
  }
  if (req.filter !== undefined) selection = { type: 'filter', filter: req.filter, from_seq: begin, to_seq: end };
  let sinceSize: number | undefined;
  if (req.sinceCheckpoint !== undefined) {
    const head = await svc.store.getHead(tenant);
    const verifiers = Array.from({ length: (head?.signingGeneration ?? 0) + 1 }, (_, g) => parseVerifierKey(w.verifierKeyAt(g)));
    let size: number;
    try {
      size = openCheckpoint(req.sinceCheckpoint, verifiers, w.tenant.origin).size;
    } catch (e) {
      throw bad('since_checkpoint', `is not a checkpoint of this log: ${(e as Error).message}`);
    }
    if (size > n) throw bad('since_checkpoint', `is of size ${size}, larger than the log (${n})`);
    sinceSize = size;
  }
  return { tenant, origin: w.tenant.origin, selection, begin, end, checkpoint: cp, request: req, expected: req.filter === undefined ? end - begin : undefined, sinceSize };
}

/** Seqs of the genesis record and the signing-key rotations below `size`, found once per process and extended incrementally. */
const keyHistoryIndex = new WeakMap<Store, Map<string, { upTo: number; seqs: number[] }>>();
const ROTATION_PREFIX = `{"action":${JSON.stringify(KEY_ROTATION_ACTION)}`;
const PAGE = 2000;

async function keyHistorySeqs(svc: LogService, tenant: string, size: number): Promise<number[]> {
  const head = await svc.store.getHead(tenant);
  // No signing rotation ever happened: the genesis record is the whole history.
  if ((head?.signingGeneration ?? 0) === 0) return [0];
  let byTenant = keyHistoryIndex.get(svc.store);
  if (byTenant === undefined) keyHistoryIndex.set(svc.store, (byTenant = new Map()));
  const known = byTenant.get(tenant) ?? { upTo: 1, seqs: [0] };
  for (let from = known.upTo; from < size; ) {
    const rows = await svc.store.listRecords(tenant, { fromSeq: from, toSeq: size, limit: PAGE });
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.canonical.startsWith(ROTATION_PREFIX) && (JSON.parse(r.canonical) as { log?: { purpose?: string } }).log?.purpose === 'signing') known.seqs.push(r.seq);
    }
    from = rows[rows.length - 1]!.seq + 1;
    known.upTo = from;
  }
  byTenant.set(tenant, known);
  return known.seqs.filter((s) => s < size);
}

/**
 * The export stream (docs/spec/bundle.md, "Export stream"): the lines of
 * events.jsonl, then one trailer line {"trailseal_export": {"manifest":
 * ..., "signature": ...}}. A failure after the first byte ends the stream
 * with {"trailseal_export_error": problem} instead, so a client never takes a
 * cut stream for a bundle.
 */
export async function* streamExport(svc: LogService, p: PreparedExport, exportSeq: number, exportedAt: number): AsyncGenerator<string | Buffer> {
  try {
    yield* streamBundle(svc, p, exportSeq, exportedAt);
  } catch (e) {
    svc.reportError(`export of tenant ${p.tenant} failed mid-stream`, e);
    const code = e instanceof TrailsealError ? e.code : 'INTERNAL';
    yield `${JSON.stringify({ trailseal_export_error: { code, detail: e instanceof TrailsealError ? e.message : 'the export failed; the service log has the details' } })}\n`;
  }
}

async function* streamBundle(svc: LogService, p: PreparedExport, exportSeq: number, exportedAt: number): AsyncGenerator<string | Buffer> {
  const store = svc.store;
  const w = await svc.writer(p.tenant);
  const n = p.checkpoint.size;
  const nodes = (ids: readonly NodeId[]): Promise<Uint8Array[]> => store.getNodes(p.tenant, ids);
  const b64 = (hs: readonly Uint8Array[]): string[] => hs.map((h) => toBase64(h));
  const hash = cryptoProvider().createSha256();
  let bytes = 0;
  let count = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  let firstPrevHash: string | null = null;
  const macKeyIds = new Set<string>();
  const filter = p.selection.type === 'filter' ? p.selection.filter : undefined;
  const disclose = p.request.discloseMacKeys === true;

  for (let from = p.begin; from < p.end; ) {
    const rows = await store.listRecords(p.tenant, { fromSeq: from, toSeq: p.end, limit: PAGE });
    if (rows.length === 0) throw new TrailsealError('INTERNAL', `records ${from} to ${p.end - 1} are missing from the store`);
    let chunk = '';
    let picked = rows;
    let proofs: Uint8Array[][] | undefined;
    if (filter !== undefined) {
      picked = rows.filter((r) => filterMatches(filter, filterFacts(JSON.parse(r.canonical) as Record<string, unknown>)));
      // One node read for the proofs of the whole page.
      const plans = picked.map((r) => inclusionProofNodes(r.seq, n));
      const hashes = await nodes(plans.flat());
      let at = 0;
      proofs = plans.map((ids, i) => {
        const mine = hashes.slice(at, (at += ids.length));
        return inclusionProofFromNodes(picked[i]!.seq, n, mine);
      });
    }
    picked.forEach((r, i) => {
      const line = proofs === undefined ? r.canonical : proofLine(r.canonical, formatTlogProof({ index: r.seq, proof: proofs[i]!, checkpoint: p.checkpoint.note }));
      chunk += `${line}\n`;
      if (firstSeq === null) {
        firstSeq = r.seq;
        firstPrevHash = /"prev_hash":"([0-9a-f]{64})"/.exec(r.canonical)?.[1] ?? null;
      }
      lastSeq = r.seq;
      count++;
      if (disclose) {
        const k = /"mac_key_id":"([^"]+)"/.exec(r.canonical)?.[1];
        if (k !== undefined) macKeyIds.add(k);
      }
    });
    from = rows[rows.length - 1]!.seq + 1;
    if (chunk.length > 0) {
      // Encoded once: the digest, the byte count and the socket take the same bytes.
      const buf = Buffer.from(chunk, 'utf8');
      hash.update(buf);
      bytes += buf.length;
      yield buf;
    }
  }

  const keySeqs = await keyHistorySeqs(svc, p.tenant, n);
  const keyHistory = [];
  for (const seq of keySeqs) {
    const rec = await store.getRecord(p.tenant, seq);
    if (rec === undefined) throw new TrailsealError('INTERNAL', `key history record ${seq} is missing`);
    keyHistory.push({ record: rec.canonical, proof: b64(await inclusionProofAsync({ getNodes: nodes }, seq, n)) });
  }

  const extra: { -readonly [K in keyof BundleManifest]?: BundleManifest[K] } = {};
  if (filter === undefined) {
    let left = p.begin;
    let right = p.end;
    if (p.selection.type === 'time') {
      const before = p.begin > 0 ? await store.getRecord(p.tenant, p.begin - 1) : undefined;
      const after = p.end < n ? await store.getRecord(p.tenant, p.end) : undefined;
      if (before !== undefined) left--;
      if (after !== undefined) right++;
      extra.completeness = { before: before?.canonical ?? null, after: after?.canonical ?? null };
    }
    extra.tree = { left: b64(await nodes(rangeNodes(0, left))), right: b64(await nodes(rangeNodes(right, n))) };
  }
  if (p.request.sinceCheckpoint !== undefined && p.sinceSize !== undefined) {
    // Opened and checked by prepareExport. Equal sizes need no hashes: the verifier compares the roots.
    extra.consistency = { checkpoint: p.request.sinceCheckpoint, proof: p.sinceSize === n ? [] : b64(await consistencyProofAsync({ getNodes: nodes }, p.sinceSize, n)) };
  }
  if (disclose) extra.mac_keys = [...macKeyIds].sort().map((id) => ({ id, key: toBase64(w.macKeyById(id)) }));

  const manifest: BundleManifest = {
    spec: BUNDLE_SPEC,
    media_type: BUNDLE_MEDIA_TYPE,
    origin: p.origin,
    tenant: p.tenant,
    selection: p.selection,
    events: { file: BUNDLE_FILES.events, layout: filter === undefined ? 'records' : 'records-with-proofs', count, bytes, sha256: toHex(hash.digest()), first_seq: firstSeq, last_seq: lastSeq },
    first_prev_hash: firstPrevHash,
    checkpoint: p.checkpoint.note,
    key_history: keyHistory,
    exported_at: logTimestamp(exportedAt),
    export_seq: exportSeq,
    ...extra,
  };
  const text = formatManifest(manifest);
  // Signed by the key in force at the checkpoint: the one after the last rotation inside it.
  const signer = newEd25519Signer(p.origin, w.signingSeed(keySeqs.length - 1));
  yield `${canonicalize({ trailseal_export: { manifest: text, signature: signManifest(text, [signer]) } })}\n`;
}
