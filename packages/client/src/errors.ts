// Every failure the client reports is a TrailsealClientError. Errors that come
// from the service keep the service's stable `code` (docs/errors.md) and the
// members of its RFC 9457 problem document; errors the client raises itself
// use the CLIENT_* codes below, so callers can switch on `code` alone.

/** One bad field, as the service lists it in a problem document's `errors`. */
export interface FieldError {
  /**
   * JSON path of the field. For a batch the path starts with the event's
   * 0-based index in the request, e.g. `[3].actor.id`.
   */
  readonly path: string;
  /** A FIELD_* code from docs/errors.md. */
  readonly code: string;
  readonly message: string;
}

/** Codes of errors the client raises itself (the service never sends these). */
export type ClientErrorCode =
  /** `maxQueue` events are already waiting: back off, `flush()`, or raise the limit. Nothing was sent. */
  | 'CLIENT_QUEUE_FULL'
  /** `close()` or `abort()` was called before this event was accepted. Nothing was sent. */
  | 'CLIENT_CLOSED'
  /** `abort()` ended the request or the wait before it; if it was in flight the event may be stored. */
  | 'CLIENT_ABORTED'
  /** The event is not a JSON object, is not serializable, or has an unusable `id`. Nothing was sent. */
  | 'CLIENT_EVENT_INVALID'
  /** The event (or the `emitBatch` array) does not fit in `maxBatchBytes`. Nothing was sent. */
  | 'CLIENT_EVENT_TOO_LARGE'
  /** No complete answer within `timeoutMs` (on the last attempt). The events may be stored. */
  | 'CLIENT_TIMEOUT'
  /** The connection failed or was dropped (on the last attempt). The events may be stored. */
  | 'CLIENT_NETWORK_ERROR'
  /** An error status without a problem document (for example from a proxy). */
  | 'CLIENT_HTTP_ERROR'
  /** A success status whose body does not follow the contract. The events may be stored. */
  | 'CLIENT_BAD_RESPONSE'
  /** A method was called with an argument or option it cannot use. */
  | 'CLIENT_INVALID_ARGUMENT';

export interface TrailsealClientErrorInit {
  /** A service code (docs/errors.md) or a ClientErrorCode. */
  code: string;
  message: string;
  status?: number;
  title?: string;
  type?: string;
  detail?: string;
  errors?: readonly FieldError[];
  problem?: Readonly<Record<string, unknown>>;
  retryable?: boolean;
  maybeStored?: boolean;
  retryAfterMs?: number;
  attempts?: number;
  batchIndex?: number;
  cause?: unknown;
}

export class TrailsealClientError extends Error {
  override readonly name = 'TrailsealClientError';
  /** Stable code: the service's problem `code`, or a CLIENT_* code. */
  readonly code: string;
  /** HTTP status of the answer, if there was one. */
  readonly status: number | undefined;
  readonly title: string | undefined;
  /** The problem document's `type` URI. */
  readonly type: string | undefined;
  readonly detail: string | undefined;
  /** Every bad field the service listed (validation errors). */
  readonly errors: readonly FieldError[];
  /** The whole problem document, including members such as `limit` (413). */
  readonly problem: Readonly<Record<string, unknown>> | undefined;
  /** Whether the client's retry policy treats this failure as transient. */
  readonly retryable: boolean;
  /**
   * False when the service cannot have stored the events (a 4xx answer: the
   * batch is atomic; or a failure before sending). True when the outcome is
   * unknown (timeout, dropped connection, 5xx): re-sending the same events,
   * with the same ids, is then safe and is how to find out.
   */
  readonly maybeStored: boolean;
  /** The wait the service asked for in `Retry-After`, in milliseconds. */
  readonly retryAfterMs: number | undefined;
  /** How many requests were made before giving up. */
  readonly attempts: number;
  /**
   * For an `emit()` whose batch failed: the position of this emit's event in
   * that batch, so `errors` paths starting with `[batchIndex]` are its own.
   */
  readonly batchIndex: number | undefined;

  constructor(init: TrailsealClientErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.title = init.title;
    this.type = init.type;
    this.detail = init.detail;
    this.errors = init.errors ?? [];
    this.problem = init.problem;
    this.retryable = init.retryable ?? false;
    this.maybeStored = init.maybeStored ?? false;
    this.retryAfterMs = init.retryAfterMs;
    this.attempts = init.attempts ?? 0;
    this.batchIndex = init.batchIndex;
  }

  /**
   * The field errors that concern this emit's own event (paths starting with
   * `[batchIndex]`, prefix kept). Empty if another event of the batch was the
   * bad one, in which case this event was not stored and can be re-sent.
   */
  get eventErrors(): readonly FieldError[] {
    if (this.batchIndex === undefined) return this.errors;
    const prefix = `[${String(this.batchIndex)}]`;
    return this.errors.filter((e) => e.path === prefix || e.path.startsWith(`${prefix}.`) || e.path.startsWith(`${prefix}[`));
  }

  /** A copy that also records the attempt count and, for emits, the event's index in its batch. */
  with(extra: { attempts?: number; batchIndex?: number }): TrailsealClientError {
    return new TrailsealClientError({ ...this.init(), ...extra });
  }

  private init(): TrailsealClientErrorInit {
    return {
      code: this.code,
      message: this.message,
      status: this.status,
      title: this.title,
      type: this.type,
      detail: this.detail,
      errors: this.errors,
      problem: this.problem,
      retryable: this.retryable,
      maybeStored: this.maybeStored,
      retryAfterMs: this.retryAfterMs,
      attempts: this.attempts,
      batchIndex: this.batchIndex,
      cause: this.cause,
    };
  }
}

/** An error the client raises before anything is sent. */
export function clientError(code: ClientErrorCode, message: string, extra: Omit<TrailsealClientErrorInit, 'code' | 'message'> = {}): TrailsealClientError {
  return new TrailsealClientError({ code, message, ...extra });
}
