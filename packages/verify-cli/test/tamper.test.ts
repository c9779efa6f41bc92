// The tamper matrix: bundles exported from a real service, then altered the
// ways an insider or a careless tool would. Each altered bundle must FAIL with
// the reason that names the alteration, on the parallel file verifier (what
// trailseal-verify runs) and on the one-thread verifier (what the browser
// page runs) alike; the untouched bundles must PASS.
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize, newEd25519Signer, signCheckpoint, type ErrorCode } from '@trailseal/format';
import { verifyBundle, type BundleReport } from '@trailseal/verify';
import { exportBundle } from '../../server/src/cli/export.js';
import { call, createTenant, startTestService, type TestService } from '../../server/test/support/service.js';
import { verifyBundleDir } from '../src/index.js';

interface Bundle {
  manifest: string;
  signature: string;
  events: string;
}

let svc: TestService;
let acme: { apiKey: string; verifierKey: string };
let other: { apiKey: string; verifierKey: string };
const dirs: string[] = [];
const bundles: Record<'range' | 'range2' | 'time' | 'filter' | 'macs' | 'otherTenant', Bundle> = {} as never;
let earlyCheckpoint = '';
let forkedCheckpoint = '';

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'trailseal-tamper-'));
  dirs.push(d);
  return d;
}

function read(dir: string): Bundle {
  return { manifest: readFileSync(join(dir, 'manifest.json'), 'utf8'), signature: readFileSync(join(dir, 'manifest.sig'), 'utf8'), events: readFileSync(join(dir, 'events.jsonl'), 'utf8') };
}

async function ingest(apiKey: string, prefix: string, n: number): Promise<void> {
  const actions = ['file.upload', 'file.download', 'auth.login', 'policy.evaluate'];
  for (let start = 0; start < n; start += 50) {
    const events = Array.from({ length: Math.min(50, n - start) }, (_, j) => {
      const i = start + j;
      return { id: `${prefix}-${i}`, time: new Date().toISOString(), action: actions[i % 4], outcome: i % 7 === 0 ? 'denied' : 'success', actor: { id: `u${i % 5}`, type: 'user' }, source: { ip: `198.51.100.${i % 200}` } };
    });
    const r = await call(svc.url, 'POST', '/v1/events', { token: apiKey, body: JSON.stringify(events) });
    if (r.status !== 201) throw new Error(`ingest: ${r.status} ${r.text}`);
  }
}

async function exported(apiKey: string, request: Record<string, unknown>): Promise<Bundle> {
  const out = tmp();
  await exportBundle({ url: svc.url, apiKey, out, request });
  return read(out);
}

const lines = (b: Bundle): string[] => b.events.split('\n').slice(0, -1);
const withLines = (b: Bundle, l: string[]): Bundle => ({ ...b, events: `${l.join('\n')}\n` });
const editRecord = (line: string, edit: (r: Record<string, unknown>) => void): string => {
  const r = JSON.parse(line) as Record<string, unknown>;
  edit(r);
  return canonicalize(r);
};
const flipHexAt = (s: string, field: string): string => s.replace(new RegExp(`"${field}":"([0-9a-f])`), (_m, c: string) => `"${field}":"${c === '0' ? '1' : '0'}`);

beforeAll(async () => {
  svc = await startTestService();
  acme = await createTenant(svc, 'acme');
  other = await createTenant(svc, 'other');
  await ingest(acme.apiKey, 'a', 150);
  await ingest(other.apiKey, 'o', 60);
  earlyCheckpoint = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
  const t0 = new Date(Date.now() + 5).toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await ingest(acme.apiKey, 'b', 150);
  const t1 = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  await ingest(acme.apiKey, 'c', 50);
  bundles.range = await exported(acme.apiKey, { from_seq: 10, to_seq: 200, since_checkpoint: earlyCheckpoint });
  bundles.range2 = await exported(acme.apiKey, { from_seq: 20, to_seq: 210 });
  bundles.time = await exported(acme.apiKey, { from: t0, to: t1 });
  bundles.filter = await exported(acme.apiKey, { filter: { actions: ['file.*'], outcomes: ['denied'] } });
  bundles.macs = await exported(acme.apiKey, { from_seq: 100, to_seq: 160, disclose_mac_keys: true });
  bundles.otherTenant = await exported(other.apiKey, { from_seq: 10, to_seq: 40 });
  // A fork: a checkpoint of the same log and size as the early one, with another root, signed by the log's own key.
  const early = /\n(\d+)\n/.exec(earlyCheckpoint)!;
  const w = await svc.service.writer('acme');
  forkedCheckpoint = signCheckpoint({ origin: w.tenant.origin, size: Number(early[1]), rootHash: new Uint8Array(32).fill(7), extensions: [] }, [newEd25519Signer(w.tenant.origin, w.signingSeed(0))]);
}, 60_000);

afterAll(async () => {
  await svc?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function verifyBoth(b: Bundle, opts: { key?: string; prev?: string } = {}): Promise<BundleReport> {
  const dir = tmp();
  writeFileSync(join(dir, 'manifest.json'), b.manifest);
  writeFileSync(join(dir, 'manifest.sig'), b.signature);
  writeFileSync(join(dir, 'events.jsonl'), b.events);
  const o = { trustedKeys: [opts.key ?? acme.verifierKey], ...(opts.prev !== undefined ? { prevCheckpoint: opts.prev } : {}) };
  // Small chunks: the records of even a small bundle cross several workers and segment boundaries.
  const parallel = await verifyBundleDir(dir, { ...o, threads: 2, chunkBytes: 8 * 1024 });
  const single = verifyBundle({ manifest: b.manifest, signature: b.signature, events: new TextEncoder().encode(b.events) }, o);
  expect(new Set(parallel.problems.map((p) => p.code))).toEqual(new Set(single.problems.map((p) => p.code)));
  expect(parallel.ok).toBe(single.ok);
  return parallel;
}

const codes = (r: BundleReport): ErrorCode[] => [...new Set(r.problems.map((p) => p.code))].sort();

describe('untouched bundles pass', () => {
  it.each(['range', 'range2', 'time', 'filter', 'macs'] as const)('%s', async (name) => {
    const r = await verifyBoth(bundles[name]);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.count).toBe(lines(bundles[name]).length);
  });

  it('a seq range reports its range and its consistency with the earlier checkpoint', async () => {
    const r = await verifyBoth(bundles.range, { prev: earlyCheckpoint });
    expect(r).toMatchObject({ ok: true, firstSeq: 10, lastSeq: 199, count: 190, consistentWith: Number(/\n(\d+)\n/.exec(earlyCheckpoint)![1]) });
  });

  it('a time window proves its completeness', async () => {
    const r = await verifyBoth(bundles.time);
    expect(r.complete).toBe(true);
    expect(r.count).toBe(150);
  });

  it('disclosed MAC keys are checked for every record', async () => {
    const r = await verifyBoth(bundles.macs);
    expect(r.macVerified).toBe(60);
  });
});

type Mutation = [name: string, make: () => Bundle, expected: ErrorCode[], opts?: () => { key?: string; prev?: string }];

const mutations: Mutation[] = [
  ['edit a field of one record', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 40 ? l.replace('"outcome":"success"', '"outcome":"failure"') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH']],
  ['edit a field under disclosed MAC keys', () => withLines(bundles.macs, lines(bundles.macs).map((l, i) => (i === 5 ? l.replace(/"ip":"198\.51\.100\.\d+"/, '"ip":"203.0.113.9"') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'MAC_MISMATCH', 'ROOT_MISMATCH']],
  ['flip one hex digit of a prev_hash', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 70 ? flipHexAt(l, 'prev_hash') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH']],
  ['flip one hex digit of a MAC under disclosed keys', () => withLines(bundles.macs, lines(bundles.macs).map((l, i) => (i === 9 ? flipHexAt(l, 'mac') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'MAC_MISMATCH', 'ROOT_MISMATCH']],
  ['reorder two lines', () => {
    const l = lines(bundles.range);
    [l[30], l[31]] = [l[31]!, l[30]!];
    return withLines(bundles.range, l);
  }, ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SEQ_GAP', 'SEQ_REORDER']],
  ['drop a line', () => withLines(bundles.range, lines(bundles.range).filter((_, i) => i !== 50)), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_GAP']],
  ['duplicate a line', () => {
    const l = lines(bundles.range);
    l.splice(60, 0, l[60]!);
    return withLines(bundles.range, l);
  }, ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_DUPLICATE']],
  ['insert a forged record with every later seq and chain hash recomputed', () => {
    const l = lines(bundles.range);
    const forged = editRecord(l[80]!, (r) => {
      r['id'] = 'forged-1';
      r['action'] = 'file.delete';
    });
    l.splice(81, 0, forged);
    // Renumber and re-chain everything after the forgery, as a careful forger would.
    for (let i = 81; i < l.length; i++) {
      const prev = l[i - 1]!;
      l[i] = editRecord(l[i]!, (r) => {
        r['seq'] = (JSON.parse(prev) as { seq: number }).seq + 1;
        r['prev_hash'] = sha256Hex(prev);
      });
    }
    return withLines(bundles.range, l);
  }, ['EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']],
  ['truncate the tail', () => withLines(bundles.range, lines(bundles.range).slice(0, -15)), ['EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']],
  ['truncate the tail and rewrite the manifest counts', () => {
    const l = lines(bundles.range).slice(0, -15);
    const b = withLines(bundles.range, l);
    const m = JSON.parse(b.manifest) as { events: Record<string, unknown> };
    m.events['count'] = l.length;
    m.events['last_seq'] = 199 - 15;
    m.events['bytes'] = Buffer.byteLength(b.events);
    m.events['sha256'] = sha256Hex(b.events);
    return { ...b, manifest: `${canonicalize(m)}\n` };
  }, ['MANIFEST_SIGNATURE_INVALID', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']],
  ['replace the checkpoint with an older one', () => ({ ...bundles.range, manifest: `${canonicalize({ ...JSON.parse(bundles.range.manifest), checkpoint: earlyCheckpoint })}\n` }), ['CHECKPOINT_SIZE_MISMATCH', 'KEY_HISTORY_INVALID', 'MANIFEST_SIGNATURE_INVALID', 'PROOF_WRONG_LENGTH']],
  ['replace the checkpoint with a forked one signed by the log key', () => ({ ...bundles.range, manifest: `${canonicalize({ ...JSON.parse(bundles.range.manifest), checkpoint: forkedCheckpoint })}\n` }), ['CHECKPOINT_SIZE_MISMATCH', 'KEY_HISTORY_INVALID', 'MANIFEST_SIGNATURE_INVALID', 'PROOF_WRONG_LENGTH']],
  ['verify against an earlier checkpoint of a fork', () => bundles.range, ['PROOF_INCONSISTENT'], () => ({ prev: forkedCheckpoint })],
  ['edit the manifest', () => ({ ...bundles.range, manifest: bundles.range.manifest.replace('"tenant":"acme"', '"tenant":"acmf"') }), ['MANIFEST_SIGNATURE_INVALID', 'TENANT_MISMATCH']],
  ['corrupt the signature', () => ({ ...bundles.range, signature: bundles.range.signature.replace(/ ([A-Za-z0-9+/]{10})/, (_m, s: string) => ` ${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`) }), ['MANIFEST_SIGNATURE_INVALID']],
  ['take the signature of another export', () => ({ ...bundles.range, signature: bundles.range2.signature }), ['MANIFEST_SIGNATURE_INVALID']],
  ['verify with the wrong key', () => bundles.range, ['NOTE_NO_VALID_SIGNATURE'], () => ({ key: other.verifierKey })],
  ['mix in a record of another tenant', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 5 ? lines(bundles.otherTenant)[5]! : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'TENANT_MISMATCH', 'TIME_REORDER']],
  ['swap in the events of another export', () => ({ ...bundles.range, events: bundles.range2.events }), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_GAP']],
  ['change line endings to CRLF', () => ({ ...bundles.range, events: bundles.range.events.replaceAll('\n', '\r\n') }), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'EVENTS_MALFORMED', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH']],
  ['add whitespace inside a record', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 12 ? l.replace('","', '", "') : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH']],
  ['reorder the members of a record', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 13 ? JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(l) as object).reverse())) : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'RECORD_NOT_CANONICAL', 'ROOT_MISMATCH']],
  ['drop the final line feed', () => ({ ...bundles.range, events: bundles.range.events.slice(0, -1) }), ['EVENTS_DIGEST_MISMATCH', 'EVENTS_MALFORMED']],
  ['insert a blank line', () => ({ ...bundles.range, events: bundles.range.events.replace('\n', '\n\n') }), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'EVENTS_MALFORMED', 'RECORD_INVALID', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']],
  ['insert a 2 MiB line (never decoded by the file verifier)', () => withLines(bundles.range, lines(bundles.range).flatMap((l, i) => (i === 20 ? [`{"action":"${'x'.repeat(2 * 1024 * 1024)}"}`, l] : [l]))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'RECORD_INVALID', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_DUPLICATE']],
  ['empty the events file', () => ({ ...bundles.range, events: '' }), ['EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH']],
  ['backdate one record', () => withLines(bundles.range, lines(bundles.range).map((l, i) => (i === 90 ? editRecord(l, (r) => (r['received_at'] = '2020-01-01T00:00:00.000Z')) : l))), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'RECORD_INVALID', 'ROOT_MISMATCH', 'TIME_REORDER']],
  ['drop the last record of a time window', () => withLines(bundles.time, lines(bundles.time).slice(0, -1)), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_GAP']],
  ['drop the first record of a time window', () => withLines(bundles.time, lines(bundles.time).slice(1)), ['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH', 'SELECTION_MISMATCH', 'SEQ_GAP']],
  ['corrupt an inclusion proof of a filtered export', () => withLines(bundles.filter, lines(bundles.filter).map((l, i) => (i === 2 ? l.replace(/(\\nindex \d+\\n)([A-Za-z0-9+/])/, (_m, head: string, c: string) => `${head}${c === 'A' ? 'B' : 'A'}`) : l))), ['EVENTS_DIGEST_MISMATCH', 'PROOF_ROOT_MISMATCH']],
  ['swap the proofs of two filtered records', () => {
    const l = lines(bundles.filter);
    const a = JSON.parse(l[1]!) as { proof: string; record: object };
    const b = JSON.parse(l[2]!) as { proof: string; record: object };
    l[1] = `{"proof":${JSON.stringify(b.proof)},"record":${canonicalize(a.record)}}`;
    l[2] = `{"proof":${JSON.stringify(a.proof)},"record":${canonicalize(b.record)}}`;
    return withLines(bundles.filter, l);
  }, ['EVENTS_DIGEST_MISMATCH', 'PROOF_ROOT_MISMATCH']],
  ['add a record outside the filter to a filtered export', () => {
    const l = lines(bundles.filter);
    const extra = lines(bundles.range).find((x) => x.includes('"action":"auth.login"') && x.includes('"outcome":"success"'))!;
    const seq = (JSON.parse(extra) as { seq: number }).seq;
    const at = l.findIndex((x) => (JSON.parse(x) as { record: { seq: number } }).record.seq > seq);
    l.splice(at, 0, `{"proof":${JSON.stringify((JSON.parse(l[at]!) as { proof: string }).proof)},"record":${extra}}`);
    return withLines(bundles.filter, l);
  }, ['EVENTS_DIGEST_MISMATCH', 'PROOF_ROOT_MISMATCH', 'SELECTION_MISMATCH']],
];

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

describe('every alteration is detected with its reason', () => {
  it('has at least 20 distinct alterations', () => {
    expect(new Set(mutations.map((m) => m[0])).size).toBeGreaterThanOrEqual(20);
  });

  it.each(mutations.map((m) => [m[0], m] as const))('%s', async (_, [, make, expected, opts]) => {
    const r = await verifyBoth(make(), opts?.() ?? {});
    expect(r.ok).toBe(false);
    expect(codes(r)).toEqual(expected);
  });
});

describe('unusable input', () => {
  it('a directory without a manifest, or a manifest that is not one, is not a bundle', async () => {
    const dir = tmp();
    cpSync(join(dirs[0]!), dir, { recursive: true });
    rmSync(join(dir, 'manifest.json'));
    await expect(verifyBundleDir(dir, { trustedKeys: [acme.verifierKey] })).rejects.toMatchObject({ code: 'BUNDLE_UNUSABLE' });
    writeFileSync(join(dir, 'manifest.json'), '{"hello":"world"}\n');
    await expect(verifyBundleDir(dir, { trustedKeys: [acme.verifierKey] })).rejects.toMatchObject({ code: 'BUNDLE_UNUSABLE' });
  });
});
