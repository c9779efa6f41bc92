// The retry policy, kept in plain functions so it can be tested without a
// server or a clock.

/**
 * Statuses worth another attempt: the request may succeed later unchanged.
 * 408 request timeout, 429 too many requests, 500 internal error, 502/504
 * gateway trouble, 503 queue full or store unavailable. Every other 4xx is
 * final: the service rejected the request itself and (the batch being atomic)
 * stored nothing, so sending the same bytes again would fail the same way.
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The wait a `Retry-After` header asks for, in milliseconds (RFC 9110
 * section 10.2.3): either delay-seconds or an HTTP-date. Undefined when the
 * header is absent or unreadable, so the caller falls back to its backoff.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT"). Date.parse reads the
  // IMF-fixdate form in every engine; a date in the past means "now".
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * Exponential backoff with full jitter (a uniformly random wait between 0 and
 * min(maxMs, baseMs * 2^retry)). The randomness spreads producers that failed
 * together, so they do not come back together and knock the service over
 * again; the cap bounds the wait of a long outage.
 *
 * @param retry 0 for the wait before the first retry.
 * @param random a source of uniform numbers in [0, 1).
 */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  // 2^retry overflows to Infinity well before it matters; min() keeps the cap.
  const ceiling = Math.min(maxMs, baseMs * 2 ** retry);
  return Math.floor(random() * ceiling);
}

/**
 * The wait before the next attempt: the backoff, but never less than what the
 * service asked for. Retry-After is a floor, not a cap, so a server that knows
 * its queue drains in 2 s is not hit again sooner. It is not added to the
 * backoff either: the service chose the value, and stacking the two would
 * keep events waiting longer than either asks.
 */
export function retryDelay(retry: number, retryAfterMs: number | undefined, baseMs: number, maxMs: number, random: () => number): number {
  const backoff = backoffDelay(retry, baseMs, maxMs, random);
  return retryAfterMs === undefined ? backoff : Math.max(retryAfterMs, backoff);
}
