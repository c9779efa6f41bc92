// The formats a streaming sink delivers records in (docs/spec/stream-formats.md):
// `json` (the record itself, recoverable byte for byte), OCSF 1.8.0 events and
// CEF:0 lines. Pure functions of a stored record and where it sits in the log;
// the delivery engine does the I/O.
//
// Sources: the OCSF schema at tag 1.8.0 (github.com/ocsf/ocsf-schema: events/,
// objects/, dictionary.json), and for CEF the ArcSight "Implementing ArcSight
// CEF" guide as restated by its public readers (the key table and lengths of
// Osirium/format_cef valid_extensions.csv, the Elasticsearch CEF processor,
// rsyslog's cef_ext_escape): the guide itself was not read directly.
import { canonicalize, isHostname, isIPv4, SYSTEM_ACTION_PREFIX, type Actor, type LogRecord, type Source, type Target } from '@trailseal/format';

export type StreamFormat = 'json' | 'ocsf' | 'cef';

/** Where a record sits: what a receiver needs to relate an event to its proof. */
export interface DeliveryMeta {
  /** The checkpoint origin of the tenant's log. */
  readonly origin: string;
  /** hex SHA-256(0x00 || record bytes): the record's Merkle leaf hash. */
  readonly leafHash: string;
}

/** The OCSF schema version every event claims (metadata.version). */
export const OCSF_VERSION = '1.8.0';
/**
 * The product version in OCSF metadata.product.version and the CEF header.
 * Equal to the server's VERSION (the test suite checks it); repeated here
 * because this module imports nothing but the format core.
 */
export const PRODUCT_VERSION = '0.1.0';
const PRODUCT = 'Trailseal';
/**
 * What fills an attribute the chosen OCSF class requires when the record
 * holds nothing for it (a file event without a target, a login without a
 * source): the event stays valid against the schema and says what it does
 * not know.
 */
export const UNKNOWN = 'unknown';

type Json = Record<string, unknown>;

/** Adds `key` only when there is a value: canonical JSON has no `undefined`. */
function put(o: Json, key: string, value: unknown): void {
  if (value !== undefined) o[key] = value;
}

// --- classification -----------------------------------------------------------

interface OcsfClass {
  readonly uid: number;
  readonly name: string;
  readonly category: number;
  readonly categoryName: string;
  /** Trailseal verb (last action segment, or the last two joined by `_`) -> activity_id. */
  readonly verbs: Readonly<Record<string, number>>;
  /** activity_id -> caption, from the class's activity_id enum in OCSF 1.8.0. */
  readonly captions: Readonly<Record<number, string>>;
}

const OTHER = 99;

// events/system/event_log_activity.json (since 1.4.0).
const EVENT_LOG: OcsfClass = {
  uid: 1008,
  name: 'Event Log Activity',
  category: 1,
  categoryName: 'System Activity',
  verbs: { log_genesis: 6, service_start: 6, service_stop: 7, audit_export: 3 },
  captions: { 1: 'Clear', 2: 'Delete', 3: 'Export', 4: 'Archive', 5: 'Rotate', 6: 'Start', 7: 'Stop', 8: 'Restart', 9: 'Enable', 10: 'Disable' },
};

// events/application/file_hosting.json (since 1.1.0).
const FILE_HOSTING: OcsfClass = {
  uid: 6006,
  name: 'File Hosting Activity',
  category: 6,
  categoryName: 'Application Activity',
  verbs: {
    upload: 1, put: 1,
    download: 2, get: 2,
    update: 3, modify: 3, overwrite: 3, write: 3, edit: 3,
    delete: 4, purge: 4, remove: 4,
    rename: 5, copy: 6, move: 7,
    restore: 8, undelete: 8,
    preview: 9, view: 9,
    lock: 10, unlock: 11, share: 12, unshare: 13, open: 14, sync: 15, unsync: 16,
    access_check: 17,
  },
  captions: {
    1: 'Upload', 2: 'Download', 3: 'Update', 4: 'Delete', 5: 'Rename', 6: 'Copy', 7: 'Move', 8: 'Restore', 9: 'Preview',
    10: 'Lock', 11: 'Unlock', 12: 'Share', 13: 'Unshare', 14: 'Open', 15: 'Sync', 16: 'Unsync', 17: 'Access Check',
  },
};
/** Verbs of `share.*` (and `file.share.*`) actions: the share is what was created or revoked. */
const SHARE_VERBS: Readonly<Record<string, number>> = { create: 12, add: 12, grant: 12, send: 12, share: 12, revoke: 13, delete: 13, remove: 13, expire: 13, disable: 13, unshare: 13 };

// events/iam/authentication.json.
const AUTHENTICATION: OcsfClass = {
  uid: 3002,
  name: 'Authentication',
  category: 3,
  categoryName: 'Identity & Access Management',
  verbs: { login: 1, logon: 1, signin: 1, sign_in: 1, authenticate: 1, logout: 2, logoff: 2, signout: 2, sign_out: 2 },
  captions: { 1: 'Logon', 2: 'Logoff', 3: 'Authentication Ticket', 4: 'Service Ticket Request', 5: 'Service Ticket Renew', 6: 'Preauth', 7: 'Account Switch' },
};
/** `session.*`: a session that ends is a logoff (OCSF has no separate session class before 1.9). */
const SESSION_VERBS: Readonly<Record<string, number>> = { expire: 2, end: 2, terminate: 2, timeout: 2, close: 2, revoke: 2, logout: 2 };

// events/iam/account_change.json (deprecated in 1.9.0-dev for User Management 3007, current in 1.8.0).
const ACCOUNT_CHANGE: OcsfClass = {
  uid: 3001,
  name: 'Account Change',
  category: 3,
  categoryName: 'Identity & Access Management',
  verbs: {
    create: 1, enable: 2, password_change: 3, password_reset: 4, disable: 5, delete: 6,
    attach_policy: 7, policy_attach: 7, detach_policy: 8, policy_detach: 8,
    lock: 9, mfa_enable: 10, mfa_disable: 11, unlock: 12,
  },
  captions: {
    1: 'Create', 2: 'Enable', 3: 'Password Change', 4: 'Password Reset', 5: 'Disable', 6: 'Delete',
    7: 'Attach Policy', 8: 'Detach Policy', 9: 'Lock', 10: 'MFA Factor Enable', 11: 'MFA Factor Disable', 12: 'Unlock',
  },
};

// events/iam/user_access.json (deprecated in 1.9.0-dev like 3001).
const USER_ACCESS: OcsfClass = {
  uid: 3005,
  name: 'User Access Management',
  category: 3,
  categoryName: 'Identity & Access Management',
  verbs: { create: 1, add: 1, assign: 1, grant: 1, delete: 2, remove: 2, revoke: 2, expire: 2 },
  captions: { 1: 'Assign Privileges', 2: 'Revoke Privileges' },
};

// events/iam/group_management.json.
const GROUP_MANAGEMENT: OcsfClass = {
  uid: 3006,
  name: 'Group Management',
  category: 3,
  categoryName: 'Identity & Access Management',
  verbs: {
    grant: 1, assign_privileges: 1, revoke: 2, revoke_privileges: 2,
    member_add: 3, add_member: 3, user_add: 3, add_user: 3, join: 3,
    member_remove: 4, remove_member: 4, user_remove: 4, remove_user: 4, leave: 4,
    delete: 5, create: 6, subgroup_add: 7, add_subgroup: 7, subgroup_remove: 8, remove_subgroup: 8,
  },
  captions: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 3: 'Add User', 4: 'Remove User', 5: 'Delete', 6: 'Create', 7: 'Add Subgroup', 8: 'Remove Subgroup' },
};

// events/application/api_activity.json: CloudTrail-style CRUD, and the class of
// every action no other row claims (api.operation names the action exactly).
const API_ACTIVITY: OcsfClass = {
  uid: 6003,
  name: 'API Activity',
  category: 6,
  categoryName: 'Application Activity',
  verbs: {
    create: 1, add: 1, insert: 1, post: 1,
    read: 2, get: 2, list: 2, view: 2, query: 2, search: 2, fetch: 2,
    update: 3, modify: 3, set: 3, change: 3, patch: 3, edit: 3,
    delete: 4, remove: 4, purge: 4,
  },
  captions: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete' },
};

/** Action family (first segment) -> class; anything else is API Activity. */
const FAMILIES: Readonly<Record<string, OcsfClass>> = {
  file: FILE_HOSTING,
  folder: FILE_HOSTING,
  share: FILE_HOSTING,
  auth: AUTHENTICATION,
  session: AUTHENTICATION,
  account: ACCOUNT_CHANGE,
  user: ACCOUNT_CHANGE,
  grant: USER_ACCESS,
  permission: USER_ACCESS,
  privilege: USER_ACCESS,
  role: USER_ACCESS,
  group: GROUP_MANAGEMENT,
  api: API_ACTIVITY,
};

interface Classification {
  readonly cls: OcsfClass;
  readonly activityId: number;
}

/** table[key] for the table's own keys only: a record's `__proto__` or `constructor` finds nothing. */
function own<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** The OCSF class and activity of a record (the table in docs/spec/stream-formats.md). */
export function classify(record: Pick<LogRecord, 'action' | 'transfer'>): Classification {
  const action = record.action;
  const system = action.startsWith(SYSTEM_ACTION_PREFIX);
  const segs = (system ? action.slice(SYSTEM_ACTION_PREFIX.length) : action).split('.');
  const family = segs[0]!;
  const cls = system ? EVENT_LOG : (own(FAMILIES, family) ?? API_ACTIVITY);
  const verb = segs[segs.length - 1];
  const pair = segs.length >= 2 ? `${segs[segs.length - 2]}_${verb}` : undefined;
  let id: number | undefined;
  if (system) id = own(cls.verbs, segs.join('_'));
  else if (cls === FILE_HOSTING && segs.includes('share')) id = own(SHARE_VERBS, verb);
  else if (cls === FILE_HOSTING && verb === 'transfer') id = record.transfer?.direction === 'upload' ? 1 : record.transfer?.direction === 'download' ? 2 : undefined;
  else if (cls === AUTHENTICATION && segs[0] === 'session') id = own(SESSION_VERBS, verb);
  else id = own(cls.verbs, pair) ?? own(cls.verbs, verb);
  return { cls, activityId: id ?? OTHER };
}

// --- shared pieces ------------------------------------------------------------

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch milliseconds and UTC offset (minutes) of an RFC 3339 date-time as the
 * record format allows it (docs/spec/event-record.md: fraction up to 9 digits,
 * second 60). Digits past the millisecond are dropped; a leap second becomes
 * the last millisecond of its minute (epoch time has no leap seconds).
 */
export function rfc3339Millis(s: string): { ms: number; offsetMinutes: number } | undefined {
  const m = RFC3339_RE.exec(s);
  if (m === null) return undefined;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const sec = Number(m[6]);
  const frac = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  d.setUTCHours(Number(m[4]), Number(m[5]), Math.min(sec, 59), sec === 60 ? 999 : frac);
  const offsetMinutes = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const ms = d.getTime() - offsetMinutes * 60_000;
  return Number.isFinite(ms) ? { ms, offsetMinutes } : undefined;
}

/** `received_at` in epoch ms (always a valid log timestamp in a stored record). */
function receivedMs(record: LogRecord): number {
  return rfc3339Millis(record.received_at)?.ms ?? 0;
}

/** The free-text reason a producer gave for a failure, by convention context.reason or context.error. */
function reasonOf(record: LogRecord): string | undefined {
  const c = record.context;
  if (c === undefined) return undefined;
  if (typeof c['reason'] === 'string') return c['reason'];
  if (typeof c['error'] === 'string') return c['error'];
  return undefined;
}

/** OCSF severity_id by outcome: an audit trail reports, it does not alert. */
const SEVERITY: Readonly<Record<string, readonly [number, string, number]>> = {
  // outcome: [OCSF severity_id, OCSF severity, CEF severity 0-10]
  success: [1, 'Informational', 1],
  failure: [2, 'Low', 3],
  error: [2, 'Low', 3],
  denied: [3, 'Medium', 5],
};
const severityOf = (outcome: string): readonly [number, string, number] => own(SEVERITY, outcome) ?? [0, 'Unknown', 0];

/** Targets that are accounts rather than objects. */
const USER_TARGET_TYPES: ReadonlySet<string> = new Set(['user', 'account', 'service_account']);
const isUserTarget = (t: Target | undefined): boolean => t !== undefined && USER_TARGET_TYPES.has(t.type);

function baseName(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  const parts = path.split(/[\\/]/).filter((p) => p !== '');
  return parts[parts.length - 1];
}

// --- OCSF objects -------------------------------------------------------------

// objects/user.json type_id enum: 1 User, 2 Admin, 3 System, 4 Service, 99 Other.
const USER_TYPES: Readonly<Record<string, readonly [number, string]>> = {
  user: [1, 'User'],
  system: [3, 'System'],
  service: [4, 'Service'],
  device: [OTHER, 'Device'],
  anonymous: [OTHER, 'Anonymous'],
};

function ocsfUser(actor: Actor): Json {
  const [typeId, type] = own(USER_TYPES, actor.type) ?? [0, 'Unknown'];
  const u: Json = { uid: actor.id };
  put(u, 'name', actor.name);
  put(u, 'email_addr', actor.email);
  put(u, 'uid_alt', actor.federation?.subject);
  u['type_id'] = typeId;
  u['type'] = type;
  return u;
}

/** A user named by a target (the account an IAM event changes), or an explicit unknown one. */
function targetUser(t: Target | undefined): Json {
  if (t === undefined || (t.id === undefined && t.name === undefined)) return { name: UNKNOWN, type_id: 0, type: 'Unknown' };
  const [typeId, type] = own(USER_TYPES, t.type === 'service_account' ? 'service' : t.type) ?? [0, 'Unknown'];
  const u: Json = {};
  put(u, 'uid', t.id);
  put(u, 'name', t.name);
  u['type_id'] = typeId;
  u['type'] = type;
  return u;
}

function ocsfActor(record: LogRecord): Json {
  const a = record.actor;
  const actor: Json = { user: ocsfUser(a) };
  if (a.session_id !== undefined || a.mfa !== undefined) {
    const s: Json = {};
    put(s, 'uid', a.session_id);
    put(s, 'is_mfa', a.mfa);
    actor['session'] = s;
  }
  if (a.federation !== undefined) {
    // objects/idp.json: name, issuer, protocol_name (the record's protocol word, as sent).
    const idp: Json = { name: a.federation.provider };
    put(idp, 'issuer', a.federation.issuer);
    put(idp, 'protocol_name', a.federation.protocol);
    actor['idp'] = idp;
  }
  const policy = record.authorization?.policy;
  if (policy !== undefined) {
    // objects/authorization.json: the policy evaluated, and its decision where the outcome says it.
    const p: Json = { name: policy.name };
    put(p, 'version', policy.version);
    const auth: Json = { policy: p };
    put(auth, 'decision', record.outcome === 'success' ? 'Allowed' : record.outcome === 'denied' ? 'Denied' : undefined);
    actor['authorizations'] = [auth];
  }
  return actor;
}

/** objects/network_endpoint.json: needs one of ip, hostname, name, ... (at_least_one). */
function ocsfEndpoint(source: Source | undefined, required: boolean): Json | undefined {
  const hasAny = source !== undefined && (source.ip !== undefined || source.hostname !== undefined || source.port !== undefined);
  if (!hasAny && !required) return undefined;
  const e: Json = {};
  put(e, 'ip', source?.ip);
  put(e, 'hostname', source?.hostname);
  put(e, 'port', source?.port);
  if (source?.ip === undefined && source?.hostname === undefined) e['name'] = UNKNOWN;
  return e;
}

// objects/file.json type_id enum: 0 Unknown, 1 Regular File, 2 Folder, 99 Other.
function ocsfFile(t: Target | undefined): Json {
  const f: Json = { name: t?.name ?? baseName(t?.path) ?? UNKNOWN };
  put(f, 'path', t?.path);
  put(f, 'size', t?.size);
  put(f, 'uid', t?.id);
  put(f, 'version', t?.version);
  // objects/fingerprint.json algorithm_id 3 = SHA-256.
  if (t?.sha256 !== undefined) f['hashes'] = [{ algorithm_id: 3, algorithm: 'SHA-256', value: t.sha256 }];
  if (t?.owner !== undefined) f['owner'] = { name: t.owner };
  if (t === undefined) {
    f['type_id'] = 0;
    f['type'] = 'Unknown';
  } else if (t.type === 'file') {
    f['type_id'] = 1;
    f['type'] = 'Regular File';
  } else if (t.type === 'folder' || t.type === 'directory') {
    f['type_id'] = 2;
    f['type'] = 'Folder';
  } else {
    f['type_id'] = OTHER;
    f['type'] = t.type;
  }
  return f;
}

/** objects/resource_details.json: name or uid required (_entity at_least_one). */
function ocsfResource(t: Target): Json {
  const r: Json = { type: t.type };
  put(r, 'uid', t.id);
  put(r, 'name', t.name ?? t.path ?? (t.id === undefined ? UNKNOWN : undefined));
  put(r, 'version', t.version);
  if (t.owner !== undefined) r['owner'] = { name: t.owner };
  if (t.tags !== undefined && t.tags.length > 0) r['labels'] = t.tags;
  return r;
}

// dictionary.json auth_protocol_id enum.
const AUTH_PROTOCOLS: Readonly<Record<string, readonly [number, string]>> = {
  kerberos: [2, 'Kerberos'],
  oidc: [4, 'OpenID'],
  saml: [5, 'SAML'],
  oauth2: [6, 'OAUTH 2.0'],
  ldap: [12, 'LDAP'],
};

// --- OCSF ---------------------------------------------------------------------

/**
 * The record as one OCSF 1.8.0 event of the class its action maps to, with
 * every integrity field carried unchanged in `unmapped`
 * (docs/spec/stream-formats.md, "OCSF").
 */
export function toOcsf(record: LogRecord, meta: DeliveryMeta): Record<string, unknown> {
  const { cls, activityId } = classify(record);
  const [severityId, severity] = severityOf(record.outcome);
  const time = rfc3339Millis(record.time);
  const caption = cls.captions[activityId];
  const success = record.outcome === 'success';
  const reason = reasonOf(record);

  const e: Json = {
    activity_id: activityId,
    // For 99 (Other) OCSF says activity_name holds the source's own value: the action.
    activity_name: caption ?? record.action,
    category_name: cls.categoryName,
    category_uid: cls.category,
    class_name: cls.name,
    class_uid: cls.uid,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${caption ?? 'Other'}`,
    severity_id: severityId,
    severity,
    // dictionary.json status_id: 1 Success, 2 Failure. status_code keeps the exact outcome.
    status_id: success ? 1 : 2,
    status: success ? 'Success' : 'Failure',
    status_code: record.outcome,
    // A record's time always parses; received_at stands in for one that does not.
    time: time?.ms ?? receivedMs(record),
    timezone_offset: time?.offsetMinutes ?? 0,
    metadata: {
      product: { name: PRODUCT, vendor_name: PRODUCT, version: PRODUCT_VERSION },
      version: OCSF_VERSION,
      uid: record.id,
      original_time: record.time,
      logged_time: receivedMs(record),
      tenant_uid: record.tenant,
      sequence: record.seq,
    },
    actor: ocsfActor(record),
  };
  if (!success) e['status_detail'] = reason === undefined ? record.outcome : `${record.outcome}: ${reason}`;

  const t = record.target;
  const ua = record.source?.user_agent;
  // Event Log Activity (a system class) has no http_request attribute.
  const httpRequest = cls === EVENT_LOG || ua === undefined ? undefined : { user_agent: ua };

  switch (cls) {
    case FILE_HOSTING:
      e['file'] = ocsfFile(t);
      e['src_endpoint'] = ocsfEndpoint(record.source, true);
      break;
    case API_ACTIVITY:
      e['api'] = { operation: record.action };
      e['src_endpoint'] = ocsfEndpoint(record.source, true);
      if (t !== undefined) e['resources'] = [ocsfResource(t)];
      break;
    case AUTHENTICATION: {
      e['user'] = ocsfUser(record.actor);
      // The class needs service or dst_endpoint; the record names neither.
      e['service'] = { name: UNKNOWN };
      put(e, 'is_mfa', record.actor.mfa);
      if (record.actor.session_id !== undefined) e['session'] = { uid: record.actor.session_id };
      const proto = record.actor.federation?.protocol;
      if (proto !== undefined) {
        const [id, name] = own(AUTH_PROTOCOLS, proto) ?? [OTHER, proto];
        e['auth_protocol_id'] = id;
        e['auth_protocol'] = name;
      }
      put(e, 'src_endpoint', ocsfEndpoint(record.source, false));
      break;
    }
    case ACCOUNT_CHANGE:
      e['user'] = targetUser(t);
      put(e, 'src_endpoint', ocsfEndpoint(record.source, false));
      break;
    case USER_ACCESS:
      e['user'] = isUserTarget(t) ? targetUser(t) : targetUser(undefined);
      e['privileges'] = [t !== undefined && !isUserTarget(t) ? (t.name ?? t.id ?? t.path ?? UNKNOWN) : UNKNOWN];
      if (t !== undefined && !isUserTarget(t)) e['resource'] = ocsfResource(t);
      put(e, 'src_endpoint', ocsfEndpoint(record.source, false));
      break;
    case GROUP_MANAGEMENT: {
      const group: Json = {};
      if (t !== undefined && !isUserTarget(t)) {
        put(group, 'uid', t.id);
        put(group, 'name', t.name);
      }
      if (group['uid'] === undefined && group['name'] === undefined) group['name'] = UNKNOWN;
      e['group'] = group;
      if (isUserTarget(t)) e['user'] = targetUser(t);
      put(e, 'src_endpoint', ocsfEndpoint(record.source, false));
      break;
    }
    default: {
      // Event Log Activity: the log is the tenant's, named by its origin; the
      // device is the Trailseal service that writes it.
      const host = meta.origin.split('/')[0] ?? '';
      const device: Json = { type_id: 1, type: 'Server', name: host === '' ? UNKNOWN : host };
      if (isHostname(host)) device['hostname'] = host;
      e['device'] = device;
      e['log_name'] = meta.origin;
      e['log_provider'] = PRODUCT;
      e['log_type_id'] = 2;
      e['log_type'] = 'Application';
      put(e, 'src_endpoint', ocsfEndpoint(record.source, false));
    }
  }
  put(e, 'http_request', httpRequest);

  // The integrity fields, unchanged, so a receiver can fetch the record's
  // proof; then the record members OCSF has no attribute for, verbatim.
  const unmapped: Json = {
    tenant: record.tenant,
    seq: record.seq,
    received_at: record.received_at,
    prev_hash: record.prev_hash,
    mac_key_id: record.mac_key_id,
    mac: record.mac,
    leaf_hash: meta.leafHash,
    origin: meta.origin,
    v: record.v,
    action: record.action,
    outcome: record.outcome,
  };
  put(unmapped, 'auth_method', record.actor.auth_method);
  if (cls === EVENT_LOG) put(unmapped, 'user_agent', ua);
  put(unmapped, 'target', record.target);
  put(unmapped, 'transfer', record.transfer);
  put(unmapped, 'authorization', record.authorization);
  put(unmapped, 'context', record.context);
  put(unmapped, 'log', record.log);
  put(unmapped, 'sigs', record.sigs);
  e['unmapped'] = unmapped;
  return e;
}

// --- CEF ----------------------------------------------------------------------

/**
 * Characters CEF cannot escape that some line splitters still break lines on
 * (Python's str.splitlines splits on VT, FF, FS, GS, RS, NEL, LS and PS), the
 * other C0 controls and DEL, and lone surrogates (no UTF-8 form): each becomes
 * U+FFFD. Tab stays; CR and LF stay here and are escaped (extension) or
 * replaced (header) by the callers.
 */
function sanitize(s: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let bad: boolean;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      bad = !(next >= 0xdc00 && next <= 0xdfff);
      if (!bad) i++;
    } else {
      bad = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0x85 || c === 0x2028 || c === 0x2029 || (c >= 0xdc00 && c <= 0xdfff);
    }
    if (bad) {
      out += `${s.slice(from, i)}\ufffd`;
      from = i + 1;
    }
  }
  return from === 0 ? s : out + s.slice(from);
}

/** At most `max` UTF-16 code units, never splitting a surrogate pair. */
function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.charCodeAt(max - 1);
  return s.slice(0, cut >= 0xd800 && cut <= 0xdbff ? max - 1 : max);
}

/** Header fields: only `\` and `|` have escapes; a line break is not allowed at all. */
function cefHeader(s: string, max: number): string {
  return truncate(sanitize(s).replace(/[\r\n]/g, '\ufffd'), max).replace(/[\\|]/g, (c) => `\\${c}`);
}

/** Extension values: `\` and `=` escaped, CR and LF as `\r` and `\n`. */
function cefValue(s: string, max: number): string {
  return truncate(sanitize(s), max).replace(/[\\=\r\n]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\${c}`));
}

/**
 * The extension keys in output order with their maximum lengths in the CEF
 * key table (UTF-16 code units; 0: a number or a time, never truncated).
 */
export const CEF_KEYS: Readonly<Record<string, number>> = {
  externalId: 40,
  rt: 0,
  act: 63,
  outcome: 63,
  cat: 1023,
  suid: 1023,
  suser: 1023,
  flexString1: 1023,
  flexString1Label: 128,
  src: 0,
  c6a2: 0,
  c6a2Label: 1023,
  shost: 1023,
  spt: 0,
  requestClientApplication: 1023,
  app: 31,
  duid: 1023,
  duser: 1023,
  fname: 1023,
  filePath: 1023,
  fsize: 0,
  fileHash: 255,
  fileId: 1023,
  fileType: 1023,
  reason: 1023,
  flexString2: 1023,
  flexString2Label: 128,
  cs4: 4000,
  cs4Label: 1023,
  deviceExternalId: 255,
  cn1: 0,
  cn1Label: 1023,
  cs1: 4000,
  cs1Label: 1023,
  cs2: 4000,
  cs2Label: 1023,
  cs3: 4000,
  cs3Label: 1023,
  cs5: 4000,
  cs5Label: 1023,
  cs6: 4000,
  cs6Label: 1023,
  deviceCustomDate1: 0,
  deviceCustomDate1Label: 1023,
};

/** Header field limits: Device Vendor, Product 63, Version 31, Event Class ID 1023, Name 512. */
export const CEF_HEADER_LIMITS = { vendor: 63, product: 63, version: 31, signatureId: 1023, name: 512 } as const;

/** The extension of a record as key -> unescaped, untruncated value, in output order. */
export function cefFields(record: LogRecord, meta: DeliveryMeta): Map<string, string> {
  const { cls } = classify(record);
  const f = new Map<string, string>();
  const set = (key: string, value: string | number | undefined): void => {
    if (value === undefined || value === '') return;
    f.set(key, String(value));
  };
  // A custom key travels with its label (`cs1` and `cs1Label`), both or neither.
  const labelled = (key: string, label: string, value: string | number | undefined): void => {
    if (value === undefined || value === '') return;
    set(key, value);
    set(`${key}Label`, label);
  };
  const a = record.actor;
  const s = record.source;
  const t = record.target;
  set('externalId', record.id);
  set('rt', rfc3339Millis(record.time)?.ms ?? receivedMs(record));
  set('act', record.action);
  set('outcome', record.outcome);
  set('cat', cls.name);
  set('suid', a.id);
  set('suser', a.name);
  labelled('flexString1', 'actor_email', a.email);
  // src is an IPv4 field in the key table; c6a2 is the source IPv6 address by convention.
  if (s?.ip !== undefined && isIPv4(s.ip)) set('src', s.ip);
  else labelled('c6a2', 'Source IPv6 Address', s?.ip);
  set('shost', s?.hostname);
  set('spt', s?.port);
  set('requestClientApplication', s?.user_agent);
  set('app', record.transfer?.protocol);
  if (t !== undefined && isUserTarget(t)) {
    set('duid', t.id);
    set('duser', t.name);
  } else if (t !== undefined) {
    // CEF has no generic object keys: the file keys carry any other target, and fileType says what it is.
    set('fname', t.name);
    set('filePath', t.path);
    set('fsize', t.size);
    set('fileHash', t.sha256);
    set('fileId', t.id);
    set('fileType', t.type);
  }
  if (record.outcome !== 'success') set('reason', reasonOf(record));
  const policy = record.authorization?.policy;
  labelled('flexString2', 'policy_version', policy?.version);
  labelled('cs4', 'policy', policy?.name);
  set('deviceExternalId', meta.origin);
  labelled('cn1', 'seq', record.seq);
  labelled('cs1', 'tenant', record.tenant);
  labelled('cs2', 'leaf_hash', meta.leafHash);
  labelled('cs3', 'prev_hash', record.prev_hash);
  labelled('cs5', 'mac_key_id', record.mac_key_id);
  labelled('cs6', 'mac', record.mac);
  labelled('deviceCustomDate1', 'received_at', receivedMs(record));
  return f;
}

/**
 * One CEF:0 line (no line terminator, no syslog prefix): the header
 * `CEF:0|Trailseal|Trailseal|<version>|<action>|<class: activity>|<severity>|`
 * and the extension (docs/spec/stream-formats.md, "CEF").
 */
export function toCef(record: LogRecord, meta: DeliveryMeta): string {
  const { cls, activityId } = classify(record);
  const name = `${cls.name}: ${cls.captions[activityId] ?? 'Other'}`;
  const header = [
    'CEF:0',
    cefHeader(PRODUCT, CEF_HEADER_LIMITS.vendor),
    cefHeader(PRODUCT, CEF_HEADER_LIMITS.product),
    cefHeader(PRODUCT_VERSION, CEF_HEADER_LIMITS.version),
    cefHeader(record.action, CEF_HEADER_LIMITS.signatureId),
    cefHeader(name, CEF_HEADER_LIMITS.name),
    String(severityOf(record.outcome)[2]),
  ].join('|');
  const ext: string[] = [];
  for (const [key, value] of cefFields(record, meta)) {
    const max = CEF_KEYS[key] ?? 1023;
    ext.push(`${key}=${cefValue(value, max === 0 ? value.length : max)}`);
  }
  return `${header}|${ext.join(' ')}`;
}

// --- the format a sink names --------------------------------------------------

/**
 * One delivered event. `json`: canonical JSON of
 * `{"leaf_hash", "origin", "record", "seq", "tenant"}`, where
 * canonicalize(value.record) is exactly the record's bytes (the record is
 * canonical JSON, so parsing and canonicalizing it again gives them back);
 * `ocsf`: canonical JSON of toOcsf(); `cef`: toCef().
 */
export function formatRecord(format: StreamFormat, record: LogRecord, meta: DeliveryMeta): string {
  switch (format) {
    case 'json':
      return canonicalize({ leaf_hash: meta.leafHash, origin: meta.origin, record, seq: record.seq, tenant: record.tenant });
    case 'ocsf':
      return canonicalize(toOcsf(record, meta));
    case 'cef':
      return toCef(record, meta);
  }
}
