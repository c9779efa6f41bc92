// The PostgreSQL store: for several stateless service processes sharing one
// database. Life of an event: docs/stores.md.
//
// Serialization: every append writes its tenant's row in `heads`, either
// under the row lock it took before reading anything else (SELECT ... FOR
// UPDATE) or in one statement that compares and sets the head it was built
// on (APPEND_FUNCTION), so appenders of one tenant queue on that row lock
// whatever process they run in, and one built on a head that has moved
// writes nothing; appenders of different tenants never wait for each other.
// Durability: COMMIT returns after the WAL is flushed (synchronous_commit,
// forced back to `on` for the write transactions of a session where it was
// turned `off`).
//
// Tenant isolation is enforced twice: every query filters by tenant, and
// row-level security on the tenant tables lets a transaction see and write
// only the rows of the tenant it declared. Every tenant-scoped transaction
// switches to the unprivileged role trailseal_tenant (SET LOCAL ROLE) and
// names its tenant in the transaction-local setting trailseal.tenant; the
// policies compare against that setting. Superusers and BYPASSRLS roles skip
// RLS, which is why the role switch is needed even when the service connects
// as a superuser.
import pg from 'pg';
import { TrailsealError, logTimestamp, type NodeId } from '@trailseal/format';
import { NONE_KNOWN, checkPlan, joinHashes, nodeHome, nodeMissing, packRecordNodes, seqAtTimeResult, seqAtTimeSql, storeFailure } from './common.js';
import { SINK_COLUMNS, headOf, keyOf, sinkOf, sinkPatchColumns, sinkValues, tenantOf, type HeadSql, type KeySql, type SinkSql, type TenantSql } from './rows.js';
import type { ApiKeyRow, AppendBuilder, AppendPlan, AppendResult, CheckpointRow, HeadRow, ReceiptRow, RecordQuery, Scope, SinkPatch, SinkRow, Store, StoredRecord, TenantRow } from './types.js';

const { Pool, escapeLiteral } = pg;

const SCHEMA_VERSION = 2;

/** The role tenant-scoped transactions run as: NOLOGIN, no superuser, no BYPASSRLS. */
export const TENANT_ROLE = 'trailseal_tenant';
/** NOTIFY channel of commits; the payload is the tenant id. */
const COMMIT_CHANNEL = 'trailseal_commit';

/** Key of the advisory lock migrate() holds while it changes the schema ('trail' in ASCII). */
const MIGRATE_LOCK = 0x747261696c;

const TENANT_TABLES = ['heads', 'records', 'checkpoints'] as const;

const RECORD_NODES_CHECK = 'CONSTRAINT records_nodes_check CHECK (length(nodes) > 0 AND length(nodes) % 32 = 0)';
const RECORD_NODES_COLUMN = `nodes bytea NOT NULL ${RECORD_NODES_CHECK}`;

// Text keys use the "C" collation: byte order, as SQLite compares, whatever
// the database's default collation is. A record's `nodes` holds the hashes
// of the tree nodes its append completed, as in SQLite (sqlite-engine.ts,
// nodeHome in common.ts); schema version 1 had a `nodes` table instead
// (upgradeFrom1).
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS tenants (
  id text COLLATE "C" PRIMARY KEY, name text NOT NULL, origin text NOT NULL,
  wrapped_key bytea NOT NULL, key_wrapper text NOT NULL, created_at text NOT NULL);
CREATE TABLE IF NOT EXISTS heads (
  tenant text COLLATE "C" PRIMARY KEY REFERENCES tenants (id), size bigint NOT NULL CHECK (size >= 0),
  prev_hash text NOT NULL, range bytea NOT NULL, mac_generation integer NOT NULL,
  signing_generation integer NOT NULL, last_received_ms bigint NOT NULL);
CREATE TABLE IF NOT EXISTS records (
  tenant text COLLATE "C" NOT NULL, seq bigint NOT NULL CHECK (seq >= 0), event_id text COLLATE "C",
  received_ms bigint NOT NULL, body text NOT NULL, ${RECORD_NODES_COLUMN},
  PRIMARY KEY (tenant, seq));
CREATE UNIQUE INDEX IF NOT EXISTS records_event_id ON records (tenant, event_id) WHERE event_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS checkpoints (
  tenant text COLLATE "C" NOT NULL, size bigint NOT NULL, note text NOT NULL,
  PRIMARY KEY (tenant, size));
CREATE TABLE IF NOT EXISTS api_keys (
  id text COLLATE "C" PRIMARY KEY, tenant text COLLATE "C", name text NOT NULL, scopes text[] NOT NULL,
  secret_hash bytea NOT NULL, created_at text COLLATE "C" NOT NULL, expires_at text, revoked_at text);
CREATE INDEX IF NOT EXISTS api_keys_tenant ON api_keys (tenant, created_at, id);
CREATE TABLE IF NOT EXISTS sinks (
  id text COLLATE "C" PRIMARY KEY, tenant text COLLATE "C" NOT NULL REFERENCES tenants(id), name text NOT NULL, kind text NOT NULL,
  config text NOT NULL, secret bytea, filter text NOT NULL, format text NOT NULL, state text NOT NULL,
  cursor bigint NOT NULL, created_at text COLLATE "C" NOT NULL, last_error text, last_error_at text, paused_reason text,
  lease_owner text, lease_until bigint);
CREATE INDEX IF NOT EXISTS sinks_tenant ON sinks (tenant, created_at, id);
`;

// The tenant role may read and append, never rewrite: no UPDATE or DELETE on
// records or checkpoints, and UPDATE on heads only (the lock and the new head).
const GRANTS = `
GRANT SELECT, INSERT, UPDATE ON heads TO ${TENANT_ROLE};
GRANT SELECT, INSERT ON records, checkpoints TO ${TENANT_ROLE};
`;

const POLICIES = TENANT_TABLES.map(
  (t) => `
ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${t} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON ${t};
CREATE POLICY tenant_isolation ON ${t}
  USING (tenant = current_setting('trailseal.tenant', true))
  WITH CHECK (tenant = current_setting('trailseal.tenant', true));`,
).join('\n');

// Creates the role if absent (roles are cluster-wide: another database's
// migration may create it at the same moment, hence the exception handler),
// makes the connecting role able to SET ROLE to it, and lets it use the
// schema. Needs CREATEROLE the first time unless an operator did this.
const ROLE_SETUP = `
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${TENANT_ROLE}') THEN
    BEGIN
      CREATE ROLE ${TENANT_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT NOCREATEDB NOCREATEROLE;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END IF;
  IF current_setting('server_version_num')::int >= 160000 THEN
    IF NOT pg_has_role(current_user, '${TENANT_ROLE}', 'SET') THEN
      EXECUTE format('GRANT ${TENANT_ROLE} TO %I WITH SET TRUE', current_user);
    END IF;
  ELSIF NOT pg_has_role(current_user, '${TENANT_ROLE}', 'MEMBER') THEN
    EXECUTE format('GRANT ${TENANT_ROLE} TO %I', current_user);
  END IF;
  IF NOT has_schema_privilege('${TENANT_ROLE}', current_schema(), 'USAGE') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ${TENANT_ROLE}', current_schema());
  END IF;
END
$$;
`;

// The first statement of every write transaction: a session whose
// synchronous_commit is `off` would acknowledge commits before their WAL is
// flushed; any other value (local, remote_write, on, remote_apply) waits for
// at least the local flush and is kept.
const DURABLE = `SELECT set_config('synchronous_commit', 'on', true) WHERE current_setting('synchronous_commit') = 'off'`;

/**
 * An append in one statement: the compare-and-set of the tenant's head (from
 * the head the plan was built on to the one it leaves), the records with
 * their tree nodes, and the commit notification. False, with nothing
 * written, when the head is no longer the expected one (another process
 * appended, or the plan was built on a head that never committed); a stored
 * event id fails the statement on the unique index (23505). The notification
 * is delivered at commit, never on rollback: other processes' delivery
 * engines wake at once (subscribeCommits). Called alone, it
 * is a transaction of its own, one round trip: PostgreSQL commits it before
 * it answers (ReadyForQuery), under the same durability and row-level
 * security scope as #tx gives a write transaction (DURABLE, scopeTo); that
 * scope is transaction-local, so it ends with the call's transaction. SET
 * ROLE inside a function needs the function to run as its caller (not
 * SECURITY DEFINER): the caller must be a member of trailseal_tenant, so the
 * function lends no one a privilege. The records travel packed: bodies
 * joined by "\n" (canonical JSON never holds a raw line feed), node hashes
 * concatenated, record k's starting after those of records 1 .. k-1 (the
 * running sum of the counts, in 32-byte hashes); encoding thousands of
 * strings and byteas as array literals cost the client about 20 times as
 * much CPU per batch (measured with bench/service.ts --profile). The name
 * carries a version: a build that changes the signature adds a function
 * rather than breaking the processes of an older build on the same database.
 */
const APPEND_SIGNATURE = `trailseal_append_v1(
  p_tenant text, p_size bigint, p_prev_hash text,
  p_new_size bigint, p_new_prev_hash text, p_range bytea, p_mac_generation integer, p_signing_generation integer, p_last_received_ms bigint,
  p_seqs bigint[], p_event_ids text, p_received bigint[], p_bodies text, p_node_counts integer[], p_nodes bytea)`;
const APPEND_BODY = `
BEGIN
  IF current_setting('synchronous_commit') = 'off' THEN
    PERFORM set_config('synchronous_commit', 'on', true);
  END IF;
  SET LOCAL ROLE ${TENANT_ROLE};
  PERFORM set_config('trailseal.tenant', p_tenant, true);
  UPDATE heads SET size = p_new_size, prev_hash = p_new_prev_hash, range = p_range, mac_generation = p_mac_generation,
      signing_generation = p_signing_generation, last_received_ms = p_last_received_ms
    WHERE tenant = p_tenant AND size = p_size AND prev_hash = p_prev_hash;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO records (tenant, seq, event_id, received_ms, body, nodes)
    SELECT p_tenant, s, NULLIF(e, ''), r, b, substring(p_nodes FROM ((sum(n) OVER (ORDER BY k) - n) * 32 + 1)::int FOR (n * 32)::int)
    FROM unnest(p_seqs, string_to_array(p_event_ids, E'\n'), p_received, string_to_array(p_bodies, E'\n'), p_node_counts)
      WITH ORDINALITY AS t (s, e, r, b, n, k);
  PERFORM pg_notify('${COMMIT_CHANNEL}', p_tenant);
  RETURN true;
END
`;
const APPEND_FUNCTION = `CREATE OR REPLACE FUNCTION ${APPEND_SIGNATURE} RETURNS boolean LANGUAGE plpgsql AS $fn$${APPEND_BODY}$fn$`;

/** The call of the append function (APPEND_FUNCTION), with the values appendValues gives. */
const APPEND_CALL = {
  name: 'trailseal-append',
  text: 'SELECT trailseal_append_v1($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) AS ok',
};

// bigint (int8) columns as JS numbers: seqs, sizes and milliseconds stay far
// below 2^53; a value beyond it is a fault, not something to round.
const INT8_OID = 20;
const parseInt8 = (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new TrailsealError('INTERNAL', `bigint ${v} from PostgreSQL is not a safe integer`);
  return n;
};
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)),
};


export interface PostgresStoreOptions {
  /** postgres://user[:password]@host[:port]/database[?options] */
  readonly url: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How long to wait for a connection, in ms (default 10 000); then STORE_UNAVAILABLE. */
  readonly connectTimeoutMs?: number;
}

type Tx = pg.PoolClient;

interface TxOptions {
  /** Run as trailseal_tenant with trailseal.tenant set to this id. */
  readonly tenant?: string;
  readonly write: boolean;
}

/** The least number of appended rows after which a process refreshes the planner's statistics (see #appended). */
const ANALYZE_AFTER_ROWS = 10_000;

/**
 * The stored records of a batch's event ids, with their leaf hashes: driven by
 * the partial event-id index (the planner needs "IS NOT NULL" spelled out),
 * then one primary-key probe per match; a join let it walk every leaf of the
 * tenant instead. The index is chosen only with planner statistics: see
 * PostgresStore.#appended.
 */
export const KNOWN_IDS_SQL = `SELECT r.event_id, r.seq, r.received_ms, r.body, substring(r.nodes FROM 1 FOR 32) AS hash
 FROM records r WHERE r.tenant = $1 AND r.event_id = ANY($2::text[]) AND r.event_id IS NOT NULL`;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #url: string;
  #closed = false;
  /** Rows appended by this process since its last ANALYZE, and how many call for the next one. */
  #rowsSinceAnalyze = 0;
  #analyzeAfterRows = ANALYZE_AFTER_ROWS;
  #analyzing: Promise<void> | undefined;
  /**
   * Per tenant, the head this process's newest append left, and whether the
   * next append may be built on it and written in one round trip, unlocked
   * (see append): not while an append of this process builds on it, nor
   * after the locked append found that another process had appended (each
   * unlocked attempt would then likely be refused), until a locked append
   * finds the head where this process left it. Every change of a head
   * appends records, so its size and last hash, which the append function
   * compares, name it whole.
   */
  readonly #left = new Map<string, { head: HeadRow; unlocked: boolean }>();

  private constructor(pool: pg.Pool, url: string) {
    this.#pool = pool;
    this.#url = url;
  }

  /** Opens a pool and checks that the database answers (STORE_UNAVAILABLE if not). Call migrate() before use. */
  static async connect(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new Pool({
      connectionString: opts.url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      // A service that hangs, or whose host vanishes without closing the
      // connection, while holding a head lock must not block the tenant for
      // longer than this; our own transactions never idle.
      idle_in_transaction_session_timeout: 60_000,
      application_name: 'trailseal',
      types: TYPES,
    });
    // An idle connection that the server closes (restart, failover,
    // pg_terminate_backend) is reported here; the pool drops it and the next
    // query opens a new one. Without a listener the process would crash.
    pool.on('error', () => undefined);
    const store = new PostgresStore(pool, opts.url);
    try {
      await store.ping();
    } catch (e) {
      await pool.end().catch(() => undefined);
      throw e;
    }
    return store;
  }

  async migrate(): Promise<void> {
    await this.#tx('PostgreSQL migration failed', { write: true }, async (c) => {
      // Serializes migrations of this database across processes.
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      try {
        await c.query(ROLE_SETUP);
      } catch (e) {
        if (pgCode(e) === '42501') {
          throw new TrailsealError(
            'CONFIG_INVALID',
            `the database role cannot create or assume the role ${TENANT_ROLE}: grant it CREATEROLE for the first migration, or create ${TENANT_ROLE} (NOLOGIN) and grant it to the service's role beforehand (docs/stores.md)`,
            { cause: e instanceof Error ? e.message : String(e) },
          );
        }
        throw e;
      }
      const has = await c.query<{ meta: boolean }>(`SELECT to_regclass('meta') IS NOT NULL AS meta`);
      let version = 0;
      if (has.rows[0]?.meta === true) {
        const row = await c.query<{ value: string }>(`SELECT value FROM meta WHERE name = 'schema_version'`);
        version = row.rows[0] === undefined ? 0 : Number(row.rows[0].value);
      }
      if (version > SCHEMA_VERSION) {
        throw new TrailsealError('CONFIG_INVALID', `the database has schema version ${version}; this build understands up to ${SCHEMA_VERSION}`);
      }
      // Earlier builds kept an index on (tenant, received_ms) for seqAtTime,
      // which now searches the primary key (seqAtTimeSql): the index only
      // cost every insert. An older build recreates it, harmlessly.
      await c.query('DROP INDEX IF EXISTS records_received');
      if (version !== SCHEMA_VERSION) {
        if (version === 1) await upgradeFrom1(c);
        await c.query(SCHEMA + GRANTS + POLICIES);
        await c.query(`INSERT INTO meta (name, value) VALUES ('schema_version', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`, [String(SCHEMA_VERSION)]);
      }
      // A database an earlier build of this schema version migrated lacks
      // it. Replaced only when its text differs: only the function's owner
      // may replace it, and processes of other roles migrate too.
      const fn = await c.query<{ body: string }>(`SELECT prosrc AS body FROM pg_proc WHERE proname = 'trailseal_append_v1' AND pronamespace = current_schema()::regnamespace`);
      if (fn.rows[0]?.body !== APPEND_BODY) await c.query(APPEND_FUNCTION);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#analyzing;
    await this.#pool.end();
  }

  async ping(): Promise<void> {
    try {
      await this.#pool.query('SELECT 1');
    } catch (e) {
      throw storeFailure(e, 'PostgreSQL is unreachable');
    }
  }

  async createTenant(tenant: TenantRow, plan: AppendPlan): Promise<void> {
    const empty: HeadRow = { size: 0, prevHash: '0'.repeat(64), range: [], macGeneration: 0, signingGeneration: 0, lastReceivedAtMs: 0 };
    checkPlan(empty, plan);
    await this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      // Operator table first, as the connecting role; a concurrent create of
      // the same id waits for the other transaction and then conflicts.
      const ins = await c.query(
        `INSERT INTO tenants (id, name, origin, wrapped_key, key_wrapper, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [tenant.id, tenant.name, tenant.origin, buf(tenant.wrappedKey), tenant.keyWrapper, tenant.createdAt],
      );
      if (ins.rowCount !== 1) throw new TrailsealError('TENANT_EXISTS', `tenant ${tenant.id} exists`, { field: 'id' });
      await c.query(scopeTo(tenant.id));
      // The empty log's head, which the plan then extends as any append does.
      await c.query(`INSERT INTO heads (tenant, size, prev_hash, range, mac_generation, signing_generation, last_received_ms) VALUES ($1, 0, $2, '', 0, 0, 0)`, [tenant.id, empty.prevHash]);
      await appendInTx(c, tenant.id, empty, plan);
    });
    this.#left.set(tenant.id, { head: plan.head, unlocked: true });
  }

  async getTenant(id: string): Promise<TenantRow | undefined> {
    const r = await this.#query<TenantSql>('SELECT * FROM tenants WHERE id = $1', [id]);
    return r[0] === undefined ? undefined : tenantOf(r[0]);
  }

  async listTenants(): Promise<TenantRow[]> {
    return (await this.#query<TenantSql>('SELECT * FROM tenants ORDER BY id')).map(tenantOf);
  }

  /**
   * Appends on the head this process's last append left, in one round trip
   * (APPEND_FUNCTION) without a lookup of the event ids; when that head has
   * moved, or an id is stored already, or there is no such head, the append
   * takes the tenant's row lock, reads the head and the ids, and builds again
   * (#appendLocked). Alternating runs, one event per request from 64
   * clients: 5,268-6,203 events/s with the locked append alone (six round
   * trips per commit), 7,355-10,102 with this one; batches of 1000 from 4
   * connections: 19,948-22,029 against 26,935-28,110 (bench/README.md,
   * eighth session).
   */
  async append(tenant: string, eventIds: readonly string[], build: AppendBuilder): Promise<AppendResult> {
    const left = this.#left.get(tenant);
    if (left?.unlocked === true) {
      // Until an append commits again: two appends of this process never
      // both build on one head (the second would be refused anyway).
      left.unlocked = false;
      const head = left.head;
      const plan = build(head, NONE_KNOWN);
      checkPlan(head, plan);
      let ok: boolean;
      try {
        const r = await this.#pool.query<{ ok: boolean }>({ ...APPEND_CALL, values: appendValues(tenant, head, plan) });
        ok = r.rows[0]?.ok === true;
      } catch (e) {
        // An event id stored before (a producer re-sending): the locked
        // append looks the ids up. Any other error is the append's.
        if (!(pgCode(e) === '23505' && (e as { constraint?: unknown }).constraint === 'records_event_id')) throw storeFailure(e, 'PostgreSQL write failed');
        ok = false;
      }
      if (ok) return this.#done(tenant, plan, true);
    }
    return this.#appendLocked(tenant, eventIds, build);
  }

  async #appendLocked(tenant: string, eventIds: readonly string[], build: AppendBuilder): Promise<AppendResult> {
    // The append's statements are named (prepared once per connection):
    // PostgreSQL then skips parsing and analysing them at each commit, and
    // plans them once when a generic plan costs no more than a custom one.
    // Measured with one event per request from 64 clients, alternating runs:
    // 4,137-4,790 events/s unnamed, 5,064-5,523 named (bench/README.md,
    // sixth session). The plans check row-level security at execution
    // (current_setting in the policies), and PostgreSQL re-plans a named
    // statement when the role or the schema it was planned under changes.
    let alone = false;
    const plan = await this.#tx('PostgreSQL write failed', { tenant, write: true }, async (c) => {
      // The row lock that serializes this tenant's appenders in every process.
      // Under READ COMMITTED the row returned is the newest committed head.
      const hr = await c.query<HeadSql>({
        name: 'trailseal-head-lock',
        text: 'SELECT size, prev_hash, range, mac_generation, signing_generation, last_received_ms FROM heads WHERE tenant = $1 FOR UPDATE',
        values: [tenant],
      });
      if (hr.rows[0] === undefined) throw new TrailsealError('TENANT_NOT_FOUND', `no tenant ${tenant}`);
      const head = headOf(hr.rows[0]);
      // Whether the head is where this process's last append left it: no
      // other process appended since, and the next append may go unlocked.
      const last = this.#left.get(tenant)?.head;
      alone = last !== undefined && last.size === head.size && last.prevHash === head.prevHash;
      const known = new Map<string, ReceiptRow>();
      if (eventIds.length > 0) {
        const kr = await c.query<{ event_id: string; seq: number; received_ms: number; body: string; hash: Buffer }>({ name: 'trailseal-known-ids', text: KNOWN_IDS_SQL, values: [tenant, eventIds] });
        for (const r of kr.rows) known.set(r.event_id, { seq: r.seq, leafHash: new Uint8Array(r.hash), receivedAt: logTimestamp(r.received_ms), record: r.body });
      }
      const built = build(head, known);
      checkPlan(head, built);
      await appendInTx(c, tenant, head, built);
      return built;
    });
    return this.#done(tenant, plan, alone);
  }

  /** Records the head an append left; `unlocked`: the next append may build on it without the lock. */
  #done(tenant: string, plan: AppendPlan, unlocked: boolean): AppendResult {
    this.#left.set(tenant, { head: plan.head, unlocked });
    this.#appended(plan.records.length);
    return { head: plan.head, records: plan.records.length };
  }

  /**
   * Counts the rows this process appended and refreshes the planner's
   * statistics of records each time the table may have doubled
   * since they were taken. Without statistics PostgreSQL takes one tenant for
   * half a percent of the table, and looks up a batch's event ids by
   * scanning the whole tenant instead of probing the event-id index: measured
   * here with autovacuum off, batch ingest fell from 15,200 to 3,400
   * events/s within a minute (380,000 records), and each lookup of 1000 ids
   * took 290 ms instead of 3.5 ms. Autovacuum analyzes too, but only when it
   * is on and after its naptime; this keeps the plan right either way, at a
   * cost of one ANALYZE per doubling (a sample of 30,000 rows each time).
   */
  #appended(rows: number): void {
    this.#rowsSinceAnalyze += rows;
    if (this.#rowsSinceAnalyze < this.#analyzeAfterRows || this.#analyzing !== undefined || this.#closed) return;
    this.#rowsSinceAnalyze = 0;
    this.#analyzing = this.#analyze().finally(() => {
      this.#analyzing = undefined;
    });
  }

  async #analyze(): Promise<void> {
    try {
      // Only the tables' owner may analyze them; anyone else gets a warning, not an error.
      await this.#pool.query('ANALYZE records');
      const r = await this.#pool.query<{ rows: number }>(`SELECT greatest(reltuples, 0)::float8 AS rows FROM pg_class WHERE oid = 'records'::regclass`);
      this.#analyzeAfterRows = Math.max(ANALYZE_AFTER_ROWS, r.rows[0]?.rows ?? 0);
    } catch {
      // Statistics only steer the planner: a failure here (the database
      // going away) shows in the next append, which reports it.
    }
  }

  async getHead(tenant: string): Promise<HeadRow | undefined> {
    const r = await this.#tenantQuery<HeadSql>(
      tenant,
      'SELECT size, prev_hash, range, mac_generation, signing_generation, last_received_ms FROM heads WHERE tenant = $1',
      [tenant],
    );
    return r[0] === undefined ? undefined : headOf(r[0]);
  }

  async getRecord(tenant: string, seq: number): Promise<StoredRecord | undefined> {
    const r = await this.#tenantQuery<{ body: string }>(tenant, 'SELECT body FROM records WHERE tenant = $1 AND seq = $2', [tenant, seq]);
    return r[0] === undefined ? undefined : { seq, canonical: r[0].body };
  }

  async listRecords(tenant: string, q: RecordQuery): Promise<StoredRecord[]> {
    const rows = await this.#tenantQuery<{ seq: number; body: string }>(
      tenant,
      'SELECT seq, body FROM records WHERE tenant = $1 AND seq >= $2 AND seq < $3 ORDER BY seq LIMIT $4',
      [tenant, q.fromSeq, q.toSeq ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
    return rows.map((r) => ({ seq: r.seq, canonical: r.body }));
  }

  async seqAtTime(tenant: string, ms: number): Promise<number> {
    const r = await this.#tenantQuery<{ lo: number; hi: number }>(tenant, seqAtTimeSql('$1', '$2'), [tenant, ms]);
    return seqAtTimeResult(tenant, r[0]);
  }

  async getNodes(tenant: string, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    // -1: no record holds the node (see nodeHome).
    const homes = ids.map(({ level, index }) => nodeHome(level, index) ?? -1);
    const rows = await this.#tenantQuery<{ hash: Buffer | null }>(
      tenant,
      `SELECT substring(r.nodes FROM q.level * 32 + 1 FOR 32) AS hash
       FROM unnest($2::int[], $3::bigint[]) WITH ORDINALITY AS q (level, seq, ord)
       LEFT JOIN records r ON r.tenant = $1 AND r.seq = q.seq
       ORDER BY q.ord`,
      [tenant, ids.map((n, i) => (homes[i] === -1 ? 0 : n.level)), homes],
    );
    return ids.map(({ level, index }, i) => {
      const h = rows[i]?.hash;
      if (h === undefined || h === null || h.length !== 32) throw nodeMissing(tenant, level, index);
      return new Uint8Array(h);
    });
  }

  async putCheckpoint(tenant: string, cp: CheckpointRow): Promise<void> {
    await this.#tx('PostgreSQL write failed', { tenant, write: true }, async (c) => {
      await c.query('INSERT INTO checkpoints (tenant, size, note) VALUES ($1, $2, $3) ON CONFLICT (tenant, size) DO NOTHING', [tenant, cp.size, cp.note]);
    });
  }

  async latestCheckpoint(tenant: string): Promise<CheckpointRow | undefined> {
    const r = await this.#tenantQuery<CheckpointRow>(tenant, 'SELECT size, note FROM checkpoints WHERE tenant = $1 ORDER BY size DESC LIMIT 1', [tenant]);
    return r[0] === undefined ? undefined : { size: r[0].size, note: r[0].note };
  }

  async checkpointAt(tenant: string, size: number): Promise<CheckpointRow | undefined> {
    const r = await this.#tenantQuery<CheckpointRow>(tenant, 'SELECT size, note FROM checkpoints WHERE tenant = $1 AND size = $2', [tenant, size]);
    return r[0] === undefined ? undefined : { size: r[0].size, note: r[0].note };
  }

  async putApiKey(k: ApiKeyRow): Promise<void> {
    await this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      await c.query(
        'INSERT INTO api_keys (id, tenant, name, scopes, secret_hash, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [k.id, k.tenant, k.name, [...k.scopes], buf(k.secretHash), k.createdAt, k.expiresAt, k.revokedAt],
      );
    });
  }

  async putFirstOperatorKey(k: ApiKeyRow): Promise<boolean> {
    return this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      // READ COMMITTED lets two transactions both see "none": serialize them first.
      await c.query("SELECT pg_advisory_xact_lock(hashtext('trailseal first operator key'))");
      const r = await c.query(
        `INSERT INTO api_keys (id, tenant, name, scopes, secret_hash, created_at, expires_at, revoked_at)
         SELECT $1, NULL, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM api_keys WHERE tenant IS NULL)`,
        [k.id, k.name, [...k.scopes], buf(k.secretHash), k.createdAt, k.expiresAt, k.revokedAt],
      );
      return r.rowCount === 1;
    });
  }

  async getApiKey(id: string): Promise<ApiKeyRow | undefined> {
    const r = await this.#query<KeySql<string[]>>('SELECT * FROM api_keys WHERE id = $1', [id]);
    return r[0] === undefined ? undefined : keyOf(r[0], r[0].scopes as Scope[]);
  }

  async listApiKeys(tenant: string | null): Promise<ApiKeyRow[]> {
    const rows =
      tenant === null
        ? await this.#query<KeySql<string[]>>('SELECT * FROM api_keys WHERE tenant IS NULL ORDER BY created_at, id')
        : await this.#query<KeySql<string[]>>('SELECT * FROM api_keys WHERE tenant = $1 ORDER BY created_at, id', [tenant]);
    return rows.map((r) => keyOf(r, r.scopes as Scope[]));
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    return this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      const r = await c.query('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
      return r.rowCount === 1;
    });
  }

  async putSink(k: SinkRow): Promise<void> {
    await this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      await c.query(`INSERT INTO sinks (${SINK_COLUMNS}) VALUES (${SINK_COLUMNS.split(',').map((_, i) => `$${i + 1}`).join(', ')})`, sinkValues(k));
    });
  }

  async getSink(id: string): Promise<SinkRow | undefined> {
    const r = await this.#query<SinkSql>(`SELECT ${SINK_COLUMNS} FROM sinks WHERE id = $1`, [id]);
    return r[0] === undefined ? undefined : sinkOf(r[0]);
  }

  async listSinks(tenant: string | null): Promise<SinkRow[]> {
    const rows =
      tenant === null
        ? await this.#query<SinkSql>(`SELECT ${SINK_COLUMNS} FROM sinks ORDER BY tenant, created_at, id`)
        : await this.#query<SinkSql>(`SELECT ${SINK_COLUMNS} FROM sinks WHERE tenant = $1 ORDER BY created_at, id`, [tenant]);
    return rows.map(sinkOf);
  }

  async patchSink(id: string, patch: SinkPatch): Promise<boolean> {
    const cols = sinkPatchColumns(patch);
    if (cols.length === 0) return (await this.getSink(id)) !== undefined;
    return this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      const r = await c.query(`UPDATE sinks SET ${cols.map(([col], i) => `${col} = $${i + 1}`).join(', ')} WHERE id = $${cols.length + 1}`, [...cols.map(([, v]) => v), id]);
      return r.rowCount === 1;
    });
  }

  async leaseSink(id: string, owner: string, nowMs: number, ttlMs: number): Promise<boolean> {
    return this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      const r = await c.query('UPDATE sinks SET lease_owner = $2, lease_until = $3 WHERE id = $1 AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < $4)', [id, owner, nowMs + ttlMs, nowMs]);
      return r.rowCount === 1;
    });
  }

  async releaseSink(id: string, owner: string): Promise<void> {
    await this.#tx('PostgreSQL write failed', { write: true }, async (c) => {
      await c.query('UPDATE sinks SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [id, owner]);
    });
  }

  async subscribeCommits(listener: (tenant: string) => void): Promise<() => Promise<void>> {
    // A connection of its own: LISTEN holds it for as long as we listen.
    const c = new pg.Client({ connectionString: this.#url });
    c.on('notification', (n) => {
      if (n.channel === COMMIT_CHANNEL && n.payload !== undefined) listener(n.payload);
    });
    // A dropped listener costs latency, not records: the engine also polls.
    c.on('error', () => undefined);
    try {
      await c.connect();
      await c.query(`LISTEN ${COMMIT_CHANNEL}`);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw storeFailure(e, 'PostgreSQL LISTEN failed');
    }
    return () => c.end();
  }

  async deleteSink(id: string): Promise<boolean> {
    return this.#tx('PostgreSQL write failed', { write: true }, async (c) => (await c.query('DELETE FROM sinks WHERE id = $1', [id])).rowCount === 1);
  }

  /** One read of an operator table (tenants, api_keys): no tenant scope. */
  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.#pool.query<R>(text, values)).rows;
    } catch (e) {
      throw storeFailure(e, 'PostgreSQL query failed');
    }
  }

  /** One read of a tenant's rows, under that tenant's row-level security scope. */
  async #tenantQuery<R extends pg.QueryResultRow>(tenant: string, text: string, values: unknown[]): Promise<R[]> {
    return this.#tx('PostgreSQL read failed', { tenant, write: false }, async (c) => (await c.query<R>(text, values)).rows);
  }

  /**
   * Runs `fn` in one transaction on one pooled connection. With a tenant, the
   * transaction runs as trailseal_tenant with trailseal.tenant set, both
   * transaction-local (they end with it, and cannot leak to the next user of
   * the connection). Rolls back on any error; a connection that cannot roll
   * back is destroyed rather than returned to the pool.
   */
  async #tx<T>(what: string, opts: TxOptions, fn: (c: Tx) => Promise<T>): Promise<T> {
    let c: Tx;
    try {
      c = await this.#pool.connect();
    } catch (e) {
      throw storeFailure(e, `${what}: no connection`);
    }
    try {
      const begin = [opts.write ? 'BEGIN' : 'BEGIN READ ONLY'];
      if (opts.write) begin.push(DURABLE);
      if (opts.tenant !== undefined) begin.push(scopeTo(opts.tenant));
      await c.query(begin.join('; '));
      const out = await fn(c);
      await c.query('COMMIT');
      c.release();
      return out;
    } catch (e) {
      try {
        await c.query('ROLLBACK');
        c.release();
      } catch {
        c.release(true);
      }
      throw storeFailure(e, what);
    }
  }
}

/** The statements that put the rest of the transaction in one tenant's RLS scope. */
function scopeTo(tenant: string): string {
  return `SET LOCAL ROLE ${TENANT_ROLE}; SELECT set_config('trailseal.tenant', ${escapeLiteral(tenant)}, true)`;
}

/** The values of APPEND_CALL for a plan built on `head`. */
export function appendValues(tenant: string, head: HeadRow, plan: AppendPlan): unknown[] {
  const seqs: number[] = [];
  const eventIds: string[] = [];
  const received: number[] = [];
  const bodies: string[] = [];
  const nodeCounts: number[] = [];
  let count = 0;
  for (const { sealed, eventId } of plan.records) {
    seqs.push(sealed.seq);
    // Ids are 1 to 128 printable characters: '' stands for none (a record the log wrote).
    eventIds.push(eventId ?? '');
    received.push(Date.parse(sealed.receivedAt));
    bodies.push(sealed.canonical);
    nodeCounts.push(sealed.nodes.length);
    count += sealed.nodes.length;
  }
  const nodes = Buffer.allocUnsafe(32 * count);
  let at = 0;
  for (const { sealed } of plan.records) at = packRecordNodes(sealed.nodes, nodes, at);
  const h = plan.head;
  return [tenant, head.size, head.prevHash, h.size, h.prevHash, joinHashes(h.range), h.macGeneration, h.signingGeneration, h.lastReceivedAtMs, seqs, eventIds.join('\n'), received, bodies.join('\n'), nodeCounts, nodes];
}

/** Appends a plan built on `head` inside a transaction that holds the head's row lock (or wrote the row). */
async function appendInTx(c: Tx, tenant: string, head: HeadRow, plan: AppendPlan): Promise<void> {
  const r = await c.query<{ ok: boolean }>({ ...APPEND_CALL, values: appendValues(tenant, head, plan) });
  if (r.rows[0]?.ok !== true) throw new TrailsealError('INTERNAL', `tenant ${tenant}: the head changed under its row lock`);
}

/**
 * Schema version 1 to 2, inside migrate()'s transaction (so another process
 * sees either version whole): each record's node hashes move from the
 * `nodes` table into its row, then the table goes. A node missing from the
 * old table stops the upgrade with TREE_NODE_MISSING and rolls it back.
 */
async function upgradeFrom1(c: Tx): Promise<void> {
  // The table owner too is subject to forced row-level security: this
  // transaction must see every tenant's rows. POLICIES forces it again.
  await c.query(`ALTER TABLE records NO FORCE ROW LEVEL SECURITY; ALTER TABLE nodes NO FORCE ROW LEVEL SECURITY; ALTER TABLE records ADD COLUMN nodes bytea`);
  // Leaf seq completes node (l, seq >> l) for each l with (seq + 1) a multiple of 2^l.
  const levels = 'generate_series(0, 52) AS l (level)';
  const completed = '(r.seq + 1) % (1::bigint << l.level) = 0';
  await c.query(
    `UPDATE records r SET nodes = (
       SELECT CASE WHEN count(n.hash) = count(*) THEN string_agg(n.hash, ''::bytea ORDER BY l.level) END
       FROM ${levels} LEFT JOIN nodes n ON n.tenant = r.tenant AND n.level = l.level AND n.idx = r.seq >> l.level
       WHERE ${completed})`,
  );
  const missing = await c.query<{ tenant: string; level: number; idx: number }>(
    `SELECT r.tenant, x.level, r.seq >> x.level AS idx
     FROM (SELECT tenant, seq FROM records WHERE nodes IS NULL ORDER BY tenant, seq LIMIT 1) AS r,
       LATERAL (SELECT l.level FROM ${levels} WHERE ${completed}
         AND NOT EXISTS (SELECT 1 FROM nodes n WHERE n.tenant = r.tenant AND n.level = l.level AND n.idx = r.seq >> l.level)
         ORDER BY l.level LIMIT 1) AS x`,
  );
  const m = missing.rows[0];
  if (m !== undefined) {
    throw nodeMissing(m.tenant, m.level, m.idx, 'cannot upgrade the PostgreSQL schema');
  }
  await c.query(`ALTER TABLE records ALTER COLUMN nodes SET NOT NULL, ADD ${RECORD_NODES_CHECK}; DROP TABLE nodes`);
}

function pgCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

