// Requests to a worker thread and their replies, in order of arrival at the
// thread: the SQLite writer thread and the ingest threads both speak this.
// A thread keeps the process alive only while a request is pending; when it
// stops, every pending request fails with the owner's error and the next
// request starts a fresh thread.
import { existsSync } from 'node:fs';
import { Worker, parentPort } from 'node:worker_threads';
import { TrailsealError, isTrailsealError } from '@trailseal/format';

export interface ThreadRequest {
  readonly id: number;
  readonly op: string;
  readonly args: readonly unknown[];
}

export type ThreadReply = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** An error as it crosses the thread boundary: a registry code, or an engine's own code. */
export interface SerializedError {
  readonly trailsealCode?: string;
  readonly code?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

export function serializeError(e: unknown): SerializedError {
  if (isTrailsealError(e)) return { trailsealCode: e.code, message: e.message, details: { ...e.details } };
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  return { ...(code !== undefined ? { code } : {}), message: e instanceof Error ? e.message : String(e) };
}

/** The registry error a thread threw, as it was; undefined for any other error. */
export function reviveTrailsealError(e: SerializedError): TrailsealError | undefined {
  return e.trailsealCode !== undefined ? new TrailsealError(e.trailsealCode as TrailsealError['code'], e.message, e.details ?? {}) : undefined;
}

/**
 * The compiled thread script `name` (e.g. `store/sqlite-writer.js`) of this
 * package. Tests run the TypeScript sources; a thread always runs the
 * compiled JavaScript (npm test builds first).
 */
export function threadScript(name: string): URL {
  const here = new URL(import.meta.url);
  const url = here.pathname.endsWith('.ts') ? new URL(`../dist/${name}`, here) : new URL(`./${name}`, here);
  if (!existsSync(url)) throw new TrailsealError('INTERNAL', `the thread script ${url.pathname} is missing: build first (tsc -b)`);
  return url;
}

export interface ThreadClientOptions {
  /** A compiled script of this package (threadScript), or any module's URL. */
  readonly script: string | URL;
  readonly workerData?: unknown;
  /** The error pending requests fail with when the thread stops. */
  readonly stopped: (why: string) => unknown;
  /** The error a request fails with, from what the thread threw. */
  readonly revive: (e: SerializedError) => unknown;
}

export class ThreadClient {
  readonly #opts: ThreadClientOptions;
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  constructor(opts: ThreadClientOptions) {
    this.#opts = opts;
  }

  /** Starts the thread now rather than at the first request (a missing script fails here). */
  start(): void {
    this.#thread();
  }

  /** Requests sent and not yet answered. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Sends a request, handing over (not copying) the `transfer` buffers. */
  post<T>(op: string, args: readonly unknown[], transfer: readonly ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      try {
        const w = this.#thread();
        w.ref();
        w.postMessage({ id, op, args } satisfies ThreadRequest, [...transfer]);
      } catch (e) {
        this.#pending.delete(id);
        reject(e);
      }
    });
  }

  /**
   * Stops the thread (after `last`, a request the thread answers before it is
   * stopped); requests still pending then fail with the `stopped` error.
   */
  async close(last?: string): Promise<void> {
    const w = this.#worker;
    if (w === undefined) return;
    if (last !== undefined) await this.post(last, []).catch(() => undefined);
    w.removeAllListeners('exit');
    await w.terminate();
    this.#fail(w, 'closed');
  }

  /** Fails every pending request of thread `w`, if it is still this client's thread. */
  #fail(w: Worker, why: string): void {
    if (this.#worker !== w) return;
    this.#worker = undefined;
    const e = this.#opts.stopped(why);
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  #thread(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const script = this.#opts.script;
    const w = new Worker(typeof script === 'string' ? threadScript(script) : script, { workerData: this.#opts.workerData });
    w.on('message', (m: ThreadReply) => {
      const p = this.#pending.get(m.id);
      if (p === undefined) return;
      this.#pending.delete(m.id);
      if (this.#pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(this.#opts.revive(m.error));
    });
    w.on('error', (e) => this.#fail(w, e.message));
    w.on('exit', (code) => this.#fail(w, `exit code ${code}`));
    w.unref();
    this.#worker = w;
    return w;
  }
}

/**
 * The thread's side: answers every request with `handle(op, args)`, or with
 * what it threw. `transfer` names the buffers of a result to hand over rather
 * than copy.
 */
export function serveRequests(handle: (op: string, args: readonly unknown[]) => unknown, transfer: (result: unknown) => ArrayBuffer[] = () => []): void {
  const port = parentPort;
  if (port === null) throw new TrailsealError('INTERNAL', 'serveRequests runs in a worker thread');
  port.on('message', (req: ThreadRequest) => {
    let reply: ThreadReply;
    let buffers: ArrayBuffer[] = [];
    try {
      const result = handle(req.op, req.args);
      buffers = transfer(result);
      reply = { id: req.id, ok: true, result };
    } catch (err) {
      reply = { id: req.id, ok: false, error: serializeError(err) };
    }
    port.postMessage(reply, buffers);
  });
}
