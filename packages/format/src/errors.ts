// The one error registry (docs/errors.md is generated from it and a test keeps
// the two in step). Every error Trailseal raises carries one of these stable
// codes; messages may improve, codes never change meaning. `status` is the HTTP
// status the service answers with when the error reaches an API caller.

export interface ErrorSpec {
  readonly status: number;
  readonly title: string;
  /** What it means and what the caller should do. */
  readonly doc: string;
}

function def(status: number, title: string, doc: string): ErrorSpec {
  return { status, title, doc };
}

export const ERROR_REGISTRY = {
  // --- encodings -----------------------------------------------------------
  INVALID_UTF8: def(400, 'Invalid UTF-8', 'The bytes are not well-formed UTF-8 (RFC 3629). Send UTF-8 text; nothing was stored.'),
  INVALID_HEX: def(400, 'Invalid hex', 'A hex field has an odd length or characters outside 0-9a-f. The format spells hex in lowercase only.'),
  INVALID_BASE64: def(400, 'Invalid base64', 'A base64 field is not canonical RFC 4648 section 4 base64 (padding required, no whitespace, zero trailing bits).'),

  // --- untrusted JSON parsing (json.ts) ------------------------------------
  JSON_SYNTAX: def(400, 'JSON syntax error', 'The body is not JSON (RFC 8259). The message names the offset.'),
  JSON_DUPLICATE_KEY: def(400, 'Duplicate JSON member name', 'An object has two members with the same name. I-JSON (RFC 7493) forbids it because parsers disagree on which one wins.'),
  JSON_LONE_SURROGATE: def(400, 'Lone surrogate in JSON string', 'A string contains an unpaired UTF-16 surrogate escape. I-JSON (RFC 7493 section 2.1) forbids it.'),
  JSON_NUMBER_RANGE: def(400, 'JSON number out of range', 'A number overflows to infinity, or is an integer outside +-(2^53-1) that would silently lose precision (RFC 7493 section 2.2).'),
  JSON_TOO_DEEP: def(400, 'JSON nested too deeply', 'Arrays and objects nest deeper than the documented limit.'),
  JSON_TOO_LARGE: def(413, 'JSON too large', 'The document is larger than the documented limit.'),

  // --- canonical JSON (jcs.ts, RFC 8785) -----------------------------------
  JCS_NON_FINITE_NUMBER: def(400, 'Number not representable in JSON', 'NaN and +-Infinity have no JSON form; RFC 8785 section 3.2.2.3 requires an error.'),
  JCS_LONE_SURROGATE: def(400, 'Lone surrogate in string', 'A string or member name holds an unpaired UTF-16 surrogate, which has no UTF-8 form (RFC 8785 section 3.2.2.2).'),
  JCS_UNSUPPORTED_VALUE: def(400, 'Value has no JSON form', 'undefined, functions, symbols, bigints, cycles and non-plain objects cannot be canonicalized.'),

  // --- event records (record.ts) -------------------------------------------
  EVENT_INVALID: def(422, 'Event failed validation', 'One or more fields are invalid; `errors` lists every bad field path with its own code. Nothing was stored.'),
  FIELD_REQUIRED: def(422, 'Required field missing', 'A required field is absent or null.'),
  FIELD_TYPE: def(422, 'Wrong field type', 'The field has the wrong JSON type (for example a number where a string is expected).'),
  FIELD_FORMAT: def(422, 'Malformed field', 'The field does not match its format (RFC 3339 time, IP address, SHA-256 hex, dotted action name, ...).'),
  FIELD_ENUM: def(422, 'Value not allowed', 'The field must be one of the values the spec lists.'),
  FIELD_UNKNOWN: def(422, 'Unknown field', 'The field is not part of the event record v1 schema. Free-form data belongs in `context`.'),
  FIELD_TOO_LONG: def(422, 'Field too long', 'A string or array exceeds its documented limit.'),
  FIELD_RANGE: def(422, 'Number out of range', 'A number is negative, not an integer, or beyond its documented bound.'),
  FIELD_RESERVED: def(422, 'Field set by the log', 'Producers may not set fields the log assigns (tenant, seq, received_at, prev_hash, mac_key_id, mac, v).'),
  EVENT_TOO_LARGE: def(413, 'Event too large', 'The canonical form of the event exceeds the documented size limit.'),
  CONTEXT_TOO_LARGE: def(422, 'Context too large', 'The free-form `context` object exceeds its size, depth or member limit.'),

  // --- keys (keys.ts) ------------------------------------------------------
  KEY_INVALID: def(400, 'Invalid key material', 'A key has the wrong length or encoding.'),
  HKDF_LENGTH: def(500, 'HKDF output too long', 'RFC 5869 limits HKDF-SHA256 output to 255 * 32 bytes.'),
  KEY_ID_MALFORMED: def(400, 'Malformed key id', 'A key id does not match the documented form.'),

  // --- Merkle tree and proofs (merkle.ts, RFC 6962 / RFC 9162) -------------
  TREE_SIZE_INVALID: def(400, 'Invalid tree size', 'A tree size or leaf index is negative, not an integer, or out of range for the request.'),
  TREE_NODE_MISSING: def(500, 'Tree node missing', 'The store did not return a node hash that a proof needs.'),
  PROOF_WRONG_LENGTH: def(422, 'Proof has the wrong length', 'The number of hashes in the proof does not match what the tree sizes require (RFC 9162 section 2.1.3.2 / 2.1.4.2).'),
  PROOF_ROOT_MISMATCH: def(422, 'Proof does not lead to the root', 'Recomputing the root from the leaf and the proof gives a different hash: the leaf, the proof or the root was altered.'),
  PROOF_INCONSISTENT: def(422, 'Trees are not consistent', 'The consistency proof does not show the first tree is a prefix of the second: the log was rewritten or forked.'),

  // --- C2SP signed notes, checkpoints, tlog-proof --------------------------
  NOTE_MALFORMED: def(422, 'Malformed signed note', 'The text does not follow c2sp.org/signed-note (text, blank line, signature lines).'),
  NOTE_TOO_LARGE: def(413, 'Signed note too large', 'The note or its number of signatures exceeds the documented limit.'),
  NOTE_NO_VALID_SIGNATURE: def(422, 'No trusted signature', 'No signature line is from a key the verifier trusts.'),
  NOTE_BAD_SIGNATURE: def(422, 'Invalid signature', 'A signature line names a trusted key but does not verify: the note was altered or signed by another key.'),
  VERIFIER_KEY_MALFORMED: def(400, 'Malformed verifier key', 'A verifier key is not <name>+<hex key id>+<base64(0x01 || Ed25519 public key)> or its key id does not match.'),
  SIGNER_KEY_MALFORMED: def(400, 'Malformed signer key', 'A signer key is not PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>.'),
  CHECKPOINT_MALFORMED: def(422, 'Malformed checkpoint', 'The note text is not a c2sp.org/tlog-checkpoint body (origin, decimal size, base64 root, extension lines).'),
  CHECKPOINT_ORIGIN_MISMATCH: def(422, 'Checkpoint from another log', 'The checkpoint origin is not the one the verifier expects.'),
  TLOG_PROOF_MALFORMED: def(422, 'Malformed tlog-proof', 'The receipt is not a c2sp.org/tlog-proof@v1 text.'),

  // --- log verification (chain, MAC, records) -------------------------------
  RECORD_NOT_CANONICAL: def(422, 'Record not in canonical form', 'The record bytes are not the RFC 8785 canonical form of their own content.'),
  RECORD_INVALID: def(422, 'Record malformed', 'A stored record lacks a log field or has it in the wrong form.'),
  CHAIN_BROKEN: def(422, 'Hash chain broken', 'prev_hash does not equal SHA-256 of the previous record: a record was altered, removed or inserted.'),
  SEQ_GAP: def(422, 'Sequence gap', 'A seq number is missing between two records.'),
  SEQ_REORDER: def(422, 'Sequence out of order', 'Records are not in increasing seq order.'),
  SEQ_DUPLICATE: def(422, 'Duplicate sequence number', 'Two records claim the same seq.'),
  TENANT_MISMATCH: def(422, 'Record of another tenant', 'A record names a different tenant than the log being verified.'),
  MAC_MISMATCH: def(422, 'MAC does not verify', 'The HMAC-SHA256 over the record does not match under the disclosed key: the record was altered.'),
  MAC_KEY_UNKNOWN: def(422, 'MAC key not supplied', 'The record names a MAC key id for which no key was disclosed, or the disclosed key does not match that id.'),
  GENESIS_INVALID: def(422, 'Genesis record invalid', 'Record 0 is not a well-formed genesis record signed by the key it names.'),
  KEY_HISTORY_INVALID: def(422, 'Key history invalid', 'A key rotation record is malformed, not signed by the key it replaces, or out of order.'),
  LEAF_MISMATCH: def(422, 'Leaf hash mismatch', 'The record does not hash to the leaf hash claimed for it.'),
  ROOT_MISMATCH: def(422, 'Root hash mismatch', 'The records do not hash to the root of the signed checkpoint: the log was altered, truncated or extended.'),
  CHECKPOINT_SIZE_MISMATCH: def(422, 'Checkpoint size mismatch', 'The checkpoint covers a different number of records than were supplied.'),

  // --- evidence bundles (docs/spec/bundle.md) --------------------------------
  BUNDLE_UNUSABLE: def(400, 'Not a usable bundle', 'A bundle file is missing or unreadable, or manifest.json is not a Trailseal bundle manifest at all. Nothing was verified; the verifier exits 2.'),
  MANIFEST_INVALID: def(422, 'Manifest malformed', 'manifest.json is not canonical JSON, or a member is missing, of the wrong type or inconsistent with another; `field` names it.'),
  MANIFEST_SIGNATURE_INVALID: def(422, 'Manifest signature invalid', 'manifest.sig is not a valid signature over the exact bytes of manifest.json by the key that signed the bundle checkpoint: the manifest or the signature was altered.'),
  EVENTS_DIGEST_MISMATCH: def(422, 'Events file does not match the manifest', 'The SHA-256, byte length or line count of events.jsonl differs from what the signed manifest states: lines were edited, added, removed or re-encoded.'),
  EVENTS_MALFORMED: def(422, 'Events file malformed', 'events.jsonl is not lines each ended by one line feed (no carriage returns, no blank lines, a final line feed).'),
  TIME_REORDER: def(422, 'received_at decreases', 'A record was received earlier than the record before it; the log never sets received_at backwards, so records were reordered or forged.'),
  SELECTION_MISMATCH: def(422, 'Records do not match the selection', 'A record lies outside the range, time window or filter the manifest states, or the records do not start or end where it says.'),
  EXPORT_INCOMPLETE: def(422, 'Completeness not proven', 'The evidence that no record of the time window is missing does not hold: a neighbour record lies inside the window, or a neighbour is missing although the log holds one.'),

  // --- the service (HTTP API, stores, configuration) -----------------------
  UNAUTHORIZED: def(401, 'Not authenticated', 'The request has no bearer token, or the token is unknown, malformed, expired or revoked. Send `Authorization: Bearer <api key>`.'),
  FORBIDDEN: def(403, 'Scope missing', 'The API key is valid but lacks the scope this operation needs (ingest, read, export or admin). `scope` names it.'),
  NOT_FOUND: def(404, 'Not found', 'No such route, record or checkpoint for this tenant.'),
  TENANT_NOT_FOUND: def(404, 'Tenant not found', 'No tenant has this id.'),
  TENANT_EXISTS: def(409, 'Tenant exists', 'A tenant with this id already exists; tenant ids are never reused.'),
  QUERY_INVALID: def(400, 'Invalid parameter', 'A path or query parameter is missing, malformed or out of range; `field` names it.'),
  BODY_INVALID: def(400, 'Invalid request body', 'The body is not what this operation takes (for example not an object or array of events); `field` names the part.'),
  UNSUPPORTED_MEDIA_TYPE: def(415, 'Unsupported media type', 'Send application/json or application/x-ndjson.'),
  BODY_TOO_LARGE: def(413, 'Body too large', 'The request body exceeds the limit named in `limit` (bytes). Split the batch.'),
  BATCH_TOO_LARGE: def(413, 'Batch too large', 'The batch holds more events than the limit named in `limit`. Split the batch.'),
  IDEMPOTENCY_CONFLICT: def(409, 'Event id reused for another event', 'An event id is the idempotency key: it was stored (or appears earlier in the batch) with different content. Nothing of this request was stored. Re-send the original event to get its receipt, or use a new id for a new event.'),
  OVERLOADED: def(503, 'Service overloaded', 'The ingest queue is full. Nothing was stored; retry after the number of seconds in Retry-After, with the same event ids.'),
  STORE_UNAVAILABLE: def(503, 'Store unavailable', 'The store cannot commit (disk full, read-only data directory, database unreachable). Nothing was stored; retry after Retry-After with the same event ids.'),
  CONFIG_INVALID: def(500, 'Invalid configuration', 'A flag, environment variable or key file is missing or malformed; the message names it. The service does not start.'),
  INTERNAL: def(500, 'Internal error', 'An unexpected fault. Nothing was acknowledged for the request; the service log has the details.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_REGISTRY;

export interface FieldError {
  /** JSON path of the bad field, dotted with [i] for array members, e.g. `authorization.grants[2].permission`. */
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface ErrorDetails {
  readonly field?: string;
  readonly errors?: readonly FieldError[];
  readonly [key: string]: unknown;
}

export class TrailsealError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = 'TrailsealError';
    this.code = code;
    this.status = ERROR_REGISTRY[code].status;
    this.details = details;
  }
}

export function isTrailsealError(e: unknown, code?: ErrorCode): e is TrailsealError {
  return e instanceof TrailsealError && (code === undefined || e.code === code);
}
