// Key custody: tenant keys are stored only wrapped under the root key, bound
// to their tenant; the root key comes from the environment or a key file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isTrailsealError } from '@trailseal/format';
import { LocalKeyWrapper, loadRootKey } from '../src/keyring.js';
import { DEFAULT_HEAP_GROWING_PERCENT, loadConfig } from '../src/config.js';

const dir = mkdtempSync(join(tmpdir(), 'trailseal-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe('LocalKeyWrapper', () => {
  it('round-trips a tenant key, with a fresh nonce each time, and names the root key it used', async () => {
    const w = new LocalKeyWrapper(root(1));
    const key = new Uint8Array(32).map((_, i) => i);
    const a = await w.wrap('acme', key);
    const b = await w.wrap('acme', key);
    expect(a.length).toBe(61);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(await w.unwrap('acme', a)).toEqual(key);
    expect(w.id).toMatch(/^local:[0-9a-f]{16}$/);
    expect(new LocalKeyWrapper(root(2)).id).not.toBe(w.id);
  });

  it('refuses another root key, another tenant, and any altered byte', async () => {
    const w = new LocalKeyWrapper(root(1));
    const wrapped = await w.wrap('acme', root(9));
    const refused = async (p: Promise<unknown>): Promise<boolean> => p.then(() => false, (e: unknown) => isTrailsealError(e, 'KEY_INVALID'));
    expect(await refused(new LocalKeyWrapper(root(2)).unwrap('acme', wrapped))).toBe(true);
    expect(await refused(w.unwrap('globex', wrapped))).toBe(true);
    for (let i = 0; i < wrapped.length; i++) {
      const bad = wrapped.slice();
      bad[i]! ^= 0x01;
      expect(await refused(w.unwrap('acme', bad)), `byte ${i}`).toBe(true);
    }
  });
});

describe('root key', () => {
  it('is created once, 0600, in the key file, and read back from it', () => {
    const file = join(dir, 'root.key');
    const first = loadRootKey({ file, create: true });
    expect(first.created).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const again = loadRootKey({ file, create: true });
    expect(again.created).toBe(false);
    expect(again.key).toEqual(first.key);
  });

  it('comes from TRAILSEAL_ROOT_KEY first, and a malformed or missing key stops the start with CONFIG_INVALID', () => {
    expect(loadRootKey({ env: 'ab'.repeat(32), file: join(dir, 'none'), create: false }).source).toBe('environment');
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not hex');
    for (const f of [() => loadRootKey({ file: bad, create: false }), () => loadRootKey({ file: join(dir, 'absent'), create: false }), () => loadRootKey({ env: 'abc', file: bad, create: false })]) {
      let code: string | undefined;
      try {
        f();
      } catch (e) {
        code = isTrailsealError(e) ? e.code : 'other';
      }
      expect(code).toBe('CONFIG_INVALID');
    }
  });
});

describe('configuration', () => {
  it('flags override the environment, and every bad value is reported at once, naming its source', () => {
    const cfg = loadConfig({ port: '9000', 'max-batch-events': '5' }, { TRAILSEAL_PORT: '7000', TRAILSEAL_MAX_QUEUE: '5' });
    expect([cfg.port, cfg.maxQueue]).toEqual([9000, 5]);
    expect(Object.isFrozen(cfg)).toBe(true);
    let message = '';
    try {
      loadConfig({ port: '99999', store: 'mysql://x' }, { TRAILSEAL_LOG_LEVEL: 'loud' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('--port="99999"');
    expect(message).toContain('--store="mysql://x"');
    expect(message).toContain('TRAILSEAL_LOG_LEVEL="loud"');
    expect(() => loadConfig({ 'max-queue': '10', 'max-batch-events': '11' }, {})).toThrow('--max-queue (10) must be at least --max-batch-events (11)');
  });

  it('the heap growing factor: 400 by default, 0 for V8 own choice, and applied at run time (a larger one makes full collections rarer)', () => {
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(400);
    expect(loadConfig({}, {}).heapGrowingPercent).toBe(400);
    expect(loadConfig({}, { TRAILSEAL_HEAP_GROWING_PERCENT: '0' }).heapGrowingPercent).toBe(0);
    expect(() => loadConfig({ 'heap-growing-percent': '1001' }, {})).toThrow('--heap-growing-percent="1001"');
    // Objects that outlive two young-generation collections and then die, as
    // a batch's do: the full collections they cause in a fresh process, with
    // the flag set after start as `trailseal serve` sets it.
    const config = pathToFileURL(join(import.meta.dirname, '../dist/config.js')).href;
    const majors = (percent: number): number => {
      const script = `
        const { applyHeapGrowingPercent } = await import(${JSON.stringify(config)});
        const { PerformanceObserver, constants } = await import('node:perf_hooks');
        applyHeapGrowingPercent(${percent});
        let n = 0;
        new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++; }).observe({ entryTypes: ['gc'] });
        const ring = new Array(200000);
        for (let i = 0; i < 6000000; i++) ring[i % ring.length] = { i, s: 'x' + i };
        await new Promise((r) => setTimeout(r, 50));
        console.log(n);`;
      return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script]).toString().trim());
    };
    const at10 = majors(10);
    const at400 = majors(400);
    expect(at10).toBeGreaterThan(8);
    expect(at400).toBeLessThan(at10 / 2);
  });
});
