// Baseline for the ingest benchmark: "the old mutable log". The same HTTP
// server library and the same store, but no integrity: JSON.parse the body and
// insert each event's JSON text into a plain table, one transaction per
// request, durable commit (SQLite WAL + synchronous=FULL; PostgreSQL default
// synchronous_commit). No validation, no canonical form, no chain, no MAC, no
// tree, no idempotency.
//
//   node bench/dist/bench/plain-server.js (--data DIR | --store postgres://...)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';

const { values } = parseArgs({ options: { data: { type: 'string' }, store: { type: 'string' } } });
const app = Fastify({ bodyLimit: 64 * 1024 * 1024 });

let insert: (bodies: string[]) => Promise<void>;
if (values.store !== undefined) {
  const pool = new pg.Pool({ connectionString: values.store, max: 10 });
  await pool.query('CREATE TABLE IF NOT EXISTS events (id bigserial PRIMARY KEY, body text NOT NULL)');
  insert = async (bodies) => {
    await pool.query('INSERT INTO events (body) SELECT unnest($1::text[])', [bodies]);
  };
} else {
  const db = new Database(join(values.data ?? '.', 'plain.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const stmt = db.prepare('INSERT INTO events (body) VALUES (?)');
  const tx = db.transaction((bodies: string[]) => {
    for (const b of bodies) stmt.run(b);
  });
  insert = async (bodies) => tx(bodies);
}

app.post('/v1/events', async (req, reply) => {
  const body = req.body as unknown;
  const events = Array.isArray(body) ? body : [body];
  await insert(events.map((e) => JSON.stringify(e)));
  reply.code(201).send({ count: events.length });
});

await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stderr.write(`listening at http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
