// RFC 9457 problem details from the one error registry. Every error response
// of the API is application/problem+json with a stable `code`; `type` is a
// URN naming that code (docs/errors.md documents each).
import { ERROR_REGISTRY, TrailsealError, isTrailsealError, type ErrorCode } from '@trailseal/format';

export const PROBLEM_TYPE_PREFIX = 'urn:trailseal:problem:';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

export function problemOf(e: TrailsealError, instance?: string): Problem {
  const spec = ERROR_REGISTRY[e.code];
  const { errors, field, retryAfter: _r, cause: _c, ...rest } = e.details;
  return {
    type: `${PROBLEM_TYPE_PREFIX}${e.code}`,
    title: spec.title,
    status: spec.status,
    detail: e.message,
    code: e.code,
    ...(instance !== undefined ? { instance } : {}),
    ...(field !== undefined ? { field } : {}),
    ...(errors !== undefined ? { errors } : {}),
    ...rest,
  };
}

// Fastify's own errors (https://fastify.dev/docs/latest/Reference/Errors/)
// mapped onto registry codes, so a client never sees two vocabularies.
export function fromFrameworkError(e: unknown, limits: { bodyLimit: number }): TrailsealError {
  if (isTrailsealError(e)) return e;
  const code = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
  const message = e instanceof Error ? e.message : String(e);
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TrailsealError('BODY_TOO_LARGE', `the body exceeds ${limits.bodyLimit} bytes`, { limit: limits.bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new TrailsealError('UNSUPPORTED_MEDIA_TYPE', 'send application/json or application/x-ndjson');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TrailsealError('BODY_INVALID', message, { field: 'body' });
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new TrailsealError('QUERY_INVALID', message, { field: 'url' });
  }
  const status = typeof e === 'object' && e !== null && 'statusCode' in e ? Number((e as { statusCode: unknown }).statusCode) : 500;
  if (status === 413) return new TrailsealError('BODY_TOO_LARGE', message, { limit: limits.bodyLimit });
  if (status >= 400 && status < 500) return new TrailsealError('BODY_INVALID', message);
  return new TrailsealError('INTERNAL', 'internal error');
}
