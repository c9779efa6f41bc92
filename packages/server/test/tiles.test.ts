// The c2sp.org/tlog-tiles view: tiles and entry bundles of a real log, checked
// against hashes recomputed from the records (RFC 6962 leaf and node hashes),
// and the tile path grammar.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompactRange } from '@trailseal/format';
import { richEvent } from '../../../test-support/events.js';
import { parseTilePath } from '../src/http/tiles.js';
import { call, createTenant, startTestService, type TestService } from './support/service.js';

let svc: TestService;
let key: string;
const leaves: Buffer[] = [];
const records: string[] = [];
let size = 0;

beforeAll(async () => {
  svc = await startTestService({ 'checkpoint-interval-ms': '0' });
  key = (await createTenant(svc, 'tiled')).apiKey;
  for (let b = 0; b < 3; b++) {
    const batch = Array.from({ length: 200 }, (_, i) => ({ ...richEvent(b * 200 + i), id: `t-${b}-${i}` }));
    expect((await call(svc.url, 'POST', '/v1/events', { token: key, body: JSON.stringify(batch) })).status).toBe(201);
  }
  size = Number((await call(svc.url, 'POST', '/v1/checkpoint', { token: key })).text.split('\n')[1]);
  for (let from = 0; from < size; from += 1000) {
    const page = (await call(svc.url, 'GET', `/v1/events?from=${from}&limit=1000`, { token: key })).json<{ records: unknown[] }>();
    records.push(...page.records.map((r) => JSON.stringify(r)));
  }
  records.length = size;
  for (const r of records) leaves.push(createHash('sha256').update(Buffer.of(0)).update(r).digest());
});
afterAll(async () => svc.stop());

async function getBytes(path: string): Promise<{ status: number; body: Buffer; type: string | null }> {
  const res = await fetch(`${svc.url}/v1/tlog/tiled/${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

function mth(from: number, to: number): Buffer {
  const r = new CompactRange();
  for (let i = from; i < to; i++) r.append(new Uint8Array(leaves[i]!));
  return Buffer.from(r.root());
}

describe('tlog-tiles', () => {
  it('serves full and partial level-0 tiles of leaf hashes', async () => {
    expect(size).toBeGreaterThan(600);
    const full = await getBytes('tile/0/000');
    expect([full.status, full.type, full.body.length]).toEqual([200, 'application/octet-stream', 8192]);
    expect(full.body).toEqual(Buffer.concat(leaves.slice(0, 256)));
    const w = size - 512;
    const partial = await getBytes(`tile/0/002.p/${w}`);
    expect(partial.body).toEqual(Buffer.concat(leaves.slice(512, size)));
    expect((await getBytes('tile/0/002')).status).toBe(404);
  });

  it('serves level-1 tiles whose hashes are the roots of full level-0 tiles', async () => {
    const t = await getBytes('tile/1/000.p/2');
    expect(t.status).toBe(200);
    expect(t.body).toEqual(Buffer.concat([mth(0, 256), mth(256, 512)]));
    expect((await getBytes('tile/1/000.p/3')).status).toBe(404);
  });

  it('serves entry bundles whose entries hash to the level-0 tile', async () => {
    const b = await getBytes('tile/entries/001');
    expect(b.status).toBe(200);
    const entries: Buffer[] = [];
    for (let at = 0; at < b.body.length; ) {
      const n = b.body.readUInt16BE(at);
      entries.push(b.body.subarray(at + 2, at + 2 + n));
      at += 2 + n;
    }
    expect(entries.map((e) => e.toString('utf8'))).toEqual(records.slice(256, 512));
  });

  it("refuses another tenant's tiles and malformed paths", async () => {
    const other = (await createTenant(svc, 'other')).apiKey;
    const res = await fetch(`${svc.url}/v1/tlog/tiled/tile/0/000`, { headers: { authorization: `Bearer ${other}` } });
    expect(res.status).toBe(403);
    expect((await getBytes('tile/0/0')).status).toBe(400);
    expect((await getBytes('tile/0/000.p/256')).status).toBe(400);
    expect((await getBytes('checkpoint')).body.toString()).toContain(`\n${size}\n`);
  });

  it('parses tile paths exactly as the spec writes them', () => {
    expect(parseTilePath('0/x001/x234/067')).toEqual({ entries: false, tile: { level: 0, index: 1234067, width: 256 } });
    expect(parseTilePath('entries/005.p/17')).toEqual({ entries: true, tile: { level: 0, index: 5, width: 17 } });
    expect(parseTilePath('63/000')).toEqual({ entries: false, tile: { level: 63, index: 0, width: 256 } });
    for (const bad of ['64/000', '01/000', '0/1', '0/x000/001', '0/001.p/0', '0/001.p/256', '0/001.p/07', '0/001/', 'x/000', '0/x01/000']) {
      expect(parseTilePath(bad), bad).toBeUndefined();
    }
  });
});
