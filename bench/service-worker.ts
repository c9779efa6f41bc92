// Child process of the service benchmark (service.ts): baseline (a), "the old
// mutable log". A minimal fastify server answering POST /v1/events like the
// service does (a JSON array or one object; 201 when durable), with no
// integrity: the body is parsed with JSON.parse, and each event's JSON text
// is inserted into a plain table events(id INTEGER PRIMARY KEY, body TEXT),
// one transaction per request, durable commit:
//   - SQLite (better-sqlite3): the service's connection settings
//     (configureSqlite: 16 KiB pages, WAL, synchronous=FULL), one
//     transaction per request, one prepared INSERT per event;
//   - PostgreSQL (pg, pool of 10 like the service's): one multi-row INSERT
//     per request (one text[] parameter, unnest), in autocommit, default
//     synchronous_commit=on.
// No authentication, validation, canonical form, chain, MAC, tree,
// idempotency or receipts. The listening address goes to stderr, as the
// service prints it: "listening at http://127.0.0.1:PORT".
//
//   node bench/dist/bench/service-worker.js (--data DIR | --store postgres://...)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import { configureSqlite } from '@trailseal/server';

const { values } = parseArgs({ options: { data: { type: 'string' }, store: { type: 'string' } } });

let insert: (bodies: string[]) => Promise<void> | void;
let close: () => Promise<void> | void;
if (values.store !== undefined) {
  const pool = new pg.Pool({ connectionString: values.store, max: 10 });
  pool.on('error', () => undefined);
  await pool.query('CREATE TABLE IF NOT EXISTS events (id bigserial PRIMARY KEY, body text NOT NULL)');
  insert = async (bodies) => {
    await pool.query('INSERT INTO events (body) SELECT unnest($1::text[])', [bodies]);
  };
  close = () => pool.end();
} else {
  const db = new Database(join(values.data ?? '.', 'plain.db'));
  // The service's settings: page size, WAL, synchronous=FULL.
  configureSqlite(db, 10_000);
  db.exec('CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  const stmt = db.prepare('INSERT INTO events (body) VALUES (?)');
  const tx = db.transaction((bodies: string[]) => {
    for (const b of bodies) stmt.run(b);
  });
  insert = (bodies) => void tx(bodies);
  close = () => void db.close();
}

const app = Fastify({ bodyLimit: 64 * 1024 * 1024, logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
  try {
    done(null, JSON.parse(body as string));
  } catch (e) {
    done(e as Error, undefined);
  }
});

app.post('/v1/events', async (req, reply) => {
  const body = req.body as unknown;
  const events: unknown[] = Array.isArray(body) ? body : [body];
  await insert(events.map((e) => JSON.stringify(e)));
  reply.code(201).send({ count: events.length });
});

await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
process.stderr.write(`listening at http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}\n`);
const stop = (): void => {
  void app
    .close()
    .then(close)
    .finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
