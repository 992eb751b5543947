/**
 * The OpenAI-compatible server's one error, `ServerError { reason }`, and how each reason goes on the wire: an
 * HTTP status and OpenAI's error body `{ error: { message, type, param, code } }` (plus `Retry-After` where a
 * retry can help). Handlers fail with a `ServerError`; one place turns it into the response.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

const fields = { message: Schema.String }

/**
 * The request is malformed or asks for something the server does not do (`n` other than 1, a bad field).
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidRequest extends Schema.TaggedClass<InvalidRequest>()("InvalidRequest", {
  ...fields,
  param: Schema.optionalKey(Schema.String),
  code: Schema.optionalKey(Schema.String)
}) {}

/**
 * The prompt does not fit the model's context.
 *
 * @category errors
 * @since 0.2.0
 */
export class ContextLengthExceeded extends Schema.TaggedClass<ContextLengthExceeded>()("ContextLengthExceeded", fields) {}

/**
 * No API key, or not one of the server's keys.
 *
 * @category errors
 * @since 0.2.0
 */
export class Unauthorized extends Schema.TaggedClass<Unauthorized>()("Unauthorized", fields) {}

/**
 * The request names a model this server does not serve.
 *
 * @category errors
 * @since 0.2.0
 */
export class ModelNotFound extends Schema.TaggedClass<ModelNotFound>()("ModelNotFound", { ...fields, model: Schema.String }) {}

/**
 * No such route.
 *
 * @category errors
 * @since 0.2.0
 */
export class RouteNotFound extends Schema.TaggedClass<RouteNotFound>()("RouteNotFound", fields) {}

/**
 * The request body is over the server's limit.
 *
 * @category errors
 * @since 0.2.0
 */
export class PayloadTooLarge extends Schema.TaggedClass<PayloadTooLarge>()("PayloadTooLarge", fields) {}

/**
 * Every slot is busy and the queue is full: retry after `retryAfterSeconds`.
 *
 * @category errors
 * @since 0.2.0
 */
export class Overloaded extends Schema.TaggedClass<Overloaded>()("Overloaded", { ...fields, retryAfterSeconds: Schema.Number }) {}

/**
 * The model is still loading (or failed to load): retry after `retryAfterSeconds`.
 *
 * @category errors
 * @since 0.2.0
 */
export class Unavailable extends Schema.TaggedClass<Unavailable>()("Unavailable", { ...fields, retryAfterSeconds: Schema.Number }) {}

/**
 * An upstream provider (a gateway's remote model) reports a rate or quota limit.
 *
 * @category errors
 * @since 0.2.0
 */
export class RateLimited extends Schema.TaggedClass<RateLimited>()("RateLimited", {
  ...fields,
  code: Schema.String,
  retryAfterSeconds: Schema.optionalKey(Schema.Number)
}) {}

/**
 * The endpoint needs something the served model does not have (e.g. `/tokenize` on a remote provider).
 *
 * @category errors
 * @since 0.2.0
 */
export class NotSupported extends Schema.TaggedClass<NotSupported>()("NotSupported", fields) {}

/**
 * Anything else: a failure of the model or the server.
 *
 * @category errors
 * @since 0.2.0
 */
export class Internal extends Schema.TaggedClass<Internal>()("Internal", fields) {}

/**
 * Every reason a `ServerError` may carry.
 *
 * @category errors
 * @since 0.2.0
 */
export const ServerErrorReason = Schema.Union([
  InvalidRequest,
  ContextLengthExceeded,
  Unauthorized,
  ModelNotFound,
  RouteNotFound,
  PayloadTooLarge,
  Overloaded,
  Unavailable,
  RateLimited,
  NotSupported,
  Internal
])

/**
 * @category errors
 * @since 0.2.0
 */
export type ServerErrorReason = typeof ServerErrorReason.Type

/**
 * A failed request: the reason decides the status and the OpenAI error body.
 *
 * @category errors
 * @since 0.2.0
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", { reason: ServerErrorReason }) {
  override get message(): string {
    return this.reason.message
  }

  /** The HTTP status of this error. */
  get status(): number {
    return wire[this.reason._tag].status
  }

  /** OpenAI's error body. */
  get body(): ErrorBody {
    const entry = wire[this.reason._tag]
    const reason = this.reason
    return {
      error: {
        message: reason.message,
        type: entry.type,
        param: reason._tag === "InvalidRequest" ? reason.param ?? null : null,
        code: "code" in reason && reason.code !== undefined ? reason.code : entry.code
      }
    }
  }

  /** Seconds for a `Retry-After` header, where a retry can help. */
  get retryAfterSeconds(): number | undefined {
    return "retryAfterSeconds" in this.reason ? this.reason.retryAfterSeconds : undefined
  }
}

/**
 * OpenAI's error body.
 *
 * @category models
 * @since 0.2.0
 */
export interface ErrorBody {
  readonly error: {
    readonly message: string
    readonly type: string
    readonly param: string | null
    readonly code: string | null
  }
}

// How each reason goes on the wire; `type` and `code` are the values OpenAI (or llama-server) uses.
const wire: Readonly<Record<ServerErrorReason["_tag"], { status: number; type: string; code: string | null }>> = {
  InvalidRequest: { status: 400, type: "invalid_request_error", code: null },
  ContextLengthExceeded: { status: 400, type: "invalid_request_error", code: "context_length_exceeded" },
  Unauthorized: { status: 401, type: "authentication_error", code: "invalid_api_key" },
  ModelNotFound: { status: 404, type: "invalid_request_error", code: "model_not_found" },
  RouteNotFound: { status: 404, type: "invalid_request_error", code: "not_found" },
  PayloadTooLarge: { status: 413, type: "invalid_request_error", code: "request_too_large" },
  Overloaded: { status: 503, type: "server_error", code: "server_is_overloaded" },
  Unavailable: { status: 503, type: "unavailable_error", code: "model_not_ready" },
  RateLimited: { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded" },
  NotSupported: { status: 501, type: "not_supported_error", code: "not_supported" },
  Internal: { status: 500, type: "server_error", code: null }
}

/**
 * Shorthand for `new ServerError({ reason: new InvalidRequest(...) })`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const invalidRequest = (message: string, param?: string, code?: string): ServerError =>
  new ServerError({
    reason: new InvalidRequest({
      message,
      ...(param === undefined ? {} : { param }),
      ...(code === undefined ? {} : { code })
    })
  })
