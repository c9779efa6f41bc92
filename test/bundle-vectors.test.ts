// The evidence-bundle vectors (docs/spec/vectors/bundles.json), as a
// third-party verifier would use them: every case through verifyBundle and
// through the built trailseal-verify command, which must reach the listed
// verdict with exactly the listed problem codes. Also: bundle.md shows the
// example bundle byte for byte, and the format package's producer helpers
// (which the service uses) write the same bytes as the independent writer
// in scripts/bundles.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatManifest, fromHex, isTrailsealError, newEd25519Signer, parseManifest, proofLine, signManifest, splitProofLine, type ErrorCode } from '@trailseal/format';
import { verifyBundle, type BundleReport } from '@trailseal/verify';

interface Case {
  name: string;
  description: string;
  directory: string;
  trusted_keys: string[];
  prev_checkpoint?: string;
  verdict: 'PASS' | 'FAIL' | 'UNUSABLE';
  codes: ErrorCode[];
  report?: { count: number; first_seq: number | null; last_seq: number | null; checkpoint_size: number; complete: boolean | null; consistent_with: number | null; mac_verified: number };
}

const vectors = new URL('../docs/spec/vectors/', import.meta.url);
const path = (p: string): string => fileURLToPath(new URL(p, vectors));
const read = (p: string): string => readFileSync(path(p), 'utf8');
const cases = (JSON.parse(read('bundles.json')) as { cases: Case[] }).cases;
const byName = new Map(cases.map((c) => [c.name, c]));

/**
 * Cases where @trailseal/verify does not (yet) give what docs/spec/bundle.md
 * requires. They run as expected failures: fixing the verifier makes them
 * pass, and this list must then shrink.
 */

const codes = (r: { problems: readonly { code: ErrorCode }[] }): ErrorCode[] => [...new Set(r.problems.map((p) => p.code))].sort();

function summary(r: BundleReport): Case['report'] {
  return {
    count: r.count,
    first_seq: r.firstSeq ?? null,
    last_seq: r.lastSeq ?? null,
    checkpoint_size: r.checkpointSize!,
    complete: r.complete ?? null,
    consistent_with: r.consistentWith ?? null,
    mac_verified: r.macVerified,
  };
}

describe('bundles.json', () => {
  it('covers every selection, both layouts and at least 12 alterations', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.filter((c) => c.verdict === 'FAIL').length).toBeGreaterThanOrEqual(12);
    const selections = new Set(cases.map((c) => (JSON.parse(read(`${c.directory}/manifest.json`)) as { selection?: { type: string } }).selection?.type));
    expect([...selections].sort()).toEqual(['all', 'filter', 'seq', 'time', undefined]);
    for (const c of cases) {
      expect(c.codes, c.name).toEqual([...c.codes].sort());
      expect(c.codes.length === 0, c.name).toBe(c.verdict === 'PASS');
      expect(c.report !== undefined, c.name).toBe(c.verdict === 'PASS');
    }
  });
});

describe('verifyBundle agrees with every case', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const check = (): void => {
      const files = { manifest: read(`${c.directory}/manifest.json`), signature: read(`${c.directory}/manifest.sig`), events: readFileSync(path(`${c.directory}/events.jsonl`)) };
      const opts = { trustedKeys: c.trusted_keys, ...(c.prev_checkpoint !== undefined ? { prevCheckpoint: read(c.prev_checkpoint) } : {}) };
      if (c.verdict === 'UNUSABLE') {
        let thrown: unknown;
        try {
          verifyBundle(files, opts);
        } catch (e) {
          thrown = e;
        }
        expect(isTrailsealError(thrown) ? thrown.code : thrown).toBe(c.codes[0]);
        return;
      }
      const r = verifyBundle(files, opts);
      expect({ verdict: r.ok ? 'PASS' : 'FAIL', codes: codes(r) }).toEqual({ verdict: c.verdict, codes: c.codes });
      if (c.report !== undefined) expect(summary(r)).toEqual(c.report);
    };
    check();
  });
});

const VERIFY = fileURLToPath(new URL('../packages/verify-cli/bin/trailseal-verify.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../packages/verify-cli/dist/main.js', import.meta.url)));

describe.runIf(built)('trailseal-verify agrees with every case', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const args = [VERIFY, path(c.directory), ...c.trusted_keys.flatMap((k) => ['--key', k]), ...(c.prev_checkpoint !== undefined ? ['--prev-checkpoint', path(c.prev_checkpoint)] : []), '--json', '--threads', '1'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20_000 });
    const out = JSON.parse(run.stdout) as { verdict: string; problems?: { code: ErrorCode }[]; error?: { code: ErrorCode } };
    const got = { status: run.status, verdict: out.verdict, codes: out.error !== undefined ? [out.error.code] : codes({ problems: out.problems ?? [] }) };
    const want = { status: { PASS: 0, FAIL: 1, UNUSABLE: 2 }[c.verdict], verdict: c.verdict, codes: c.codes };
    expect(got).toEqual(want);
  });
});

describe('docs/spec/bundle.md', () => {
  const doc = readFileSync(new URL('../docs/spec/bundle.md', import.meta.url), 'utf8');
  const blocks = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const records = readFileSync(new URL('../fixtures/golden/records.jsonl', import.meta.url), 'utf8').split('\n');

  it('shows the example bundle (seq-range) byte for byte, abbreviated only where marked', () => {
    const dir = byName.get('seq-range')!.directory;
    expect(blocks).toContain(read(`${dir}/events.jsonl`));
    expect(blocks).toContain(read(`${dir}/manifest.sig`));
    // Each key-history record is shown as a marker naming the golden record it stands for.
    const shown = blocks.filter((b) => b.startsWith('{"checkpoint":')).map((b) => b.replace(/⟨record (\d+) of the golden log⟩/g, (_m, seq: string) => JSON.stringify(records[Number(seq)]).slice(1, -1)));
    expect(shown).toContain(read(`${dir}/manifest.json`));
  });

  it('lists every vector case with its verdict and codes', () => {
    for (const c of cases) {
      const row = `| \`${c.name}\` | ${c.directory.replace('bundles/', '')} | ${c.prev_checkpoint?.replace('bundle-checkpoints/', '') ?? ''} | ${c.verdict} | ${c.codes.map((x) => `\`${x}\``).join(', ')} |`;
      expect(doc, c.name).toContain(row);
    }
  });
});

describe('the format package writes what the independent writer writes', () => {
  const keys = JSON.parse(readFileSync(new URL('../docs/spec/vectors/keys.json', import.meta.url), 'utf8')) as { signing_keys: { seed: string; verifier_key: string }[] };
  const good = cases.filter((c) => c.verdict === 'PASS' && c.directory === `bundles/${c.name}`);

  it.each(good.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const text = read(`${c.directory}/manifest.json`);
    const manifest = parseManifest(text);
    expect(formatManifest(manifest)).toBe(text);
    const origin = manifest.origin;
    const signer = newEd25519Signer(origin, fromHex(keys.signing_keys[1]!.seed));
    expect(signManifest(text, [signer])).toBe(read(`${c.directory}/manifest.sig`));
    if (manifest.events.layout === 'records-with-proofs') {
      for (const line of read(`${c.directory}/events.jsonl`).split('\n').slice(0, -1)) {
        const parts = splitProofLine(line)!;
        expect(proofLine(parts.record, parts.proof)).toBe(line);
      }
    }
  });
});
