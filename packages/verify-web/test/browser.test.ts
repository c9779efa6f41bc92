// The browser verifier end to end: a bundle exported from a real service is
// checked by the page in headless Chromium, loaded both from the service
// (GET /verify) and as the standalone file (file://). The page must reach the
// same verdict as @trailseal/verify in Node.js, show unusable input as an
// error rather than a verdict, and make no network request but the one that
// loaded it.
//
// Chromium comes from the system (apt-get install -y chromium); playwright-core
// only drives it and never downloads a browser. Without Chromium the browser
// tests are skipped with a warning, except under CI=true where they fail.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle, type BundleReport } from '@trailseal/verify';
import { exportBundle, type ExportResult } from '../../server/src/cli/export.js';
import { problemOf } from '../../server/src/http/problem.js';
import { registerVerifierPage, verifierPagePolicy } from '../../server/src/http/verifier-page.js';
import { call, createTenant, startTestService, type TestService } from '../../server/test/support/service.js';
import type { TrailsealError } from '@trailseal/format';

const CHROMIUM = '/usr/bin/chromium';
const BUILD = fileURLToPath(new URL('../build.mjs', import.meta.url));
const PAGE = fileURLToPath(new URL('../dist/verifier.html', import.meta.url));
const FILES = ['manifest.json', 'manifest.sig', 'events.jsonl'] as const;

const haveChromium = existsSync(CHROMIUM);
const skip = !haveChromium && process.env['CI'] !== 'true';
if (skip) {
  console.warn(`\n*** packages/verify-web/test/browser.test.ts: ${CHROMIUM} is missing, the browser verifier tests are SKIPPED. Install it: apt-get install -y chromium ***\n`);
}

interface Outcome {
  state: string | undefined;
  verdict: string;
  count: string | undefined;
  codes: string[];
  error: string | undefined;
}

let svc: TestService;
let browser: Browser;
let good: string;
let tampered: string;
let exported: ExportResult;
let key = '';
let otherKey = '';
const dirs: string[] = [];

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'trailseal-verify-web-'));
  dirs.push(d);
  return d;
}

function readBundle(dir: string): { manifest: string; signature: string; events: Uint8Array } {
  return { manifest: readFileSync(join(dir, 'manifest.json'), 'utf8'), signature: readFileSync(join(dir, 'manifest.sig'), 'utf8'), events: readFileSync(join(dir, 'events.jsonl')) };
}

function nodeReport(dir: string, trustedKey: string): BundleReport {
  return verifyBundle(readBundle(dir), { trustedKeys: [trustedKey] });
}

const codesOf = (r: BundleReport): string[] => [...new Set(r.problems.map((p) => p.code))].sort();

/**
 * Opens the page, recording every request it makes (the page itself
 * included) and every error it logs: a policy violation (an inline style
 * attribute, an icon) shows up only as a console error.
 */
async function open(url: string): Promise<{ page: Page; requests: string[]; errors: string[]; csp: string | undefined }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  const res = await page.goto(url);
  expect(res?.ok() ?? url.startsWith('file:')).toBe(true);
  return { page, requests, errors, csp: res?.headers()['content-security-policy'] };
}

async function outcome(page: Page): Promise<Outcome> {
  await page.waitForFunction(() => ['pass', 'fail', 'unusable'].includes(document.getElementById('app')?.dataset['state'] ?? ''));
  return page.evaluate(() => {
    const text = (sel: string): string | undefined => document.querySelector(sel)?.textContent ?? undefined;
    const error = document.querySelector<HTMLElement>('[data-testid=error]');
    return {
      state: document.getElementById('app')?.dataset['state'],
      verdict: text('[data-testid=verdict]') ?? '',
      count: text('[data-testid=summary-count]'),
      codes: [...new Set(Array.from(document.querySelectorAll('[data-testid=problem]'), (e) => e.getAttribute('data-code') ?? ''))].sort(),
      error: error !== null && !error.hidden ? (error.textContent ?? '') : undefined,
    };
  });
}

async function verifyIn(page: Page, dir: string, trustedKey: string, how: 'multiple' | 'each' = 'multiple'): Promise<Outcome> {
  if (how === 'multiple') {
    await page.setInputFiles('[data-testid=bundle-files]', FILES.map((f) => join(dir, f)));
  } else {
    await page.setInputFiles('[data-testid=file-manifest]', join(dir, 'manifest.json'));
    await page.setInputFiles('[data-testid=file-signature]', join(dir, 'manifest.sig'));
    await page.setInputFiles('[data-testid=file-events]', join(dir, 'events.jsonl'));
  }
  await page.fill('[data-testid=key]', trustedKey);
  await page.click('[data-testid=verify]');
  return outcome(page);
}

describe.skipIf(skip)('the browser verifier in Chromium', () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI=true and ${CHROMIUM} is missing: install it (apt-get install -y chromium) before npm test`);
    // The page under test is the one built from the sources now, not a stale dist.
    execFileSync(process.execPath, [BUILD], { stdio: 'pipe' });

    svc = await startTestService();
    const acme = await createTenant(svc, 'acme');
    key = acme.verifierKey;
    otherKey = (await createTenant(svc, 'other')).verifierKey;
    const actions = ['file.download', 'file.upload', 'auth.login', 'policy.evaluate'];
    for (let start = 0; start < 200; start += 50) {
      const events = Array.from({ length: 50 }, (_, j) => {
        const i = start + j;
        return { id: `evt-${i}`, time: new Date().toISOString(), action: actions[i % 4], outcome: 'success', actor: { id: `u${i % 5}`, type: 'user' } };
      });
      const r = await call(svc.url, 'POST', '/v1/events', { token: acme.apiKey, body: JSON.stringify(events) });
      if (r.status !== 201) throw new Error(`ingest: ${r.status} ${r.text}`);
    }
    good = join(tmp(), 'bundle');
    exported = await exportBundle({ url: svc.url, apiKey: acme.apiKey, out: good, request: {} });

    // One character of one record's field value changed: still valid, canonical JSON.
    tampered = join(tmp(), 'bundle');
    cpSync(good, tampered, { recursive: true });
    const lines = readFileSync(join(tampered, 'events.jsonl'), 'utf8').split('\n');
    const at = lines.findIndex((l) => l.includes('"action":"file.download"') && l.includes('"evt-100"'));
    expect(at).toBeGreaterThan(0);
    lines[at] = lines[at]!.replace('"action":"file.download"', '"action":"file.downlaod"');
    writeFileSync(join(tampered, 'events.jsonl'), lines.join('\n'));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });

  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('served by the service: PASS on the exported bundle, with a policy that allows no connection', async () => {
    const url = `${svc.url}/verify`;
    const { page, requests, errors, csp } = await open(url);
    expect(csp).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toMatch(/connect-src|unsafe-eval/);

    const o = await verifyIn(page, good, key);
    expect(o).toMatchObject({ state: 'pass', verdict: 'PASS', count: String(exported.count), codes: [], error: undefined });
    expect(nodeReport(good, key)).toMatchObject({ ok: true, count: exported.count });
    expect(exported.count).toBeGreaterThan(200);
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a tampered events file: FAIL with the same problems as @trailseal/verify reports', async () => {
    const url = `${svc.url}/verify`;
    const { page, requests, errors } = await open(url);
    const o = await verifyIn(page, tampered, key);
    expect(o.state).toBe('fail');
    expect(o.verdict).toBe('FAIL');
    // The digest no longer matches the signed manifest, the next record's
    // prev_hash no longer matches, and the records no longer hash to the signed root.
    expect(o.codes).toEqual(['CHAIN_BROKEN', 'EVENTS_DIGEST_MISMATCH', 'ROOT_MISMATCH']);
    expect(o.codes).toEqual(codesOf(nodeReport(tampered, key)));
    const rows = await page.locator('[data-testid=problem]').count();
    expect(rows).toBe(nodeReport(tampered, key).problems.length);
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the key of another log, the files dropped at once: FAIL with NOTE_NO_VALID_SIGNATURE', async () => {
    const url = `${svc.url}/verify`;
    const { page, requests, errors } = await open(url);
    const contents = FILES.map((f) => ({ name: f, text: readFileSync(join(good, f), 'utf8') }));
    // A drop carries the three files in no particular order; the page matches them by name.
    const dropped = await page.evaluateHandle((files) => {
      const dt = new DataTransfer();
      for (const f of [...files].reverse()) dt.items.add(new File([f.text], f.name));
      return dt;
    }, contents);
    await page.dispatchEvent('[data-testid=drop-zone]', 'drop', { dataTransfer: dropped });
    await page.fill('[data-testid=key]', otherKey);
    await page.click('[data-testid=verify]');
    const o = await outcome(page);
    expect(o).toMatchObject({ state: 'fail', verdict: 'FAIL' });
    expect(o.codes).toContain('NOTE_NO_VALID_SIGNATURE');
    expect(o.codes).toEqual(codesOf(nodeReport(good, otherKey)));
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the standalone file, opened from disk: PASS, and nothing loaded but the file', async () => {
    const url = pathToFileURL(PAGE).href;
    const html = readFileSync(PAGE, 'utf8');
    // One file: no external script, style, image or link to fetch.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+rel="stylesheet"|<img\b|@import|url\(/i);
    const { page, requests, errors } = await open(url);
    const o = await verifyIn(page, good, key, 'each');
    expect(o).toMatchObject({ state: 'pass', verdict: 'PASS', count: String(exported.count), codes: [] });
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('unusable input is an error, not a verdict', async () => {
    const url = `${svc.url}/verify`;
    const { page, requests, errors } = await open(url);

    // Two files of three.
    await page.setInputFiles('[data-testid=bundle-files]', [join(good, 'manifest.json'), join(good, 'manifest.sig')]);
    await page.fill('[data-testid=key]', key);
    await page.click('[data-testid=verify]');
    let o = await outcome(page);
    expect(o).toMatchObject({ state: 'unusable', verdict: '' });
    expect(o.error).toContain('events.jsonl is missing');

    // A manifest that is not a bundle manifest at all.
    const notBundle = tmp();
    for (const f of FILES) cpSync(join(good, f), join(notBundle, f));
    writeFileSync(join(notBundle, 'manifest.json'), '{"hello":"world"}');
    o = await verifyIn(page, notBundle, key);
    expect(o).toMatchObject({ state: 'unusable', verdict: '' });
    expect(o.error).toMatch(/^Could not verify: /);

    // A key that is not a verifier key.
    o = await verifyIn(page, good, 'not a key');
    expect(o).toMatchObject({ state: 'unusable', verdict: '' });
    expect(o.error).toContain('verifier key is not usable');
    expect(requests).toEqual([url]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the policy blocks a request even if the page tried one', async () => {
    const { page } = await open(`${svc.url}/verify`);
    const result = await page.evaluate(async (target) => {
      try {
        await fetch(target);
        return 'sent';
      } catch {
        return 'blocked';
      }
    }, `${svc.url}/healthz`);
    expect(result).toBe('blocked');
    await page.close();
  });
});

describe('GET /verify without a built page', () => {
  it('answers 404 NOT_FOUND saying how to build it', async () => {
    const app = Fastify();
    app.setErrorHandler((e, _req, reply) => {
      const p = problemOf(e as TrailsealError);
      void reply.code(p.status).send(p);
    });
    registerVerifierPage(app, { file: join(tmpdir(), 'trailseal-no-such-dir', 'verifier.html') });
    const res = await app.inject({ method: 'GET', url: '/verify' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND', detail: expect.stringContaining('packages/verify-web/build.mjs') });
    await app.close();
  });

  it('the policy hashes each inline script and style and allows nothing else', () => {
    const csp = verifierPagePolicy('<style>a{}</style><script>x()</script>');
    expect(csp).toBe(
      "default-src 'none'; script-src 'sha256-D6IGS8VMvCoyaR/l0h9tERrBTATY01CoPS7l6xDv0kI='; style-src 'sha256-X1RutGBrXCt9KkSaXMK7tHftWiRscFHOhxsS8tv8hBk='; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});
