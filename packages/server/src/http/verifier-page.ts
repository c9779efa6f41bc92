// GET /verify: the browser verifier (packages/verify-web), a static page an
// auditor opens to check an evidence bundle locally. The service only hands
// out the prebuilt file: it never imports the verifier (the service does not
// grade its own evidence), and the page never talks back to it.
//
// The policy allows the page's one inline script and one inline style, by
// their SHA-256, and data: images, and nothing else: no connect-src, so the page cannot send the
// files it reads anywhere, even if its code were changed to try. The hashes
// are computed here from the file served, so a rebuilt page needs no change
// to this module.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { TrailsealError } from '@trailseal/format';

/** The same relative path from src/http (tests) and from dist/http (the built service). */
export const VERIFIER_PAGE_FILE = fileURLToPath(new URL('../../../verify-web/dist/verifier.html', import.meta.url));

export interface VerifierPageOptions {
  /** The built page; VERIFIER_PAGE_FILE unless a test says otherwise. */
  readonly file?: string;
}

interface Page {
  readonly html: string;
  readonly csp: string;
  readonly mtimeMs: number;
  readonly size: number;
}

const hashSource = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

function inlineBodies(html: string, tag: 'script' | 'style'): string[] {
  return Array.from(html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g')), (m) => m[1]!);
}

/** The Content-Security-Policy for a page whose only code and style are its inline elements. */
export function verifierPagePolicy(html: string): string {
  const scripts = inlineBodies(html, 'script').map(hashSource);
  const styles = inlineBodies(html, 'style').map(hashSource);
  return [
    "default-src 'none'",
    ...(scripts.length > 0 ? [`script-src ${scripts.join(' ')}`] : []),
    ...(styles.length > 0 ? [`style-src ${styles.join(' ')}`] : []),
    // The page's icon is an empty data: URL, so the browser asks for no /favicon.ico.
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function registerVerifierPage(app: FastifyInstance, opts: VerifierPageOptions = {}): void {
  const file = opts.file ?? VERIFIER_PAGE_FILE;
  let cached: Page | undefined;

  // Read when first asked for and again when the file changes: the page can
  // be built after the service started, and rebuilt while it runs.
  const load = async (): Promise<Page> => {
    const s = await stat(file).catch(() => undefined);
    if (s === undefined || !s.isFile()) {
      throw new TrailsealError('NOT_FOUND', 'the browser verifier is not built: run `node packages/verify-web/build.mjs` (or `npm run build`) in the source tree, then reload');
    }
    if (cached !== undefined && cached.mtimeMs === s.mtimeMs && cached.size === s.size) return cached;
    const html = await readFile(file, 'utf8');
    cached = { html, csp: verifierPagePolicy(html), mtimeMs: s.mtimeMs, size: s.size };
    return cached;
  };

  app.get('/verify', async (_req, reply) => {
    const page = await load();
    reply
      .header('content-security-policy', page.csp)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(page.html);
  });
}
