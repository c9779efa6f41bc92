// One HTTP exchange with timeout, problem-document decoding and retries.

import { TrailsealClientError, clientError, type FieldError } from './errors.js';
import { RETRYABLE_STATUSES, parseRetryAfter, retryDelay } from './retry.js';

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, starting with `/v1/`. */
  readonly path: string;
  readonly token: string;
  readonly accept: string;
  /** Sent unchanged on every attempt. */
  readonly body?: string;
  readonly contentType?: string;
  /** Whether transient failures are retried (only for idempotent requests). */
  readonly retry: boolean;
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** Requests made, the last one included. */
  readonly attempts: number;
}

interface RawAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  readonly retryAfter: string | null;
}

export interface TransportOptions {
  readonly url: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly maxRetryAfterMs: number;
}

export type AttemptListener = (error: TrailsealClientError, willRetry: boolean, attempt: number) => void;

type Canceller = (error: TrailsealClientError) => void;

export class Transport {
  private readonly base: string;
  /** Cancels every request in flight and every backoff wait (abort()). */
  private readonly cancellers = new Set<Canceller>();
  private abortError: TrailsealClientError | undefined;

  constructor(private readonly options: TransportOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /**
   * Sends the request, retrying transient failures with the same bytes.
   * Resolves with a 2xx answer; rejects with a TrailsealClientError.
   */
  async send(request: HttpRequest, onAttemptError?: AttemptListener): Promise<HttpAnswer> {
    const { maxRetries, retryBaseMs, retryMaxMs, maxRetryAfterMs } = this.options;
    for (let attempt = 1; ; attempt++) {
      let error: TrailsealClientError;
      try {
        const answer = await this.once(request);
        if (answer.status >= 200 && answer.status < 300) return { status: answer.status, contentType: answer.contentType, text: answer.text, attempts: attempt };
        error = problemError(request, answer.status, answer.contentType, answer.text, answer.retryAfter);
      } catch (e) {
        if (!(e instanceof TrailsealClientError)) throw e;
        error = e;
      }
      error = error.with({ attempts: attempt });
      const willRetry =
        request.retry &&
        error.retryable &&
        attempt <= maxRetries &&
        this.abortError === undefined &&
        (error.retryAfterMs === undefined || error.retryAfterMs <= maxRetryAfterMs);
      if (onAttemptError !== undefined) {
        try {
          onAttemptError(error, willRetry, attempt);
        } catch {
          // A throwing listener must not change what happens to the events.
        }
      }
      if (!willRetry) throw error;
      await this.sleep(retryDelay(attempt - 1, error.retryAfterMs, retryBaseMs, retryMaxMs, Math.random));
    }
  }

  /** Ends every request in flight and every backoff wait with `error`; later sends fail at once. */
  abort(error: TrailsealClientError): void {
    this.abortError = error;
    for (const cancel of [...this.cancellers]) cancel(error);
  }

  private async once(request: HttpRequest): Promise<RawAnswer> {
    if (this.abortError !== undefined) throw this.abortError;
    const what = `${request.method} ${request.path}`;
    const controller = new AbortController();
    const headers: Record<string, string> = { authorization: `Bearer ${request.token}`, accept: request.accept };
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;

    const exchange = (async () => {
      const response = await this.options.fetch(this.base + request.path, { method: request.method, headers, body: request.body, signal: controller.signal });
      // The timeout covers the body too: a server that sends headers and then
      // stalls must not hold the batch forever.
      const text = await response.text();
      return { status: response.status, contentType: response.headers.get('content-type') ?? '', retryAfter: response.headers.get('retry-after'), text };
    })();

    // Raced against the exchange rather than relying on the abort signal
    // alone, so a fetch implementation that ignores signals cannot hang us.
    let rejectGuard!: (error: TrailsealClientError) => void;
    const guard = new Promise<never>((_, reject) => {
      rejectGuard = reject;
    });
    const cancel: Canceller = (error) => {
      rejectGuard(error);
      controller.abort(error);
    };
    const timer = setTimeout(() => {
      cancel(clientError('CLIENT_TIMEOUT', `${what}: no complete answer within ${String(this.options.timeoutMs)} ms`, { retryable: true, maybeStored: true }));
    }, this.options.timeoutMs);
    this.cancellers.add(cancel);
    // Whichever loses the race is settled later; nobody else listens to it.
    exchange.catch(() => undefined);
    guard.catch(() => undefined);
    try {
      return await Promise.race([exchange, guard]);
    } catch (e) {
      if (e instanceof TrailsealClientError) throw e;
      throw clientError('CLIENT_NETWORK_ERROR', `${what}: ${describe(e)}`, { retryable: true, maybeStored: true, cause: e });
    } finally {
      clearTimeout(timer);
      this.cancellers.delete(cancel);
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.abortError !== undefined) return Promise.reject(this.abortError);
    return new Promise<void>((resolve, reject) => {
      const cancel: Canceller = (error) => {
        clearTimeout(timer);
        this.cancellers.delete(cancel);
        reject(error);
      };
      const timer = setTimeout(() => {
        this.cancellers.delete(cancel);
        resolve();
      }, ms);
      this.cancellers.add(cancel);
    });
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    // Node's fetch says "fetch failed" and puts the reason in `cause`.
    const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
    return `${e.message}${cause}`;
  }
  return String(e);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Turns an error answer (RFC 9457 problem document or not) into an error. */
export function problemError(request: Pick<HttpRequest, 'method' | 'path'>, status: number, contentType: string, text: string, retryAfter: string | null): TrailsealClientError {
  let problem: Record<string, unknown> | undefined;
  if (/json/i.test(contentType)) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isObject(parsed)) problem = parsed;
    } catch {
      // Not JSON after all: reported through `detail` below.
    }
  }
  const code = optionalString(problem?.code) ?? 'CLIENT_HTTP_ERROR';
  const title = optionalString(problem?.title);
  const detail = problem === undefined ? text.slice(0, 500) || undefined : optionalString(problem.detail);
  const errors: FieldError[] = [];
  if (Array.isArray(problem?.errors)) {
    for (const item of problem.errors as unknown[]) {
      if (!isObject(item)) continue;
      errors.push({ path: String(item.path ?? ''), code: String(item.code ?? ''), message: String(item.message ?? '') });
    }
  }
  const retryAfterMs = parseRetryAfter(retryAfter, Date.now());
  const summary = detail ?? title ?? '';
  return new TrailsealClientError({
    code,
    message: `${request.method} ${request.path}: HTTP ${String(status)} ${code}${summary === '' ? '' : `: ${summary}`}`,
    status,
    title,
    type: optionalString(problem?.type),
    detail,
    errors,
    problem,
    retryable: RETRYABLE_STATUSES.has(status),
    // 4xx: the service refused the request as a whole; nothing was stored.
    maybeStored: status >= 500,
    retryAfterMs,
  });
}
