/**
 * Request and response plumbing: reading a JSON body under the size limit, decoding it with OpenAI-style errors
 * (the first issue's path as `param`), error responses, SSE framing, ids.
 *
 * @internal
 */
import { Cause, Effect, Schema, SchemaIssue } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import {
  Internal,
  invalidRequest,
  PayloadTooLarge,
  RouteNotFound,
  ServerError
} from "../ServerError.ts"

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const pathOf = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined): string | undefined => {
  if (path === undefined || path.length === 0) return undefined
  let out = ""
  for (const segment of path) {
    const key = typeof segment === "object" ? segment.key : segment
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`
  }
  return out
}

/** Decodes a request body; the error names the first offending field. @internal */
export const decode = <S extends Schema.Decoder<unknown>>(schema: S) => {
  const decoder = Schema.decodeUnknownEffect(schema)
  return (body: unknown): Effect.Effect<S["Type"], ServerError> =>
    (decoder(body) as Effect.Effect<S["Type"], Schema.SchemaError>).pipe(
      Effect.mapError((error) => {
        const issue = formatter(error.issue).issues[0]
        const param = pathOf(issue?.path)
        const message = issue === undefined ? error.message : param === undefined ? issue.message : `${param}: ${issue.message}`
        return invalidRequest(message, param)
      })
    )
}

/** Reads the body as JSON; a body over the limit is a 413, broken JSON a 400. @internal */
export const readJson = (request: HttpServerRequest.HttpServerRequest): Effect.Effect<unknown, ServerError> =>
  request.text.pipe(
    Effect.mapError((error) =>
      error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
        ? new ServerError({ reason: new PayloadTooLarge({ message: "the request body is over the server's limit" }) })
        : invalidRequest(`could not read the request body: ${error.message}`)
    ),
    Effect.flatMap((text) =>
      Effect.try({
        try: () => JSON.parse(text) as unknown,
        catch: (cause) => invalidRequest(`the request body is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
      })
    )
  )

/** The response for a ServerError. @internal */
export const errorResponse = (error: ServerError): HttpServerResponse.HttpServerResponse => {
  const retryAfter = error.retryAfterSeconds
  return HttpServerResponse.jsonUnsafe(error.body, {
    status: error.status,
    ...(retryAfter === undefined ? {} : { headers: { "retry-after": String(retryAfter) } })
  })
}

const isServerError = (u: unknown): u is ServerError => u instanceof ServerError

/**
 * Any failure of a handler as an error response: a ServerError as itself, a route miss as 404, anything else
 * (a defect, an unexpected error) as 500. Interruption (the client went away) stays interruption.
 *
 * @internal
 */
export const respondToFailures = <R>(
  effect: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.catchCause(effect, (cause) => {
    if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
    const failure = cause.reasons.find(Cause.isFailReason)
    const error = failure?.error
    if (isServerError(error)) return Effect.succeed(errorResponse(error))
    if (typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "HttpServerError") {
      const reason = (error as { reason: { _tag: string; reason?: string; message: string } }).reason
      if (reason._tag === "RouteNotFound") {
        return Effect.succeed(errorResponse(new ServerError({ reason: new RouteNotFound({ message: reason.message }) })))
      }
      if (reason._tag === "RequestParseError") {
        return Effect.succeed(errorResponse(
          reason.reason === "BodyTooLarge"
            ? new ServerError({ reason: new PayloadTooLarge({ message: "the request body is over the server's limit" }) })
            : invalidRequest(reason.message)
        ))
      }
    }
    return Effect.as(
      Effect.logError("request failed", cause),
      errorResponse(new ServerError({ reason: new Internal({ message: "internal server error" }) }))
    )
  })

const encoder = new TextEncoder()

/** One SSE frame per JSON value. @internal */
export const sseFrames = (values: ReadonlyArray<unknown>): Uint8Array => {
  let text = ""
  for (const value of values) text += `data: ${JSON.stringify(value)}\n\n`
  return encoder.encode(text)
}

/** The end of an OpenAI stream. @internal */
export const sseDone: Uint8Array = encoder.encode("data: [DONE]\n\n")

/** Headers of an SSE response. @internal */
export const sseHeaders = { "cache-control": "no-cache", "x-accel-buffering": "no" } as const

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

/** An id such as `chatcmpl-...`. @internal */
export const newId = (prefix: string): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(20))
  let id = ""
  for (const byte of bytes) id += alphabet[byte % alphabet.length]
  return `${prefix}-${id}`
}

/** Seconds since the epoch, as OpenAI's `created`. @internal */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
