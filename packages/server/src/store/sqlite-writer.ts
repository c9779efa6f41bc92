// The SQLite writer thread: owns the connection that writes, so that the
// fsync of each COMMIT (synchronous=FULL) blocks this thread, not the API's
// event loop. It runs the engine's write operations in order, one at a time,
// as asked by the SqliteStore on the main thread.
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../thread.js';
import { SqliteEngine } from './sqlite-engine.js';

/** What the SqliteStore asks of its writer thread: an engine method and its arguments. */
export type WriterOp = 'migrate' | 'createTenant' | 'append' | 'putCheckpoint' | 'putApiKey' | 'putFirstOperatorKey' | 'revokeApiKey' | 'putSink' | 'patchSink' | 'deleteSink' | 'leaseSink' | 'releaseSink' | 'close';

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
let engine: SqliteEngine | undefined;
serveRequests((op, args) => {
  engine ??= new SqliteEngine(path, busyTimeoutMs);
  if (op === 'close') return engine.close();
  const e = engine as unknown as Record<string, (...a: unknown[]) => unknown>;
  return e[op as WriterOp]!.apply(engine, args as unknown[]);
});
