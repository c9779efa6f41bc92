// Key custody: tenant keys are stored only wrapped under the root key, bound
// to their tenant; the root key comes from the environment or a key file.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTrailsealError } from '@trailseal/format';
import { LocalKeyWrapper, loadRootKey } from '../src/keyring.js';
import { loadConfig } from '../src/config.js';

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
});
