// TrailsealClient: batching producer and reader of a Trailseal log service.
//
// Delivery model. Every event gets its idempotency key (`id`) and its JSON
// text before it is queued; a batch's body is built once and every attempt
// sends those exact bytes. Transient failures are retried, so delivery is
// at-least-once; the service stores an id once and answers a repeat with the
// original receipt, so storage is exactly-once. Only a definite answer (2xx,
// or a 4xx, which for an atomic batch means "nothing stored") or the end of
// the retry budget settles an emit.
//
// Ordering. Emits and emitBatch calls form one line. With `concurrency` 1 (the
// default) one request is in flight at a time and the line is sent in order,
// so the log stores events in emit order, across retries too.

import { TrailsealClientError, clientError } from './errors.js';
import { batchBody, batchBytes, prepareEvent, type PreparedEvent } from './events.js';
import { Transport, type HttpAnswer, type HttpRequest } from './http.js';
import type { ApiKey, ApiKeyOptions, ClientOptions, ErrorContext, ListOptions, Page, Receipt, RecordResult, RecordsOptions, StoredRecord, Tenant, TrailsealEvent } from './types.js';

const MiB = 1024 * 1024;

interface Resolved {
  readonly apiKey: string;
  readonly adminToken: string;
  readonly batchSize: number;
  readonly maxBatchBytes: number;
  readonly flushIntervalMs: number;
  readonly maxQueue: number;
  readonly concurrency: number;
}

interface EventItem {
  readonly kind: 'event';
  readonly serial: number;
  readonly event: PreparedEvent;
  readonly enqueuedAt: number;
  readonly resolve: (receipt: Receipt) => void;
  readonly reject: (error: TrailsealClientError) => void;
}

interface BatchItem {
  readonly kind: 'batch';
  readonly serial: number;
  readonly events: readonly PreparedEvent[];
  readonly body: string;
  readonly resolve: (receipts: Receipt[]) => void;
  readonly reject: (error: TrailsealClientError) => void;
}

type Item = EventItem | BatchItem;

/** A FIFO with O(1) shift, for a queue that may hold 100 000 events. */
class Deque<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  drain(): T[] {
    const out = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

function integerOption(options: ClientOptions, name: keyof ClientOptions, fallback: number, min: number): number {
  const value = options[name] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw clientError('CLIENT_INVALID_ARGUMENT', `option ${name} must be an integer >= ${String(min)}`);
  }
  return value;
}

function checkIndex(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw clientError('CLIENT_INVALID_ARGUMENT', `${name} must be a non-negative integer`);
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badResponse(what: string, problem: string, attempts: number): TrailsealClientError {
  // Only raised on 2xx answers: the request was processed, so for a POST the
  // events may well be stored, and re-sending them (same ids) is how to learn.
  return clientError('CLIENT_BAD_RESPONSE', `${what}: ${problem}`, { maybeStored: true, attempts });
}

function parseJson(answer: HttpAnswer, what: string): unknown {
  try {
    return JSON.parse(answer.text) as unknown;
  } catch {
    throw badResponse(what, `answer ${String(answer.status)} is not JSON`, answer.attempts);
  }
}

const LEAF_HASH = /^[0-9a-f]{64}$/;

function parseReceipts(answer: HttpAnswer, ids: readonly string[]): Receipt[] {
  const what = 'POST /v1/events';
  const body = parseJson(answer, what);
  const list = isObject(body) ? body.receipts : undefined;
  if (!Array.isArray(list) || list.length !== ids.length) {
    throw badResponse(what, `expected ${String(ids.length)} receipts in request order`, answer.attempts);
  }
  return list.map((r: unknown, i): Receipt => {
    if (!isObject(r) || typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || r.seq < 0 || typeof r.leafHash !== 'string' || !LEAF_HASH.test(r.leafHash) || typeof r.receivedAt !== 'string') {
      throw badResponse(what, `receipt ${String(i)} is malformed`, answer.attempts);
    }
    return { id: ids[i]!, seq: r.seq, leafHash: r.leafHash, receivedAt: r.receivedAt, duplicate: r.duplicate === true };
  });
}

function timeParam(name: string, value: string | Date): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw clientError('CLIENT_INVALID_ARGUMENT', `${name} is an invalid Date`);
    return value.toISOString();
  }
  if (typeof value !== 'string' || value === '') throw clientError('CLIENT_INVALID_ARGUMENT', `${name} must be an RFC 3339 string or a Date`);
  return value;
}

function noop(): void {
  // Marks a promise as handled; its rejection is reported elsewhere.
}

export class TrailsealClient {
  private readonly transport: Transport;
  private readonly o: Resolved;
  private readonly onError: ClientOptions['onError'];

  private readonly queue = new Deque<Item>();
  /** Event items in the queue, and the sum of their JSON sizes. */
  private queuedEvents = 0;
  private queuedBytes = 0;
  /** emitBatch items in the queue: the events before one are due at once. */
  private queuedBatches = 0;
  /** Events accepted and not yet settled (queued or in flight): bounded by maxQueue. */
  private pendingEvents = 0;
  private inFlight = 0;

  /** Items are numbered in acceptance order; flush() waits for a prefix. */
  private serial = 0;
  private readonly unsettled = new Set<number>();
  private flushThrough = 0;
  private flushWaiters: { serial: number; resolve: () => void }[] = [];

  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(options: ClientOptions) {
    if (!isObject(options)) throw clientError('CLIENT_INVALID_ARGUMENT', 'options must be an object');
    if (typeof options.url !== 'string' || !/^https?:\/\/[^/]/i.test(options.url)) {
      throw clientError('CLIENT_INVALID_ARGUMENT', 'option url must be an http(s) URL');
    }
    if (typeof options.apiKey !== 'string' || options.apiKey === '') throw clientError('CLIENT_INVALID_ARGUMENT', 'option apiKey is required');
    if (options.fetch === undefined && typeof globalThis.fetch !== 'function') {
      throw clientError('CLIENT_INVALID_ARGUMENT', 'no global fetch in this environment: pass the fetch option');
    }
    this.o = {
      apiKey: options.apiKey,
      adminToken: options.adminToken ?? options.apiKey,
      batchSize: integerOption(options, 'batchSize', 500, 1),
      maxBatchBytes: integerOption(options, 'maxBatchBytes', 4 * MiB, 64),
      flushIntervalMs: integerOption(options, 'flushIntervalMs', 50, 0),
      maxQueue: integerOption(options, 'maxQueue', 100_000, 1),
      concurrency: integerOption(options, 'concurrency', 1, 1),
    };
    this.onError = options.onError;
    // Looked up per call, not captured: `fetch` must be called unbound in
    // browsers, and a polyfill installed later is picked up.
    const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.transport = new Transport({
      url: options.url,
      fetch: fetchImpl as typeof fetch,
      timeoutMs: integerOption(options, 'timeoutMs', 30_000, 1),
      maxRetries: integerOption(options, 'maxRetries', 8, 0),
      retryBaseMs: integerOption(options, 'retryBaseMs', 100, 0),
      retryMaxMs: integerOption(options, 'retryMaxMs', 10_000, 0),
      maxRetryAfterMs: integerOption(options, 'maxRetryAfterMs', 60_000, 0),
    });
  }

  /** Events accepted by emit/emitBatch and not yet acknowledged or failed. */
  get pending(): number {
    return this.pendingEvents;
  }

  // --- producing -------------------------------------------------------------

  /**
   * Queues one event for the next batch. Resolves with its own receipt once
   * the service stored it (or had it already); rejects with a
   * TrailsealClientError if its batch was refused (4xx, nothing stored) or
   * the retries ran out (`maybeStored` tells which). Rejects at once with
   * CLIENT_QUEUE_FULL when `maxQueue` events are pending: that is the
   * backpressure signal, and memory stays bounded.
   */
  emit(event: TrailsealEvent): Promise<Receipt> {
    let prepared: PreparedEvent;
    try {
      this.admit(1);
      prepared = prepareEvent(event);
      if (batchBytes(1, prepared.bytes) > this.o.maxBatchBytes) {
        throw clientError('CLIENT_EVENT_TOO_LARGE', `event ${prepared.id} is ${String(prepared.bytes)} bytes; maxBatchBytes is ${String(this.o.maxBatchBytes)}`);
      }
    } catch (e) {
      return this.refuse(e, event);
    }
    const promise = new Promise<Receipt>((resolve, reject) => {
      const serial = this.accept(1);
      this.queue.push({ kind: 'event', serial, event: prepared, enqueuedAt: Date.now(), resolve, reject });
      this.queuedEvents++;
      this.queuedBytes += prepared.bytes;
    });
    if (this.onError !== undefined) promise.catch(noop);
    this.pump();
    return promise;
  }

  /**
   * Sends `events` as one request, without waiting for the batching interval
   * (after the emits queued before it, to keep order). The request is atomic:
   * all are stored or, on a 4xx, none. It is retried like a batch of emits.
   * Resolves with one receipt per event, in order.
   */
  emitBatch(events: readonly TrailsealEvent[]): Promise<Receipt[]> {
    if (!Array.isArray(events)) return this.refuse(clientError('CLIENT_INVALID_ARGUMENT', 'emitBatch takes an array of events'), undefined);
    if (events.length === 0) return Promise.resolve([]);
    let prepared: PreparedEvent[];
    try {
      this.admit(events.length);
      prepared = events.map((event: TrailsealEvent, i) => {
        try {
          return prepareEvent(event);
        } catch (e) {
          const error = e as TrailsealClientError;
          throw clientError('CLIENT_EVENT_INVALID', `event [${String(i)}]: ${error.message}`, {
            errors: error.errors.length > 0 ? error.errors.map((f) => ({ ...f, path: `[${String(i)}].${f.path}` })) : [{ path: `[${String(i)}]`, code: 'CLIENT_EVENT_INVALID', message: error.message }],
            cause: error,
          });
        }
      });
      const size = batchBytes(prepared.length, prepared.reduce((n, e) => n + e.bytes, 0));
      if (size > this.o.maxBatchBytes) {
        // Splitting would silently break the atomicity the caller asked for.
        throw clientError('CLIENT_EVENT_TOO_LARGE', `batch is ${String(size)} bytes; maxBatchBytes is ${String(this.o.maxBatchBytes)}: split it`);
      }
    } catch (e) {
      return this.refuse(e, undefined);
    }
    const promise = new Promise<Receipt[]>((resolve, reject) => {
      const serial = this.accept(prepared.length);
      this.queue.push({ kind: 'batch', serial, events: prepared, body: batchBody(prepared), resolve, reject });
      this.queuedBatches++;
    });
    if (this.onError !== undefined) promise.catch(noop);
    this.pump();
    return promise;
  }

  /**
   * Sends everything accepted so far without waiting for the interval, and
   * resolves when all of it is acknowledged or failed. Never rejects: each
   * emit's own promise carries its outcome.
   */
  flush(): Promise<void> {
    const target = this.serial;
    this.flushThrough = target;
    this.pump();
    if (this.oldestUnsettled() > target) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ serial: target, resolve }));
  }

  /**
   * Stops accepting events (CLIENT_CLOSED), delivers everything pending (with
   * retries), and leaves no timer behind. Read methods keep working.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    this.clearTimer();
  }

  /**
   * Gives up at once: queued events are rejected with CLIENT_ABORTED
   * (`maybeStored` false: never sent), requests in flight and retry waits end
   * with CLIENT_ABORTED (`maybeStored` true: their outcome is unknown; re-send
   * them with the same ids to be sure). The client is unusable afterwards.
   */
  abort(): void {
    this.closed = true;
    this.clearTimer();
    const items = this.queue.drain();
    this.queuedEvents = 0;
    this.queuedBytes = 0;
    this.queuedBatches = 0;
    this.transport.abort(clientError('CLIENT_ABORTED', 'client aborted while the request was in flight or waiting to be retried', { maybeStored: true }));
    for (const item of items) {
      const error = clientError('CLIENT_ABORTED', 'client aborted before the event was sent');
      this.notify(error, { ids: item.kind === 'event' ? [item.event.id] : item.events.map((e) => e.id), willRetry: false, attempt: 0 });
      item.reject(error);
    }
    for (const item of items) this.finish(item);
    this.checkFlushWaiters();
  }

  /** Rejects a call that was not accepted, reporting it to onError too. */
  private refuse<T>(e: unknown, event: unknown): Promise<T> {
    const error = e instanceof TrailsealClientError ? e : clientError('CLIENT_EVENT_INVALID', String(e), { cause: e });
    const id = isObject(event) && typeof event.id === 'string' ? [event.id] : [];
    this.notify(error, { ids: id, willRetry: false, attempt: 0 });
    const promise = Promise.reject(error);
    if (this.onError !== undefined) promise.catch(noop);
    return promise;
  }

  private admit(count: number): void {
    if (this.closed) throw clientError('CLIENT_CLOSED', 'the client is closed');
    if (count > this.o.maxQueue) {
      throw clientError('CLIENT_QUEUE_FULL', `a batch of ${String(count)} events can never fit in maxQueue ${String(this.o.maxQueue)}`);
    }
    if (this.pendingEvents + count > this.o.maxQueue) {
      throw clientError(
        'CLIENT_QUEUE_FULL',
        `${String(this.pendingEvents)} events are pending and maxQueue is ${String(this.o.maxQueue)}: the service is slow or unreachable; retry later`,
      );
    }
  }

  private accept(count: number): number {
    const serial = ++this.serial;
    this.unsettled.add(serial);
    this.pendingEvents += count;
    return serial;
  }

  private finish(item: Item): void {
    this.unsettled.delete(item.serial);
    this.pendingEvents -= item.kind === 'event' ? 1 : item.events.length;
  }

  private oldestUnsettled(): number {
    // Sets iterate in insertion order, which is serial order.
    for (const serial of this.unsettled) return serial;
    return Infinity;
  }

  private checkFlushWaiters(): void {
    if (this.flushWaiters.length === 0) return;
    const oldest = this.oldestUnsettled();
    const ready = this.flushWaiters.filter((w) => w.serial < oldest);
    if (ready.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.serial >= oldest);
    for (const w of ready) w.resolve();
  }

  private notify(error: TrailsealClientError, context: ErrorContext): void {
    if (this.onError === undefined) return;
    try {
      this.onError(error, context);
    } catch {
      // A failing error handler must not break delivery of other events.
    }
  }

  // --- the batching engine -----------------------------------------------------

  /** Whether the run of events at the head of the queue should go now. */
  private isDue(head: EventItem): boolean {
    return (
      this.closed ||
      head.serial <= this.flushThrough ||
      this.queuedBatches > 0 ||
      this.queuedEvents >= this.o.batchSize ||
      batchBytes(this.queuedEvents, this.queuedBytes) >= this.o.maxBatchBytes ||
      Date.now() - head.enqueuedAt >= this.o.flushIntervalMs
    );
  }

  /** Starts as many due requests as the concurrency allows, then re-arms the timer. */
  private pump(): void {
    while (this.inFlight < this.o.concurrency) {
      const head = this.queue.peek();
      if (head === undefined) break;
      if (head.kind === 'batch') {
        this.queue.shift();
        this.queuedBatches--;
        this.dispatch([head], head.events, head.body);
        continue;
      }
      if (!this.isDue(head)) break;
      const group = this.takeEvents();
      const events = group.map((item) => item.event);
      this.dispatch(group, events, batchBody(events));
    }
    this.armTimer();
  }

  /** The longest run of queued events that fits batchSize and maxBatchBytes (at least one). */
  private takeEvents(): EventItem[] {
    const group: EventItem[] = [];
    let bytes = 0;
    while (group.length < this.o.batchSize) {
      const head = this.queue.peek();
      if (head === undefined || head.kind !== 'event') break;
      if (group.length > 0 && batchBytes(group.length + 1, bytes + head.event.bytes) > this.o.maxBatchBytes) break;
      this.queue.shift();
      group.push(head);
      bytes += head.event.bytes;
      this.queuedEvents--;
      this.queuedBytes -= head.event.bytes;
    }
    return group;
  }

  private armTimer(): void {
    // A timer, once set, is for the deadline of the head at that time, and a
    // later head only has a later deadline: an early wake-up just re-arms.
    if (this.timer !== undefined || this.inFlight >= this.o.concurrency) return;
    const head = this.queue.peek();
    if (head?.kind !== 'event') return;
    const wait = Math.max(0, head.enqueuedAt + this.o.flushIntervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends one request for `items` (emits, or one emitBatch) and settles them. */
  private dispatch(items: readonly Item[], events: readonly PreparedEvent[], body: string): void {
    this.inFlight++;
    this.post(events, body).then(
      (receipts) => {
        let at = 0;
        for (const item of items) {
          if (item.kind === 'event') item.resolve(receipts[at++]!);
          else {
            item.resolve(receipts.slice(at, at + item.events.length));
            at += item.events.length;
          }
        }
        this.settled(items);
      },
      (e: unknown) => {
        const error = e instanceof TrailsealClientError ? e : clientError('CLIENT_NETWORK_ERROR', String(e), { retryable: true, maybeStored: true, cause: e });
        // One error per emit, each naming the emit's position in the batch,
        // so a caller can tell "my event was invalid" (error.eventErrors) from
        // "another event failed the batch, mine was not stored".
        items.forEach((item, i) => {
          item.reject(item.kind === 'event' ? error.with({ batchIndex: i }) : error);
        });
        this.settled(items);
      },
    );
  }

  private settled(items: readonly Item[]): void {
    this.inFlight--;
    for (const item of items) this.finish(item);
    this.checkFlushWaiters();
    this.pump();
  }

  private async post(events: readonly PreparedEvent[], body: string): Promise<Receipt[]> {
    const ids = events.map((e) => e.id);
    const report = (error: TrailsealClientError, willRetry: boolean, attempt: number): void => {
      this.notify(error, { ids, willRetry, attempt });
    };
    const answer = await this.transport.send(
      { method: 'POST', path: '/v1/events', token: this.o.apiKey, accept: 'application/json', contentType: 'application/json', body, retry: true },
      report,
    );
    try {
      return parseReceipts(answer, ids);
    } catch (e) {
      if (e instanceof TrailsealClientError) report(e, false, answer.attempts);
      throw e;
    }
  }

  // --- reading -----------------------------------------------------------------

  private async get(path: string, accept: string): Promise<HttpAnswer> {
    const request: HttpRequest = { method: 'GET', path, token: this.o.apiKey, accept, retry: true };
    return this.transport.send(request);
  }

  /** One stored record: its exact canonical text (what hashes cover) and the parsed object. */
  async getRecord(seq: number): Promise<RecordResult> {
    const path = `/v1/events/${String(checkIndex('seq', seq))}`;
    const answer = await this.get(path, 'application/json');
    const record = parseJson(answer, `GET ${path}`);
    if (!isObject(record)) throw badResponse(`GET ${path}`, 'the record is not a JSON object', answer.attempts);
    return { text: answer.text, record: record as StoredRecord };
  }

  /** A c2sp.org/tlog-proof@v1 receipt for record `seq`, against the tree of `size` records (default: the latest checkpoint). */
  async proof(seq: number, size?: number): Promise<string> {
    let path = `/v1/events/${String(checkIndex('seq', seq))}/proof`;
    if (size !== undefined) path += `?size=${String(checkIndex('size', size))}`;
    return (await this.get(path, 'text/plain')).text;
  }

  /** The tenant's latest signed checkpoint note. */
  async checkpoint(): Promise<string> {
    return (await this.get('/v1/checkpoint', 'text/plain')).text;
  }

  /** The consistency proof between tree sizes `from` and `to`: base64 hashes. */
  async consistency(from: number, to: number): Promise<string[]> {
    const path = `/v1/consistency?from=${String(checkIndex('from', from))}&to=${String(checkIndex('to', to))}`;
    const { text } = await this.get(path, 'text/plain');
    return text
      .split('\n')
      .map((line) => line.replace(/\r$/, ''))
      .filter((line) => line !== '');
  }

  /** One page of records. Pass the previous page's `next` as `cursor` for the following one. */
  async list(options: ListOptions = {}): Promise<Page> {
    const params: string[] = [];
    const { from, since, until, limit, cursor } = options;
    if (cursor !== undefined) {
      if (typeof cursor !== 'string' || cursor === '') throw clientError('CLIENT_INVALID_ARGUMENT', 'cursor must be a non-empty string');
      if (from !== undefined || since !== undefined || until !== undefined) {
        throw clientError('CLIENT_INVALID_ARGUMENT', 'a cursor carries the query (from, since, until): pass it with at most a limit');
      }
      params.push(`cursor=${encodeURIComponent(cursor)}`);
    } else {
      if (from !== undefined && (since !== undefined || until !== undefined)) {
        throw clientError('CLIENT_INVALID_ARGUMENT', 'list by seq (from) or by time (since/until), not both');
      }
      if (from !== undefined) params.push(`from=${String(checkIndex('from', from))}`);
      if (since !== undefined) params.push(`since=${encodeURIComponent(timeParam('since', since))}`);
      if (until !== undefined) params.push(`until=${encodeURIComponent(timeParam('until', until))}`);
    }
    if (limit !== undefined) {
      if (!Number.isSafeInteger(limit) || limit < 1) throw clientError('CLIENT_INVALID_ARGUMENT', 'limit must be a positive integer');
      params.push(`limit=${String(limit)}`);
    }
    const path = params.length === 0 ? '/v1/events' : `/v1/events?${params.join('&')}`;
    const answer = await this.get(path, 'application/json');
    const body = parseJson(answer, `GET ${path}`);
    const records = isObject(body) ? body.records : undefined;
    const next = isObject(body) ? (body.next ?? null) : undefined;
    if (!Array.isArray(records) || !records.every(isObject) || !(next === null || (typeof next === 'string' && next !== ''))) {
      throw badResponse(`GET ${path}`, 'expected {"records": [objects], "next": cursor or null}', answer.attempts);
    }
    return { records: records as StoredRecord[], next };
  }

  /**
   * Every record matching the query, page by page, following cursors to the
   * end. Pages are fetched as the iteration reaches them (breaking out of a
   * for-await stops fetching).
   */
  async *records(options: RecordsOptions = {}): AsyncGenerator<StoredRecord, void, undefined> {
    const { pageSize, ...query } = options;
    let page = await this.list({ ...query, limit: pageSize });
    for (;;) {
      yield* page.records;
      const cursor = page.next;
      if (cursor === null) return;
      // The page size is not part of the cursor: send it on every page.
      page = await this.list({ cursor, limit: pageSize });
      if (page.records.length === 0 && page.next === cursor) {
        throw badResponse('GET /v1/events', 'the service returned an empty page with the same cursor', 1);
      }
    }
  }

  /**
   * Asks the service to sign a checkpoint of the tenant's current head now
   * (`POST /v1/checkpoint`) and returns the note. Retried like a read: signing
   * the same head twice is harmless.
   */
  async newCheckpoint(): Promise<string> {
    const answer = await this.transport.send({ method: 'POST', path: '/v1/checkpoint', token: this.o.apiKey, accept: 'text/plain', retry: true });
    return answer.text;
  }

  // --- administration ------------------------------------------------------------

  /**
   * Creates a tenant (admin token required). Not retried: the call is not
   * idempotent and its answer holds the only copy of the API key, so after an
   * ambiguous failure check whether the tenant exists before trying again.
   */
  async createTenant(id: string, name?: string): Promise<Tenant> {
    if (typeof id !== 'string' || id === '') throw clientError('CLIENT_INVALID_ARGUMENT', 'tenant id must be a non-empty string');
    if (name !== undefined && typeof name !== 'string') throw clientError('CLIENT_INVALID_ARGUMENT', 'tenant name must be a string');
    const body = await this.adminPost('/v1/admin/tenants', name === undefined ? { id } : { id, name }, ['id', 'apiKey', 'verifierKey']);
    return { id: body['id']!, apiKey: body['apiKey']!, verifierKey: body['verifierKey']! };
  }

  /**
   * Issues another API key for `tenant` (admin token required;
   * `POST /v1/admin/tenants/{tenant}/keys`). Not retried, for the same reason
   * as createTenant: the answer is the only copy of the key.
   */
  async createApiKey(tenant: string, options: ApiKeyOptions = {}): Promise<ApiKey> {
    if (typeof tenant !== 'string' || tenant === '') throw clientError('CLIENT_INVALID_ARGUMENT', 'tenant id must be a non-empty string');
    const path = `/v1/admin/tenants/${encodeURIComponent(tenant)}/keys`;
    const body: Record<string, unknown> = {};
    if (options.name !== undefined) body.name = options.name;
    if (options.scopes !== undefined) body.scopes = options.scopes;
    if (options.expiresAt !== undefined) body.expiresAt = options.expiresAt;
    const parsed = await this.adminPost(path, body, ['id', 'apiKey']);
    return { id: parsed['id']!, apiKey: parsed['apiKey']! };
  }

  /**
   * Revokes an API key by its id (admin token required;
   * `DELETE /v1/admin/keys/{id}`). Not retried: a repeat after a lost answer
   * would report NOT_FOUND for a key that was in fact revoked.
   */
  async revokeApiKey(id: string): Promise<void> {
    if (typeof id !== 'string' || id === '') throw clientError('CLIENT_INVALID_ARGUMENT', 'key id must be a non-empty string');
    await this.transport.send({ method: 'DELETE', path: `/v1/admin/keys/${encodeURIComponent(id)}`, token: this.o.adminToken, accept: 'application/json', retry: false });
  }

  /**
   * One admin POST, never retried (its answer is the only copy of a new
   * key), whose JSON answer must hold the string members `fields`.
   */
  private async adminPost(path: string, body: Record<string, unknown>, fields: readonly string[]): Promise<Record<string, string>> {
    const answer = await this.transport.send({
      method: 'POST',
      path,
      token: this.o.adminToken,
      accept: 'application/json',
      contentType: 'application/json',
      body: JSON.stringify(body),
      retry: false,
    });
    const parsed = parseJson(answer, `POST ${path}`);
    if (!isObject(parsed) || !fields.every((f) => typeof parsed[f] === 'string')) {
      throw badResponse(`POST ${path}`, `expected {${fields.map((f) => `"${f}"`).join(', ')}}`, answer.attempts);
    }
    return parsed as Record<string, string>;
  }
}
