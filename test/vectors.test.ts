// The committed vectors are what the checked-in generator produces, and an
// implementation that loads them (as a third-party verifier would) passes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  computeMac,
  deriveMacEpochKey,
  deriveSigningSeed,
  deriveTenantKey,
  fromHex,
  leafHash,
  newEd25519Signer,
  parseVerifierKey,
  recordHash,
  toHex,
  validateEvent,
  verifyConsistency,
  verifyInclusion,
  type ErrorCode,
} from '@trailseal/format';
import { verifyLog } from '@trailseal/verify';
import { generateAll } from '../scripts/vectors.js';

const repo = new URL('..', import.meta.url);
const load = <T>(path: string): T => JSON.parse(readFileSync(new URL(path, repo), 'utf8')) as T;

describe('generated vectors', () => {
  it('the committed files equal a fresh generation (run `npm run vectors` after a format change)', () => {
    for (const [path, content] of Object.entries(generateAll())) {
      expect(readFileSync(fileURLToPath(new URL(path, repo)), 'utf8'), path).toBe(content);
    }
  });
});

describe('keys.json', () => {
  const v = load<{
    root_key: string;
    tenant: string;
    tenant_key: string;
    mac_epoch_keys: { epoch: string; generation: number; key: string; key_id: string }[];
    signing_keys: { generation: number; seed: string; public_key: string; verifier_key: string }[];
  }>('docs/spec/vectors/keys.json');

  it('derives every listed key', () => {
    const tenantKey = deriveTenantKey(fromHex(v.root_key), v.tenant);
    expect(toHex(tenantKey)).toBe(v.tenant_key);
    for (const k of v.mac_epoch_keys) expect(toHex(deriveMacEpochKey(tenantKey, k.epoch, k.generation))).toBe(k.key);
    for (const k of v.signing_keys) {
      const seed = deriveSigningSeed(tenantKey, k.generation);
      expect(toHex(seed)).toBe(k.seed);
      expect(toHex(parseVerifierKey(k.verifier_key).publicKey)).toBe(k.public_key);
      expect(newEd25519Signer(parseVerifierKey(k.verifier_key).name, seed).verifierKey).toBe(k.verifier_key);
    }
  });
});

describe('records.json', () => {
  const v = load<{ records: { mac_key: string; mac_input: string; mac: string; record: string; record_sha256: string; leaf_hash: string }[] }>('docs/spec/vectors/records.json');

  it('every intermediate value follows from the one before it', () => {
    expect(v.records.length).toBeGreaterThanOrEqual(18);
    let prev = '0'.repeat(64);
    for (const r of v.records) {
      expect(computeMac(fromHex(r.mac_key), r.mac_input)).toBe(r.mac);
      expect(toHex(recordHash(r.record))).toBe(r.record_sha256);
      expect(toHex(leafHash(r.record))).toBe(r.leaf_hash);
      expect((JSON.parse(r.record) as { prev_hash: string }).prev_hash).toBe(prev);
      prev = r.record_sha256;
    }
  });
});

describe('merkle.json', () => {
  const v = load<{ leaf_data: string[]; roots: string[]; inclusion: { index: number; size: number; proof: string[] }[]; consistency: { from: number; to: number; proof: string[] }[] }>('docs/spec/vectors/merkle.json');

  it('matches the published RFC 6962 roots of the CT reference leaves', () => {
    expect(v.roots[0]).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(v.roots[8]).toBe('5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  });

  it('every proof verifies', () => {
    for (const p of v.inclusion) verifyInclusion(leafHash(fromHex(v.leaf_data[p.index]!)), p.index, p.size, p.proof.map((h) => fromHex(h)), fromHex(v.roots[p.size]!));
    for (const p of v.consistency) verifyConsistency(p.from, p.to, p.proof.map((h) => fromHex(h)), fromHex(v.roots[p.from]!), fromHex(v.roots[p.to]!));
  });
});

describe('events-invalid.json', () => {
  const v = load<{ cases: { name: string; event: unknown; errors: Record<string, ErrorCode> }[] }>('docs/spec/vectors/events-invalid.json');
  it.each(v.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    expect(Object.fromEntries(validateEvent(c.event).map((e) => [e.path, e.code]))).toEqual(c.errors);
  });
});

describe('logs.json', () => {
  const v = load<{ trusted_keys: string[]; checkpoint: string; mac_keys: { id: string; keyHex: string }[]; cases: { name: string; records: string[]; expect: ErrorCode[] }[] }>('docs/spec/vectors/logs.json');
  const macKeys = v.mac_keys.map((k) => ({ id: k.id, key: fromHex(k.keyHex) }));
  it.each(v.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const r = verifyLog(c.records, { trustedKeys: v.trusted_keys, checkpoint: v.checkpoint, macKeys });
    expect([...new Set(r.problems.map((p) => p.code))].sort()).toEqual(c.expect);
    expect(r.ok).toBe(c.expect.length === 0);
  });
});
