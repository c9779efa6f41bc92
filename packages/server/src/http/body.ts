// Request bodies of POST /v1/events: strict parsing of JSON and NDJSON
// (attacker-controlled bytes: the format core's parser refuses duplicate
// names, lone surrogates, unsafe numbers and excess depth) and validation of
// every event, with paths prefixed by the event's index in a batch.
import { TrailsealError, canonicalEventParts, isTrailsealError, parseJsonBytes, preparedFromParts, readEvents, readEventsInPlace, validateEvent, type EventV1, type FieldError, type PreparedEvents } from '@trailseal/format';

/** How many field errors one response lists at most (a 10,000-event batch of bad events would otherwise answer megabytes). */
const MAX_REPORTED_ERRORS = 100;

export type BodyKind = 'json' | 'ndjson';

export interface Body {
  readonly items: readonly unknown[];
  /** The body was a JSON array or NDJSON (paths are prefixed with the item index). */
  readonly batch: boolean;
}

export interface BodyLimits {
  readonly maxBytes: number;
  readonly maxMembers: number;
  readonly maxBatchEvents: number;
}

export function parseBody(bytes: Uint8Array, kind: BodyKind, limits: BodyLimits): Body {
  if (kind === 'ndjson') return { items: parseNdjson(bytes, limits), batch: true };
  const v = parseJsonBytes(bytes, limits);
  return Array.isArray(v) ? { items: v, batch: true } : { items: [v], batch: false };
}

/**
 * A POST /v1/events body made ready for the log: parsed, every event checked,
 * in canonical parts. The one-pass reader takes the bodies it can vouch for;
 * every other body, including every bad one, takes the reference path, which
 * names the fault (event-reader.ts).
 */
export function prepareEvents(bytes: Uint8Array, kind: BodyKind, limits: BodyLimits): PreparedEvents {
  return (hasBackslash(bytes) ? undefined : readEvents(bytes, kind, limits)) ?? prepareEventsStrictly(bytes, kind, limits);
}

/**
 * prepareEvents of the body at [0, n) of `room`, a buffer the caller owns
 * with room for the output after the body (readEventsInPlace): the one-pass
 * reader's result is a view of `room`.
 */
export function prepareEventsInPlace(room: Uint8Array, n: number, kind: BodyKind, limits: BodyLimits): PreparedEvents {
  const bytes = room.subarray(0, n);
  return (hasBackslash(bytes) ? undefined : readEventsInPlace(room, n, kind, limits)) ?? prepareEventsStrictly(bytes, kind, limits);
}

/** The reference path alone, which the one-pass reader stands in for: strict parse, validation of every event, canonical parts. */
export function prepareEventsStrictly(bytes: Uint8Array, kind: BodyKind, limits: BodyLimits): PreparedEvents {
  return preparedFromParts(checkBody(parseBody(bytes, kind, limits), limits).map(canonicalEventParts));
}

/**
 * Whether a body holds a backslash, which only an escape in a string can be
 * (in UTF-8 the byte 0x5c is only ever that character) and at which the
 * one-pass reader gives up: such a body goes straight to the reference path
 * rather than after a partial read (a 1000-event body with one escape in its
 * last event cost 1.4 times the reference path that way). Buffer#indexOf is
 * a memchr: 0.02 ms for 1.3 MB.
 */
function hasBackslash(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(0x5c) !== -1;
}

/** The checks every body gets before anything is queued: size of the batch, then every event. */
export function checkBody(body: Body, limits: BodyLimits): EventV1[] {
  if (body.items.length > limits.maxBatchEvents) {
    throw new TrailsealError('BATCH_TOO_LARGE', `the batch holds ${body.items.length} events; the limit is ${limits.maxBatchEvents}`, { limit: limits.maxBatchEvents });
  }
  if (body.items.length === 0) throw new TrailsealError('BODY_INVALID', 'the batch is empty', { field: 'body' });
  return validateBatch(body);
}

/** Validates every event of a body; one bad event rejects the whole batch, listing every bad field with its index. */
function validateBatch(body: Body): EventV1[] {
  const errors: FieldError[] = [];
  let total = 0;
  let allTooLarge = true;
  body.items.forEach((item, i) => {
    const errs = validateEvent(item);
    total += errs.length;
    for (const e of errs) {
      if (e.code !== 'EVENT_TOO_LARGE') allTooLarge = false;
      if (errors.length < MAX_REPORTED_ERRORS) {
        const path = body.batch ? (e.path === '' ? `[${i}]` : `[${i}].${e.path}`) : e.path;
        errors.push({ ...e, path });
      }
    }
  });
  if (total > 0) {
    const summary = errors.slice(0, 5).map((e) => `${e.path || '(event)'}: ${e.code}`).join('; ');
    throw new TrailsealError(allTooLarge ? 'EVENT_TOO_LARGE' : 'EVENT_INVALID', `${total} invalid field${total === 1 ? '' : 's'}: ${summary}${total > 5 ? '; ...' : ''}`, {
      errors,
      ...(total > errors.length ? { truncated: true, total } : {}),
    });
  }
  return body.items as EventV1[];
}

function parseNdjson(body: Uint8Array, limits: { maxBytes: number; maxMembers: number }): unknown[] {
  const items: unknown[] = [];
  let start = 0;
  let line = 0;
  while (start < body.length) {
    let end = body.indexOf(0x0a, start);
    if (end === -1) end = body.length;
    let stop = end;
    if (stop > start && body[stop - 1] === 0x0d) stop--;
    if (stop > start) {
      try {
        items.push(parseJsonBytes(body.subarray(start, stop), limits));
      } catch (e) {
        if (isTrailsealError(e)) throw new TrailsealError(e.code, `NDJSON line ${line + 1}: ${e.message}`, { ...e.details, field: `[${items.length}]` });
        throw e;
      }
    }
    start = end + 1;
    line++;
  }
  return items;
}

