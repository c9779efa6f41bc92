// Builds every generated test-vector file from fixed test keys. Pure and
// deterministic: `npm run vectors` writes the result, and test/vectors.test.ts
// checks the committed files equal a fresh generation.
import {
  CompactRange,
  MemoryNodeStore,
  consistencyProof,
  deriveSigningSeed,
  deriveTenantKey,
  formatSignerKey,
  fromHex,
  inclusionProof,
  leafHash,
  macKeyFor,
  newEd25519Signer,
  recordForms,
  recordHash,
  toHex,
  type ErrorCode,
} from '@trailseal/format';
import { bundleVectors } from './bundles.js';
import { streamFormatVectors } from './stream-vectors.js';
import { buildGoldenLog, type GoldenLog } from './golden.js';

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

function keysVectors(g: GoldenLog): unknown {
  const root = fromHex(g.rootKeyHex);
  const tenantKey = deriveTenantKey(root, g.tenant);
  return {
    note: 'TEST KEYS ONLY. Derivations of docs/spec/keys-and-mac.md; every value is lowercase hex unless named otherwise.',
    root_key: g.rootKeyHex,
    tenant: g.tenant,
    tenant_key: toHex(tenantKey),
    mac_epoch_keys: [
      ['2026-11-26', 0],
      ['2026-11-27', 0],
      ['2026-11-27', 1],
    ].map(([epoch, generation]) => {
      const k = macKeyFor(tenantKey, epoch as string, generation as number);
      return { epoch, generation, hkdf_info: `mac-epoch ${String(epoch)} g${String(generation)}`, key: toHex(k.key), key_id: k.id };
    }),
    signing_keys: [0, 1].map((generation) => {
      const seed = deriveSigningSeed(tenantKey, generation);
      const signer = newEd25519Signer(g.origin, seed);
      return { generation, hkdf_info: `signing-ed25519 g${generation}`, seed: toHex(seed), public_key: toHex(signer.publicKey), key_id: signer.keyId.toString(16).padStart(8, '0'), verifier_key: signer.verifierKey, signer_key: formatSignerKey(g.origin, seed) };
    }),
  };
}

function recordVectors(g: GoldenLog): unknown {
  const keys = new Map(g.macKeys.map((k) => [k.id, k.keyHex]));
  const range = new CompactRange();
  return {
    note: 'Labelled intermediate values for every record of the golden log (fixtures/golden). Strings are the exact UTF-8 texts; hashes are lowercase hex.',
    tenant: g.tenant,
    origin: g.origin,
    records: g.records.map((line) => {
      const r = JSON.parse(line) as Record<string, unknown>;
      const forms = recordForms(r);
      range.append(leafHash(line));
      return {
        seq: r['seq'],
        mac_key_id: r['mac_key_id'],
        mac_key: keys.get(r['mac_key_id'] as string),
        ...(r['sigs'] !== undefined ? { signing_input: forms.signingInput } : {}),
        mac_input: forms.macInput,
        mac: r['mac'],
        record: line,
        record_sha256: toHex(recordHash(line)),
        leaf_hash: toHex(leafHash(line)),
        tree_root_after: toHex(range.root()),
      };
    }),
  };
}

function merkleVectors(): unknown {
  // The leaves of the Certificate Transparency / RFC 6962 reference tests.
  const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
  const store = new MemoryNodeStore();
  const range = new CompactRange();
  const roots = [toHex(range.root())];
  for (const l of leaves) {
    range.append(leafHash(fromHex(l)), (id, h) => store.put(id, h));
    roots.push(toHex(range.root()));
  }
  const inclusion: unknown[] = [];
  const consistency: unknown[] = [];
  for (let size = 1; size <= leaves.length; size++) {
    for (let index = 0; index < size; index++) inclusion.push({ index, size, proof: inclusionProof(store, index, size).map(toHex) });
    for (let from = 1; from <= size; from++) consistency.push({ from, to: size, proof: consistencyProof(store, from, size).map(toHex) });
  }
  return {
    note: 'RFC 6962 section 2.1 over the CT reference leaves. leaf_data hex; roots[n] is the root of the first n leaves (roots[0] is SHA-256 of the empty string).',
    leaf_data: leaves,
    leaf_hashes: leaves.map((l) => toHex(leafHash(fromHex(l)))),
    roots,
    inclusion,
    consistency,
  };
}

interface InvalidEvent {
  name: string;
  event: unknown;
  errors: Record<string, ErrorCode>;
}

function invalidEvents(g: GoldenLog): InvalidEvent[] {
  const { v: _v, tenant: _t, seq: _s, received_at: _r, prev_hash: _p, mac_key_id: _k, mac: _m, ...ok } = JSON.parse(g.records[3]!) as Record<string, unknown>;
  const w = (patch: Record<string, unknown>): Record<string, unknown> => ({ ...ok, ...patch });
  return [
    { name: 'not an object', event: [ok], errors: { '': 'FIELD_TYPE' } },
    { name: 'missing required fields', event: {}, errors: { id: 'FIELD_REQUIRED', time: 'FIELD_REQUIRED', action: 'FIELD_REQUIRED', outcome: 'FIELD_REQUIRED', actor: 'FIELD_REQUIRED' } },
    { name: 'producer sets log fields', event: w({ seq: 1, mac: 'x' }), errors: { seq: 'FIELD_RESERVED', mac: 'FIELD_RESERVED' } },
    { name: 'unknown top-level field', event: w({ severity: 'high' }), errors: { severity: 'FIELD_UNKNOWN' } },
    { name: 'time without offset', event: w({ time: '2026-11-26T09:15:02' }), errors: { time: 'FIELD_FORMAT' } },
    { name: 'reserved action namespace', event: w({ action: 'trailseal.key.rotate' }), errors: { action: 'FIELD_RESERVED' } },
    { name: 'outcome outside the enum', event: w({ outcome: 'ok' }), errors: { outcome: 'FIELD_ENUM' } },
    { name: 'bad nested values', event: w({ source: { ip: '999.1.1.1', port: -1 }, target: { type: 'file', sha256: 'XYZ' } }), errors: { 'source.ip': 'FIELD_FORMAT', 'source.port': 'FIELD_RANGE', 'target.sha256': 'FIELD_FORMAT' } },
    { name: 'grant without permission', event: w({ authorization: { grants: [{ resource: '*' }] } }), errors: { 'authorization.grants[0].permission': 'FIELD_REQUIRED' } },
    { name: 'null instead of omitted', event: w({ transfer: null }), errors: { transfer: 'FIELD_TYPE' } },
    { name: 'string too long', event: w({ id: 'x'.repeat(129) }), errors: { id: 'FIELD_TOO_LONG' } },
  ];
}

interface TamperedLog {
  name: string;
  records: string[];
  expect: ErrorCode[];
}

function tamperedLogs(g: GoldenLog): TamperedLog[] {
  const r = g.records;
  const mut = (i: number, f: (s: string) => string): string[] => r.map((l, j) => (j === i ? f(l) : l));
  return [
    { name: 'untouched', records: r, expect: [] },
    { name: 'field edited', records: mut(5, (l) => l.replace('"outcome":"success"', '"outcome":"failure"')), expect: ['CHAIN_BROKEN', 'MAC_MISMATCH', 'ROOT_MISMATCH'] },
    { name: 'line dropped', records: [...r.slice(0, 3), ...r.slice(4)], expect: ['CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH', 'SEQ_GAP'] },
    { name: 'line duplicated', records: [...r.slice(0, 4), r[3]!, ...r.slice(4)], expect: ['CHAIN_BROKEN', 'CHECKPOINT_SIZE_MISMATCH', 'SEQ_DUPLICATE'] },
    { name: 'lines swapped', records: [...r.slice(0, 3), r[4]!, r[3]!, ...r.slice(5)], expect: ['CHAIN_BROKEN', 'ROOT_MISMATCH', 'SEQ_GAP', 'SEQ_REORDER', 'TIME_REORDER'] },
    { name: 'tail truncated', records: r.slice(0, -2), expect: ['CHECKPOINT_SIZE_MISMATCH'] },
    { name: 'whitespace added', records: mut(2, (l) => l.replace('":', '": ')), expect: ['CHAIN_BROKEN', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH'] },
    { name: 'duplicate member name', records: mut(2, (l) => l.replace('{"action":', '{"action":"x.y","action":')), expect: ['CHAIN_BROKEN', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH'] },
    { name: 'genesis signature corrupted', records: mut(0, (l) => l.replace(/"sig":"(.)/, (_, c: string) => `"sig":"${c === 'A' ? 'B' : 'A'}`)), expect: ['CHAIN_BROKEN', 'GENESIS_INVALID', 'KEY_HISTORY_INVALID', 'MAC_MISMATCH', 'NOTE_NO_VALID_SIGNATURE'] },
  ];
}

function logVectors(g: GoldenLog): unknown {
  return {
    note: 'Verify each log with trusted_keys and checkpoint (and mac_keys); a verifier must report exactly the listed problem codes (docs/errors.md), in any order.',
    trusted_keys: [g.verifierKeys[0]],
    checkpoint: g.checkpoints[g.checkpoints.length - 1]!.note,
    mac_keys: g.macKeys,
    cases: tamperedLogs(g),
  };
}

/** Every generated file, by path relative to the repository root. */
export function generateAll(): Record<string, string> {
  const g = buildGoldenLog();
  return {
    'fixtures/golden/golden.json': json({ note: 'TEST KEYS ONLY. The golden log: see fixtures/golden/README.md.', ...g }),
    'fixtures/golden/records.jsonl': `${g.records.join('\n')}\n`,
    'fixtures/golden/checkpoint.txt': g.checkpoints[g.checkpoints.length - 1]!.note,
    'fixtures/golden/verifier-keys.txt': `${g.verifierKeys.join('\n')}\n`,
    'docs/spec/vectors/keys.json': json(keysVectors(g)),
    'docs/spec/vectors/records.json': json(recordVectors(g)),
    'docs/spec/vectors/merkle.json': json(merkleVectors()),
    'docs/spec/vectors/events-invalid.json': json({ note: 'Each event must be rejected with exactly these field paths and codes.', cases: invalidEvents(g) }),
    'docs/spec/vectors/logs.json': json(logVectors(g)),
    ...bundleVectors(g),
    ...streamFormatVectors(),
  };
}


