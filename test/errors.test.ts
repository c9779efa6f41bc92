import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_REGISTRY, TrailsealError } from '@trailseal/format';
import { renderErrorsDoc } from '../scripts/errors-doc.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

describe('error registry', () => {
  it('docs/errors.md is current (run `npm run errors-doc`)', () => {
    expect(readFileSync(join(repo, 'docs/errors.md'), 'utf8')).toBe(renderErrorsDoc());
  });

  it('documents every code, and documents no code that does not exist', () => {
    const doc = readFileSync(join(repo, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_REGISTRY).sort());
  });

  it('every code used in the sources is registered (the compiler checks literals; this catches strings built at run time)', () => {
    const used = new Set<string>();
    for (const dir of ['packages/format/src', 'packages/verify/src']) {
      for (const e of readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })) {
        if (!e.isFile() || !e.name.endsWith('.ts')) continue;
        const text = readFileSync(join(e.parentPath, e.name), 'utf8');
        for (const m of text.matchAll(/code: '([A-Z0-9_]+)'|TrailsealError\('([A-Z0-9_]+)'/g)) used.add((m[1] ?? m[2])!);
      }
    }
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((c) => !(c in ERROR_REGISTRY))).toEqual([]);
  });

  it('errors carry code, HTTP status and details', () => {
    const e = new TrailsealError('FIELD_FORMAT', 'x', { field: 'a.b' });
    expect(e).toMatchObject({ code: 'FIELD_FORMAT', status: 422, details: { field: 'a.b' } });
    expect(e).toBeInstanceOf(Error);
  });
});
