// The SQLite writer thread: owns the connection that writes, so that the
// fsync of each COMMIT (synchronous=FULL) blocks this thread, not the API's
// event loop. It runs the engine's write operations in order, one at a time,
// as asked by the SqliteStore on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { isTrailsealError } from '@trailseal/format';
import { SqliteEngine } from './sqlite-engine.js';

export interface WriterRequest {
  readonly id: number;
  readonly op: 'migrate' | 'createTenant' | 'append' | 'putCheckpoint' | 'putApiKey' | 'putFirstOperatorKey' | 'revokeApiKey' | 'putSink' | 'patchSink' | 'deleteSink' | 'leaseSink' | 'releaseSink' | 'close';
  readonly args: readonly unknown[];
}

export type WriterReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError };

/** An error as it crosses the thread boundary: a registry code, or the engine's own code. */
export interface SerializedError {
  readonly trailsealCode?: string;
  readonly code?: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

function serialize(e: unknown): SerializedError {
  if (isTrailsealError(e)) return { trailsealCode: e.code, message: e.message, details: { ...e.details } };
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  return { ...(code !== undefined ? { code } : {}), message: e instanceof Error ? e.message : String(e) };
}

const port = parentPort;
if (port !== null) {
  const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
  let engine: SqliteEngine | undefined;
  port.on('message', (req: WriterRequest) => {
    try {
      engine ??= new SqliteEngine(path, busyTimeoutMs);
      const e = engine as unknown as Record<string, (...a: unknown[]) => unknown>;
      const result = req.op === 'close' ? engine.close() : e[req.op]!.apply(engine, req.args as unknown[]);
      port.postMessage({ id: req.id, ok: true, result } satisfies WriterReply);
    } catch (err) {
      port.postMessage({ id: req.id, ok: false, error: serialize(err) } satisfies WriterReply);
    }
  });
}
