// What every sink kind's settings and transports share: the QUERY_INVALID
// error naming `config.<member>`, the settings object with its known members,
// the timeout setting, http(s) URLs, a POST with a deadline, and the
// heartbeat's JSON text.
import { TrailsealError, canonicalize } from '@trailseal/format';
import type { Heartbeat } from './engine.js';

export function configError(field: string, message: string): TrailsealError {
  return new TrailsealError('QUERY_INVALID', `config.${field} ${message}`, { field: `config.${field}` });
}

/** The request's `config` as an object holding only `members`; `first` names what is missing when it is not an object. */
export function configObject(v: unknown, members: readonly string[], kind: string, missing: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw configError(members[0]!, `is required: config must be an object with ${missing}`);
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!members.includes(k)) throw configError(k, `is not a ${kind} setting (${members.join(', ')})`);
  return c;
}

/** `timeout_ms`: how long a connect, a request or a batch may take. */
export function timeoutSetting(c: Record<string, unknown>): number | undefined {
  const v = c['timeout_ms'];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 100 || v > 120_000) throw configError('timeout_ms', 'must be an integer from 100 to 120000');
  return v;
}

/** An absolute http or https URL without credentials (a secret belongs in the sink's secret, which is never shown back). */
export function httpUrlSetting(v: unknown, field: string): URL {
  let u: URL;
  try {
    u = new URL(String(v));
  } catch {
    throw configError(field, 'must be an absolute http or https URL');
  }
  if (typeof v !== 'string' || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.username !== '' || u.password !== '') throw configError(field, 'must be an absolute http or https URL without credentials');
  return u;
}

/**
 * POSTs with a deadline. A network failure is reported naming only `label`
 * (a URL's path may be its credential) and the cause.
 */
export async function postWithTimeout(url: string, headers: Record<string, string>, body: string, timeoutMs: number, label: string): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as Error).cause;
    throw new Error(`${label}: ${cause instanceof Error ? cause.message : (e as Error).message}`);
  }
  return { status: res.status, text: await res.text().catch(() => '') };
}

/** The heartbeat as JSON text, as the HTTP kinds deliver it (docs/streaming.md, "The webhook message"). */
export function checkpointJson(beat: Heartbeat): string {
  return canonicalize({ checkpoint: beat.checkpoint, origin: beat.origin, size: beat.size, tenant: beat.sink.tenant, type: 'trailseal.checkpoint' });
}
