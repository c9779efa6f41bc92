// Preparing an event for sending: give it an id, serialize it once.
//
// The id is the service's idempotency key. It is assigned here, before the
// first attempt, and the serialized text is what every attempt sends, so a
// retry after a lost answer carries the same id and the service answers with
// the original receipt instead of storing a second record.

import { clientError } from './errors.js';
import type { TrailsealEvent } from './types.js';

/** `id`: 1..128 printable ASCII characters without space (event record v1). */
const ID_PATTERN = /^[\x21-\x7e]{1,128}$/;

export interface PreparedEvent {
  readonly id: string;
  /** JSON text of the event, id included; sent byte for byte on every attempt. */
  readonly json: string;
  /** UTF-8 length of `json`. */
  readonly bytes: number;
}

/** A random RFC 9562 version 4 UUID. */
export function randomId(): string {
  const c = globalThis.crypto;
  if (c === undefined) {
    // Without a CSPRNG the ids could collide across producers, and a collision
    // makes the service drop an event as a "duplicate": refuse instead.
    throw clientError('CLIENT_EVENT_INVALID', 'no crypto.getRandomValues in this environment to generate an event id; give every event an id');
  }
  if (typeof c.randomUUID === 'function') return c.randomUUID();
  // Browsers expose randomUUID only in secure contexts.
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Number of bytes of the UTF-8 encoding of `s`, without encoding it (this runs
 * once per event on the hot path). JSON.stringify escapes lone surrogates, so
 * every surrogate in its output is part of a pair.
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * Checks what the client must know to batch safely, and nothing more: the
 * service validates the event itself. A bad `id` is caught here because one
 * event the service rejects fails its whole (atomic) batch, and other callers'
 * events share that batch.
 */
export function prepareEvent(event: TrailsealEvent): PreparedEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw clientError('CLIENT_EVENT_INVALID', 'an event must be a JSON object');
  }
  let id: unknown = event.id;
  if (id === undefined) id = randomId();
  else if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw clientError('CLIENT_EVENT_INVALID', 'event id must be a string of 1..128 printable ASCII characters without space', {
      errors: [{ path: 'id', code: 'FIELD_FORMAT', message: 'expected 1..128 characters in 0x21..0x7E' }],
    });
  }
  const withId = event.id === id ? event : { ...event, id };
  let json: string | undefined;
  try {
    json = JSON.stringify(withId);
  } catch (cause) {
    throw clientError('CLIENT_EVENT_INVALID', `event ${String(id)} cannot be serialized to JSON: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (typeof json !== 'string' || !json.startsWith('{')) {
    throw clientError('CLIENT_EVENT_INVALID', `event ${String(id)} does not serialize to a JSON object`);
  }
  return { id: id as string, json, bytes: utf8Length(json) };
}

/** The body of a batch request: a JSON array of the events' texts. */
export function batchBody(events: readonly PreparedEvent[]): string {
  return `[${events.map((e) => e.json).join(',')}]`;
}

/** UTF-8 size of batchBody() for events whose sizes sum to `bytes`. */
export function batchBytes(count: number, bytes: number): number {
  return 2 + bytes + Math.max(0, count - 1);
}
