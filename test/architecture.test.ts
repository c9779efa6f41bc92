// The package graph, written as tests (the compiler enforces the same through
// `types: []` and project references; this names the rule when it breaks):
//   @trailseal/format  -> @noble/* only; no host modules (except src/node/)
//   @trailseal/verify  -> @trailseal/format only; no host modules
//   @trailseal/client  -> nothing; no host modules (fetch only: runs in browsers)
//   @trailseal/server  -> format, client, node:*, fastify, better-sqlite3, pg,
//                         @nats-io/transport-node + @nats-io/jetstream (the nats sink)
//                         (never verify: the service does not grade its own evidence)
//   @trailseal/verify-cli (the trailseal-verify command) -> format, verify, node:*
//   @trailseal/verify-web -> format, verify (the browser page runs the same code)
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { buildSync } from 'esbuild';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(repo, join(e.parentPath, e.name)));
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(repo, file), 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|\s)import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm)) {
    specs.push((m[1] ?? m[2] ?? m[3])!);
  }
  return specs;
}

const packages = [
  { name: '@trailseal/format', dir: 'packages/format/src', exempt: 'packages/format/src/node/', allowed: [/^@noble\/(hashes|curves)\//], deps: ['@noble/curves', '@noble/hashes'] },
  { name: '@trailseal/verify', dir: 'packages/verify/src', exempt: undefined, allowed: [/^@trailseal\/format$/], deps: ['@trailseal/format'] },
  { name: '@trailseal/client', dir: 'packages/client/src', exempt: undefined, allowed: [], deps: [] },
];

const server = {
  name: '@trailseal/server',
  dir: 'packages/server/src',
  allowed: [/^node:/, /^@trailseal\/(format|client)$/, /^fastify$/, /^better-sqlite3$/, /^pg$/, /^@nats-io\/(transport-node|jetstream)$/],
  deps: ['@nats-io/jetstream', '@nats-io/transport-node', '@trailseal/client', '@trailseal/format', 'better-sqlite3', 'fastify', 'pg'],
};

const tools = [
  { name: '@trailseal/verify-cli (trailseal-verify)', dir: 'packages/verify-cli/src', allowed: [/^node:/, /^@trailseal\/(format|verify)$/], deps: ['@trailseal/format', '@trailseal/verify'] },
  { name: '@trailseal/verify-web', dir: 'packages/verify-web/src', allowed: [/^@trailseal\/(format|verify)$/], deps: ['@trailseal/format', '@trailseal/verify'] },
];

describe('package graph', () => {
  for (const tool of tools) {
    it(`${tool.name} imports only the format and verify packages${tool.allowed.some((re) => re.test('node:fs')) ? ' and node: modules' : ''}`, () => {
      const files = sources(tool.dir);
      expect(files.length).toBeGreaterThan(0);
      const bad: string[] = [];
      for (const f of files) {
        for (const spec of importsOf(f)) if (!spec.startsWith('.') && !tool.allowed.some((re) => re.test(spec))) bad.push(`${f}: ${spec}`);
      }
      expect(bad).toEqual([]);
      const manifest = JSON.parse(readFileSync(join(repo, tool.dir, '..', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(tool.deps);
    });
  }

  for (const pkg of packages) {
    it(`${pkg.name} imports nothing but its declared dependencies`, () => {
      const files = sources(pkg.dir).filter((f) => pkg.exempt === undefined || !f.startsWith(pkg.exempt));
      expect(files.length).toBeGreaterThan(3);
      const bad: string[] = [];
      for (const f of files) {
        for (const spec of importsOf(f)) {
          const ok = spec.startsWith('./') || spec.startsWith('../') ? !spec.includes('/node/') : pkg.allowed.some((re) => re.test(spec));
          if (!ok) bad.push(`${f}: ${spec}`);
        }
      }
      expect(bad).toEqual([]);
    });

    it(`${pkg.name} declares only those dependencies and compiles without host typings`, () => {
      const manifest = JSON.parse(readFileSync(join(repo, pkg.dir, '..', 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(pkg.deps);
      const tsconfig = JSON.parse(readFileSync(join(repo, pkg.dir, '..', 'tsconfig.json'), 'utf8')) as { compilerOptions: { types?: string[]; lib?: string[] } };
      expect(tsconfig.compilerOptions.types).toEqual([]);
      expect(tsconfig.compilerOptions.lib ?? []).not.toContain('DOM');
    });
  }

  it(`${server.name} imports only its declared dependencies and node: modules`, () => {
    const bad: string[] = [];
    for (const f of sources(server.dir)) {
      for (const spec of importsOf(f)) {
        if (!spec.startsWith('.') && !server.allowed.some((re) => re.test(spec))) bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(repo, 'packages/server/package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(server.deps);
  });

  it('the architecture check itself catches a forbidden import', () => {
    expect(importsOf('packages/format/src/node/crypto.ts')).toContain('node:crypto');
  });
});

describe('runs outside Node.js', () => {
  it('the verifier, bundled for the browser, verifies the golden log in a bare JS context', () => {
    const out = buildSync({
      stdin: {
        contents: `
          import { verifyLog } from '@trailseal/verify';
          import { cryptoProvider } from '@trailseal/format';
          globalThis.result = { provider: cryptoProvider().name, report: verifyLog(input.records, { trustedKeys: input.keys, checkpoint: input.checkpoint }) };
        `,
        resolveDir: repo,
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      alias: { '@trailseal/format': join(repo, 'packages/format/src/index.ts'), '@trailseal/verify': join(repo, 'packages/verify/src/index.ts') },
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);
    const golden = JSON.parse(readFileSync(join(repo, 'fixtures/golden/golden.json'), 'utf8')) as { records: string[]; verifierKeys: string[]; checkpoints: { note: string }[] };
    // A context with only what a browser offers the code: no process, Buffer or require.
    const sandbox: Record<string, unknown> = {
      input: { records: golden.records, keys: golden.verifierKeys, checkpoint: golden.checkpoints[golden.checkpoints.length - 1]!.note },
      TextEncoder,
      TextDecoder,
      crypto: { getRandomValues: <T extends ArrayBufferView>(a: T): T => globalThis.crypto.getRandomValues(a) },
    };
    runInNewContext(code, sandbox);
    const result = sandbox['result'] as { provider: string; report: { ok: boolean; count: number } };
    expect(result.provider).toBe('noble');
    expect(result.report).toMatchObject({ ok: true, count: golden.records.length });
  });
});
