// The SQLite writer thread: owns the connection that writes, so that the
// fsync of each COMMIT (synchronous=FULL) blocks this thread, not the API's
// event loop. It runs the engine's write operations in order, one at a time,
// as asked by the SqliteStore on the main thread.
import { workerData } from 'node:worker_threads';
import { serveRequests } from '../thread.js';
import { SqliteEngine, type AppendOutcome, type WritePlan } from './sqlite-engine.js';

/** What the SqliteStore asks of its writer thread: an engine method and its arguments. */
export type WriterOp = 'migrate' | 'createTenant' | 'append' | 'putCheckpoint' | 'putApiKey' | 'putFirstOperatorKey' | 'revokeApiKey' | 'putSink' | 'patchSink' | 'deleteSink' | 'leaseSink' | 'releaseSink' | 'close';

/**
 * The answer to 'append': the outcome, and the buffer of the record bytes it
 * was handed, handed back for the main thread's next batch
 * (RecordBytesBatch.recycle): the thread is done with it once the
 * transaction has ended.
 */
export interface AppendReply {
  readonly outcome: AppendOutcome;
  readonly spare: ArrayBuffer;
}

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
let engine: SqliteEngine | undefined;
serveRequests(
  (op, args) => {
    engine ??= new SqliteEngine(path, busyTimeoutMs);
    if (op === 'close') return engine.close();
    if (op === 'append') {
      const [tenant, expect, plan, idsLookedUp] = args as [string, { size: number; prevHash: string }, WritePlan, boolean];
      return { outcome: engine.append(tenant, expect, plan, idsLookedUp), spare: plan.bodies.buffer as ArrayBuffer } satisfies AppendReply;
    }
    const e = engine as unknown as Record<string, (...a: unknown[]) => unknown>;
    return e[op as WriterOp]!.apply(engine, args as unknown[]);
  },
  (result) => (typeof result === 'object' && result !== null && 'spare' in result ? [(result as AppendReply).spare] : []),
);
