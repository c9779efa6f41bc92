// The OpenAPI 3.1 description of the HTTP API (served at GET /openapi.json).
// It is written by hand next to app.ts, but everything that has one source of
// truth elsewhere is imported from the format core so it cannot drift: the
// enums of the event record, its limits, the tenant id pattern and the error
// registry. Every error response is built from a list of registry codes and
// grouped by the status the registry gives each code, so a response can never
// name a code under the wrong status (building the document throws instead).
import { SINK_KIND_SPECS } from '../stream/kinds.js';
import {
  FILTER_MAX_VALUES,
  ACTOR_TYPES,
  ERROR_REGISTRY,
  FEDERATION_PROTOCOLS,
  LIMITS,
  LOG_FIELDS,
  OUTCOMES,
  SHA256_HEX_RE,
  TENANT_RE,
  TRANSFER_DIRECTIONS,
  TRANSFER_PROTOCOLS,
  type ErrorCode,
} from '@trailseal/format';

type Json = Record<string, unknown>;
type Scope = 'ingest' | 'read' | 'export' | 'admin';

// The defaults of app.ts (DEFAULT_HTTP_LIMITS); an operator may configure others.
const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_BATCH_EVENTS = 10_000;
const DEFAULT_MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;

const PROBLEM_TYPE_PREFIX = 'urn:trailseal:problem:';
const ERROR_CODES = Object.keys(ERROR_REGISTRY) as ErrorCode[];
const SCOPE_NAMES: readonly Scope[] = ['ingest', 'read', 'export', 'admin'];

// --- patterns (ECMA-262, as JSON Schema 2020-12 uses) ------------------------
const DECIMAL = '^(0|[1-9][0-9]{0,15})$';
const SINK_ID = { name: 'id', in: 'path', required: true, description: 'The sink id (the key\'s own tenant\'s).', schema: { type: 'string', pattern: '^snk_[0-9a-f]{16}$' } };
const RFC3339 = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$';
const LOG_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$';
const HEX64 = '^[0-9a-f]{64}$';
const ID = '^[\\x21-\\x7e]+$';
const ACTION = '^[a-z][a-z0-9_-]*(\\.[a-z][a-z0-9_-]*)+$';
const TAG = '^[A-Za-z0-9][A-Za-z0-9_.:/-]*$';
const EMAIL = '^[^@\\s\\x00-\\x20\\x7f]+@[^@\\s\\x00-\\x20\\x7f]+$';
const LABEL = '[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = `^${LABEL}(\\.${LABEL})*\\.?$`;
const MAC_KEY_ID = '^mac:[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]):g(0|[1-9][0-9]{0,8}):[0-9a-f]{16}$';
const SIGNER_NAME = '^[^\\s+]+\\+[0-9a-f]{8}$';
const ED25519_SIG = '^[A-Za-z0-9+/]{86}==$';
const KEY_ID = '^[0-9a-f]{16}$';
const TOKEN = '^tsk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$';
const SYSTEM_ACTION = '^trailseal\\.';

const ref = (kind: 'schemas' | 'parameters' | 'headers', name: string): Json => ({ $ref: `#/components/${kind}/${name}` });

/** A string of 1..max UTF-16 code units, as the format core's `str()` checks. */
const str = (max: number, extra: Json = {}): Json => ({ type: 'string', minLength: 1, maxLength: max, ...extra });
const int = (min: number, max: number, extra: Json = {}): Json => ({ type: 'integer', minimum: min, maximum: max, ...extra });
const enumOf = (values: readonly string[], extra: Json = {}): Json => ({ type: 'string', enum: [...values], ...extra });
const object = (properties: Json, required: readonly string[], extra: Json = {}): Json => ({
  type: 'object',
  ...(required.length > 0 ? { required: [...required] } : {}),
  properties,
  additionalProperties: false,
  ...extra,
});

// --- the event record (packages/format/src/record.ts, EVENT_FIELDS) ----------

const actorSchema = object(
  {
    id: str(256, { description: 'Who acted: a user id, service name, device id, ...' }),
    type: enumOf(ACTOR_TYPES),
    name: str(256),
    email: str(254, { pattern: EMAIL, description: 'Deliberately loose: one @, both sides non-empty, no whitespace or control characters.' }),
    session_id: str(256),
    auth_method: str(64, { description: 'How the actor authenticated, e.g. password, totp, webauthn, client_certificate.' }),
    mfa: { type: 'boolean' },
    federation: object(
      {
        provider: str(256),
        issuer: str(1024),
        subject: str(1024),
        protocol: enumOf(FEDERATION_PROTOCOLS),
      },
      ['provider'],
    ),
  },
  ['id', 'type'],
);

const sourceSchema = object(
  {
    ip: str(45, { anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], description: 'IPv4 dotted quad without leading zeros, or IPv6 text form (RFC 4291 section 2.2) without a zone id.' }),
    port: int(0, 65535),
    hostname: str(254, { pattern: HOSTNAME, description: 'RFC 1123 host name (a final dot is allowed).' }),
    user_agent: str(1024),
  },
  [],
);

const targetSchema = object(
  {
    type: str(64, { description: 'What kind of object was acted on, e.g. file, user, role.' }),
    id: str(256),
    name: str(1024),
    path: str(4096),
    version: str(128),
    sha256: str(64, { pattern: SHA256_HEX_RE.source, description: 'SHA-256 digest of the object: 64 lowercase hex digits.' }),
    size: int(0, Number.MAX_SAFE_INTEGER, { description: 'Size in bytes.' }),
    tags: { type: 'array', maxItems: LIMITS.maxTags, items: str(64, { pattern: TAG }) },
    owner: str(256),
  },
  ['type'],
);

const transferSchema = object(
  {
    protocol: enumOf(TRANSFER_PROTOCOLS),
    direction: enumOf(TRANSFER_DIRECTIONS),
    bytes: int(0, Number.MAX_SAFE_INTEGER),
    peer: str(256),
  },
  ['protocol'],
);

const authorizationSchema = object(
  {
    policy: object({ name: str(256), version: str(64) }, ['name']),
    grants: {
      type: 'array',
      maxItems: LIMITS.maxGrants,
      items: object({ permission: str(128), resource: str(1024), granted_by: str(256), grant_id: str(256) }, ['permission']),
    },
  },
  [],
);

const contextSchema: Json = {
  type: 'object',
  additionalProperties: true,
  description:
    `Free-form producer data (any JSON object). At most ${LIMITS.maxContextBytes} bytes of canonical JSON (RFC 8785), ` +
    `${LIMITS.maxContextDepth} levels of nesting (the context object is level 1) and ${LIMITS.maxContextNodes} members and array items over all levels; ` +
    'otherwise the event is rejected with CONTEXT_TOO_LARGE.',
};

const EVENT_REQUIRED = ['id', 'time', 'action', 'outcome', 'actor'] as const;

/** The event members; `action` differs between Event (producers) and Record (the log writes trailseal.* itself). */
function eventProperties(action: Json): Json {
  return {
    id: str(128, {
      pattern: ID,
      description: 'Producer-assigned event id, unique within the tenant: printable ASCII without spaces. Sending an id again stores nothing and returns the original receipt with `duplicate: true`, so retries are safe.',
    }),
    time: str(40, { format: 'date-time', pattern: RFC3339, description: 'When it happened, by the producer: RFC 3339 date-time with upper-case T and Z, up to nanoseconds.' }),
    action,
    outcome: enumOf(OUTCOMES),
    actor: actorSchema,
    source: sourceSchema,
    target: targetSchema,
    transfer: transferSchema,
    authorization: authorizationSchema,
    context: contextSchema,
  };
}

const ACTION_DOC = 'Dotted, lower-case action name such as `user.login` or `file.download`.';

const eventSchema: Json = object(
  eventProperties(str(128, { pattern: ACTION, not: { pattern: SYSTEM_ACTION }, description: `${ACTION_DOC} Actions under \`trailseal.\` are written by the log itself and rejected (FIELD_RESERVED).` })),
  EVENT_REQUIRED,
  {
    title: 'Event',
    description:
      'An event record v1 as a producer sends it (docs/spec/event-record.md). Unknown members are rejected (FIELD_UNKNOWN), ' +
      'members the log sets (v, tenant, seq, received_at, prev_hash, mac_key_id, mac, log, sigs) are rejected (FIELD_RESERVED), ' +
      'and null is not accepted in place of an omitted optional member. String limits count UTF-16 code units. ' +
      `The canonical JSON (RFC 8785) of the whole event is at most ${LIMITS.maxEventBytes} bytes (EVENT_TOO_LARGE).`,
  },
);

const logProperties: Json = {
  v: { type: 'integer', const: 1, description: 'Record format version.' },
  tenant: str(63, { pattern: TENANT_RE.source, description: 'The tenant whose log holds the record.' }),
  seq: int(0, Number.MAX_SAFE_INTEGER, { description: 'Position in the tenant log: 0 is the genesis record; no gaps.' }),
  received_at: str(24, { format: 'date-time', pattern: LOG_TIME, description: 'When the log sealed the record: UTC, exactly millisecond precision, `Z`.' }),
  prev_hash: str(64, { pattern: HEX64, description: 'SHA-256 (lowercase hex) of the canonical bytes of the previous record: the hash chain.' }),
  mac_key_id: str(64, { pattern: MAC_KEY_ID, description: 'The MAC epoch key: `mac:<YYYY-MM-DD>:g<generation>:<16 hex fingerprint>`.' }),
  mac: str(64, { pattern: HEX64, description: 'HMAC-SHA256 (lowercase hex) of the record under the key named by mac_key_id (docs/spec/keys-and-mac.md).' }),
  log: { type: 'object', additionalProperties: true, description: 'The body of a system record (action under `trailseal.`); present on system records only.' },
  sigs: {
    type: 'array',
    maxItems: 16,
    description: 'Ed25519 signatures over the signing input of a system record (genesis, key rotation); present on system records only.',
    items: object(
      {
        key: str(300, { pattern: SIGNER_NAME, description: 'The signer: `<key name>+<8 hex key id>`.' }),
        sig: str(88, { pattern: ED25519_SIG, description: 'base64 Ed25519 signature.' }),
      },
      ['key', 'sig'],
    ),
  },
};

const recordSchema: Json = object({ ...eventProperties(str(128, { pattern: ACTION, description: ACTION_DOC })), ...logProperties }, [...EVENT_REQUIRED, 'v', 'tenant', 'seq', 'received_at', 'prev_hash', 'mac_key_id', 'mac'], {
  title: 'Record',
  description:
    'A stored record: the producer event plus the members the log sets. Served as stored, in RFC 8785 canonical form; ' +
    'those bytes are the Merkle leaf data (leaf hash = SHA-256(0x00 || bytes)) and the input of the next record\'s prev_hash. ' +
    'Records whose action is under `trailseal.` are written by the log itself (genesis, key rotation, API key changes, audited reads) and carry `log`; no other record carries `log` or `sigs`.',
  if: { properties: { action: { pattern: SYSTEM_ACTION } }, required: ['action'] },
  then: { required: ['log'] },
  else: { properties: { log: false, sigs: false } },
});

// --- the problem document (problem.ts, RFC 9457) -----------------------------

const problemSchema: Json = {
  type: 'object',
  title: 'Problem',
  description:
    'RFC 9457 problem details. `code` is the stable, machine-readable error code (docs/errors.md); `type` is the URN naming it. ' +
    'Members beyond those listed are problem extensions and may be added; clients must ignore members they do not know.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri', pattern: '^urn:trailseal:problem:[A-Z0-9_]+$', enum: ERROR_CODES.map((c) => `${PROBLEM_TYPE_PREFIX}${c}`), description: '`urn:trailseal:problem:<CODE>`.' },
    title: { type: 'string', description: 'The registry title of the code; the same for every occurrence.' },
    status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status, the one the registry gives the code.' },
    detail: { type: 'string', description: 'What went wrong in this request, for humans.' },
    code: { type: 'string', enum: [...ERROR_CODES] },
    instance: { type: 'string', description: 'The request path (without the query).' },
    field: { type: 'string', description: 'The parameter, body part or member at fault (for example `seq`, `cursor`, `body`, `[3]`).' },
    errors: {
      type: 'array',
      maxItems: 100,
      description: 'Every invalid field (EVENT_INVALID, EVENT_TOO_LARGE), at most 100; in a batch each path starts with the item index, e.g. `[2].actor.id`.',
      items: {
        type: 'object',
        required: ['path', 'code', 'message'],
        properties: {
          path: { type: 'string', description: 'JSON path of the bad field, dotted with [i] for array items; empty for the event as a whole.' },
          code: { type: 'string', enum: [...ERROR_CODES] },
          message: { type: 'string' },
        },
      },
    },
    limit: { type: 'integer', minimum: 0, description: 'The limit that was exceeded (bytes for BODY_TOO_LARGE, events for BATCH_TOO_LARGE, members or bytes or levels for JSON_*).' },
    truncated: { type: 'boolean', const: true, description: 'Present when `errors` lists only the first 100 of `total` invalid fields.' },
    total: { type: 'integer', minimum: 0, description: 'How many invalid fields there were in all (with `truncated`).' },
    scope: enumOf(SCOPE_NAMES, { description: 'FORBIDDEN: the scope the operation needs.' }),
    offset: { type: 'integer', minimum: 0, description: 'JSON_*: the byte offset of the problem in the body.' },
  },
  additionalProperties: true,
};

const receiptSchema: Json = object(
  {
    seq: int(0, Number.MAX_SAFE_INTEGER, { description: 'The record\'s position in the tenant log.' }),
    leafHash: { type: 'string', pattern: HEX64, description: 'SHA-256(0x00 || record bytes) in lowercase hex: the RFC 6962 leaf hash, to match against inclusion proofs.' },
    receivedAt: { type: 'string', format: 'date-time', pattern: LOG_TIME, description: 'The record\'s received_at.' },
    duplicate: { type: 'boolean', const: true, description: 'Present when the event id was stored before: this is the original receipt and nothing new was stored.' },
  },
  ['seq', 'leafHash', 'receivedAt'],
  { title: 'Receipt', description: 'Handed out only after the record was durably committed.' },
);

// --- error responses -----------------------------------------------------------

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  500: 'Internal error',
  503: 'Service unavailable',
};

const LIMIT_NOTES: Partial<Record<ErrorCode, string>> = {
  BODY_TOO_LARGE: `BODY_TOO_LARGE: the body limit in bytes (default ${DEFAULT_MAX_BODY_BYTES})`,
  BATCH_TOO_LARGE: `BATCH_TOO_LARGE: the most events in one request (default ${DEFAULT_MAX_BATCH_EVENTS})`,
  JSON_TOO_LARGE: 'JSON_TOO_LARGE: the member count or string length limit of the JSON parser',
};

/** The 413 note: which limit `limit` names for each code. */
function limitNote(codes: readonly ErrorCode[]): string {
  const named = codes.flatMap((c) => (LIMIT_NOTES[c] === undefined ? [] : [LIMIT_NOTES[c]]));
  const event = codes.includes('EVENT_TOO_LARGE')
    ? ` EVENT_TOO_LARGE (an event over ${LIMITS.maxEventBytes} bytes of canonical JSON) lists the events in \`errors\`, each message naming the limit.`
    : '';
  return `The \`limit\` member names the limit: ${named.join('; ')}.${event} Nothing was stored; send less.`;
}

const STATUS_NOTE: Readonly<Record<number, string>> = {
  401: 'Send `Authorization: Bearer <api key>`.',
  403: '`scope` names the scope the operation needs.',
  503: 'Nothing was stored. Retry after the number of seconds in Retry-After, with the same event ids (ingest is idempotent by event id).',
};

function problemResponse(status: number, codes: readonly ErrorCode[]): Json {
  for (const c of codes) {
    if (ERROR_REGISTRY[c].status !== status) throw new Error(`openapi: ${c} has status ${ERROR_REGISTRY[c].status}, not ${status}`);
  }
  const first = codes[0]!;
  const spec = ERROR_REGISTRY[first];
  const list = codes.map((c) => `\`${c}\` (${ERROR_REGISTRY[c].title})`).join(', ');
  const note = status === 413 ? limitNote(codes) : STATUS_NOTE[status];
  const headers: Json = {};
  if (status === 401) headers['WWW-Authenticate'] = ref('headers', 'WWW-Authenticate');
  if (status === 503) headers['Retry-After'] = ref('headers', 'Retry-After');
  return {
    description: `${STATUS_TEXT[status] ?? 'Error'}: ${list}.${note === undefined ? '' : ` ${note}`}`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: ref('schemas', 'Problem'),
        example: { type: `${PROBLEM_TYPE_PREFIX}${first}`, title: spec.title, status, detail: spec.doc, code: first },
      },
    },
    ...(status === 413 ? { 'x-trailseal-limits': { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, maxBatchEvents: DEFAULT_MAX_BATCH_EVENTS, maxEventBytes: LIMITS.maxEventBytes } } : {}),
    'x-trailseal-codes': [...codes],
  };
}

/** Error responses keyed by status, each listing its codes, from a list of registry codes. */
function problems(...codes: ErrorCode[]): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const c of new Set(codes)) {
    const s = ERROR_REGISTRY[c].status;
    byStatus.set(s, [...(byStatus.get(s) ?? []), c]);
  }
  const out: Json = {};
  for (const s of [...byStatus.keys()].sort((a, b) => a - b)) out[String(s)] = problemResponse(s, byStatus.get(s)!);
  return out;
}

const AUTH_ERRORS: ErrorCode[] = ['UNAUTHORIZED', 'FORBIDDEN', 'INTERNAL', 'STORE_UNAVAILABLE'];
const JSON_BODY_ERRORS: ErrorCode[] = [
  'BODY_INVALID',
  'INVALID_UTF8',
  'JSON_SYNTAX',
  'JSON_DUPLICATE_KEY',
  'JSON_LONE_SURROGATE',
  'JSON_NUMBER_RANGE',
  'JSON_TOO_DEEP',
  'JSON_TOO_LARGE',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

// --- operations -------------------------------------------------------------------

const json = (schema: Json): Json => ({ 'application/json': { schema } });
const ok = (description: string, content?: Json): Json => ({ description, ...(content ? { content } : {}) });

const TEXT = 'text/plain; charset=utf-8';

const CHECKPOINT_FORMAT =
  'A c2sp.org/tlog-checkpoint signed note (c2sp.org/signed-note): the lines `<origin>`, `<tree size>` (decimal), `<base64 root hash>`, a blank line, ' +
  'then one or more signature lines `— <key name> <base64(4-byte key id || Ed25519 signature)>`. The origin and key name are `<log name>/tenants/<tenant>`; ' +
  'verify it with the tenant\'s verifier key (GET /v1/log) using any C2SP implementation (docs/spec/checkpoints-and-proofs.md).';

const PROOF_FORMAT =
  'A c2sp.org/tlog-proof@v1 receipt: the line `c2sp.org/tlog-proof@v1`, the line `index <seq>`, the RFC 6962 inclusion proof as base64 SHA-256 hashes one per line ' +
  '(leaf to root), a blank line, then the c2sp.org/tlog-checkpoint signed note the proof leads to. It verifies offline against the record bytes ' +
  '(leaf hash = SHA-256(0x00 || record)) and the tenant\'s verifier key.';

const CONSISTENCY_FORMAT =
  'The RFC 9162 section 2.1.4 consistency proof between the trees of sizes `from` and `to`: base64 SHA-256 hashes, one per line, each ending in a newline ' +
  '(an empty body when from = to). Check it against two signed checkpoints of those sizes.';

function scoped(scope: Scope, op: Json): Json {
  const description = `${String(op['description'] ?? '')}\n\nRequires an API key with the \`${scope}\` scope (FORBIDDEN otherwise).`.trim();
  return { ...op, description, security: [{ bearerAuth: [scope] }], 'x-trailseal-scope': scope };
}

const PUBLIC: Json = { security: [] };

function buildDocument(): Json {
  const paths: Json = {
    '/healthz': {
      get: {
        operationId: 'getHealth',
        tags: ['operations'],
        summary: 'Liveness',
        description: 'Answers while the process runs. No authentication.',
        ...PUBLIC,
        responses: {
          '200': ok('The process is alive.', json(object({ status: { type: 'string', const: 'ok' } }, ['status']))),
          ...problems('INTERNAL'),
        },
      },
    },
    '/readyz': {
      get: {
        operationId: 'getReadiness',
        tags: ['operations'],
        summary: 'Readiness',
        description: 'Answers 200 when the store answers. No authentication.',
        ...PUBLIC,
        responses: {
          '200': ok(
            'Ready to serve.',
            json(
              object(
                {
                  status: { type: 'string', const: 'ready' },
                  store: enumOf(['sqlite', 'postgres']),
                  queued: int(0, Number.MAX_SAFE_INTEGER, { description: 'Events waiting for a commit, over all tenants.' }),
                },
                ['status', 'store', 'queued'],
              ),
            ),
          ),
          ...problems('INTERNAL', 'STORE_UNAVAILABLE'),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description: 'Counters and histograms in the Prometheus text exposition format 0.0.4. No authentication; restrict access at the network.',
        ...PUBLIC,
        responses: {
          '200': ok('Metrics.', { 'text/plain; version=0.0.4': { schema: { type: 'string' } } }),
          ...problems('INTERNAL'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        tags: ['operations'],
        summary: 'This document',
        description: 'The OpenAPI 3.1 description of this API. No authentication.',
        ...PUBLIC,
        responses: {
          '200': ok('The OpenAPI document.', json({ type: 'object' })),
          ...problems('INTERNAL'),
        },
      },
    },
    '/v1/events': {
      post: scoped('ingest', {
        operationId: 'ingestEvents',
        tags: ['ingest'],
        summary: 'Append events',
        description:
          'Validates every event, then appends them to the tenant log in order and answers with one receipt per event, in the same order, after the records were durably committed. ' +
          'A batch is atomic: one invalid event rejects the whole request (EVENT_INVALID lists every bad field with its item index) and nothing is stored. ' +
          'Ingest is idempotent by event id: an id stored before gets its original receipt with `duplicate: true`. ' +
          'Bodies are parsed strictly (I-JSON: no duplicate member names, no lone surrogates, numbers within +-(2^53-1), bounded nesting).',
        requestBody: {
          required: true,
          description:
            `One Event, or a JSON array of 1 to ${DEFAULT_MAX_BATCH_EVENTS} Events (the default limit), as application/json; or NDJSON (application/x-ndjson, also accepted as application/jsonl): ` +
            `one Event per line, lines separated by LF or CRLF, empty lines ignored, at most ${DEFAULT_MAX_BATCH_EVENTS} events. The body is at most ${DEFAULT_MAX_BODY_BYTES} bytes by default.`,
          content: {
            'application/json': {
              schema: {
                oneOf: [ref('schemas', 'Event'), { type: 'array', minItems: 1, maxItems: DEFAULT_MAX_BATCH_EVENTS, items: ref('schemas', 'Event') }],
              },
            },
            'application/x-ndjson': {
              schema: { type: 'string', description: 'Newline-delimited JSON: each non-empty line is one Event (#/components/schemas/Event).' },
              'x-trailseal-line-schema': ref('schemas', 'Event'),
            },
          },
        },
        responses: {
          '201': ok('Stored: one receipt per event, in request order.', json(ref('schemas', 'Receipts'))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'BATCH_TOO_LARGE', 'EVENT_TOO_LARGE', 'EVENT_INVALID', 'IDEMPOTENCY_CONFLICT', 'OVERLOADED'),
        },
      }),
      get: scoped('read', {
        operationId: 'listEvents',
        tags: ['read'],
        summary: 'List records',
        description:
          'Records of the tenant log in seq order, as stored. Start at `from` and/or the first record received at or after `since`; stop before the first record received after `until`. ' +
          'When a page is full, `next` is a cursor for the following page (it keeps the `until` bound); otherwise `next` is null. ' +
          'Every read is audited: it appends a `trailseal.audit.read` record to the tenant log.',
        parameters: [ref('parameters', 'from'), ref('parameters', 'since'), ref('parameters', 'until'), ref('parameters', 'limit'), ref('parameters', 'cursor')],
        responses: {
          '200': ok('A page of records.', json(ref('schemas', 'RecordPage'))),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID'),
        },
      }),
    },
    '/v1/events/{seq}': {
      get: scoped('read', {
        operationId: 'getEvent',
        tags: ['read'],
        summary: 'Get one record',
        description: 'The record at `seq`, byte for byte as stored (RFC 8785 canonical JSON: the Merkle leaf data). The read is audited (a `trailseal.audit.read` record).',
        parameters: [ref('parameters', 'seq')],
        responses: {
          '200': ok('The record.', json(ref('schemas', 'Record'))),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID', 'NOT_FOUND'),
        },
      }),
    },
    '/v1/events/{seq}/proof': {
      get: scoped('read', {
        operationId: 'getInclusionProof',
        tags: ['proofs'],
        summary: 'Inclusion proof (tlog-proof receipt)',
        description:
          'A c2sp.org/tlog-proof@v1 receipt proving the record at `seq` is in the tenant tree. Without `size` the latest checkpoint is used, and a checkpoint is signed now if the latest does not cover `seq` yet. ' +
          'With `size`, the proof leads to the stored checkpoint of exactly that size (NOT_FOUND if none was signed).',
        parameters: [
          ref('parameters', 'seq'),
          {
            name: 'size',
            in: 'query',
            required: false,
            description: 'Tree size of a signed checkpoint to prove against: decimal, no leading zeros.',
            schema: { type: 'string', pattern: DECIMAL },
          },
        ],
        responses: {
          '200': ok(PROOF_FORMAT, { [TEXT]: { schema: { type: 'string' } } }),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID', 'NOT_FOUND', 'TREE_NODE_MISSING'),
        },
      }),
    },
    '/v1/checkpoint': {
      get: scoped('read', {
        operationId: 'getCheckpoint',
        tags: ['proofs'],
        summary: 'Latest checkpoint',
        description: 'The latest signed checkpoint of the tenant log. Checkpoints are signed on a cadence while the log grows; POST signs one now.',
        responses: {
          '200': ok(CHECKPOINT_FORMAT, { [TEXT]: { schema: { type: 'string' } } }),
          ...problems(...AUTH_ERRORS, 'NOT_FOUND'),
        },
      }),
      post: scoped('read', {
        operationId: 'signCheckpoint',
        tags: ['proofs'],
        summary: 'Sign a checkpoint now',
        description: 'Signs (or returns, when one already covers it) a checkpoint of the committed head of the tenant log. No request body.',
        responses: {
          '200': ok(CHECKPOINT_FORMAT, { [TEXT]: { schema: { type: 'string' } } }),
          ...problems(...AUTH_ERRORS),
        },
      }),
    },
    '/v1/consistency': {
      get: scoped('read', {
        operationId: 'getConsistencyProof',
        tags: ['proofs'],
        summary: 'Consistency proof',
        description: 'Proves the tree of size `from` is a prefix of the tree of size `to`: the log was only appended to. Needs 1 <= from <= to <= the log size.',
        parameters: [
          { name: 'from', in: 'query', required: true, description: 'The older tree size (at least 1): decimal, no leading zeros.', schema: { type: 'string', pattern: DECIMAL } },
          { name: 'to', in: 'query', required: true, description: 'The newer tree size (at most the log size): decimal, no leading zeros.', schema: { type: 'string', pattern: DECIMAL } },
        ],
        responses: {
          '200': ok(CONSISTENCY_FORMAT, { [TEXT]: { schema: { type: 'string' } } }),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID', 'TREE_NODE_MISSING'),
        },
      }),
    },
    '/v1/exports': {
      post: scoped('export', {
        operationId: 'exportBundle',
        tags: ['evidence'],
        summary: 'Export an evidence bundle',
        description:
          'Exports records as an evidence bundle (docs/spec/bundle.md): a seq range, a time window (with the neighbour records that prove nothing inside it is missing), a filter (each record with its c2sp.org/tlog-proof), or the whole log when no range or filter is given; ' +
          'optionally with a consistency proof from an earlier checkpoint and the MAC keys of the records. A checkpoint is signed for the current head, the export is recorded in the log as `trailseal.audit.export`, and then the answer streams: ' +
          'the lines of events.jsonl, then one trailer line `{"trailseal_export":{"manifest":"<manifest.json>","signature":"<manifest.sig>"}}`. A failure after the first byte ends the stream with `{"trailseal_export_error":{"code","detail"}}` instead. ' +
          'A client keeps the files only when the trailer arrived and the manifest\'s SHA-256, byte and line counts match what it received.',
        requestBody: { required: true, content: json(ref('schemas', 'ExportRequest')) },
        responses: {
          '200': {
            description: 'The export stream.',
            headers: {
              'trailseal-export-records': { description: 'The number of records the stream holds (absent for a filter).', schema: { type: 'string', pattern: DECIMAL } },
              'trailseal-export-seq': { description: 'The seq of the `trailseal.audit.export` record of this export.', schema: { type: 'string', pattern: DECIMAL } },
            },
            content: { 'application/x-ndjson': { schema: { type: 'string', description: 'events.jsonl lines, then the trailer line.' } } },
          },
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'TENANT_NOT_FOUND', 'OVERLOADED'),
        },
      }),
    },
    '/v1/sinks': {
      post: scoped('export', {
        operationId: 'createSink',
        tags: ['streaming'],
        summary: 'Create a sink',
        description: 'A receiver the tenant\'s records are pushed to as they commit (docs/streaming.md). The answer holds the sink\'s Standard Webhooks signing secret, shown once. The creation is a `trailseal.sink.create` record.',
        requestBody: { required: true, content: json(ref('schemas', 'CreateSinkRequest')) },
        responses: {
          '201': ok('Created.', json(object({ sink: ref('schemas', 'Sink'), secret: { type: 'string', pattern: '^whsec_[A-Za-z0-9+/]{43}=$', description: 'A webhook sink\'s signing secret, shown once.' } }, ['sink']))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'NOT_FOUND'),
        },
      }),
      get: scoped('export', {
        operationId: 'listSinks',
        tags: ['streaming'],
        summary: 'List sinks',
        responses: {
          '200': ok('The tenant\'s sinks with their health.', json(object({ sinks: { type: 'array', items: ref('schemas', 'Sink') } }, ['sinks']))),
          ...problems(...AUTH_ERRORS, 'NOT_FOUND'),
        },
      }),
    },
    '/v1/sinks/{id}': {
      get: scoped('export', {
        operationId: 'getSink',
        tags: ['streaming'],
        summary: 'A sink and its health',
        parameters: [SINK_ID],
        responses: { '200': ok('The sink.', json(ref('schemas', 'Sink'))), ...problems(...AUTH_ERRORS, 'NOT_FOUND') },
      }),
      delete: scoped('export', {
        operationId: 'deleteSink',
        tags: ['streaming'],
        summary: 'Delete a sink',
        parameters: [SINK_ID],
        responses: { '204': ok('Deleted.'), ...problems(...AUTH_ERRORS, 'NOT_FOUND') },
      }),
    },
    '/v1/sinks/{id}/pause': {
      post: scoped('export', {
        operationId: 'pauseSink',
        tags: ['streaming'],
        summary: 'Pause a sink',
        description: 'Stops delivery; the cursor stays, so nothing is lost. Recorded as `trailseal.sink.pause`.',
        parameters: [SINK_ID],
        responses: { '200': ok('The sink.', json(ref('schemas', 'Sink'))), ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'NOT_FOUND') },
      }),
    },
    '/v1/sinks/{id}/resume': {
      post: scoped('export', {
        operationId: 'resumeSink',
        tags: ['streaming'],
        summary: 'Resume a sink',
        description: 'Restarts delivery from the cursor. Recorded as `trailseal.sink.resume`.',
        parameters: [SINK_ID],
        responses: { '200': ok('The sink.', json(ref('schemas', 'Sink'))), ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'NOT_FOUND') },
      }),
    },
    '/v1/sinks/{id}/replay': {
      post: scoped('export', {
        operationId: 'replaySink',
        tags: ['streaming'],
        summary: 'Deliver again from a seq',
        description: 'Moves the cursor to `from_seq` (at most the log size); records already delivered are delivered again. Recorded as `trailseal.sink.replay`.',
        parameters: [SINK_ID],
        requestBody: { required: true, content: json(object({ from_seq: { type: 'integer', minimum: 0 } }, ['from_seq'])) },
        responses: { '200': ok('The sink.', json(ref('schemas', 'Sink'))), ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'NOT_FOUND') },
      }),
    },
    '/v1/log': {
      get: scoped('read', {
        operationId: 'getLog',
        tags: ['proofs'],
        summary: 'Log description',
        description: 'The tenant, its checkpoint origin, the current log size and the verifier key that signs its checkpoints now. Pin the verifier key out of band; a rotation is a signed record in the log.',
        responses: {
          '200': ok('The log.', json(ref('schemas', 'LogInfo'))),
          ...problems(...AUTH_ERRORS, 'TENANT_NOT_FOUND'),
        },
      }),
    },
    '/v1/tlog/{tenant}/checkpoint': {
      get: scoped('read', {
        operationId: 'getTlogCheckpoint',
        tags: ['tlog-tiles'],
        summary: 'tlog-tiles: latest checkpoint',
        description: 'The c2sp.org/tlog-tiles checkpoint resource of the tenant log (the latest signed checkpoint; mutable, not cached beyond a second). `tenant` must be the API key\'s own tenant.',
        parameters: [{ name: 'tenant', in: 'path', required: true, description: 'The tenant id; must be the key\'s tenant.', schema: { type: 'string' } }],
        responses: {
          '200': ok(CHECKPOINT_FORMAT, { [TEXT]: { schema: { type: 'string' } } }),
          ...problems(...AUTH_ERRORS, 'NOT_FOUND'),
        },
      }),
    },
    '/v1/tlog/{tenant}/tile/{path}': {
      get: scoped('read', {
        operationId: 'getTlogTile',
        tags: ['tlog-tiles'],
        summary: 'tlog-tiles: hash tiles and entry bundles',
        description:
          'c2sp.org/tlog-tiles resources under the prefix /v1/tlog/{tenant}/: `tile/<L>/<N>[.p/<W>]` (256, or W, hashes of tree level 8L, 32 bytes each) and `tile/entries/<N>[.p/<W>]` (the record bytes of 256, or W, leaves, each prefixed by its big-endian uint16 length). `<N>` is written in zero-padded groups of three digits, all but the last prefixed by `x` (1234067 is `x001/x234/067`). `{path}` holds slashes: it is everything after `tile/`. Immutable: cached for a year. Reading entry bundles writes a trailseal.audit.read record.',
        parameters: [
          { name: 'tenant', in: 'path', required: true, description: 'The tenant id; must be the key\'s tenant.', schema: { type: 'string' } },
          { name: 'path', in: 'path', required: true, description: '`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`.', schema: { type: 'string', pattern: '^(entries|0|[1-9][0-9]?)/(x[0-9]{3}/)*[0-9]{3}(\\.p/[1-9][0-9]{0,2})?$' } },
        ],
        responses: {
          '200': ok('The tile or entry bundle.', { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } }),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID', 'NOT_FOUND', 'TREE_NODE_MISSING'),
        },
      }),
    },
    '/v1/admin/tenants': {
      post: scoped('admin', {
        operationId: 'createTenant',
        tags: ['admin'],
        summary: 'Create a tenant',
        description:
          'Creates a tenant with its own key, genesis record and first checkpoint, and an API key with the ingest, read and export scopes. The token is shown only in this response. The system log records the creation.',
        requestBody: { required: true, content: json(ref('schemas', 'CreateTenantRequest')) },
        responses: {
          '201': ok('Created.', json(ref('schemas', 'CreatedTenant'))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'TENANT_EXISTS'),
        },
      }),
      get: scoped('admin', {
        operationId: 'listTenants',
        tags: ['admin'],
        summary: 'List tenants',
        responses: {
          '200': ok('All tenants.', json(object({ tenants: { type: 'array', items: ref('schemas', 'Tenant') } }, ['tenants']))),
          ...problems(...AUTH_ERRORS),
        },
      }),
    },
    '/v1/admin/tenants/{id}/keys': {
      get: scoped('admin', {
        operationId: 'listApiKeys',
        tags: ['admin'],
        summary: "List a tenant's API keys",
        description: 'The keys of the tenant, with their scopes, expiry and revocation; never their secrets.',
        parameters: [ref('parameters', 'tenantId')],
        responses: {
          '200': ok('The keys.', json(ref('schemas', 'KeyList'))),
          ...problems(...AUTH_ERRORS, 'TENANT_NOT_FOUND'),
        },
      }),
      post: scoped('admin', {
        operationId: 'issueApiKey',
        tags: ['admin'],
        summary: 'Issue an API key',
        description: 'Issues another API key for the tenant. The token is shown only in this response; the service keeps only its SHA-256. The tenant log records the issue.',
        parameters: [ref('parameters', 'tenantId')],
        requestBody: { required: true, content: json(ref('schemas', 'IssueKeyRequest')) },
        responses: {
          '201': ok('Issued.', json(ref('schemas', 'IssuedKey'))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'TENANT_NOT_FOUND'),
        },
      }),
    },
    '/v1/admin/keys': {
      post: scoped('admin', {
        operationId: 'issueOperatorKey',
        tags: ['admin'],
        summary: 'Issue an operator key',
        description: 'Issues an operator key (no tenant): for administration and for reading the system log. Rotate the first-start admin token by issuing another and revoking it. The token is shown only in this response. The system log records the issue.',
        requestBody: { required: true, content: json(ref('schemas', 'IssueOperatorKeyRequest')) },
        responses: {
          '201': ok('Issued.', json(ref('schemas', 'IssuedKey'))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID'),
        },
      }),
      get: scoped('admin', {
        operationId: 'listOperatorKeys',
        tags: ['admin'],
        summary: 'List operator keys',
        description: 'The operator keys, with their scopes, expiry and revocation; never their secrets.',
        responses: {
          '200': ok('The keys.', json(ref('schemas', 'KeyList'))),
          ...problems(...AUTH_ERRORS),
        },
      }),
    },
    '/v1/admin/keys/{id}': {
      delete: scoped('admin', {
        operationId: 'revokeApiKey',
        tags: ['admin'],
        summary: 'Revoke an API key',
        description: 'Revokes the key at once in this process (other processes on the same store within about a second). The owning log records the revocation.',
        parameters: [
          { name: 'id', in: 'path', required: true, description: 'The key id: the 16 hex digits after `tsk_` in the token (any other value names no key).', schema: { type: 'string', pattern: KEY_ID } },
        ],
        responses: {
          '204': ok('Revoked.'),
          ...problems(...AUTH_ERRORS, 'QUERY_INVALID', 'NOT_FOUND'),
        },
      }),
    },
    '/v1/admin/tenants/{id}/rotate': {
      post: scoped('admin', {
        operationId: 'rotateTenantKey',
        tags: ['admin'],
        summary: 'Rotate a signing or MAC key',
        description:
          'Rotates the tenant\'s checkpoint signing key or its MAC key generation, as a record in the tenant log signed by the key it replaces. Answers the receipt of that record and the verifier key in use afterwards.',
        parameters: [ref('parameters', 'tenantId')],
        requestBody: { required: true, content: json(ref('schemas', 'RotateRequest')) },
        responses: {
          '201': ok('Rotated.', json(object({ receipt: ref('schemas', 'Receipt'), verifierKey: ref('schemas', 'VerifierKey') }, ['receipt', 'verifierKey']))),
          ...problems(...AUTH_ERRORS, ...JSON_BODY_ERRORS, 'QUERY_INVALID', 'TENANT_NOT_FOUND'),
        },
      }),
    },
  };

  const seqPattern = (description: string): Json => ({ type: 'string', pattern: DECIMAL, description });
  const time = { type: 'string', format: 'date-time', pattern: RFC3339 };

  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Trailseal log service API',
      version: '1.0.0',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description: [
        'Trailseal is a multi-tenant audit log that is tamper-evident, never tamper-proof: it cannot stop an operator with write access from altering or deleting stored records, ' +
          'but every such change is detectable by anyone who holds a signed checkpoint, because each tenant log is a hash chain of MAC-protected records and an RFC 6962 Merkle tree ' +
          'whose signed checkpoints (c2sp.org/tlog-checkpoint) commit to its contents. Verify with the inclusion and consistency proofs this API serves, and keep the checkpoints you receive.',
        'Authentication: every operation except /healthz, /readyz, /metrics and /openapi.json needs `Authorization: Bearer <api key>`, where the key looks like `tsk_<16 hex>_<43 base64url>`. ' +
          'A key acts for exactly one tenant (operator keys: the system log `trailseal-system`) and carries scopes (ingest, read, export, admin); each operation names the scope it needs ' +
          'in its description, in `x-trailseal-scope` and in its security requirement.',
        'Errors are RFC 9457 problem details (application/problem+json, schema Problem) with a stable `code` from the error registry (docs/errors.md). ' +
          'While the service shuts down the HTTP framework may answer any request with 503 and a plain JSON body before it reaches the API.',
      ].join('\n\n'),
    },
    tags: [
      { name: 'operations', description: 'Health, readiness, metrics and this document; no authentication.' },
      { name: 'ingest', description: 'Appending events.' },
      { name: 'read', description: 'Reading records (every read is audited in the tenant log).' },
      { name: 'proofs', description: 'Checkpoints, inclusion and consistency proofs (C2SP formats).' },
      { name: 'streaming', description: 'Sinks: records pushed to webhooks as they commit (docs/streaming.md).' },
      { name: 'evidence', description: 'Evidence bundles an auditor verifies offline (every export is recorded in the tenant log).' },
      { name: 'admin', description: 'Tenants and API keys (operator keys with the admin scope).' },
    ],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'tsk_<16 hex>_<43 base64url>',
          description: `\`Authorization: Bearer <api key>\`. A Trailseal API key matches \`${TOKEN}\`: \`tsk_\`, the public key id (16 lowercase hex), \`_\`, a 256-bit secret (43 base64url characters). The service stores only SHA-256 of the secret. Scopes: ${SCOPE_NAMES.join(', ')}.`,
        },
      },
      parameters: {
        seq: { name: 'seq', in: 'path', required: true, description: 'Record sequence number: decimal, no leading zeros, at most 2^53-1.', schema: seqPattern('Decimal without leading zeros.') },
        from: { name: 'from', in: 'query', required: false, description: 'First seq to return (default 0): decimal, no leading zeros. Ignored with `cursor`.', schema: seqPattern('Decimal without leading zeros.') },
        since: { name: 'since', in: 'query', required: false, description: 'Start at the first record received at or after this RFC 3339 date-time. Ignored with `cursor`.', schema: time },
        until: { name: 'until', in: 'query', required: false, description: 'Stop before the first record received after this RFC 3339 date-time. Ignored with `cursor`.', schema: time },
        limit: { name: 'limit', in: 'query', required: false, description: `Most records in the page, 1 to ${DEFAULT_MAX_PAGE} (the default limit), default ${DEFAULT_PAGE}.`, schema: int(1, DEFAULT_MAX_PAGE, { default: DEFAULT_PAGE }) },
        cursor: { name: 'cursor', in: 'query', required: false, description: 'Opaque: the `next` value of the previous page, passed back unchanged. It replaces from, since and until.', schema: { type: 'string', minLength: 1 } },
        tenantId: { name: 'id', in: 'path', required: true, description: 'Tenant id.', schema: { type: 'string', maxLength: 63, pattern: TENANT_RE.source } },
      },
      headers: {
        'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 0 } },
        'WWW-Authenticate': { description: '`Bearer realm="trailseal"`.', required: true, schema: { type: 'string' } },
      },
      schemas: {
        Event: eventSchema,
        Record: recordSchema,
        Receipt: receiptSchema,
        Receipts: object({ receipts: { type: 'array', items: ref('schemas', 'Receipt') } }, ['receipts'], { description: 'One receipt per event, in request order.' }),
        RecordPage: object(
          {
            records: { type: 'array', maxItems: DEFAULT_MAX_PAGE, items: ref('schemas', 'Record') },
            next: { type: ['string', 'null'], description: 'Cursor for the next page, or null when this page was not full.' },
          },
          ['records', 'next'],
        ),
        Problem: problemSchema,
        VerifierKey: {
          type: 'string',
          pattern: '^[^\\s+]+\\+[0-9a-f]{8}\\+[A-Za-z0-9+/]{44}$',
          description: 'A signed-note verifier key `<key name>+<8 hex key id>+<base64(0x01 || Ed25519 public key)>`; the key name is the log origin.',
        },
        LogInfo: object(
          {
            tenant: { type: 'string', pattern: TENANT_RE.source },
            origin: { type: 'string', description: 'The checkpoint origin, `<log name>/tenants/<tenant>`.' },
            size: int(0, Number.MAX_SAFE_INTEGER, { description: 'Records committed.' }),
            verifierKey: ref('schemas', 'VerifierKey'),
          },
          ['tenant', 'origin', 'size', 'verifierKey'],
        ),
        Tenant: object(
          { id: { type: 'string', pattern: TENANT_RE.source }, name: { type: 'string' }, origin: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
          ['id', 'name', 'origin', 'createdAt'],
        ),
        CreateSinkRequest: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'kind', 'config'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 128 },
            kind: { type: 'string', enum: Object.keys(SINK_KIND_SPECS) },
            config: { type: 'object', description: 'Per kind (docs/streaming.md and docs/streaming-*.md). webhook: {url (http or https, without credentials), timeout_ms (100 to 120000)}.' },
            secret: { type: 'string', minLength: 1, maxLength: 4096, description: 'For kinds whose receiver issued a token (not webhook: the service makes its signing secret).' },
            format: { type: 'string', enum: ['json', 'ocsf', 'cef'], description: 'Default json.' },
            filter: { $ref: '#/components/schemas/ExportRequest/properties/filter' },
            from_seq: { type: 'integer', minimum: 0, description: 'First seq to deliver; default: the log size now (new records only).' },
          },
        },
        Sink: object(
          {
            id: { type: 'string', pattern: '^snk_[0-9a-f]{16}$' },
            name: { type: 'string' },
            kind: { type: 'string', enum: Object.keys(SINK_KIND_SPECS) },
            config: { type: 'object' },
            filter: { type: 'object' },
            format: { type: 'string', enum: ['json', 'ocsf', 'cef'] },
            createdAt: { type: 'string', format: 'date-time' },
            health: object(
              {
                state: { type: 'string', enum: ['active', 'paused'] },
                lag: { type: 'integer', minimum: 0, description: 'Committed records not yet delivered (or passed over by the filter).' },
                cursor: { type: 'integer', minimum: 0, description: 'The next seq to deliver.' },
                lastDeliveredSeq: { type: ['integer', 'null'] },
                lastError: { type: ['string', 'null'] },
                lastErrorAt: { type: ['string', 'null'] },
                failingSince: { type: ['string', 'null'] },
                pausedReason: { type: ['string', 'null'] },
              },
              ['state', 'lag', 'cursor', 'lastDeliveredSeq', 'lastError', 'lastErrorAt', 'failingSince', 'pausedReason'],
            ),
          },
          ['id', 'name', 'kind', 'config', 'filter', 'format', 'createdAt', 'health'],
        ),
        ExportRequest: {
          type: 'object',
          additionalProperties: false,
          description: 'Select by seq (from_seq, to_seq) or by time (from and to), not both; a filter narrows either. No member: the whole log.',
          properties: {
            from_seq: { type: 'integer', minimum: 0, description: 'First seq (inclusive; default 0).' },
            to_seq: { type: 'integer', minimum: 0, description: 'End seq (exclusive; default: the log size at the export). At most the log size.' },
            from: { type: 'string', format: 'date-time', description: 'Start of the time window (inclusive), by received_at.' },
            to: { type: 'string', format: 'date-time', description: 'End of the time window (exclusive), by received_at.' },
            filter: {
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              description: 'Every member given must match; within a member any value. Filtered exports carry a proof per record and do not prove completeness.',
              properties: {
                actions: { type: 'array', minItems: 1, maxItems: FILTER_MAX_VALUES, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'Action names; `x.*` matches every action under `x.`.' },
                actor_ids: { type: 'array', minItems: 1, maxItems: FILTER_MAX_VALUES, items: { type: 'string', minLength: 1, maxLength: 256 } },
                outcomes: { type: 'array', minItems: 1, maxItems: FILTER_MAX_VALUES, items: { type: 'string', minLength: 1, maxLength: 256 } },
                tags: { type: 'array', minItems: 1, maxItems: FILTER_MAX_VALUES, items: { type: 'string', minLength: 1, maxLength: 256 }, description: 'Any of the record\'s target.tags.' },
              },
            },
            since_checkpoint: { type: 'string', description: 'An earlier signed checkpoint of this log: the manifest then carries a consistency proof from it.' },
            disclose_mac_keys: { type: 'boolean', description: 'Include the MAC epoch keys of the exported records (default false). Whoever holds them can check, and forge, MACs of those days.' },
          },
        },
        CreateTenantRequest: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string', maxLength: 63, pattern: TENANT_RE.source, not: { pattern: '^trailseal-' }, description: 'Never reused; ids starting with `trailseal-` are reserved.' },
            name: { type: 'string', maxLength: 256, description: 'Display name (default: the id).' },
          },
        },
        CreatedTenant: object(
          { id: { type: 'string', pattern: TENANT_RE.source }, apiKey: { type: 'string', pattern: TOKEN, description: 'The initial API key (ingest, read, export); shown once.' }, verifierKey: ref('schemas', 'VerifierKey') },
          ['id', 'apiKey', 'verifierKey'],
        ),
        IssueKeyRequest: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 256, default: 'api key' },
            scopes: { type: 'array', minItems: 1, items: enumOf(['ingest', 'read', 'export']), default: ['ingest', 'read'], description: 'The admin scope cannot be given to a tenant key.' },
            expiresAt: { type: ['string', 'null'], format: 'date-time', default: null, description: 'RFC 3339 date-time after which the key is refused, or null for none.' },
          },
        },
        IssueOperatorKeyRequest: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 256, default: 'api key' },
            scopes: { type: 'array', minItems: 1, items: enumOf(['admin', 'read', 'export']), default: ['admin', 'read', 'export'], description: 'Operator keys administer the service and read the system log.' },
            expiresAt: { type: ['string', 'null'], format: 'date-time', default: null, description: 'RFC 3339 date-time after which the key is refused, or null for none.' },
          },
        },
        IssuedKey: object({ id: { type: 'string', pattern: KEY_ID }, apiKey: { type: 'string', pattern: TOKEN, description: 'The token; shown once.' } }, ['id', 'apiKey']),
        KeyList: object(
          {
            keys: {
              type: 'array',
              items: object(
                {
                  id: { type: 'string', pattern: KEY_ID },
                  name: { type: 'string' },
                  scopes: { type: 'array', items: enumOf(['ingest', 'read', 'export', 'admin']) },
                  createdAt: { type: 'string', format: 'date-time' },
                  expiresAt: { type: ['string', 'null'], format: 'date-time' },
                  revokedAt: { type: ['string', 'null'], format: 'date-time' },
                },
                ['id', 'name', 'scopes', 'createdAt', 'expiresAt', 'revokedAt'],
              ),
            },
          },
          ['keys'],
        ),
        RotateRequest: {
          type: 'object',
          required: ['purpose'],
          properties: {
            purpose: enumOf(['signing', 'mac'], { description: '`signing`: the checkpoint signing key; `mac`: the MAC key generation.' }),
            reason: { type: 'string', description: 'Recorded in the rotation record (first 256 characters; default `operator request`).' },
          },
        },
      },
    },
  };
}

// Checked when the document is built: the Record schema has exactly the log's own members.
function checkLogFields(): void {
  const have = Object.keys(logProperties).join(',');
  if (have !== LOG_FIELDS.join(',')) throw new Error(`openapi: Record log fields ${have} differ from LOG_FIELDS ${LOG_FIELDS.join(',')}`);
}

let cached: string | undefined;

/** The OpenAPI 3.1 document of the HTTP API, as JSON text (built once). */
export function openApiDocument(): string {
  if (cached === undefined) {
    checkLogFields();
    cached = JSON.stringify(buildDocument());
  }
  return cached;
}
