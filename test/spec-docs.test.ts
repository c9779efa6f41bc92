// The worked examples in docs/spec/ are output of this code: these tests keep
// every value the documents show identical to the generated vectors.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (p: string): string => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');
const records = (JSON.parse(read('docs/spec/vectors/records.json')) as { records: Record<string, string>[] }).records;
const keys = JSON.parse(read('docs/spec/vectors/keys.json')) as {
  root_key: string;
  tenant_key: string;
  mac_epoch_keys: { key: string; key_id: string }[];
  signing_keys: { seed: string; public_key: string; verifier_key: string }[];
};

describe('docs/spec/event-record.md', () => {
  const doc = read('docs/spec/event-record.md');
  it('shows the golden record 1 and every intermediate value exactly', () => {
    const r = records[1]!;
    for (const v of [r['mac_input'], r['record'], r['mac'], r['record_sha256'], r['leaf_hash'], r['tree_root_after'], r['mac_key'], r['mac_key_id'], records[0]!['record_sha256']]) {
      expect(doc).toContain(v);
    }
    expect(doc).toContain(`(${Buffer.byteLength(r['mac_input']!)} bytes`);
    expect(doc).toContain(`(${Buffer.byteLength(r['record']!)} bytes)`);
  });

  it('shows the genesis body of the golden log', () => {
    const block = /"log": (\{[\s\S]*?\n\})/.exec(doc)![1]!;
    expect(JSON.parse(block)).toEqual((JSON.parse(records[0]!['record']!) as { log: unknown }).log);
  });
});

describe('docs/spec/keys-and-mac.md', () => {
  const doc = read('docs/spec/keys-and-mac.md');
  it('shows the golden key derivations exactly', () => {
    const mk = keys.mac_epoch_keys[0]!;
    const sk = keys.signing_keys[0]!;
    for (const v of [keys.root_key, keys.tenant_key, mk.key, mk.key_id, mk.key_id.split(':')[3]!, sk.seed, sk.public_key, sk.verifier_key]) {
      expect(doc).toContain(v);
    }
  });
});
