// Test vectors of the stream formats (docs/spec/stream-formats.md): records of
// the golden log, one per OCSF class and outcome the mapping distinguishes,
// with the exact json, OCSF and CEF text a sink delivers for each.
// packages/server/test/stream-formats.test.ts checks the committed file equals
// what the formatters produce.
import { leafHash, toHex, type LogRecord } from '@trailseal/format';
import { formatRecord, OCSF_VERSION, PRODUCT_VERSION } from '@trailseal/server';
import { buildGoldenLog } from './golden.js';

/**
 * Golden records shown: genesis (Event Log Activity), login, download, denied
 * download from IPv6, share, key rotation (activity Other), policy update
 * (the API Activity fallback), grant (User Access Management), API call with
 * non-ASCII context, session expiry (Logoff).
 */
export const STREAM_VECTOR_SEQS: readonly number[] = [0, 1, 3, 4, 5, 7, 9, 10, 14, 17];

export function streamFormatVectors(): Record<string, string> {
  const g = buildGoldenLog();
  const cases = STREAM_VECTOR_SEQS.map((seq) => {
    const line = g.records[seq]!;
    const record = JSON.parse(line) as LogRecord;
    const meta = { origin: g.origin, leafHash: toHex(leafHash(line)) };
    return {
      seq,
      action: record.action,
      record: line,
      leaf_hash: meta.leafHash,
      json: formatRecord('json', record, meta),
      ocsf: formatRecord('ocsf', record, meta),
      cef: formatRecord('cef', record, meta),
    };
  });
  const doc = {
    note: 'Records of the golden log (fixtures/golden) and the exact text each stream format delivers for them: json and ocsf are canonical JSON, cef one CEF:0 line without a line terminator.',
    ocsf_version: OCSF_VERSION,
    product_version: PRODUCT_VERSION,
    tenant: g.tenant,
    origin: g.origin,
    cases,
  };
  return { 'docs/spec/vectors/stream-formats.json': `${JSON.stringify(doc, null, 2)}\n` };
}
