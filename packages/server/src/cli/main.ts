#!/usr/bin/env node
// The `trailseal` command: runs the service and talks to one.
//
//   trailseal serve [--data DIR] [--port N] [--store sqlite|postgres://...] ...
//   trailseal tenant create ID [--name TEXT] [--json] (--data DIR | --url URL --token ADMIN_TOKEN)
//   trailseal key create --tenant ID [--scopes ingest,read] [--name TEXT] [--expires RFC3339] (--data DIR | --url URL --token T)
//   trailseal key revoke KEY_ID (--data DIR | --url URL --token T)
//   trailseal emit [FILE]            events as JSON or NDJSON (stdin when no FILE); prints receipts as NDJSON
//   trailseal tail [--from SEQ] [--follow]
//   trailseal checkpoint [--new]
//   trailseal proof SEQ [--size N]
//   trailseal export --out DIR [selection] [--since-checkpoint FILE] [--disclose-mac-keys]
//   trailseal sink create|list|pause|resume|replay|delete ...
//   trailseal store rebuild [--data DIR]   16 KiB pages for an older SQLite database (service stopped)
//
// Client verbs take --url and --api-key, or TRAILSEAL_URL and TRAILSEAL_API_KEY.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTrailsealError } from '@trailseal/format';
import { TrailsealClient, TrailsealClientError } from '@trailseal/client';
import { SETTINGS, applyHeapGrowingPercent, loadConfig } from '../config.js';
import { LogService } from '../log/service.js';
import { openKeyWrapper, openStore, sqlitePath, startService } from '../server.js';
import { rebuildWithPageSize } from '../store/sqlite-engine.js';
import type { Scope } from '../store/types.js';
import { exportBundle, progressBar } from './export.js';
import { apiRequest } from './http.js';

const USAGE = `usage:
  trailseal serve [--data DIR] [--port N] [--host ADDR] [--store sqlite|postgres://...] [--log-name NAME]
  trailseal tenant create ID [--name TEXT] [--json] (--data DIR [--store URL] | --url URL --token ADMIN_TOKEN)
  trailseal key create --tenant ID [--scopes ingest,read,export] [--name TEXT] [--expires RFC3339] (--data DIR | --url URL --token T)
  trailseal key revoke KEY_ID (--data DIR | --url URL --token T)
  trailseal emit [FILE] [--url URL] [--api-key KEY]
  trailseal tail [--from SEQ] [--follow] [--url URL] [--api-key KEY]
  trailseal checkpoint [--new] [--url URL] [--api-key KEY]
  trailseal proof SEQ [--size N] [--url URL] [--api-key KEY]
  trailseal export --out DIR [--from-seq N] [--to-seq N | --from RFC3339 --to RFC3339]
        [--action NAME|PREFIX.*]... [--actor ID]... [--outcome O]...
        [--since-checkpoint FILE] [--disclose-mac-keys] [--quiet] [--url URL] [--api-key KEY]
  trailseal sink create --name NAME --webhook URL [--format json|ocsf|cef] [--action NAME|PREFIX.*]...
        [--outcome O]... [--tag T]... [--from-seq N] [--url URL] [--api-key KEY]
  trailseal sink list | pause ID | resume ID | replay ID --from-seq N | delete ID [--url URL] [--api-key KEY]
  trailseal store rebuild [--data DIR]   (SQLite, with the service stopped: rebuild with 16 KiB pages)
Settings of serve (flag / environment variable):
${Object.values(SETTINGS)
  .map((s) => `  --${s.flag} / ${s.env}: ${s.help}`)
  .join('\n')}
`;

class UsageError extends Error {}

const serveOptions = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }]));

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb !== undefined && rest.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  switch (verb) {
    case 'serve':
      return serve(rest);
    case 'tenant':
      return tenant(rest);
    case 'key':
      return key(rest);
    case 'emit':
    case 'tail':
    case 'checkpoint':
    case 'proof':
      return clientVerb(verb, rest);
    case 'export':
      return exportVerb(rest);
    case 'sink':
      return sinkVerb(rest);
    case 'store':
      return storeVerb(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return verb === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(verb)}`);
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: serveOptions, strict: true });
  const cfg = loadConfig(values as Record<string, string | undefined>);
  applyHeapGrowingPercent(cfg.heapGrowingPercent);
  const running = await startService(cfg);
  const lines = [`trailseal ${cfg.store === 'sqlite' ? `on ${cfg.dataDir}` : 'on PostgreSQL'} listening at ${running.url}`, ...running.notices.map((n) => `note: ${n}`)];
  if (running.adminToken !== undefined) {
    lines.push(
      '',
      'Admin token (shown once; stored hashed, not recoverable):',
      `  ${running.adminToken}`,
      '',
      'Create a tenant and its first API key:',
      `  npx trailseal tenant create acme --json --url ${running.url} --token <admin token>`,
      cfg.store === 'sqlite' ? `  or, on this machine: npx trailseal tenant create acme --json --data ${cfg.dataDir}` : '',
      `  or: curl -s -X POST ${running.url}/v1/admin/tenants -H 'authorization: Bearer <admin token>' -H 'content-type: application/json' -d '{"id":"acme"}'`,
    );
  }
  process.stderr.write(`${lines.filter((l) => l !== undefined).join('\n')}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void running.close().then(resolve, (e: unknown) => {
        process.stderr.write(`error while stopping: ${String(e)}\n`);
        resolve();
      });
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/** Operator commands work on a data directory (or --store URL) directly, or against a running service with an admin token. */
async function withLocalService<T>(values: Record<string, string | boolean | undefined>, fn: (svc: LogService) => Promise<T>): Promise<T> {
  const cfg = loadConfig({ data: values['data'] as string | undefined, store: values['store'] as string | undefined, 'log-name': values['log-name'] as string | undefined });
  const keys = openKeyWrapper(cfg, cfg.store === 'sqlite');
  const store = await openStore(cfg);
  const svc = new LogService({ store, wrapper: keys.wrapper, logName: cfg.logName, checkpointIntervalMs: 0 });
  try {
    await svc.init();
    return await fn(svc);
  } finally {
    await svc.close();
    await store.close();
  }
}

const CLI_ACTOR = { id: 'trailseal-cli', type: 'system' as const, name: 'trailseal command on the data directory' };

function adminClient(values: Record<string, string | boolean | undefined>): TrailsealClient {
  const token = (values['token'] as string | undefined) ?? process.env['TRAILSEAL_ADMIN_TOKEN'];
  if (token === undefined) throw new UsageError('--url needs --token ADMIN_TOKEN (or TRAILSEAL_ADMIN_TOKEN)');
  return new TrailsealClient({ url: values['url'] as string, apiKey: token });
}

const operatorOptions = {
  data: { type: 'string' },
  store: { type: 'string' },
  'log-name': { type: 'string' },
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
} as const;

async function tenant(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'create') throw new UsageError('usage: trailseal tenant create ID ...');
  const { values, positionals } = parseArgs({ args: rest, options: { ...operatorOptions, name: { type: 'string' } }, allowPositionals: true, strict: true });
  const id = positionals[0];
  if (id === undefined || positionals.length !== 1) throw new UsageError('trailseal tenant create takes exactly one tenant id');
  const name = values.name ?? id;
  const created =
    values.url !== undefined
      ? await adminClient(values).createTenant(id, name)
      : await withLocalService(values, (svc) => svc.createTenant(id, name, CLI_ACTOR));
  if (values.json === true) process.stdout.write(`${JSON.stringify({ id: created.id, apiKey: created.apiKey, verifierKey: created.verifierKey })}\n`);
  else process.stdout.write(`tenant ${created.id}\napi key (shown once): ${created.apiKey}\nverifier key: ${created.verifierKey}\n`);
  return 0;
}

async function key(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { ...operatorOptions, tenant: { type: 'string' }, scopes: { type: 'string' }, name: { type: 'string' }, expires: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (sub === 'create') {
    if (values.tenant === undefined) throw new UsageError('trailseal key create needs --tenant ID');
    const scopes = (values.scopes ?? 'ingest,read').split(',') as Scope[];
    const t = values.tenant;
    const name = values.name ?? 'api key';
    const out =
      values.url !== undefined
        ? await adminClient(values).createApiKey(t, { name, scopes, expiresAt: values.expires ?? null })
        : await withLocalService(values, (svc) => svc.issueKey(t, name, scopes, values.expires ?? null, CLI_ACTOR));
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  }
  if (sub === 'revoke') {
    const id = positionals[0];
    if (id === undefined) throw new UsageError('trailseal key revoke KEY_ID');
    if (values.url !== undefined) await adminClient(values).revokeApiKey(id);
    else await withLocalService(values, (svc) => svc.revokeKey(id, CLI_ACTOR));
    return 0;
  }
  throw new UsageError('usage: trailseal key create|revoke ...');
}

async function clientVerb(verb: 'emit' | 'tail' | 'checkpoint' | 'proof', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { url: { type: 'string' }, 'api-key': { type: 'string' }, from: { type: 'string' }, follow: { type: 'boolean' }, new: { type: 'boolean' }, size: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const client = new TrailsealClient(clientTarget(values, verb));
  try {
    if (verb === 'emit') return await emit(client, positionals[0]);
    if (verb === 'checkpoint') {
      process.stdout.write(values.new === true ? await client.newCheckpoint() : await client.checkpoint());
      return 0;
    }
    if (verb === 'proof') {
      const seq = positionals[0];
      if (seq === undefined || !/^\d+$/.test(seq)) throw new UsageError('trailseal proof SEQ');
      process.stdout.write(await client.proof(Number(seq), values.size === undefined ? undefined : Number(values.size)));
      return 0;
    }
    let from = values.from === undefined ? 0 : Number(values.from);
    for (;;) {
      for await (const r of client.records({ from })) {
        process.stdout.write(`${JSON.stringify(r)}\n`);
        from = (r as { seq: number }).seq + 1;
      }
      if (values.follow !== true) return 0;
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await client.close();
  }
}

function clientTarget(values: { url?: string | undefined; 'api-key'?: string | undefined }, verb: string): { url: string; apiKey: string } {
  const url = values.url ?? process.env['TRAILSEAL_URL'];
  const apiKey = values['api-key'] ?? process.env['TRAILSEAL_API_KEY'];
  if (url === undefined || apiKey === undefined) throw new UsageError(`trailseal ${verb} needs --url and --api-key (or TRAILSEAL_URL and TRAILSEAL_API_KEY)`);
  return { url, apiKey };
}

async function exportVerb(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      out: { type: 'string' },
      'from-seq': { type: 'string' },
      'to-seq': { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      action: { type: 'string', multiple: true },
      actor: { type: 'string', multiple: true },
      outcome: { type: 'string', multiple: true },
      'since-checkpoint': { type: 'string' },
      'disclose-mac-keys': { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    strict: true,
  });
  const target = clientTarget(values, 'export');
  if (values.out === undefined) throw new UsageError('trailseal export needs --out DIR');
  const seq = (flag: 'from-seq' | 'to-seq'): number | undefined => {
    const v = values[flag];
    if (v === undefined) return undefined;
    if (!/^(0|[1-9]\d{0,15})$/.test(v)) throw new UsageError(`--${flag} must be a decimal integer`);
    return Number(v);
  };
  const filter = {
    ...(values.action !== undefined ? { actions: values.action } : {}),
    ...(values.actor !== undefined ? { actor_ids: values.actor } : {}),
    ...(values.outcome !== undefined ? { outcomes: values.outcome } : {}),
  };
  const request = {
    ...(seq('from-seq') !== undefined ? { from_seq: seq('from-seq') } : {}),
    ...(seq('to-seq') !== undefined ? { to_seq: seq('to-seq') } : {}),
    ...(values.from !== undefined ? { from: values.from } : {}),
    ...(values.to !== undefined ? { to: values.to } : {}),
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(values['since-checkpoint'] !== undefined ? { since_checkpoint: readFileSync(values['since-checkpoint'], 'utf8') } : {}),
    ...(values['disclose-mac-keys'] === true ? { disclose_mac_keys: true } : {}),
  };
  const showProgress = values.quiet !== true && process.stderr.isTTY;
  const r = await exportBundle({ ...target, out: values.out, request, ...(showProgress ? { progress: progressBar(process.stderr) } : {}) });
  if (showProgress) process.stderr.write('\n');
  const range = r.firstSeq === null ? 'no records' : `seq ${r.firstSeq}..${r.lastSeq ?? r.firstSeq}`;
  process.stdout.write(`exported ${r.count} records (${range}, ${r.bytes} bytes) to ${r.dir}; checkpoint size ${r.checkpointSize}; this export is record ${r.exportSeq} of the log\n`);
  process.stdout.write(`verify with: trailseal-verify ${r.dir} --key <verifier key>\n`);
  return 0;
}

async function sinkVerb(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      name: { type: 'string' },
      webhook: { type: 'string' },
      format: { type: 'string' },
      action: { type: 'string', multiple: true },
      outcome: { type: 'string', multiple: true },
      tag: { type: 'string', multiple: true },
      'from-seq': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  const { url, apiKey } = clientTarget(values, 'sink');
  const fromSeq = values['from-seq'] === undefined ? undefined : Number(values['from-seq']);
  if (fromSeq !== undefined && !Number.isSafeInteger(fromSeq)) throw new UsageError('--from-seq must be a decimal integer');
  const id = (): string => {
    const v = positionals[0];
    if (v === undefined) throw new UsageError(`trailseal sink ${action ?? ''} ID`);
    return encodeURIComponent(v);
  };
  const print = async (res: Response): Promise<number> => {
    const text = await res.text();
    if (text !== '') process.stdout.write(`${text}\n`);
    return 0;
  };
  switch (action) {
    case 'create': {
      if (values.name === undefined || values.webhook === undefined) throw new UsageError('trailseal sink create needs --name and --webhook URL');
      const filter = {
        ...(values.action !== undefined ? { actions: values.action } : {}),
        ...(values.outcome !== undefined ? { outcomes: values.outcome } : {}),
        ...(values.tag !== undefined ? { tags: values.tag } : {}),
      };
      const body = {
        name: values.name,
        kind: 'webhook',
        config: { url: values.webhook },
        ...(values.format !== undefined ? { format: values.format } : {}),
        ...(Object.keys(filter).length > 0 ? { filter } : {}),
        ...(fromSeq !== undefined ? { from_seq: fromSeq } : {}),
      };
      return print(await apiRequest(url, apiKey, 'POST', '/v1/sinks', body));
    }
    case 'list':
      return print(await apiRequest(url, apiKey, 'GET', '/v1/sinks'));
    case 'pause':
    case 'resume':
      return print(await apiRequest(url, apiKey, 'POST', `/v1/sinks/${id()}/${action}`, {}));
    case 'replay':
      if (fromSeq === undefined) throw new UsageError('trailseal sink replay ID --from-seq N');
      return print(await apiRequest(url, apiKey, 'POST', `/v1/sinks/${id()}/replay`, { from_seq: fromSeq }));
    case 'delete':
      return print(await apiRequest(url, apiKey, 'DELETE', `/v1/sinks/${id()}`));
    default:
      throw new UsageError('trailseal sink create|list|pause|resume|replay|delete');
  }
}

async function emit(client: TrailsealClient, file: string | undefined): Promise<number> {
  const text = readFileSync(file === undefined || file === '-' ? 0 : file, 'utf8');
  const trimmed = text.trimStart();
  const events: Record<string, unknown>[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as Record<string, unknown>[])
    : trimmed.startsWith('{') && !trimmed.includes('\n{')
      ? [JSON.parse(trimmed) as Record<string, unknown>]
      : text
          .split('\n')
          .filter((l) => l.trim() !== '')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
  const receipts = await Promise.all(events.map((e) => client.emit(e)));
  for (const r of receipts) process.stdout.write(`${JSON.stringify(r)}\n`);
  return 0;
}

/** `store rebuild`: an older SQLite database rebuilt with the page size of new ones (docs/operations.md, "SQLite page size"). */
function storeVerb(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub !== 'rebuild') throw new UsageError(`unknown store command ${JSON.stringify(sub ?? '')}`);
  const { values } = parseArgs({ args: rest, options: { data: { type: 'string' } }, strict: true });
  const cfg = loadConfig({ data: values.data });
  const path = sqlitePath(cfg.dataDir);
  const started = performance.now();
  const { before, after } = rebuildWithPageSize(path);
  const took = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(before === after ? `${path}: pages of ${after} bytes already; nothing to do\n` : `${path}: pages of ${before} bytes rebuilt as ${after} in ${took} s\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    // node:util parseArgs refuses an unknown option or a missing value with these codes.
    const usage = e instanceof UsageError || (e instanceof Error && String((e as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_'));
    if (usage) process.stderr.write(`trailseal: ${e.message}\n\n${USAGE}`);
    else if (isTrailsealError(e)) process.stderr.write(`trailseal: ${e.code}: ${e.message}\n`);
    else if (e instanceof TrailsealClientError) process.stderr.write(`trailseal: ${e.status} ${e.code ?? ''}: ${e.message}\n`);
    else process.stderr.write(`trailseal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = usage ? 2 : 1;
  },
);
