// Prometheus text exposition (format 0.0.4) for the handful of series the
// service keeps: no client library needed for counters, gauges and one
// histogram. Label values here are tenant ids and fixed words, so they need
// no escaping beyond what TENANT_RE already forbids.

const COMMIT_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export class Metrics {
  eventsIngested = 0;
  recordsWritten = 0;
  commits = 0;
  commitFailures = 0;
  requestsRejected = new Map<string, number>();
  readonly #commitBuckets = new Array<number>(COMMIT_BUCKETS_MS.length).fill(0);
  #commitSumMs = 0;
  /** Gauges read at scrape time. */
  queueDepth: () => number = () => 0;
  /** POST /v1/events bodies prepared on an ingest thread and on the event loop, read at scrape time. */
  bodiesPrepared: () => { thread: number; eventLoop: number } = () => ({ thread: 0, eventLoop: 0 });
  checkpointAgeSeconds: () => Map<string, number> = () => new Map();
  /** Records committed but not yet delivered, per sink this process runs. */
  sinkLags: () => { tenant: string; sink: string; lag: number; lastDeliveredSeq: number | null; failing: boolean }[] = () => [];
  readonly #sinkDelivered = new Map<string, number>();
  readonly #sinkFailures = new Map<string, number>();

  sinkDelivered(tenant: string, sink: string, n: number): void {
    const k = `tenant="${tenant}",sink="${sink}"`;
    this.#sinkDelivered.set(k, (this.#sinkDelivered.get(k) ?? 0) + n);
  }

  sinkFailed(tenant: string, sink: string): void {
    const k = `tenant="${tenant}",sink="${sink}"`;
    this.#sinkFailures.set(k, (this.#sinkFailures.get(k) ?? 0) + 1);
  }

  observeCommit(ms: number, events: number, records: number): void {
    this.commits++;
    this.eventsIngested += events;
    this.recordsWritten += records;
    this.#commitSumMs += ms;
    for (let i = 0; i < COMMIT_BUCKETS_MS.length; i++) if (ms <= COMMIT_BUCKETS_MS[i]!) this.#commitBuckets[i]!++;
  }

  rejected(code: string): void {
    this.requestsRejected.set(code, (this.requestsRejected.get(code) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    const counter = (name: string, help: string, v: number): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${v}`);
    };
    counter('trailseal_events_ingested_total', 'Producer events committed (duplicates excluded).', this.eventsIngested);
    counter('trailseal_records_written_total', 'Records committed, service records included.', this.recordsWritten);
    counter('trailseal_commit_failures_total', 'Group commits that failed (nothing acknowledged).', this.commitFailures);
    out.push('# HELP trailseal_requests_rejected_total Requests answered with an error, by problem code.', '# TYPE trailseal_requests_rejected_total counter');
    for (const [code, n] of [...this.requestsRejected].sort()) out.push(`trailseal_requests_rejected_total{code="${code}"} ${n}`);
    out.push('# HELP trailseal_commit_duration_milliseconds Group commit latency: seal, write and durable commit.', '# TYPE trailseal_commit_duration_milliseconds histogram');
    COMMIT_BUCKETS_MS.forEach((le, i) => out.push(`trailseal_commit_duration_milliseconds_bucket{le="${le}"} ${this.#commitBuckets[i]}`));
    out.push(`trailseal_commit_duration_milliseconds_bucket{le="+Inf"} ${this.commits}`);
    out.push(`trailseal_commit_duration_milliseconds_sum ${this.#commitSumMs}`, `trailseal_commit_duration_milliseconds_count ${this.commits}`);
    const prepared = this.bodiesPrepared();
    out.push('# HELP trailseal_ingest_bodies_total Event bodies parsed and checked, by where: an ingest thread or the event loop.', '# TYPE trailseal_ingest_bodies_total counter');
    out.push(`trailseal_ingest_bodies_total{prepared_on="thread"} ${prepared.thread}`, `trailseal_ingest_bodies_total{prepared_on="event_loop"} ${prepared.eventLoop}`);
    out.push('# HELP trailseal_queue_depth Events waiting for a group commit.', '# TYPE trailseal_queue_depth gauge', `trailseal_queue_depth ${this.queueDepth()}`);
    out.push('# HELP trailseal_checkpoint_age_seconds Seconds since the newest checkpoint this process signed or found, per tenant.', '# TYPE trailseal_checkpoint_age_seconds gauge');
    for (const [tenant, age] of [...this.checkpointAgeSeconds()].sort()) out.push(`trailseal_checkpoint_age_seconds{tenant="${tenant}"} ${age.toFixed(3)}`);
    out.push('# HELP trailseal_sink_lag_records Committed records a sink has not delivered yet.', '# TYPE trailseal_sink_lag_records gauge');
    const sinks = this.sinkLags();
    for (const l of sinks) out.push(`trailseal_sink_lag_records{tenant="${l.tenant}",sink="${l.sink}"} ${l.lag}`);
    out.push('# HELP trailseal_sink_last_delivered_seq The seq of the last record a sink delivered (-1: none yet by this process).', '# TYPE trailseal_sink_last_delivered_seq gauge');
    for (const l of sinks) out.push(`trailseal_sink_last_delivered_seq{tenant="${l.tenant}",sink="${l.sink}"} ${l.lastDeliveredSeq ?? -1}`);
    out.push('# HELP trailseal_sink_failing Whether a sink\'s last delivery attempt failed (1) or not (0).', '# TYPE trailseal_sink_failing gauge');
    for (const l of sinks) out.push(`trailseal_sink_failing{tenant="${l.tenant}",sink="${l.sink}"} ${l.failing ? 1 : 0}`);
    out.push('# HELP trailseal_sink_delivered_total Records a sink delivered and its receiver acknowledged.', '# TYPE trailseal_sink_delivered_total counter');
    for (const [k, n] of [...this.#sinkDelivered].sort()) out.push(`trailseal_sink_delivered_total{${k}} ${n}`);
    out.push('# HELP trailseal_sink_failures_total Failed delivery attempts (each retried).', '# TYPE trailseal_sink_failures_total counter');
    for (const [k, n] of [...this.#sinkFailures].sort()) out.push(`trailseal_sink_failures_total{${k}} ${n}`);
    return `${out.join('\n')}\n`;
  }
}
