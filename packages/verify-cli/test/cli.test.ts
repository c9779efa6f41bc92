// `trailseal export` and `trailseal-verify` as an operator and an auditor run
// them: built commands in child processes against a real service, judged by
// exit status and output.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliBuilt, runCli, runNode } from '../../server/test/support/process.js';
import { call, createTenant, startTestService, type TestService } from '../../server/test/support/service.js';

const VERIFY = fileURLToPath(new URL('../bin/trailseal-verify.js', import.meta.url));
const built = cliBuilt();

describe.runIf(built)('trailseal export and trailseal-verify', () => {
  let svc: TestService;
  let acme: { apiKey: string; verifierKey: string };
  let early = '';
  const root = mkdtempSync(join(tmpdir(), 'trailseal-cli-'));
  const at = (name: string): string => join(root, name);
  const client = (): string[] => ['--url', svc.url, '--api-key', acme.apiKey];

  beforeAll(async () => {
    svc = await startTestService();
    acme = await createTenant(svc, 'acme');
    const events = (from: number): unknown[] => Array.from({ length: 60 }, (_, i) => ({ id: `e-${from + i}`, time: new Date().toISOString(), action: i % 2 ? 'file.download' : 'auth.login', outcome: 'success', actor: { id: `u${i % 3}`, type: 'user' } }));
    await call(svc.url, 'POST', '/v1/events', { token: acme.apiKey, body: JSON.stringify(events(0)) });
    early = (await call(svc.url, 'POST', '/v1/checkpoint', { token: acme.apiKey })).text;
    writeFileSync(at('early.checkpoint'), early);
    await call(svc.url, 'POST', '/v1/events', { token: acme.apiKey, body: JSON.stringify(events(60)) });
  });

  afterAll(async () => {
    await svc?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports a seq range and prints what it wrote', async () => {
    const r = await runCli(['export', ...client(), '--out', at('range'), '--from-seq', '2', '--to-seq', '50', '--since-checkpoint', at('early.checkpoint')]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^exported 48 records \(seq 2\.\.49, \d+ bytes\) to .*range; checkpoint size \d+; this export is record \d+ of the log\n/);
    expect(readFileSync(at('range/events.jsonl'), 'utf8').split('\n')).toHaveLength(49);
  });

  it('refuses to export over an existing bundle, and leaves it as it was', async () => {
    const before = readFileSync(at('range/manifest.json'), 'utf8');
    const r = await runCli(['export', ...client(), '--out', at('range')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/exists: export into an empty directory/);
    expect(readFileSync(at('range/manifest.json'), 'utf8')).toBe(before);
  });

  it('PASS: exit 0 with a summary', async () => {
    const r = await runNode(VERIFY, [at('range'), '--key', acme.verifierKey, '--prev-checkpoint', at('early.checkpoint')]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}/);
    expect(r.stdout).toMatch(/tenant {7}acme \(log test\.trailseal\.example\/tenants\/acme\)/);
    expect(r.stdout).toMatch(/records {6}48 \(seq 2\.\.49\)/);
    expect(r.stdout).toMatch(/consistency {2}extends the earlier checkpoint of size \d+/);
    expect(r.stdout).toMatch(/time span {4}\d{4}-.*Z to \d{4}-.*Z/);
  });

  it('takes the key from a file and answers in JSON', async () => {
    writeFileSync(at('acme.vkey'), `${acme.verifierKey}\n`);
    const r = await runNode(VERIFY, [at('range'), '--key', at('acme.vkey'), '--json', '--threads', '1']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'PASS', ok: true, count: 48, firstSeq: 2, lastSeq: 49, tenant: 'acme', problems: [] });
  });

  it('FAIL: exit 1 listing every problem with its seq', async () => {
    const dir = at('tampered');
    await runCli(['export', ...client(), '--out', dir, '--from-seq', '2', '--to-seq', '50']);
    const lines = readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
    lines[10] = lines[10]!.replace('"outcome":"success"', '"outcome":"failure"');
    writeFileSync(join(dir, 'events.jsonl'), lines.join('\n'));
    const r = await runNode(VERIFY, [dir, '--key', acme.verifierKey]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}.*: 3 problems/);
    expect(r.stdout).toMatch(/EVENTS_DIGEST_MISMATCH/);
    expect(r.stdout).toMatch(/CHAIN_BROKEN +seq 13, line 12/);
    expect(r.stdout).toMatch(/ROOT_MISMATCH/);
    const j = await runNode(VERIFY, [dir, '--key', acme.verifierKey, '--json']);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ verdict: 'FAIL', ok: false, problemCount: 3 });
  });

  it('exit 2 for what is not a bundle or not a key, with a clear message', async () => {
    const missing = await runNode(VERIFY, [at('nowhere'), '--key', acme.verifierKey]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nowhere is not a directory holding a bundle/);
    const noKey = await runNode(VERIFY, [at('range')]);
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/--key VKEY is required/);
    const badKey = await runNode(VERIFY, [at('range'), '--key', 'acme+12345678+AAAA']);
    expect(badKey.status).toBe(2);
    expect(badKey.stderr).toMatch(/^trailseal-verify: --key acme\+12345678\+AAAA: /);
    const dir = mkdtempSync(join(root, 'empty-'));
    const empty = await runNode(VERIFY, [dir, '--key', acme.verifierKey, '--json']);
    expect(empty.status).toBe(2);
    expect(JSON.parse(empty.stdout)).toMatchObject({ verdict: 'UNUSABLE', error: { code: 'BUNDLE_UNUSABLE' } });
  });

  it('checks one receipt on its own', async () => {
    const record = (await call(svc.url, 'GET', '/v1/events/10', { token: acme.apiKey })).text;
    writeFileSync(at('record.json'), record);
    const proof = await runCli(['proof', '10', ...client()]);
    expect(proof.status).toBe(0);
    writeFileSync(at('record.proof'), proof.stdout);
    const ok = await runNode(VERIFY, ['receipt', at('record.json'), at('record.proof'), '--key', acme.verifierKey]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^PASS {2}receipt\n {2}seq {10}10\n/);
    writeFileSync(at('forged.json'), record.replace('"outcome":"success"', '"outcome":"failure"'));
    const bad = await runNode(VERIFY, ['receipt', at('forged.json'), at('record.proof'), '--key', acme.verifierKey]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/PROOF_ROOT_MISMATCH/);
  });

  it('installs on its own: the packed verifier and its two dependencies, nothing else, verify a bundle', async () => {
    const tgz = at('packed');
    const app = at('auditor');
    mkdirSync(tgz);
    mkdirSync(app);
    const repo = fileURLToPath(new URL('../../..', import.meta.url));
    for (const p of ['format', 'verify', 'verify-cli']) {
      const r = spawnSync('npm', ['pack', '--pack-destination', tgz], { cwd: join(repo, 'packages', p), encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    writeFileSync(join(app, 'package.json'), '{"name":"auditor","private":true}');
    const tarballs = readdirSync(tgz).map((f) => join(tgz, f));
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs], { cwd: app, encoding: 'utf8' });
    expect(install.status, install.stderr).toBe(0);
    const installed = JSON.parse(spawnSync('npm', ['ls', '--all', '--json'], { cwd: app, encoding: 'utf8' }).stdout) as { dependencies: Record<string, { dependencies?: Record<string, unknown> }> };
    const names = new Set<string>();
    const walk = (deps: Record<string, { dependencies?: Record<string, unknown> }> | undefined): void => {
      for (const [n, d] of Object.entries(deps ?? {})) {
        names.add(n);
        walk(d.dependencies as typeof deps);
      }
    };
    walk(installed.dependencies);
    expect([...names].sort()).toEqual(['@noble/curves', '@noble/hashes', '@trailseal/format', '@trailseal/verify', '@trailseal/verify-cli']);
    const r = await runNode(join(app, 'node_modules/@trailseal/verify-cli/bin/trailseal-verify.js'), [at('range'), '--key', acme.verifierKey]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^PASS/);
  }, 60_000);

  it('exports a time window and a filter from the command line', async () => {
    const r = await runCli(['export', ...client(), '--out', at('window'), '--from', '2020-01-01T00:00:00Z', '--to', '2099-01-01T00:00:00Z']);
    expect(r.status).toBe(0);
    const v = await runNode(VERIFY, [at('window'), '--key', acme.verifierKey]);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/completeness no record of the window is missing \(as of checkpoint size \d+\)/);
    const f = await runCli(['export', ...client(), '--out', at('filtered'), '--action', 'file.*', '--actor', 'u1']);
    expect(f.status).toBe(0);
    const vf = await runNode(VERIFY, [at('filtered'), '--key', acme.verifierKey, '--json']);
    expect(vf.status).toBe(0);
    const report = JSON.parse(vf.stdout) as { count: number; selection: { type: string } };
    expect(report.selection.type).toBe('filter');
    expect(report.count).toBe(20);
  });
});
