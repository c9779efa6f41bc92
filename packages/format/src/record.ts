// Event record v1 (docs/spec/event-record.md). A producer sends the event
// fields; the log adds tenant, seq, received_at, prev_hash, mac_key_id and mac
// (and, on its own system records, `log` and `sigs`).
import { TrailsealError, type FieldError } from './errors.js';
import { isEmail, isHostname, isIP, isLogTimestamp, isLowerHex64, isRfc3339 } from './formats.js';
import { canonicalize, isWellFormedString } from './jcs.js';
import { isMacKeyId } from './keys.js';
import { arrayOf, bool, int, isPlainObject, obj, oneOf, opt, req, str, validateMembers, type Field, type Schema, type Validation } from './schema.js';

export const RECORD_VERSION = 1;

/** Documented limits (docs/spec/event-record.md, "Limits"). */
export const LIMITS = {
  /** UTF-8 bytes of the canonical JSON of the producer's event. */
  maxEventBytes: 32 * 1024,
  /** UTF-8 bytes of the canonical JSON of `context`. */
  maxContextBytes: 16 * 1024,
  /** Nesting depth inside `context` (the context object itself is depth 1). */
  maxContextDepth: 8,
  /** Members and array items inside `context`, counted over all levels. */
  maxContextNodes: 512,
  maxGrants: 64,
  maxTags: 32,
} as const;

export const OUTCOMES = ['success', 'failure', 'denied', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ACTOR_TYPES = ['user', 'service', 'system', 'device', 'anonymous'] as const;
export const FEDERATION_PROTOCOLS = ['saml', 'oidc', 'oauth2', 'ldap', 'kerberos', 'scim', 'local'] as const;
export const TRANSFER_PROTOCOLS = ['sftp', 'ftps', 'ftp', 'https', 'http', 'as2', 'api', 'smb', 'scp'] as const;
export const TRANSFER_DIRECTIONS = ['upload', 'download', 'internal'] as const;

export interface Federation {
  provider: string;
  issuer?: string;
  subject?: string;
  protocol?: (typeof FEDERATION_PROTOCOLS)[number];
}
export interface Actor {
  id: string;
  type: (typeof ACTOR_TYPES)[number];
  name?: string;
  email?: string;
  session_id?: string;
  auth_method?: string;
  mfa?: boolean;
  federation?: Federation;
}
export interface Source {
  ip?: string;
  port?: number;
  hostname?: string;
  user_agent?: string;
}
export interface Target {
  type: string;
  id?: string;
  name?: string;
  path?: string;
  version?: string;
  sha256?: string;
  size?: number;
  tags?: string[];
  owner?: string;
}
export interface Transfer {
  protocol: (typeof TRANSFER_PROTOCOLS)[number];
  direction?: (typeof TRANSFER_DIRECTIONS)[number];
  bytes?: number;
  peer?: string;
}
export interface Grant {
  permission: string;
  resource?: string;
  granted_by?: string;
  grant_id?: string;
}
export interface Authorization {
  policy?: { name: string; version?: string };
  grants?: Grant[];
}

/** What a producer sends. */
export interface EventV1 {
  id: string;
  time: string;
  action: string;
  outcome: Outcome;
  actor: Actor;
  source?: Source;
  target?: Target;
  transfer?: Transfer;
  authorization?: Authorization;
  context?: Record<string, unknown>;
}

/** A signature over a system record's signing input (docs/spec/keys-and-mac.md). */
export interface RecordSignature {
  /** The signer's verifier key name+id: `<name>+<8 hex>`. */
  key: string;
  /** base64 Ed25519 signature. */
  sig: string;
}

/** The record as stored and exported: the event plus the fields the log sets. */
export interface LogRecord extends EventV1 {
  v: 1;
  tenant: string;
  seq: number;
  received_at: string;
  prev_hash: string;
  mac_key_id: string;
  mac: string;
  /** Present on the log's own system records only. */
  log?: Record<string, unknown>;
  sigs?: RecordSignature[];
}

export const LOG_FIELDS = ['v', 'tenant', 'seq', 'received_at', 'prev_hash', 'mac_key_id', 'mac', 'log', 'sigs'] as const;
const LOG_FIELD_SET: ReadonlySet<string> = new Set(LOG_FIELDS);

/** Actions in this namespace are written by the log itself (genesis, key rotation, ...). */
export const SYSTEM_ACTION_PREFIX = 'trailseal.';

// Printable ASCII without space: safe in URLs, headers, CEF and syslog.
const ID_RE = /^[\x21-\x7e]+$/;
const ACTION_RE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;
const TAG_RE = /^[A-Za-z0-9][A-Za-z0-9_.:/-]*$/;
export const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

const idString = (max: number): Schema => str(max, (s) => ID_RE.test(s), 'identifier (printable ASCII, no spaces)');

function checkContext(v: unknown, path: string, ctx: Validation): void {
  const out = ctx.errors;
  if (!isPlainObject(v)) {
    out.push({ path, code: 'FIELD_TYPE', message: `${path} must be an object` });
    return;
  }
  let nodes = 0;
  let deepest = 0;
  // An upper bound on the canonical size, so that only a context that might
  // be too large pays for its canonical form (a UTF-16 unit is at most 6
  // bytes in canonical JSON; a number at most 24 characters).
  let bound = 2;
  // Whether every value has a JSON form; if not, canonicalize() names the bad one.
  let plain = true;
  const walk = (x: unknown, depth: number): void => {
    if (depth > deepest) deepest = depth;
    if (depth > LIMITS.maxContextDepth || nodes > LIMITS.maxContextNodes) return;
    if (typeof x === 'string') {
      bound += 6 * x.length + 2;
      if (!isWellFormedString(x)) plain = false;
    } else if (Array.isArray(x)) {
      nodes += x.length;
      bound += 2 + x.length;
      for (const i of x) walk(i, depth + 1);
    } else if (isPlainObject(x)) {
      const keys = Object.keys(x);
      nodes += keys.length;
      bound += 2;
      for (const k of keys) {
        bound += 6 * k.length + 4;
        if (!isWellFormedString(k)) plain = false;
        walk(x[k], depth + 1);
      }
    } else {
      bound += 24;
      if (!(x === null || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x)))) plain = false;
    }
  };
  walk(v, 1);
  if (deepest > LIMITS.maxContextDepth) {
    out.push({ path, code: 'CONTEXT_TOO_LARGE', message: `${path} nests deeper than ${LIMITS.maxContextDepth} levels` });
    return;
  }
  if (nodes > LIMITS.maxContextNodes) {
    out.push({ path, code: 'CONTEXT_TOO_LARGE', message: `${path} has more than ${LIMITS.maxContextNodes} members and items` });
    return;
  }
  let bytes = bound;
  try {
    // Always canonicalize when the bound is over the limit; otherwise only to
    // catch values canonical JSON cannot hold (NaN, lone surrogates, ...).
    const text = bound > LIMITS.maxContextBytes || !plain ? canonicalize(v) : undefined;
    if (text !== undefined) bytes = utf8Length(text);
  } catch (e) {
    pushCanonicalError(e, path, out);
    return;
  }
  if (bytes > LIMITS.maxContextBytes) {
    out.push({ path, code: 'CONTEXT_TOO_LARGE', message: `${path} is ${bytes} bytes in canonical form; the limit is ${LIMITS.maxContextBytes}` });
  }
  ctx.sizeBound += bytes;
}

/** Reports why a free-form value at `path` has no canonical JSON form; the canonicalizer names the bad value's path inside it. */
function pushCanonicalError(e: unknown, path: string, out: FieldError[]): void {
  if (!(e instanceof TrailsealError)) throw e;
  const inner = typeof e.details.field === 'string' ? e.details.field : '';
  const where = inner === '' ? path : inner.startsWith('[') ? path + inner : `${path}.${inner}`;
  out.push({ path: where, code: 'FIELD_FORMAT', message: `${where}: ${e.message}` });
}

/** The body of a system record: any JSON object with a canonical form. */
function checkLogBody(v: unknown, path: string, ctx: Validation): void {
  if (!isPlainObject(v)) {
    ctx.errors.push({ path, code: 'FIELD_TYPE', message: `${path} must be an object` });
    return;
  }
  try {
    ctx.sizeBound += utf8Length(canonicalize(v));
  } catch (e) {
    pushCanonicalError(e, path, ctx.errors);
  }
}

/** Byte length of a string's UTF-8 encoding, without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 2-byte forms add 1; 3-byte forms add 2; a surrogate pair (4 bytes) adds 1 per unit.
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : 1;
  }
  return n;
}

export const EVENT_FIELDS: Readonly<Record<string, Field>> = {
  id: req(idString(128)),
  time: req(str(40, isRfc3339, 'RFC 3339 date-time')),
  action: req(str(128, (s) => ACTION_RE.test(s), 'dotted action name such as file.download')),
  outcome: req(oneOf(...OUTCOMES)),
  actor: req(
    obj({
      id: req(str(256)),
      type: req(oneOf(...ACTOR_TYPES)),
      name: opt(str(256)),
      email: opt(str(254, isEmail, 'email address')),
      session_id: opt(str(256)),
      auth_method: opt(str(64)),
      mfa: opt(bool),
      federation: opt(
        obj({
          provider: req(str(256)),
          issuer: opt(str(1024)),
          subject: opt(str(1024)),
          protocol: opt(oneOf(...FEDERATION_PROTOCOLS)),
        }),
      ),
    }),
  ),
  source: opt(
    obj({
      ip: opt(str(45, isIP, 'IPv4 or IPv6 address')),
      port: opt(int(0, 65535)),
      hostname: opt(str(254, isHostname, 'host name')),
      user_agent: opt(str(1024)),
    }),
  ),
  target: opt(
    obj({
      type: req(str(64)),
      id: opt(str(256)),
      name: opt(str(1024)),
      path: opt(str(4096)),
      version: opt(str(128)),
      sha256: opt(str(64, isLowerHex64, 'SHA-256 digest (64 lowercase hex digits)')),
      size: opt(int(0, Number.MAX_SAFE_INTEGER)),
      tags: opt(arrayOf(str(64, (s) => TAG_RE.test(s), 'tag'), LIMITS.maxTags)),
      owner: opt(str(256)),
    }),
  ),
  transfer: opt(
    obj({
      protocol: req(oneOf(...TRANSFER_PROTOCOLS)),
      direction: opt(oneOf(...TRANSFER_DIRECTIONS)),
      bytes: opt(int(0, Number.MAX_SAFE_INTEGER)),
      peer: opt(str(256)),
    }),
  ),
  authorization: opt(
    obj({
      policy: opt(obj({ name: req(str(256)), version: opt(str(64)) })),
      grants: opt(
        arrayOf(
          obj({
            permission: req(str(128)),
            resource: opt(str(1024)),
            granted_by: opt(str(256)),
            grant_id: opt(str(256)),
          }),
          LIMITS.maxGrants,
        ),
      ),
    }),
  ),
  context: opt({ kind: 'free', check: checkContext }),
};

/** Validates the top-level object against `fields`, collecting every problem. */
function validateTop(fields: Readonly<Record<string, Field>>, input: unknown, what: string, isReserved?: (name: string) => boolean): Validation {
  const ctx: Validation = { errors: [], sizeBound: 0 };
  if (isPlainObject(input)) validateMembers(fields, input, undefined, ctx, isReserved);
  else ctx.errors.push({ path: '', code: 'FIELD_TYPE', message: `${what} must be a JSON object` });
  return ctx;
}

/**
 * Validates a producer's event and returns every problem (empty when valid).
 * Input is attacker-controlled: nothing here trusts its shape.
 */
export function validateEvent(input: unknown): FieldError[] {
  const ctx = validateTop(EVENT_FIELDS, input, 'an event', (name) => LOG_FIELD_SET.has(name));
  const out = ctx.errors;
  if (!isPlainObject(input)) return out;
  const action = input['action'];
  if (typeof action === 'string' && action.startsWith(SYSTEM_ACTION_PREFIX)) {
    out.push({ path: 'action', code: 'FIELD_RESERVED', message: `actions under ${SYSTEM_ACTION_PREFIX} are written by the log itself` });
  }
  // The bound is exact for structure and pessimistic for strings; only an
  // event that might be too large pays for its canonical form here.
  if (out.length === 0 && ctx.sizeBound > LIMITS.maxEventBytes) {
    const bytes = utf8Length(canonicalize(input));
    if (bytes > LIMITS.maxEventBytes) {
      out.push({ path: '', code: 'EVENT_TOO_LARGE', message: `the event is ${bytes} bytes in canonical form; the limit is ${LIMITS.maxEventBytes}` });
    }
  }
  return out;
}

/** Validates and returns the event typed, or throws EVENT_INVALID listing every bad field. */
export function parseEvent(input: unknown): EventV1 {
  const errors = validateEvent(input);
  if (errors.length > 0) {
    const tooLarge = errors.length === 1 && errors[0]!.code === 'EVENT_TOO_LARGE';
    throw new TrailsealError(
      tooLarge ? 'EVENT_TOO_LARGE' : 'EVENT_INVALID',
      `event invalid: ${errors.map((e) => `${e.path || '(event)'}: ${e.code}`).join('; ')}`,
      { errors },
    );
  }
  return input as unknown as EventV1;
}

const SIG_RE = /^[A-Za-z0-9+/]{86}==$/;
const SIGNER_NAME_RE = /^[^\s+]+\+[0-9a-f]{8}$/;

export const RECORD_LOG_FIELDS: Readonly<Record<string, Field>> = {
  v: req(int(RECORD_VERSION, RECORD_VERSION)),
  tenant: req(str(63, (s) => TENANT_RE.test(s), 'tenant id')),
  seq: req(int(0, Number.MAX_SAFE_INTEGER)),
  received_at: req(str(24, isLogTimestamp, 'log timestamp YYYY-MM-DDTHH:MM:SS.sssZ')),
  prev_hash: req(str(64, isLowerHex64, 'SHA-256 hex')),
  mac_key_id: req(str(64, isMacKeyId, 'MAC key id')),
  mac: req(str(64, isLowerHex64, 'HMAC-SHA256 hex')),
  log: opt({ kind: 'free', check: checkLogBody }),
  sigs: opt(arrayOf(obj({ key: req(str(300, (s) => SIGNER_NAME_RE.test(s), 'key name+id')), sig: req(str(88, (s) => SIG_RE.test(s), 'base64 Ed25519 signature')) }), 16)),
};

const RECORD_FIELDS: Readonly<Record<string, Field>> = { ...EVENT_FIELDS, ...RECORD_LOG_FIELDS };

/**
 * Validates a stored record's shape (used by verifiers on exported records).
 * System records (action under `trailseal.`) must carry `log`; others must not.
 */
export function validateRecord(input: unknown): FieldError[] {
  const out = validateTop(RECORD_FIELDS, input, 'a record').errors;
  if (!isPlainObject(input)) return out;
  const isSystem = typeof input['action'] === 'string' && input['action'].startsWith(SYSTEM_ACTION_PREFIX);
  if (isSystem && input['log'] === undefined) out.push({ path: 'log', code: 'FIELD_REQUIRED', message: 'system records carry a log object' });
  if (!isSystem && (input['log'] !== undefined || input['sigs'] !== undefined)) {
    out.push({ path: input['log'] !== undefined ? 'log' : 'sigs', code: 'FIELD_RESERVED', message: 'only system records (trailseal.*) carry log and sigs' });
  }
  return out;
}

export function parseRecord(input: unknown): LogRecord {
  const errors = validateRecord(input);
  if (errors.length > 0) {
    throw new TrailsealError('RECORD_INVALID', `record invalid: ${errors.map((e) => `${e.path || '(record)'}: ${e.code}`).join('; ')}`, { errors });
  }
  return input as unknown as LogRecord;
}

