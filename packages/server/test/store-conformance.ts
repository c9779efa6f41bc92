// The one conformance suite of the storage contract (src/store/types.ts).
// Every driver's test file calls storeConformance with a function that opens
// a new connection to one database; the suite opens it a second time for the
// concurrency test, so `open` must be callable repeatedly for the same
// underlying database (the same file for SQLite, the same URL for
// PostgreSQL). Tests share that database and keep apart by tenant id.
import {
  CompactRange,
  GENESIS_PREV_HASH,
  LogSealer,
  RecordBytesBatch,
  TrailsealError,
  consistencyProofAsync,
  deriveSigningSeed,
  inclusionProofAsync,
  isTrailsealError,
  leafHash,
  recordHash,
  rootAtAsync,
  toHex,
  verifyConsistency,
  verifyInclusion,
  type AsyncNodeReader,
  type EventV1,
  type NodeId,
  type SealedRecord,
} from '@trailseal/format';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiKeyRow, AppendBuilder, AppendPlan, AppendResult, HeadRow, PlannedRecord, ReceiptRow, SinkRow, Store, TenantRow } from '../src/store/types.js';
import { richEvent } from '../../../test-support/events.js';

export interface OpenedStore {
  readonly store: Store;
  /** Closes this connection (the database itself outlives it). */
  close(): Promise<void>;
}

/** The same tenant key for every tenant and every connection of the suite. */
const TENANT_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 255);
const T0 = Date.UTC(2026, 10, 26, 9, 0, 0, 0);

interface Receipt {
  readonly seq: number;
  readonly leafHash: string;
  readonly receivedAt: string;
  readonly duplicate?: true;
}

interface Sink {
  receipts: Receipt[];
  sealer?: LogSealer;
  heads: HeadRow[];
  known: ReadonlyMap<string, ReceiptRow>[];
  /** The plan the builder returned last. */
  plan?: AppendPlan;
}

const sink = (): Sink => ({ receipts: [], heads: [], known: [] });

const hex = (b: Uint8Array): string => toHex(b);
const hexes = (bs: readonly Uint8Array[]): string[] => bs.map(hex);
const idOf = (canonical: string): string => (JSON.parse(canonical) as { id: string }).id;

function tenantRow(id: string): TenantRow {
  return {
    id,
    name: `Tenant ${id}`,
    origin: `log.example.test/tenants/${id}`,
    wrappedKey: Uint8Array.from({ length: 60 }, (_, i) => (i * 7 + id.length) & 255),
    keyWrapper: 'test:plain',
    createdAt: new Date(T0).toISOString(),
  };
}

/** A sealer resuming from `head`, exactly as writer.ts #sealerFor builds one. */
function sealerFor(row: TenantRow, head?: HeadRow): LogSealer {
  return new LogSealer({
    tenant: row.id,
    origin: row.origin,
    tenantKey: TENANT_KEY,
    signingSeed: deriveSigningSeed(TENANT_KEY, head?.signingGeneration ?? 0),
    ...(head === undefined
      ? {}
      : { state: { size: head.size, prevHash: head.prevHash, range: new CompactRange(0, head.size, head.range), macGeneration: head.macGeneration } }),
  });
}

function headAfter(sealer: LogSealer, signingGeneration: number, lastReceivedAtMs: number): HeadRow {
  const st = sealer.state;
  return { size: st.size, prevHash: st.prevHash, range: st.range.hashes, macGeneration: st.macGeneration, signingGeneration, lastReceivedAtMs };
}

function genesisPlan(row: TenantRow, at = T0): { plan: AppendPlan; genesis: SealedRecord; sealer: LogSealer } {
  const sealer = sealerFor(row);
  const genesis = sealer.genesis(at);
  return { plan: { records: [{ sealed: genesis, eventId: null }], head: headAfter(sealer, 0, at) }, genesis, sealer };
}

function ev(i: number, id: string): EventV1 {
  return { ...richEvent(i), id };
}

/**
 * What writer.ts #build does: a sealer rebuilt from the locked head, stored
 * ids answered with their original receipt, repeated ids in the batch sealed
 * once, received_at never before the head's.
 */
function eventsBuilder(row: TenantRow, events: readonly EventV1[], at: number | (() => number), out: Sink = sink()): AppendBuilder {
  return (head, known) => {
    out.heads.push(head);
    out.known.push(known);
    out.receipts = [];
    const sealer = sealerFor(row, head);
    out.sealer = sealer;
    const now = Math.max(typeof at === 'number' ? at : at(), head.lastReceivedAtMs);
    const records: PlannedRecord[] = [];
    const fresh = new Map<string, Receipt>();
    for (const e of events) {
      const old = known.get(e.id);
      if (old !== undefined) {
        out.receipts.push({ seq: old.seq, leafHash: hex(old.leafHash), receivedAt: old.receivedAt, duplicate: true });
        continue;
      }
      const again = fresh.get(e.id);
      if (again !== undefined) {
        out.receipts.push({ ...again, duplicate: true });
        continue;
      }
      const sealed = sealer.append(e, now);
      records.push({ sealed, eventId: e.id });
      const r = { seq: sealed.record.seq, leafHash: hex(sealed.leafHash), receivedAt: sealed.record.received_at };
      fresh.set(e.id, r);
      out.receipts.push(r);
    }
    out.plan = { records, head: headAfter(sealer, head.signingGeneration, records.length > 0 ? now : head.lastReceivedAtMs) };
    return out.plan;
  };
}

/** A faulty builder: ignores `known` and seals `events` (one of them stored already), which the unique index refuses. */
function resealing(row: TenantRow, events: readonly EventV1[], at: number): AppendBuilder {
  return (head) => {
    const sealer = sealerFor(row, head);
    const records = events.map((e) => ({ sealed: sealer.append(e, at), eventId: e.id }));
    return { records, head: headAfter(sealer, head.signingGeneration, at) };
  };
}

async function codeOfRejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isTrailsealError(e) ? e.code : `other: ${e instanceof Error ? e.message : String(e)}`;
  }
}

export function storeConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`store conformance: ${name}`, () => {
    let opened: OpenedStore;
    let store: Store;
    let counter = 0;
    const tenantId = (label: string): string => `c${++counter}-${label}`;
    const reader = (tenant: string): AsyncNodeReader => ({ getNodes: (ids: readonly NodeId[]) => store.getNodes(tenant, ids) });

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
      await store.migrate();
    });

    afterAll(async () => {
      await opened?.close();
    });

    /** Creates a tenant with its genesis record; returns its row and head. */
    async function createLog(label: string, at = T0): Promise<{ row: TenantRow; genesis: SealedRecord; head: HeadRow }> {
      const row = tenantRow(tenantId(label));
      const { plan, genesis } = genesisPlan(row, at);
      await store.createTenant(row, plan);
      return { row, genesis, head: plan.head };
    }

    /** Appends events with the writer-like builder; returns the plan and receipts. */
    async function appendEvents(row: TenantRow, events: readonly EventV1[], at: number | (() => number) = T0 + 1000, s: Store = store): Promise<{ plan: AppendPlan; out: Sink }> {
      const out = sink();
      const result = await s.append(
        row.id,
        events.map((e) => e.id),
        eventsBuilder(row, events, at, out),
      );
      // The driver answers with what it committed: the head and the size of the last plan built.
      const plan = out.plan!;
      expect(result).toEqual({ head: plan.head, records: plan.records.length });
      return { plan, out };
    }

    async function allRecords(tenant: string, s: Store = store) {
      return s.listRecords(tenant, { fromSeq: 0, limit: 1_000_000 });
    }

    it('kind names the driver, migrate is idempotent and ping answers', async () => {
      expect(['sqlite', 'postgres']).toContain(store.kind);
      await store.migrate();
      await store.migrate();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('putFirstOperatorKey stores the first operator key once, even from two connections at once', async () => {
      const second = await open();
      try {
        const key = (id: string): ApiKeyRow => ({ id, tenant: null, name: `first ${id}`, scopes: ['admin'], secretHash: new Uint8Array(32).fill(1), createdAt: new Date(T0).toISOString(), expiresAt: null, revokedAt: null });
        // Runs before any other test stores an operator key.
        expect(await store.listApiKeys(null)).toEqual([]);
        const won = await Promise.all([store.putFirstOperatorKey(key('00000000000000f1')), second.store.putFirstOperatorKey(key('00000000000000f2'))]);
        expect(won.filter((w) => w)).toHaveLength(1);
        expect((await store.listApiKeys(null)).map((k) => k.id)).toEqual([won[0] ? '00000000000000f1' : '00000000000000f2']);
        expect(await store.putFirstOperatorKey(key('00000000000000f3'))).toBe(false);
      } finally {
        await second.close();
      }
    });

    it('createTenant writes the tenant, the genesis record, its leaf node and the head', async () => {
      const row = tenantRow(tenantId('create'));
      const { plan, genesis } = genesisPlan(row);
      await store.createTenant(row, plan);

      const got = await store.getTenant(row.id);
      expect(got).toBeDefined();
      expect({ ...got!, wrappedKey: hex(got!.wrappedKey) }).toEqual({ ...row, wrappedKey: hex(row.wrappedKey) });
      expect(got!.wrappedKey).toBeInstanceOf(Uint8Array);
      expect((await store.listTenants()).map((t) => t.id)).toContain(row.id);

      const head = await store.getHead(row.id);
      expect(head).toBeDefined();
      expect({ ...head!, range: hexes(head!.range) }).toEqual({ ...plan.head, range: hexes(plan.head.range) });
      expect(head!.size).toBe(1);
      expect(await store.getRecord(row.id, 0)).toEqual({ seq: 0, canonical: genesis.canonical });
      expect(await store.getRecord(row.id, 1)).toBeUndefined();
      expect(hexes(await store.getNodes(row.id, [{ level: 0, index: 0 }]))).toEqual([hex(genesis.leafHash)]);
      expect(await store.seqAtTime(row.id, T0)).toBe(0);
      expect(await store.latestCheckpoint(row.id)).toBeUndefined();
    });

    it('a second createTenant of the same id is TENANT_EXISTS and changes nothing', async () => {
      const { row, genesis, head } = await createLog('exists');
      const other = { ...row, name: 'Impostor', origin: 'evil.example/tenants/x' };
      const { plan } = genesisPlan(other, T0 + 99);
      expect(await codeOfRejection(store.createTenant(other, plan))).toBe('TENANT_EXISTS');
      expect((await store.getTenant(row.id))?.name).toBe(row.name);
      expect((await store.getHead(row.id))?.prevHash).toBe(head.prevHash);
      expect(await allRecords(row.id)).toEqual([{ seq: 0, canonical: genesis.canonical }]);
    });

    it('createTenant with a plan that does not start the log is rejected and writes nothing', async () => {
      const row = tenantRow(tenantId('badgenesis'));
      const { plan } = genesisPlan(row);
      const skipping: AppendPlan = { records: [], head: plan.head };
      expect(await codeOfRejection(store.createTenant(row, skipping))).toBe('INTERNAL');
      expect(await store.getTenant(row.id)).toBeUndefined();
      expect(await store.getHead(row.id)).toBeUndefined();
      expect(await store.getRecord(row.id, 0)).toBeUndefined();
    });

    it('listTenants is ordered by id, bytewise', async () => {
      const ids = ['ord-b', 'orda', 'ord-a', 'ord0'].map((s) => `z${counter}-${s}`);
      counter++;
      for (const id of ids) {
        const row = tenantRow(id);
        await store.createTenant(row, genesisPlan(row).plan);
      }
      const listed = (await store.listTenants()).map((t) => t.id);
      expect(listed).toEqual([...listed].sort());
      expect(listed.filter((id) => ids.includes(id))).toEqual([...ids].sort());
    });

    it('append continues the head, answers with it, stores records byte-exact (from the bytes the sealer collected) and their nodes, and the head round-trips', async () => {
      const { row, head: h0 } = await createLog('append');
      const tricky: EventV1 = {
        ...richEvent(3),
        id: 'tricky-\u00e9-1',
        context: { note: 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f emoji \u{1F600} line-sep \u2028 cjk \u5ba1\u8ba1', quote: "'; DROP TABLE records; --" },
      };
      const events = [ev(1, 'a-1'), ev(2, 'a-2'), tricky, ev(4, 'a-4'), ev(5, 'a-5')];
      let calls = 0;
      let seen: HeadRow | undefined;
      let built: AppendPlan | undefined;
      let written: { seq: number; canonical: string }[] = [];
      const at = T0 + 86_400_000 * 400 + 123;
      const result = await store.append(
        row.id,
        events.map((e) => e.id),
        (head, known) => {
          calls++;
          seen = head;
          expect(known.size).toBe(0);
          // Move the generations too, so that they are seen to round-trip.
          const sealer = sealerFor(row, head);
          const records: PlannedRecord[] = [];
          // As writer.ts does: the store may write the bytes the sealer hashed.
          const bytes = new RecordBytesBatch(16);
          sealer.collectInto(bytes);
          for (const e of events.slice(0, 2)) records.push({ sealed: sealer.append(e, at), eventId: e.id });
          records.push({ sealed: sealer.rotateMacKeys(at, 'test'), eventId: null });
          for (const e of events.slice(2)) records.push({ sealed: sealer.append(e, at), eventId: e.id });
          records.push({ sealed: sealer.systemEvent('trailseal.test.note', { n: 1 }, at), eventId: null });
          sealer.collectInto(undefined);
          // Read now: a store may hand the collected bytes to its own thread, and the sealed records' text with them.
          written = records.map((r) => ({ seq: r.sealed.seq, canonical: r.sealed.canonical }));
          built = { records, bytes, head: headAfter(sealer, head.signingGeneration + 2, at) };
          return built;
        },
      );
      expect(calls).toBe(1);
      expect({ ...seen!, range: hexes(seen!.range) }).toEqual({ ...h0, range: hexes(h0.range) });
      const plan = built!;
      expect(result).toEqual({ head: plan.head, records: 7 });
      expect(plan.records.map((r) => r.sealed.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);

      const head = await store.getHead(row.id);
      expect(head).toBeDefined();
      expect(head!.range.every((h) => h instanceof Uint8Array && h.length === 32)).toBe(true);
      expect({ ...head!, range: hexes(head!.range) }).toEqual({ ...plan.head, range: hexes(plan.head.range) });
      expect(head).toMatchObject({ size: 8, macGeneration: 1, signingGeneration: 2, lastReceivedAtMs: at });

      const stored = await allRecords(row.id);
      expect(stored.slice(1)).toEqual(written);
      for (const r of stored) expect(typeof r.seq).toBe('number');
      expect((await store.getRecord(row.id, 4))?.canonical).toBe(plan.records[3]!.sealed.canonical);

      const nodes = plan.records.flatMap((r) => r.sealed.nodes);
      expect(nodes.length).toBeGreaterThan(plan.records.length);
      expect(hexes(await store.getNodes(row.id, nodes.map((n) => n.id)))).toEqual(nodes.map((n) => hex(n.hash)));
      expect(await store.seqAtTime(row.id, at)).toBe(1);
    });

    it('a plan of 100 records stores every record byte-exact, with its event id and time, and every node', async () => {
      const { row } = await createLog('hundred');
      const events = Array.from({ length: 100 }, (_, i) => ev(i, `h-${i}`));
      const { plan } = await appendEvents(row, events, T0 + 5000);
      expect(plan.records).toHaveLength(100);
      const stored = await allRecords(row.id);
      expect(stored.slice(1)).toEqual(plan.records.map((r) => ({ seq: r.sealed.seq, canonical: r.sealed.canonical })));
      const nodes = plan.records.flatMap((r) => r.sealed.nodes);
      expect(nodes.length).toBeGreaterThan(150);
      expect(hexes(await store.getNodes(row.id, nodes.map((n) => n.id)))).toEqual(nodes.map((n) => hex(n.hash)));
      // Every id is stored with its record: all are known to the next builder.
      const out = sink();
      await store.append(row.id, events.map((e) => e.id), eventsBuilder(row, events, T0 + 6000, out));
      expect(out.receipts.map((r) => r.seq)).toEqual(plan.records.map((r) => r.sealed.seq));
      expect(out.receipts.every((r) => r.duplicate === true)).toBe(true);
      expect(await store.seqAtTime(row.id, T0 + 5000)).toBe(1);
      expect((await store.getHead(row.id))!.size).toBe(101);
    });

    it('reports stored event ids to the builder with their original seq, leaf hash and receivedAt', async () => {
      const { row } = await createLog('known');
      const first = await appendEvents(row, [ev(1, 'k-1'), ev(2, 'k-2'), ev(3, 'k-3')], T0 + 5_000);
      const [r1, r2, r3] = first.plan.records.map((r) => r.sealed);
      const second = await appendEvents(row, [ev(2, 'k-2'), ev(4, 'k-4'), ev(3, 'k-3'), ev(4, 'k-4')], T0 + 9_000);
      // The last call's: a driver may first build assuming every id new (AppendBuilder).
      const known = second.out.known.at(-1)!;
      expect([...known.keys()].sort()).toEqual(['k-2', 'k-3']);
      for (const [id, sealed] of [['k-2', r2!], ['k-3', r3!]] as const) {
        const k = known.get(id)!;
        expect({ seq: k.seq, leafHash: hex(k.leafHash), receivedAt: k.receivedAt }).toEqual({
          seq: sealed.record.seq,
          leafHash: hex(sealed.leafHash),
          receivedAt: sealed.record.received_at,
        });
        expect(k.receivedAt).toBe(new Date(T0 + 5_000).toISOString());
      }
      expect(second.plan.records.map((r) => r.eventId)).toEqual(['k-4']);
      expect(second.out.receipts.map((r) => [r.seq, r.duplicate ?? false])).toEqual([
        [r2!.record.seq, true],
        [4, false],
        [r3!.record.seq, true],
        [4, true],
      ]);
      expect(r1!.record.seq).toBe(1);

      // Everything already stored: an empty plan, the head unchanged.
      const head = await store.getHead(row.id);
      const third = await appendEvents(row, [ev(1, 'k-1'), ev(4, 'k-4')], T0 + 20_000);
      expect(third.plan.records).toEqual([]);
      expect(third.out.known.at(-1)!.size).toBe(2);
      expect(await store.getHead(row.id)).toEqual(head);
    });

    it('builds first with no ids known; a re-sent id is refused by the unique index and the append is built again with it known', async () => {
      const { row } = await createLog('resent');
      const first = await appendEvents(row, [ev(1, 'r-1')], T0 + 1000);
      // The ids a producer sends are new: one build, told of none.
      const second = await appendEvents(row, [ev(2, 'r-2')], T0 + 2000);
      expect(second.out.known.map((k) => k.size)).toEqual([0]);
      const third = await appendEvents(row, [ev(3, 'r-3'), ev(1, 'r-1')], T0 + 3000);
      expect(third.out.known.map((k) => [...k.keys()])).toEqual([[], ['r-1']]);
      expect(third.plan.records.map((r) => r.eventId)).toEqual(['r-3']);
      expect(third.out.receipts[1]).toEqual({ ...first.out.receipts[0]!, duplicate: true });
      expect((await allRecords(row.id)).slice(1).map((r) => idOf(r.canonical))).toEqual(['r-1', 'r-2', 'r-3']);
    });

    it('a builder that stores an event id again is rejected by the unique index, and nothing is written', async () => {
      const { row } = await createLog('dupid');
      await appendEvents(row, [ev(1, 'd-1'), ev(2, 'd-2')]);
      const before = await store.getHead(row.id);
      // Faulty: ignores `known` and seals d-2 again.
      const faulty = resealing(row, [ev(3, 'd-3'), ev(2, 'd-2')], T0 + 2000);
      const err = await store.append(row.id, ['d-3', 'd-2'], faulty).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeDefined();
      // Retrying would fail the same way: not reported as a passing outage.
      expect(isTrailsealError(err, 'STORE_UNAVAILABLE')).toBe(false);
      expect(await store.getHead(row.id)).toEqual(before);
      expect(await allRecords(row.id)).toHaveLength(3);
      expect(await codeOfRejection(store.getNodes(row.id, [{ level: 0, index: 3 }]))).toBe('TREE_NODE_MISSING');

      // The same id twice within one plan is rejected as well.
      const twice: AppendBuilder = (head) => {
        const sealer = sealerFor(row, head);
        const records = [ev(5, 'd-5'), ev(5, 'd-5')].map((e) => ({ sealed: sealer.append(e, T0 + 2000), eventId: e.id }));
        return { records, head: headAfter(sealer, head.signingGeneration, T0 + 2000) };
      };
      await expect(store.append(row.id, ['d-5'], twice)).rejects.toThrow();
      expect(await store.getHead(row.id)).toEqual(before);
      expect(await store.getRecord(row.id, 3)).toBeUndefined();
    });

    it('a builder that throws leaves nothing written and its error propagates', async () => {
      const { row } = await createLog('throws');
      await appendEvents(row, [ev(1, 't-1')]);
      const before = await store.getHead(row.id);
      const boom = new Error('builder exploded');
      await expect(
        store.append(row.id, ['t-2'], (head) => {
          const sealer = sealerFor(row, head);
          sealer.append(ev(2, 't-2'), T0 + 3000);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await store.getHead(row.id)).toEqual(before);
      expect(await allRecords(row.id)).toHaveLength(2);
      // The tenant still takes appends afterwards.
      const { plan } = await appendEvents(row, [ev(2, 't-2')]);
      expect(plan.records[0]!.sealed.record.seq).toBe(2);
    });

    /** Starts an append; `withStore` settles when the driver hands it off (SQLite) or when it is answered (any driver). */
    function startAppend(row: TenantRow, ids: readonly string[], build: AppendBuilder): { done: Promise<AppendResult>; withStore: Promise<boolean> } {
      let handedOff!: (v: boolean) => void;
      const handed = new Promise<boolean>((r) => (handedOff = r));
      const done = store.append(row.id, ids, build, () => handedOff(true));
      return { done, withStore: Promise.race([handed, done.then(() => false, () => false)]) };
    }

    it('an append started once the previous is handed off is built on the head that one leaves and commits after it', async () => {
      const { row } = await createLog('pipeline');
      const out1 = sink();
      const out2 = sink();
      const first = startAppend(row, ['p-1', 'p-2'], eventsBuilder(row, [ev(1, 'p-1'), ev(2, 'p-2')], T0 + 1000, out1));
      // SQLite pipelines: the first is still committing when the second is built; PostgreSQL answers first.
      expect(await first.withStore).toBe(store.kind === 'sqlite');
      const second = store.append(row.id, ['p-3', 'p-4'], eventsBuilder(row, [ev(3, 'p-3'), ev(4, 'p-4')], T0 + 1000, out2));
      const [r1, r2] = await Promise.all([first.done, second]);
      expect(out2.heads).toEqual([r1.head]);
      expect(r2.head.size).toBe(5);
      expect(out2.receipts.map((r) => r.seq)).toEqual([3, 4]);
      const records = await allRecords(row.id);
      expect(records.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(records.slice(1).map((r) => idOf(r.canonical))).toEqual(['p-1', 'p-2', 'p-3', 'p-4']);
      expect(await store.getHead(row.id)).toEqual(r2.head);
    });

    it('a re-sent id of an append in flight gets the original receipt, once that append is answered', async () => {
      const { row } = await createLog('pipeline-dup');
      const out1 = sink();
      const out2 = sink();
      const first = startAppend(row, ['q-1', 'q-2'], eventsBuilder(row, [ev(1, 'q-1'), ev(2, 'q-2')], T0 + 1000, out1));
      await first.withStore;
      const second = store.append(row.id, ['q-3', 'q-2'], eventsBuilder(row, [ev(3, 'q-3'), ev(2, 'q-2')], T0 + 1000, out2));
      await Promise.all([first.done, second]);
      expect(out2.known.at(-1)!.get('q-2')?.seq).toBe(2);
      expect(out2.receipts).toEqual([{ seq: 3, leafHash: expect.any(String) as string, receivedAt: out1.receipts[0]!.receivedAt }, { ...out1.receipts[1]!, duplicate: true }]);
      expect((await allRecords(row.id)).slice(1).map((r) => idOf(r.canonical))).toEqual(['q-1', 'q-2', 'q-3']);
    });

    it('an append built on one in flight that then fails is rebuilt on the committed head', async () => {
      const { row } = await createLog('pipeline-fail');
      await appendEvents(row, [ev(1, 'f-1')]);
      const before = (await store.getHead(row.id))!;
      const first = startAppend(row, ['f-2', 'f-1'], resealing(row, [ev(2, 'f-2'), ev(1, 'f-1')], T0 + 2000));
      await first.withStore;
      const out = sink();
      const second = store.append(row.id, ['f-3'], eventsBuilder(row, [ev(3, 'f-3')], T0 + 3000, out));
      await expect(first.done).rejects.toThrow();
      const r = await second;
      // Built on the faulty plan's head first (SQLite), then on the committed head; PostgreSQL builds once.
      expect(out.heads.at(-1)).toEqual(before);
      expect(out.heads.length).toBe(store.kind === 'sqlite' ? 2 : 1);
      expect(out.receipts.map((x) => x.seq)).toEqual([2]);
      expect(r.head.size).toBe(3);
      expect((await allRecords(row.id)).slice(1).map((x) => idOf(x.canonical))).toEqual(['f-1', 'f-3']);
    });

    it('two appends built in turn on one in flight that then fails both commit, each rebuilt once on fresh heads', async () => {
      const { row } = await createLog('pipeline-fail-2');
      await appendEvents(row, [ev(1, 'g-1')]);
      const a = startAppend(row, ['g-2', 'g-1'], resealing(row, [ev(2, 'g-2'), ev(1, 'g-1')], T0 + 2000));
      await a.withStore;
      const outB = sink();
      const b = startAppend(row, ['g-3'], eventsBuilder(row, [ev(3, 'g-3')], T0 + 3000, outB));
      await b.withStore;
      const outC = sink();
      const c = store.append(row.id, ['g-4'], eventsBuilder(row, [ev(4, 'g-4')], T0 + 3000, outC));
      await expect(a.done).rejects.toThrow();
      // Neither may build on the other's doomed plan: each commits after at most one rebuild.
      const [rb, rc] = await Promise.all([b.done, c]);
      expect(outB.heads.length).toBeLessThanOrEqual(2);
      expect(outC.heads.length).toBeLessThanOrEqual(2);
      expect(Math.max(rb.head.size, rc.head.size)).toBe(4);
      expect([outB.receipts[0]!.seq, outC.receipts[0]!.seq].sort()).toEqual([2, 3]);
      const records = await allRecords(row.id);
      expect(records.map((x) => x.seq)).toEqual([0, 1, 2, 3]);
      expect(new Set(records.slice(1).map((x) => idOf(x.canonical)))).toEqual(new Set(['g-1', 'g-3', 'g-4']));
    });

    it('checkPlan rejects plans that skip a seq, break the chain, misstate the head or its tree edge or a record\'s tree nodes, and nothing is written', async () => {
      const { row } = await createLog('checkplan');
      await appendEvents(row, [ev(1, 'p-1')]);
      const stale = (await store.getHead(row.id))!;
      await appendEvents(row, [ev(2, 'p-2')]);
      const before = await store.getHead(row.id);
      const at = T0 + 4000;

      const skips: AppendBuilder = (head) => {
        const sealer = sealerFor(row, head);
        sealer.append(ev(3, 'p-3'), at);
        const second = sealer.append(ev(4, 'p-4'), at);
        return { records: [{ sealed: second, eventId: 'p-4' }], head: headAfter(sealer, head.signingGeneration, at) };
      };
      const forks: AppendBuilder = (head) => {
        const sealer = sealerFor(row, { ...head, prevHash: 'ab'.repeat(32) });
        const records = [{ sealed: sealer.append(ev(3, 'p-3'), at), eventId: 'p-3' }];
        return { records, head: headAfter(sealer, head.signingGeneration, at) };
      };
      const rewinds: AppendBuilder = (head) => {
        // Seals on a stale head (a cached sealer that missed an append): a fork at seq 2.
        const sealer = sealerFor(row, stale);
        const records = [{ sealed: sealer.append(ev(3, 'p-3'), at), eventId: 'p-3' }];
        return { records, head: headAfter(sealer, head.signingGeneration, at) };
      };
      const wrongHead: AppendBuilder = (head) => {
        const sealer = sealerFor(row, head);
        const records = [{ sealed: sealer.append(ev(3, 'p-3'), at), eventId: 'p-3' }];
        return { records, head: { ...headAfter(sealer, head.signingGeneration, at), size: head.size + 2 } };
      };
      const noRecordsButMoves: AppendBuilder = (head) => ({ records: [], head: { ...head, size: head.size + 1 } });
      const bytesOfFewer: AppendBuilder = (head) => {
        const sealer = sealerFor(row, head);
        const bytes = new RecordBytesBatch();
        sealer.collectInto(bytes);
        const records = [{ sealed: sealer.append(ev(3, 'p-3'), at), eventId: 'p-3' }];
        sealer.collectInto(undefined);
        records.push({ sealed: sealer.append(ev(4, 'p-4'), at), eventId: 'p-4' });
        return { records, bytes, head: headAfter(sealer, head.signingGeneration, at) };
      };
      const wrongEdge: AppendBuilder = (head) => {
        const sealer = sealerFor(row, head);
        const records = [{ sealed: sealer.append(ev(3, 'p-3'), at), eventId: 'p-3' }];
        const h = headAfter(sealer, head.signingGeneration, at);
        return { records, head: { ...h, range: h.range.map((x, i) => (i === 0 ? x.map((b) => b ^ 1) : x)) } };
      };

      // Records as a buggy sealer could hand them over: the right bytes, chain and leaf, other tree nodes.
      const withNodes = (sealed: SealedRecord, nodes: SealedRecord['nodes']): SealedRecord => ({
        seq: sealed.seq, receivedAt: sealed.receivedAt, prevHash: sealed.prevHash, record: sealed.record, canonical: sealed.canonical,
        recordHash: sealed.recordHash, leafHash: sealed.leafHash, nodes,
      });
      const nodesAltered = (alter: (nodes: SealedRecord['nodes']) => SealedRecord['nodes']): AppendBuilder => (head) => {
        const sealer = sealerFor(row, head);
        // seq 3 completes three nodes: its leaf, (1, 1) and (2, 0).
        const sealed = sealer.append(ev(3, 'p-3'), at);
        expect(sealed.nodes.map((n) => [n.id.level, n.id.index])).toEqual([[0, 3], [1, 1], [2, 0]]);
        return { records: [{ sealed: withNodes(sealed, alter(sealed.nodes)), eventId: 'p-3' }], head: headAfter(sealer, head.signingGeneration, at) };
      };
      const wrongNodeHash = nodesAltered((nodes) => nodes.map((n, i) => (i === 2 ? { id: n.id, hash: n.hash.map((b) => b ^ 1) } : n)));
      const wrongNodeId = nodesAltered((nodes) => nodes.map((n, i) => (i === 1 ? { id: { level: 1, index: 2 }, hash: n.hash } : n)));
      const missingNode = nodesAltered((nodes) => nodes.slice(0, 2));
      const extraNode = nodesAltered((nodes) => [...nodes, { id: { level: 3, index: 0 }, hash: nodes[2]!.hash }]);

      for (const [what, build] of [
        ['skips a seq', skips],
        ['breaks the chain', forks],
        ['forks from a stale head', rewinds],
        ['misstates the head', wrongHead],
        ['moves the head without records', noRecordsButMoves],
        ['holds the bytes of fewer records than it plans', bytesOfFewer],
        ["misstates the tree's right edge", wrongEdge],
        ["misstates a tree node's hash", wrongNodeHash],
        ["misstates a tree node's place", wrongNodeId],
        ['leaves out a tree node', missingNode],
        ['adds a tree node the leaf does not complete', extraNode],
      ] as const) {
        expect(await codeOfRejection(store.append(row.id, ['p-3', 'p-4'], build)), what).toBe('INTERNAL');
        expect(await store.getHead(row.id), what).toEqual(before);
        expect(await allRecords(row.id), what).toHaveLength(3);
      }
      expect(await codeOfRejection(store.getNodes(row.id, [{ level: 0, index: 3 }]))).toBe('TREE_NODE_MISSING');
    });

    it('an unknown tenant is TENANT_NOT_FOUND for append, and absent for reads', async () => {
      const id = tenantId('nosuch');
      let called = false;
      const build: AppendBuilder = () => {
        called = true;
        throw new Error('must not be called');
      };
      expect(await codeOfRejection(store.append(id, ['x'], build))).toBe('TENANT_NOT_FOUND');
      expect(called).toBe(false);
      expect(await store.getTenant(id)).toBeUndefined();
      expect(await store.getHead(id)).toBeUndefined();
      expect(await store.getRecord(id, 0)).toBeUndefined();
      expect(await store.listRecords(id, { fromSeq: 0, limit: 10 })).toEqual([]);
      expect(await store.latestCheckpoint(id)).toBeUndefined();
      expect(await store.checkpointAt(id, 1)).toBeUndefined();
      expect(await store.seqAtTime(id, T0)).toBe(0);
    });

    it('getNodes answers in the order asked and TREE_NODE_MISSING for an absent node', async () => {
      const { row, genesis } = await createLog('nodes');
      const { plan } = await appendEvents(row, Array.from({ length: 9 }, (_, i) => ev(i, `n-${i}`)));
      const all = new Map<string, string>();
      for (const s of [genesis, ...plan.records.map((r) => r.sealed)]) for (const n of s.nodes) all.set(`${n.id.level}/${n.id.index}`, hex(n.hash));
      const ask: NodeId[] = [
        { level: 3, index: 0 },
        { level: 0, index: 9 },
        { level: 1, index: 2 },
        { level: 0, index: 0 },
        { level: 1, index: 2 },
        { level: 2, index: 1 },
        { level: 0, index: 5 },
      ];
      expect(hexes(await store.getNodes(row.id, ask))).toEqual(ask.map((n) => all.get(`${n.level}/${n.index}`)));
      expect(await store.getNodes(row.id, [])).toEqual([]);
      for (const missing of [
        { level: 0, index: 10 },
        { level: 1, index: 5 },
        { level: 4, index: 0 },
        { level: 0, index: 2 ** 40 },
        // No leaf below 2^53 completes these.
        { level: 60, index: 0 },
        { level: 0, index: 2 ** 53 },
      ]) {
        const err = await store.getNodes(row.id, [{ level: 0, index: 1 }, missing]).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(TrailsealError);
        expect(err).toMatchObject({ code: 'TREE_NODE_MISSING', details: { level: missing.level, index: missing.index } });
      }
    });

    it('proofs computed from the store verify against the sealer roots for several sizes', async () => {
      const { row, genesis } = await createLog('proofs');
      const roots = new Map<number, Uint8Array>();
      const leaves: Uint8Array[] = [genesis.leafHash];
      roots.set(1, genesisPlan(row).sealer.state.range.root());
      let i = 0;
      for (const n of [1, 1, 2, 3, 5, 8, 13, 4, 1]) {
        const events = Array.from({ length: n }, () => ev(i, `pr-${i++}`));
        const { plan, out } = await appendEvents(row, events, T0 + i * 10);
        for (const r of plan.records) leaves.push(r.sealed.leafHash);
        roots.set(out.sealer!.state.size, out.sealer!.state.range.root());
      }
      const sizes = [...roots.keys()];
      expect(sizes).toEqual([1, 2, 3, 5, 8, 13, 21, 34, 38, 39]);
      const r = reader(row.id);
      for (const size of sizes) {
        const root = roots.get(size)!;
        expect(hex(await rootAtAsync(r, size)), `root of ${size}`).toBe(hex(root));
        for (const index of new Set([0, size - 1, size >> 1, (size * 2) / 3 | 0])) {
          const proof = await inclusionProofAsync(r, index, size);
          expect(() => verifyInclusion(leaves[index]!, index, size, proof, root), `inclusion of ${index} in ${size}`).not.toThrow();
        }
      }
      for (let k = 1; k < sizes.length; k++) {
        for (const size1 of [sizes[k - 1]!, 1]) {
          const size2 = sizes[k]!;
          const proof = await consistencyProofAsync(r, size1, size2);
          expect(() => verifyConsistency(size1, size2, proof, roots.get(size1)!, roots.get(size2)!), `consistency ${size1} -> ${size2}`).not.toThrow();
        }
      }
      const head = (await store.getHead(row.id))!;
      expect(hex(new CompactRange(0, head.size, head.range).root())).toBe(hex(roots.get(39)!));
    });

    it('listRecords pages with fromSeq, toSeq and limit; seqAtTime finds the first record at or after a time', async () => {
      const { row } = await createLog('pages', T0);
      let i = 0;
      const batch = (n: number): EventV1[] => Array.from({ length: n }, () => ev(i, `pg-${i++}`));
      await appendEvents(row, batch(3), T0 + 1000); // seqs 1..3
      await appendEvents(row, batch(2), T0 + 2000); // 4..5
      await appendEvents(row, batch(4), T0 + 2000); // 6..9, the same ms
      await appendEvents(row, batch(1), T0 + 1500); // 10: the clock ran back; received_at holds at T0 + 2000
      await appendEvents(row, batch(1), T0 + 5000); // 11
      const all = await allRecords(row.id);
      expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, k) => k));
      const pages: number[][] = [];
      for (let from = 0; from < 12; from += 5) pages.push((await store.listRecords(row.id, { fromSeq: from, limit: 5 })).map((r) => r.seq));
      expect(pages).toEqual([
        [0, 1, 2, 3, 4],
        [5, 6, 7, 8, 9],
        [10, 11],
      ]);
      expect(await store.listRecords(row.id, { fromSeq: 2, toSeq: 6, limit: 100 })).toEqual(all.slice(2, 6));
      expect(await store.listRecords(row.id, { fromSeq: 5, toSeq: 9, limit: 2 })).toEqual(all.slice(5, 7));
      expect(await store.listRecords(row.id, { fromSeq: 3, toSeq: 3, limit: 10 })).toEqual([]);
      expect(await store.listRecords(row.id, { fromSeq: 12, limit: 10 })).toEqual([]);
      expect(await store.listRecords(row.id, { fromSeq: 0, limit: 0 })).toEqual([]);
      expect(await store.getRecord(row.id, 12)).toBeUndefined();

      const expectAt: [number, number][] = [
        [0, 0],
        [T0, 0],
        [T0 + 1, 1],
        [T0 + 1000, 1],
        [T0 + 1500, 4],
        [T0 + 2000, 4],
        [T0 + 2001, 11],
        [T0 + 5000, 11],
        [T0 + 5001, 12],
        [Number.MAX_SAFE_INTEGER, 12],
      ];
      for (const [ms, seq] of expectAt) expect(await store.seqAtTime(row.id, ms), `seqAtTime(${ms - T0})`).toBe(seq);
    });

    it('seqAtTime agrees with a scan of the records for every time in a log of many commits, clock steps back included', async () => {
      const { row } = await createLog('timescan', T0);
      // A fixed walk (one seed): 60 commits of 1 to 7 events whose clock
      // moves by 0, 1 or 250 ms, or 100 ms back (received_at then holds).
      const walk = fc.sample(fc.record({ step: fc.constantFrom(0, 1, 250, -100), events: fc.integer({ min: 1, max: 7 }) }), { seed: 7, numRuns: 60 });
      let clock = T0;
      let i = 0;
      for (const { step, events } of walk) {
        clock += step;
        await appendEvents(row, Array.from({ length: events }, () => ev(i, `ts-${i++}`)), clock);
      }
      const received = (await allRecords(row.id)).map((r) => Date.parse((JSON.parse(r.canonical) as { received_at: string }).received_at));
      expect(received.length).toBeGreaterThan(100);
      const scan = (ms: number): number => {
        const at = received.findIndex((t) => t >= ms);
        return at === -1 ? received.length : at;
      };
      const probes = new Set([0, Number.MAX_SAFE_INTEGER, ...received.flatMap((t) => [t - 1, t, t + 1])]);
      const got: [number, number][] = [];
      const want: [number, number][] = [];
      for (const ms of probes) {
        got.push([ms, await store.seqAtTime(row.id, ms)]);
        want.push([ms, scan(ms)]);
      }
      expect(got).toEqual(want);
      expect(await store.seqAtTime(tenantId('no-such-tenant'), T0)).toBe(0);
    });

    it('checkpoints: put, latest, at, and a second put for a size is a no-op', async () => {
      const { row } = await createLog('cps');
      expect(await store.latestCheckpoint(row.id)).toBeUndefined();
      const one = sealerFor(row, (await store.getHead(row.id))!).checkpoint();
      await store.putCheckpoint(row.id, { size: 1, note: one });
      const { out } = await appendEvents(row, [ev(1, 'cp-1'), ev(2, 'cp-2')]);
      const three = out.sealer!.checkpoint();
      await store.putCheckpoint(row.id, { size: 3, note: three });
      expect(await store.latestCheckpoint(row.id)).toEqual({ size: 3, note: three });
      expect(await store.checkpointAt(row.id, 1)).toEqual({ size: 1, note: one });
      expect(await store.checkpointAt(row.id, 2)).toBeUndefined();
      await store.putCheckpoint(row.id, { size: 3, note: 'another note for 3' });
      await store.putCheckpoint(row.id, { size: 1, note: 'another note for 1' });
      expect(await store.checkpointAt(row.id, 3)).toEqual({ size: 3, note: three });
      expect(await store.checkpointAt(row.id, 1)).toEqual({ size: 1, note: one });
      expect(await store.latestCheckpoint(row.id)).toEqual({ size: 3, note: three });
    });

    it('API keys: put, get, list per tenant and for operators, revoke once', async () => {
      const { row } = await createLog('keys');
      const key = (id: string, tenant: string | null, createdAt: string, extra: Partial<ApiKeyRow> = {}): ApiKeyRow => ({
        id,
        tenant,
        name: `key ${id}`,
        scopes: ['ingest', 'read'],
        secretHash: Uint8Array.from({ length: 32 }, (_, i) => (i + id.charCodeAt(0)) & 255),
        createdAt,
        expiresAt: null,
        revokedAt: null,
        ...extra,
      });
      const t = (s: number): string => new Date(T0 + s * 1000).toISOString();
      const k1 = key('a1b2c3d4e5f60718', row.id, t(2), { scopes: ['ingest', 'read', 'export'], expiresAt: t(86_400) });
      const k2 = key('0000000000000001', row.id, t(1));
      const k3 = key('ffffffffffffffff', row.id, t(2));
      const op = key('1234567890abcdef', null, t(0), { scopes: ['admin'] });
      const none = key('00000000deadbeef', row.id, t(3), { scopes: [] });
      for (const k of [k1, k2, k3, op, none]) await store.putApiKey(k);

      const norm = (k: ApiKeyRow | undefined) => (k === undefined ? undefined : { ...k, secretHash: hex(k.secretHash), scopes: [...k.scopes] });
      expect(norm(await store.getApiKey(k1.id))).toEqual(norm(k1));
      expect(norm(await store.getApiKey(op.id))).toEqual(norm(op));
      expect(norm(await store.getApiKey(none.id))).toEqual(norm(none));
      expect(await store.getApiKey('0123456789abcdef')).toBeUndefined();
      expect((await store.listApiKeys(row.id)).map((k) => k.id)).toEqual([k2.id, k1.id, k3.id, none.id]);
      expect((await store.listApiKeys(null)).map((k) => k.id)).toContain(op.id);
      expect((await store.listApiKeys(null)).every((k) => k.tenant === null)).toBe(true);
      expect(await store.listApiKeys(tenantId('nokeys'))).toEqual([]);

      expect(await store.revokeApiKey(k1.id, t(10))).toBe(true);
      expect((await store.getApiKey(k1.id))?.revokedAt).toBe(t(10));
      expect(await store.revokeApiKey(k1.id, t(11))).toBe(false);
      expect((await store.getApiKey(k1.id))?.revokedAt).toBe(t(10));
      expect(await store.revokeApiKey('0123456789abcdef', t(11))).toBe(false);
      expect((await store.getApiKey(k2.id))?.revokedAt).toBeNull();
    });

    it('sinks: put, get, list per tenant and for all, patch each column, delete once', async () => {
      const { row } = await createLog('sinks');
      const { row: other } = await createLog('sinks2');
      const t = (s: number): string => new Date(T0 + s * 1000).toISOString();
      const sink = (id: string, tenant: string, createdAt: string, extra: Partial<SinkRow> = {}): SinkRow => ({
        id,
        tenant,
        name: `sink ${id}`,
        kind: 'webhook',
        config: '{"url":"http://127.0.0.1:9/hook"}',
        secret: Uint8Array.from({ length: 40 }, (_, i) => (i * 7 + id.length) & 255),
        filter: '{}',
        format: 'json',
        state: 'active',
        cursor: 0,
        createdAt,
        lastError: null,
        lastErrorAt: null,
        pausedReason: null,
        ...extra,
      });
      const a = sink('snk_a', row.id, t(2));
      const b = sink('snk_b', row.id, t(1), { secret: null, cursor: 2 ** 40, state: 'paused', pausedReason: 'operator' });
      const c = sink('snk_c', other.id, t(0));
      for (const k of [a, b, c]) await store.putSink(k);
      expect(await store.getSink('snk_a')).toEqual(a);
      expect(await store.getSink('snk_b')).toEqual(b);
      expect(await store.getSink('snk_none')).toBeUndefined();
      expect((await store.listSinks(row.id)).map((k) => k.id)).toEqual(['snk_b', 'snk_a']);
      expect((await store.listSinks(null)).map((k) => k.id)).toEqual(expect.arrayContaining(['snk_a', 'snk_b', 'snk_c']));
      expect(await store.patchSink('snk_a', { cursor: 17, lastError: 'HTTP 503', lastErrorAt: t(5) })).toBe(true);
      expect(await store.patchSink('snk_a', { state: 'paused', pausedReason: 'outage' })).toBe(true);
      expect(await store.getSink('snk_a')).toEqual({ ...a, cursor: 17, lastError: 'HTTP 503', lastErrorAt: t(5), state: 'paused', pausedReason: 'outage' });
      expect(await store.patchSink('snk_a', { state: 'active', pausedReason: null, lastError: null, lastErrorAt: null })).toBe(true);
      expect(await store.getSink('snk_a')).toEqual({ ...a, cursor: 17 });
      expect(await store.patchSink('snk_none', { cursor: 1 })).toBe(false);
      expect(await store.deleteSink('snk_a')).toBe(true);
      expect(await store.deleteSink('snk_a')).toBe(false);
      expect(await store.getSink('snk_a')).toBeUndefined();
      expect((await store.listSinks(other.id)).map((k) => k.id)).toEqual(['snk_c']);
    });

    it('sink leases: one holder at a time, renewed by its holder, taken over once expired, released by its holder only', async () => {
      const { row } = await createLog('leases');
      await store.putSink({ id: 'snk_lease', tenant: row.id, name: 'l', kind: 'webhook', config: '{}', secret: null, filter: '{}', format: 'json', state: 'active', cursor: 0, createdAt: new Date(T0).toISOString(), lastError: null, lastErrorAt: null, pausedReason: null });
      expect(await store.leaseSink('snk_lease', 'a', 1000, 500)).toBe(true);
      expect(await store.leaseSink('snk_lease', 'b', 1200, 500)).toBe(false);
      expect(await store.leaseSink('snk_lease', 'a', 1400, 500)).toBe(true);
      expect(await store.leaseSink('snk_lease', 'b', 1800, 500)).toBe(false);
      expect(await store.leaseSink('snk_lease', 'b', 1901, 500)).toBe(true);
      await store.releaseSink('snk_lease', 'a');
      expect(await store.leaseSink('snk_lease', 'a', 2000, 500)).toBe(false);
      await store.releaseSink('snk_lease', 'b');
      expect(await store.leaseSink('snk_lease', 'a', 2000, 500)).toBe(true);
      expect(await store.leaseSink('snk_none', 'a', 2000, 500)).toBe(false);
      // The lease is not part of the sink's row as the API sees it.
      expect(Object.keys((await store.getSink('snk_lease'))!)).not.toContain('leaseOwner');
    });

    it('commits reach subscribers of other connections, where the store can tell', async () => {
      if (store.subscribeCommits === undefined) return;
      const seen: string[] = [];
      const stop = await store.subscribeCommits((t) => seen.push(t));
      try {
        const { row } = await createLog('notified');
        await appendEvents(row, [ev(1, 'n-1')]);
        const deadline = Date.now() + 5000;
        while (!seen.includes(row.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(seen).toContain(row.id);
      } finally {
        await stop();
      }
    });

    it("isolates tenants: one tenant's records, nodes, checkpoints and event ids never come back for another", async () => {
      const a = await createLog('iso-a');
      const b = await createLog('iso-b');
      const { plan: pa, out: oa } = await appendEvents(a.row, Array.from({ length: 6 }, (_, i) => ev(i, `shared-${i}`)), T0 + 1000);
      await store.putCheckpoint(a.row.id, { size: 7, note: oa.sealer!.checkpoint() });
      // The same event ids in B are B's own: not duplicates of A's.
      const { plan: pb, out: ob } = await appendEvents(b.row, [ev(10, 'shared-1'), ev(11, 'shared-2')], T0 + 2000);
      expect(ob.known[0]!.size).toBe(0);
      expect(ob.heads[0]!.size).toBe(1);
      expect(pb.records.map((r) => r.sealed.record.seq)).toEqual([1, 2]);

      const bRecords = await allRecords(b.row.id);
      expect(bRecords).toHaveLength(3);
      for (const r of bRecords) expect((JSON.parse(r.canonical) as { tenant: string }).tenant).toBe(b.row.id);
      expect(await store.getRecord(b.row.id, 5)).toBeUndefined();
      expect((await store.getRecord(b.row.id, 1))?.canonical).toBe(pb.records[0]!.sealed.canonical);
      expect((await store.getRecord(a.row.id, 1))?.canonical).toBe(pa.records[0]!.sealed.canonical);
      expect(hexes(await store.getNodes(b.row.id, [{ level: 0, index: 0 }]))).toEqual([hex(b.genesis.leafHash)]);
      expect(await codeOfRejection(store.getNodes(b.row.id, [{ level: 0, index: 5 }]))).toBe('TREE_NODE_MISSING');
      expect(await codeOfRejection(store.getNodes(b.row.id, [{ level: 2, index: 1 }]))).toBe('TREE_NODE_MISSING');
      expect(await store.latestCheckpoint(b.row.id)).toBeUndefined();
      expect(await store.checkpointAt(b.row.id, 7)).toBeUndefined();
      expect(await store.seqAtTime(b.row.id, Number.MAX_SAFE_INTEGER)).toBe(3);
      expect((await store.getHead(a.row.id))?.size).toBe(7);
      expect((await store.getHead(b.row.id))?.size).toBe(3);
      // A's ids are still A's: appending them again to A is all duplicates.
      const again = await appendEvents(a.row, [ev(1, 'shared-1'), ev(2, 'shared-2')]);
      expect(again.plan.records).toEqual([]);
      expect(again.out.receipts.map((r) => r.seq)).toEqual([2, 3]);
    });

    it('concurrent appenders on two connections to one tenant: no fork, no gap, one record per event id', async () => {
      const second = await open();
      try {
        await Promise.all([store.migrate(), second.store.migrate()]);
        const { row } = await createLog('concurrent');
        const stores = [store, second.store];
        const WORKERS = 4;
        const BATCHES = 20;
        const receipts: { id: string; receipt: Receipt }[] = [];
        const expectedIds = new Set<string>();
        let builds = 0;
        const worker = async (w: number): Promise<void> => {
          const s = stores[w % stores.length]!;
          for (let b = 0; b < BATCHES; b++) {
            const events = Array.from({ length: 1 + ((w + b) % 3) }, (_, k) => ev(w * 1000 + b * 10 + k, `w${w}-b${b}-${k}`));
            // Every worker also submits the same event now and then, as
            // clients retrying through different processes would.
            if (b % 4 === 0) events.push(ev(b, `shared-${b}`));
            for (const e of events) expectedIds.add(e.id);
            const out = sink();
            const build = eventsBuilder(row, events, () => Date.now(), out);
            await s.append(
              row.id,
              events.map((e) => e.id),
              (head, known) => {
                builds++;
                return build(head, known);
              },
            );
            events.forEach((e, k) => receipts.push({ id: e.id, receipt: out.receipts[k]! }));
          }
        };
        await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
        // Optimistic drivers build again when another writer moved the head first.
        expect(builds).toBeGreaterThanOrEqual(WORKERS * BATCHES);

        const head = (await second.store.getHead(row.id))!;
        expect(head.size).toBe(1 + expectedIds.size);
        const records = await allRecords(row.id);
        expect(records.map((r) => r.seq)).toEqual(Array.from({ length: head.size }, (_, k) => k));
        const range = new CompactRange();
        let prev = GENESIS_PREV_HASH;
        const ids = new Map<string, number>();
        for (const r of records) {
          const rec = JSON.parse(r.canonical) as { seq: number; prev_hash: string; id: string; tenant: string };
          expect(rec.seq).toBe(r.seq);
          expect(rec.prev_hash, `prev_hash of ${r.seq}`).toBe(prev);
          expect(rec.tenant).toBe(row.id);
          prev = toHex(recordHash(r.canonical));
          range.append(leafHash(r.canonical));
          if (r.seq > 0) {
            expect(ids.has(rec.id), `event id ${rec.id} stored twice`).toBe(false);
            ids.set(rec.id, r.seq);
          }
        }
        expect(new Set(ids.keys())).toEqual(expectedIds);
        expect(head.prevHash).toBe(prev);
        expect(hexes(head.range)).toEqual(hexes(range.hashes));
        expect(hex(await rootAtAsync(reader(row.id), head.size))).toBe(hex(range.root()));
        // Every receipt handed out names the record that holds its event.
        for (const { id, receipt } of receipts) {
          expect(receipt.seq, id).toBe(ids.get(id));
          expect(receipt.leafHash, id).toBe(hex(leafHash(records[receipt.seq]!.canonical)));
        }
      } finally {
        await second.close();
      }
    });
  });
}
