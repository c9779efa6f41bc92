import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENT_RUN_COUNT,
  LogSealer,
  RecordBytesBatch,
  RECORD_VERSION,
  canonicalEvent,
  canonicalEventParts,
  canonicalize,
  computeMac,
  joinEventParts,
  leafHash,
  logTimestamp,
  macEpochOf,
  preparedFromParts,
  recordForms,
  recordHash,
  toHex,
  validateEvent,
  validateRecord,
} from '@trailseal/format';
import { validEvent } from '../../../test-support/arbitraries.js';
import { richEvent } from '../../../test-support/events.js';

describe('compiled record serializer', () => {
  it('the arbitrary produces only valid events', () => {
    fc.assert(
      fc.property(validEvent, (e) => {
        expect(validateEvent(e)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the RFC 8785 bytes of the general canonicalizer, and seals from event parts exactly the record it and the MAC give for the event plus the log fields', () => {
    const key = new Uint8Array(32).fill(5);
    const sealer = new LogSealer({ tenant: 'acme', origin: 'example.com/tenants/acme', tenantKey: key, signingSeed: key });
    sealer.genesis(0);
    fc.assert(
      fc.property(validEvent, fc.integer({ min: 0, max: 4e12 }), (e, at) => {
        const parts = canonicalEventParts(e);
        expect(parts.id).toBe(e.id);
        expect(parts.runs).toHaveLength(EVENT_RUN_COUNT);
        expect(joinEventParts(parts)).toBe(canonicalize(e));
        expect(canonicalEvent(e)).toBe(canonicalize(e));
        const before = sealer.state;
        const receivedAt = logTimestamp(Math.max(at, 0));
        const mk = sealer.macKey(macEpochOf(receivedAt));
        const unsealed = { ...e, v: RECORD_VERSION, tenant: 'acme', seq: before.size, received_at: receivedAt, prev_hash: before.prevHash, mac_key_id: mk.id };
        const full = canonicalize({ ...unsealed, mac: computeMac(mk.key, canonicalize(unsealed)) });
        const sealed = sealer.appendParts(parts, at);
        expect(sealed.canonical).toBe(full);
        expect(sealed.recordHash).toBe(toHex(recordHash(full)));
        expect(sealed.leafHash).toEqual(leafHash(full));
        expect([sealed.seq, sealed.receivedAt, sealed.prevHash]).toEqual([before.size, receivedAt, before.prevHash]);
        expect(sealed.record).toEqual(JSON.parse(full));
        expect(validateRecord(sealed.record)).toEqual([]);
        expect(recordForms(sealed.record as unknown as Record<string, unknown>).full).toBe(sealed.canonical);
      }),
      { numRuns: 500 },
    );
  });

  it('seals prepared events (the runs as UTF-8 bytes) to the same records as their parts, with or without a batch collecting the bytes', () => {
    const key = new Uint8Array(32).fill(7);
    const make = (): LogSealer => {
      const s = new LogSealer({ tenant: 'acme', origin: 'example.com/tenants/acme', tenantKey: key, signingSeed: key });
      s.genesis(0);
      return s;
    };
    const fromParts = make();
    const fromBytes = make();
    fc.assert(
      fc.property(fc.array(validEvent, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 4e12 }), fc.boolean(), (events, at, collect) => {
        const parts = events.map(canonicalEventParts);
        const prepared = preparedFromParts(parts);
        const batch = new RecordBytesBatch(16);
        if (collect) fromBytes.collectInto(batch);
        const sealed = parts.map((_, i) => fromBytes.appendPrepared(prepared, i, at));
        fromBytes.collectInto(undefined);
        parts.forEach((x, i) => {
          const want = fromParts.appendParts(x, at);
          expect(sealed[i]!.canonical).toBe(want.canonical);
          expect(sealed[i]!.leafHash).toEqual(want.leafHash);
          expect(sealed[i]!.recordHash).toBe(want.recordHash);
          if (collect) expect(Buffer.from(batch.data.subarray(i === 0 ? 0 : batch.ends[i - 1], batch.ends[i])).toString('utf8')).toBe(want.canonical);
        });
        expect(() => fromBytes.appendPrepared(prepared, parts.length, at)).toThrow(/no prepared event/);
      }),
      { numRuns: 300 },
    );
  });

  it('a record sealed into a batch reads its text from the batch, and refuses once the batch is handed to another thread', () => {
    const key = new Uint8Array(32).fill(9);
    const sealer = new LogSealer({ tenant: 'acme', origin: 'example.com/tenants/acme', tenantKey: key, signingSeed: key });
    sealer.genesis(0);
    const batch = new RecordBytesBatch(16);
    sealer.collectInto(batch);
    const [a, b] = [0, 1].map((i) => sealer.appendParts(canonicalEventParts(richEvent(i)), 1000 + i));
    sealer.collectInto(undefined);
    const alone = sealer.appendParts(canonicalEventParts(richEvent(2)), 1002);
    expect(JSON.parse(a!.canonical)).toMatchObject({ id: richEvent(0).id, seq: 1 });
    structuredClone(batch.data.buffer, { transfer: [batch.data.buffer] });
    // Read before the hand-off: kept. Not read: refused, naming what happened.
    expect(a!.record.seq).toBe(1);
    expect(() => b!.canonical).toThrow(/handed to a store/);
    expect(JSON.parse(alone.canonical)).toMatchObject({ id: richEvent(2).id, seq: 3 });
  });

  it('a batch takes a recycled buffer large enough for it, once, and a record in it reads as written; a batch handed off before stays detached', () => {
    const key = new Uint8Array(32).fill(9);
    const sealer = new LogSealer({ tenant: 'acme', origin: 'example.com/tenants/acme', tenantKey: key, signingSeed: key });
    sealer.genesis(0);
    const first = new RecordBytesBatch(64 * 1024);
    sealer.collectInto(first);
    const old = sealer.appendParts(canonicalEventParts(richEvent(0)), 1000);
    // As a store's thread does: the buffer goes over, and comes back as a new ArrayBuffer.
    const back = structuredClone(first.data.buffer as ArrayBuffer, { transfer: [first.data.buffer as ArrayBuffer] });
    expect(back.byteLength).toBe(64 * 1024);
    RecordBytesBatch.recycle(back);
    RecordBytesBatch.recycle(back);
    RecordBytesBatch.recycle(new ArrayBuffer(16 * 1024 * 1024));
    const small = new RecordBytesBatch(1024);
    expect(small.data.buffer).toBe(back);
    expect(new RecordBytesBatch(1024).data.buffer).not.toBe(back);
    sealer.collectInto(small);
    const next = sealer.appendParts(canonicalEventParts(richEvent(1)), 1001);
    sealer.collectInto(undefined);
    expect(JSON.parse(next.canonical)).toMatchObject({ id: richEvent(1).id, seq: 2 });
    expect(Buffer.from(small.data).toString('utf8')).toBe(next.canonical);
    expect(() => old.canonical).toThrow(/handed to a store/);
  });
});
