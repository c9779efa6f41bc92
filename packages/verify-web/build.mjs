// Builds dist/verifier.html: the browser verifier as ONE file, with its script
// and style inline, so that an auditor can keep it, check it, and open it
// offline. The script is bundled from the TypeScript sources of the page and of
// @trailseal/format and @trailseal/verify (the same code trailseal-verify
// runs), so this build does not depend on `tsc -b` having run first.
//
// The page carries its own Content-Security-Policy (a meta element) allowing
// exactly its inline script and style by hash, and data: images, and nothing
// else: no fetch, no frames, no form submission, even when opened from disk.
// The service sends the same policy as a header
// (packages/server/src/http/verifier-page.ts).
//
//   node packages/verify-web/build.mjs
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

const sha256 = (text) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

async function script() {
  const out = await build({
    entryPoints: [here('./src/page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    minify: true,
    write: false,
    // The sources, not the compiled dist: the browser entry of the format core
    // (the @noble crypto provider) is src/index.ts; src/node/ is never bundled.
    alias: {
      '@trailseal/format': here('../format/src/index.ts'),
      '@trailseal/verify': here('../verify/src/index.ts'),
    },
    logLevel: 'warning',
  });
  return out.outputFiles[0].text;
}

async function style() {
  const out = await transform(readFileSync(here('./src/verifier.css'), 'utf8'), { loader: 'css', minify: true });
  return out.code;
}

/** Text that would end the inline element early, or switch the HTML parser into its escaped script states. */
function assertInlineSafe(text, tag) {
  const bad = [`</${tag}`, '<!--'].find((s) => text.toLowerCase().includes(s));
  if (bad !== undefined) throw new Error(`the inline ${tag} contains ${bad}: it cannot be inlined as is`);
}

export async function buildVerifierPage() {
  const [js, css] = await Promise.all([script(), style()]);
  assertInlineSafe(js, 'script');
  assertInlineSafe(css, 'style');
  // img-src data: only for the page's empty data: icon, which keeps the browser
  // from asking for /favicon.ico; a data: URL is never a request.
  const csp = `default-src 'none'; script-src ${sha256(js)}; style-src ${sha256(css)}; img-src data:; base-uri 'none'; form-action 'none'`;
  const template = readFileSync(here('./src/verifier.html'), 'utf8');
  // Function replacements: the bundled script contains `$` sequences that a
  // replacement string would interpret.
  const html = template
    .replace('<!--CSP-->', () => `<meta http-equiv="Content-Security-Policy" content="${csp}">`)
    .replace('<!--STYLE-->', () => css)
    .replace('<!--SCRIPT-->', () => js);
  mkdirSync(here('./dist'), { recursive: true });
  const target = here('./dist/verifier.html');
  // Written aside and renamed: a service serving the file never reads half of it.
  const partial = `${target}.${process.pid}.partial`;
  writeFileSync(partial, html);
  renameSync(partial, target);
  return { path: target, bytes: Buffer.byteLength(html) };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { path, bytes } = await buildVerifierPage();
  console.log(`verify-web: wrote ${path} (${Math.round(bytes / 1024)} KiB)`);
}
