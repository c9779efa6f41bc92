// Ingest threads (src/http/ingest.ts): a body prepared on a thread must give
// exactly what the event loop gives, the same events in canonical parts or
// the same error (code, message, details), and a thread that stops must fail
// only the requests it held.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { EVENT_RUN_COUNT, TrailsealError, canonicalEventParts, isTrailsealError, preparedEvent, preparedFromParts, type EventParts, type PreparedEvents } from '@trailseal/format';
import { afterAll, describe, expect, it } from 'vitest';
import { validEvent } from '../../../test-support/arbitraries.js';
import { richEvent } from '../../../test-support/events.js';
import { hostileRequest } from '../../../test-support/hostile.js';
import { prepareEvents, type BodyKind, type BodyLimits } from '../src/http/body.js';
import { IngestThreads, THREAD_MIN_BYTES, packEvents, unpackEvents } from '../src/http/ingest.js';
import { ThreadClient, reviveTrailsealError } from '../src/thread.js';

const LIMITS: BodyLimits = { maxBytes: 2 * 1024 * 1024, maxMembers: 10_000, maxBatchEvents: 10_000 };
const enc = new TextEncoder();

/** Prepared events as canonical parts (strings), to compare. */
function partsOf(p: PreparedEvents): EventParts[] {
  return p.ids.map((_, i) => preparedEvent(p, i));
}

/** What preparing a body gives: its events, or its error as the API would show it. */
async function outcome(prepare: () => PreparedEvents | Promise<PreparedEvents>): Promise<unknown> {
  try {
    return { events: partsOf(await prepare()) };
  } catch (e) {
    if (!isTrailsealError(e)) throw e;
    return { code: e.code, message: e.message, details: e.details };
  }
}

describe('ingest threads', () => {
  // Every body goes to the thread, however small.
  const threads = new IngestThreads(1, LIMITS, 0);
  afterAll(() => threads.close());
  const both = async (body: string | Uint8Array, kind: BodyKind): Promise<[unknown, unknown]> => {
    const bytes = typeof body === 'string' ? enc.encode(body) : body;
    return [await outcome(() => prepareEvents(bytes, kind, LIMITS)), await outcome(() => threads.prepare(bytes, kind))];
  };

  it('prepare valid batches (JSON and NDJSON) exactly as the event loop does, in canonical parts', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(validEvent, { minLength: 1, maxLength: 30 }), fc.boolean(), async (events, ndjson) => {
        const body = ndjson ? events.map((e) => JSON.stringify(e)).join('\n') : JSON.stringify(events);
        const [inline, threaded] = await both(body, ndjson ? 'ndjson' : 'json');
        expect(threaded).toEqual(inline);
        // The arbitrary's free-form context may hold numbers beyond 2^53, which the strict parser refuses in either place.
        if ((inline as { code?: string }).code === 'JSON_NUMBER_RANGE') return;
        expect(threaded).toEqual({ events: events.map(canonicalEventParts) });
        // Both paths give the same bytes: the reference path's, packed.
        expect(partsOf(prepareEvents(enc.encode(body), ndjson ? 'ndjson' : 'json', LIMITS))).toEqual(events.map(canonicalEventParts));
        accepted++;
      }),
      { numRuns: 150 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('refuse each of 10,000 hostile bodies with the error the event loop gives', async () => {
    const differ: string[] = [];
    const codes = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const h = hostileRequest(i);
      const [inline, threaded] = await both(h.body, 'json');
      codes.add((threaded as { code?: string }).code ?? 'none');
      if (JSON.stringify(threaded) !== JSON.stringify(inline) && differ.length < 5) differ.push(`#${i}: ${JSON.stringify(inline)} vs ${JSON.stringify(threaded)}`);
    }
    expect(differ).toEqual([]);
    expect([...codes].sort()).toEqual(['EVENT_INVALID', 'INVALID_UTF8', 'JSON_DUPLICATE_KEY', 'JSON_LONE_SURROGATE', 'JSON_NUMBER_RANGE', 'JSON_SYNTAX', 'JSON_TOO_DEEP']);
  }, 60_000);

  it('refuse an oversized batch and an NDJSON line naming its index, as the event loop does', async () => {
    const small = new IngestThreads(1, { ...LIMITS, maxBatchEvents: 3 }, 0);
    try {
      const body = JSON.stringify([0, 1, 2, 3].map((i) => richEvent(i)));
      const inline = await outcome(() => prepareEvents(enc.encode(body), 'json', { ...LIMITS, maxBatchEvents: 3 }));
      expect(inline).toMatchObject({ code: 'BATCH_TOO_LARGE', details: { limit: 3 } });
      expect(await outcome(() => small.prepare(enc.encode(body), 'json'))).toEqual(inline);
    } finally {
      await small.close();
    }
    const [inline, threaded] = await both(`${JSON.stringify(richEvent(0))}\n{"id":`, 'ndjson');
    expect(inline).toMatchObject({ code: 'JSON_SYNTAX', details: { field: '[1]' } });
    expect(threaded).toEqual(inline);
  });

  it('leave small bodies on the event loop and send large ones to a thread, with the same result', async () => {
    const t = new IngestThreads(1, LIMITS);
    try {
      const small = enc.encode(JSON.stringify([richEvent(1)]));
      // A view into a larger buffer, as Fastify may hand over.
      const text = JSON.stringify(Array.from({ length: 40 }, (_, i) => richEvent(i)));
      const shared = Buffer.from(`${' '.repeat(100)}${text}${' '.repeat(100)}`);
      const large = shared.subarray(100, shared.length - 100);
      expect(small.length).toBeLessThan(THREAD_MIN_BYTES);
      expect(large.length).toBeGreaterThanOrEqual(THREAD_MIN_BYTES);
      expect(partsOf(await t.prepare(small, 'json'))).toEqual(partsOf(prepareEvents(small, 'json', LIMITS)));
      expect(t.prepared).toEqual({ thread: 0, eventLoop: 1 });
      expect(partsOf(await t.prepare(large, 'json'))).toEqual(partsOf(prepareEvents(large, 'json', LIMITS)));
      expect(t.prepared).toEqual({ thread: 1, eventLoop: 1 });
      // The caller's memory is left as it was: the thread got a copy.
      expect(shared.toString('utf8')).toBe(`${' '.repeat(100)}${text}${' '.repeat(100)}`);
      // What the threads hold is released: many more large bodies still go to them.
      for (let i = 0; i < 200; i++) await t.prepare(large, 'json');
      expect(t.prepared).toEqual({ thread: 201, eventLoop: 1 });
    } finally {
      await t.close();
    }
  });

  it('prepare bodies on the event loop while the threads hold four of the largest bodies each', async () => {
    const limits = { ...LIMITS, maxBytes: 40_000 };
    const t = new IngestThreads(1, limits, 0);
    try {
      const bodies = Array.from({ length: 24 }, (_, i) => enc.encode(JSON.stringify(Array.from({ length: 20 }, (_, j) => richEvent(i * 20 + j)))));
      expect(bodies[0]!.length).toBeGreaterThan(limits.maxBytes / 4);
      // All at once: the threads may hold at most 160,000 bytes, so some are prepared on the event loop.
      const got = await Promise.all(bodies.map((b) => t.prepare(b, 'json')));
      expect(got.map(partsOf)).toEqual(bodies.map((b) => partsOf(prepareEvents(b, 'json', limits))));
      expect(t.prepared.thread).toBeGreaterThan(0);
      expect(t.prepared.eventLoop).toBeGreaterThan(0);
      expect(t.prepared.thread + t.prepared.eventLoop).toBe(24);
      // Once they are answered, the threads take bodies again.
      const before = { ...t.prepared };
      await t.prepare(bodies[0]!, 'json');
      expect(t.prepared).toEqual({ thread: before.thread + 1, eventLoop: before.eventLoop });
    } finally {
      await t.close();
    }
  });

  it('fail a request the thread still holds when the threads are closed', async () => {
    const t = new IngestThreads(1, LIMITS, 0);
    const body = enc.encode(JSON.stringify(Array.from({ length: 2000 }, (_, i) => richEvent(i))));
    const held = t.prepare(body, 'json');
    await t.close();
    await expect(held).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('pack and unpack any events, whatever their characters', () => {
    const text = fc.string({ unit: fc.constantFrom('a', '"', 'é', '東', '🚀', '\u0000'), maxLength: 12 });
    const id = fc.stringMatching(/^[\x21-\x7e]{1,20}$/);
    fc.assert(
      fc.property(fc.array(fc.record({ id, runs: fc.array(text, { minLength: EVENT_RUN_COUNT, maxLength: EVENT_RUN_COUNT }) }), { minLength: 1, maxLength: 20 }), (events) => {
        expect(partsOf(unpackEvents(packEvents(preparedFromParts(events))))).toEqual(events);
      }),
    );
    const packed = packEvents(preparedFromParts([canonicalEventParts(richEvent(0))]));
    expect(() => unpackEvents({ ...packed, ids: `${packed.ids} x` })).toThrow(/does not match/);
    expect(() => unpackEvents({ ...packed, data: packed.data.subarray(1) })).toThrow(/does not match/);
  });
});

describe('a thread client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trailseal-thread-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'echo.mjs');
  // A thread that echoes, throws a registry error, hands back a buffer, or dies.
  writeFileSync(
    script,
    `import { TrailsealError } from ${JSON.stringify(new URL('../../format/dist/index.js', import.meta.url).href)};
import { serveRequests } from ${JSON.stringify(new URL('../dist/thread.js', import.meta.url).href)};
serveRequests((op, args) => {
  if (op === 'echo') return args[0];
  if (op === 'refuse') throw new TrailsealError('EVENT_INVALID', 'refused', { field: 'x' });
  if (op === 'bytes') return new Uint8Array([1, 2, 3]);
  if (op === 'die') process.exit(3);
  throw new Error('no such op');
}, (r) => (r instanceof Uint8Array ? [r.buffer] : []));
`,
  );

  it('answers requests, revives registry errors, and after the thread stops fails only what it held', async () => {
    const client = new ThreadClient({
      script: pathToFileURL(script),
      stopped: (why) => new TrailsealError('INTERNAL', `stopped: ${why}`),
      revive: (e) => reviveTrailsealError(e) ?? new Error(e.message),
    });
    try {
      expect(await client.post('echo', [{ a: [1, 'b'] }])).toEqual({ a: [1, 'b'] });
      expect(await client.post('bytes', [])).toEqual(new Uint8Array([1, 2, 3]));
      await expect(client.post('refuse', [])).rejects.toMatchObject({ code: 'EVENT_INVALID', message: 'refused', details: { field: 'x' } });
      await expect(client.post('other', [])).rejects.toThrow('no such op');
      const held = client.post('die', []);
      await expect(held).rejects.toMatchObject({ code: 'INTERNAL', message: 'stopped: exit code 3' });
      expect(client.pending).toBe(0);
      // The next request starts a fresh thread.
      expect(await client.post('echo', ['again'])).toBe('again');
    } finally {
      await client.close();
    }
  });

  it('starts on demand, and says so when its script was not built', async () => {
    const missing = new ThreadClient({ script: 'http/no-such-thread.js', stopped: (why) => new Error(why), revive: (e) => new Error(e.message) });
    expect(() => missing.start()).toThrow(/no-such-thread\.js is missing: build first/);
    await expect(missing.post('echo', [1])).rejects.toMatchObject({ code: 'INTERNAL' });
    const client = new ThreadClient({ script: pathToFileURL(script), stopped: (why) => new Error(why), revive: (e) => new Error(e.message) });
    try {
      client.start();
      expect(await client.post('echo', ['started'])).toBe('started');
    } finally {
      await client.close();
    }
  });
});
