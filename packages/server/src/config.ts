// Configuration: flags override environment variables override defaults;
// validated once at start (every problem reported, with the flag and the
// variable that set it), then frozen. docs/operations.md lists every setting.
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { TrailsealError } from '@trailseal/format';

export interface ServeConfig {
  readonly dataDir: string;
  /** `sqlite` (the data directory's database) or a postgres:// URL. */
  readonly store: string;
  readonly host: string;
  readonly port: number;
  readonly logName: string;
  readonly rootKeyFile: string;
  readonly maxBatch: number;
  readonly batchWindowMs: number;
  readonly maxQueue: number;
  readonly maxBodyBytes: number;
  readonly maxBatchEvents: number;
  readonly ingestThreads: number;
  readonly heapGrowingPercent: number;
  readonly checkpointIntervalMs: number;
  readonly sinkHeartbeatMs: number;
  readonly sinkPauseAfterMs: number;
  readonly sinkLeaseMs: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly parse: (v: string) => unknown;
  readonly help: string;
}

const int =
  (min: number, max: number) =>
  (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`must be an integer from ${min} to ${max}`);
    return Number(v);
  };
const text = (v: string): string => {
  if (v === '') throw new Error('must not be empty');
  return v;
};

export const SETTINGS: Readonly<Record<keyof ServeConfig, Setting>> = {
  dataDir: { flag: 'data', env: 'TRAILSEAL_DATA', parse: (v) => resolve(text(v)), help: 'data directory (SQLite database, root key file); default ./trailseal-data' },
  store: {
    flag: 'store',
    env: 'TRAILSEAL_STORE',
    parse: (v) => {
      if (v !== 'sqlite' && !/^postgres(ql)?:\/\//.test(v)) throw new Error('must be sqlite or a postgres:// URL');
      return v;
    },
    help: 'sqlite (default) or postgres://user@host:port/db',
  },
  host: { flag: 'host', env: 'TRAILSEAL_HOST', parse: text, help: 'address to listen on; default 127.0.0.1' },
  port: { flag: 'port', env: 'TRAILSEAL_PORT', parse: int(0, 65535), help: 'TCP port; default 8080 (0 picks a free port)' },
  logName: {
    flag: 'log-name',
    env: 'TRAILSEAL_LOG_NAME',
    parse: (v) => {
      if (!/^[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._-]+)*$/.test(v)) throw new Error('must be a host name, optionally with a path, e.g. audit.example.com');
      return v;
    },
    help: 'public name of this log; tenant origins are <log-name>/tenants/<id>; default the host name',
  },
  rootKeyFile: { flag: 'root-key-file', env: 'TRAILSEAL_ROOT_KEY_FILE', parse: (v) => resolve(text(v)), help: 'root key file (64 hex digits); default <data>/root.key; TRAILSEAL_ROOT_KEY overrides' },
  maxBatch: { flag: 'max-batch', env: 'TRAILSEAL_MAX_BATCH', parse: int(1, 100_000), help: 'most events per group commit; default 1000' },
  batchWindowMs: { flag: 'batch-window-ms', env: 'TRAILSEAL_BATCH_WINDOW_MS', parse: int(0, 1000), help: 'extra wait to gather a group commit, ms; default 0' },
  maxQueue: { flag: 'max-queue', env: 'TRAILSEAL_MAX_QUEUE', parse: int(1, 10_000_000), help: 'events queued before ingest answers 503; default 100000' },
  maxBodyBytes: { flag: 'max-body-bytes', env: 'TRAILSEAL_MAX_BODY_BYTES', parse: int(1024, 1 << 30), help: 'largest request body; default 16777216' },
  maxBatchEvents: { flag: 'max-batch-events', env: 'TRAILSEAL_MAX_BATCH_EVENTS', parse: int(1, 100_000), help: 'most events per request; default 10000' },
  ingestThreads: {
    flag: 'ingest-threads',
    env: 'TRAILSEAL_INGEST_THREADS',
    parse: int(0, 64),
    help: 'threads that parse and check large ingest bodies beside the event loop (0: none); default one less than the cores, at most 4',
  },
  heapGrowingPercent: {
    flag: 'heap-growing-percent',
    env: 'TRAILSEAL_HEAP_GROWING_PERCENT',
    parse: int(0, 1000),
    help: "how far V8's old generation may grow past what the last full garbage collection kept, in percent (0: V8's own choice); default 400",
  },
  checkpointIntervalMs: { flag: 'checkpoint-interval-ms', env: 'TRAILSEAL_CHECKPOINT_INTERVAL_MS', parse: int(0, 3_600_000), help: 'checkpoint cadence while a log grows; default 1000' },
  sinkHeartbeatMs: { flag: 'sink-heartbeat-ms', env: 'TRAILSEAL_SINK_HEARTBEAT_MS', parse: int(0, 3_600_000), help: 'how often each sink receives the latest signed checkpoint, ms (0: never); default 10000' },
  sinkPauseAfterMs: { flag: 'sink-pause-after-ms', env: 'TRAILSEAL_SINK_PAUSE_AFTER_MS', parse: int(1000, 7 * 86_400_000), help: 'a sink failing this long is paused and an alert record written, ms; default 900000' },
  sinkLeaseMs: { flag: 'sink-lease-ms', env: 'TRAILSEAL_SINK_LEASE_MS', parse: int(1000, 600_000), help: 'how long a process holds a sink unrenewed; another process takes a dead one\'s sinks over after this, ms; default 15000' },
  logLevel: {
    flag: 'log-level',
    env: 'TRAILSEAL_LOG_LEVEL',
    parse: (v) => {
      if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v)) throw new Error('must be fatal, error, warn, info, debug, trace or silent');
      return v;
    },
    help: 'structured log level (JSON lines on stdout); default info',
  },
};

/**
 * One thread per core beside the event loop's, up to 4: the event loop seals
 * and the store's writer commits, so more threads only compete with them.
 */
function defaultIngestThreads(): number {
  return Math.min(4, availableParallelism() - 1);
}

/**
 * The objects of a batch in flight outlive a young-generation collection or
 * two and die in the old generation; V8 set its next full collection at
 * about 1.3 times what the last one kept, 15-23 of them per 6 s of batch
 * load. A factor of 5 made it 5, for 1.1-2.4 us less server CPU per event
 * and 260-269 MB of peak resident memory against 231-257
 * (docs/operations.md, "Throughput and memory"). V8 reads the flag whenever
 * it sets the limit, so `trailseal serve` sets it at start
 * (applyHeapGrowingPercent).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 400;

/** Sets V8's heap growing factor for this process (0: leaves V8's own). */
export function applyHeapGrowingPercent(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

export function loadConfig(flags: Readonly<Record<string, string | undefined>>, env: Readonly<Record<string, string | undefined>> = process.env): Readonly<ServeConfig> {
  const problems: string[] = [];
  const get = <K extends keyof ServeConfig>(key: K, fallback: () => ServeConfig[K]): ServeConfig[K] => {
    const s = SETTINGS[key];
    const [raw, from] = flags[s.flag] !== undefined ? [flags[s.flag]!, `--${s.flag}`] : env[s.env] !== undefined ? [env[s.env]!, s.env] : [undefined, ''];
    if (raw === undefined) return fallback();
    try {
      return s.parse(raw) as ServeConfig[K];
    } catch (e) {
      problems.push(`${from}=${JSON.stringify(raw)}: ${(e as Error).message}`);
      return fallback();
    }
  };
  const dataDir = get('dataDir', () => resolve('trailseal-data'));
  const cfg: ServeConfig = {
    dataDir,
    store: get('store', () => 'sqlite'),
    host: get('host', () => '127.0.0.1'),
    port: get('port', () => 8080),
    logName: get('logName', () => hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-') || 'localhost'),
    rootKeyFile: get('rootKeyFile', () => resolve(dataDir, 'root.key')),
    maxBatch: get('maxBatch', () => 1000),
    batchWindowMs: get('batchWindowMs', () => 0),
    maxQueue: get('maxQueue', () => 100_000),
    maxBodyBytes: get('maxBodyBytes', () => 16 * 1024 * 1024),
    maxBatchEvents: get('maxBatchEvents', () => 10_000),
    ingestThreads: get('ingestThreads', defaultIngestThreads),
    heapGrowingPercent: get('heapGrowingPercent', () => DEFAULT_HEAP_GROWING_PERCENT),
    checkpointIntervalMs: get('checkpointIntervalMs', () => 1000),
    sinkHeartbeatMs: get('sinkHeartbeatMs', () => 10_000),
    sinkPauseAfterMs: get('sinkPauseAfterMs', () => 15 * 60_000),
    sinkLeaseMs: get('sinkLeaseMs', () => 15_000),
    logLevel: get('logLevel', () => 'info'),
  };
  // A request larger than the whole queue could never be accepted: every retry would meet 503.
  if (cfg.maxQueue < cfg.maxBatchEvents) problems.push(`--max-queue (${cfg.maxQueue}) must be at least --max-batch-events (${cfg.maxBatchEvents})`);
  if (problems.length > 0) throw new TrailsealError('CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, { problems });
  return Object.freeze(cfg);
}
