/**
 * Foreign failures -> effect/ai `AiError`, by table: HTTP statuses and provider error codes, `retry-after`
 * headers, transport failures, bodies that do not decode. Nothing a remote provider does ends as a defect.
 *
 * @internal
 */
import { Duration } from "effect"
import { AiError } from "effect/ai"
import type { HttpClientError } from "effect/http"

/** Where a failure happened, for messages and metadata. @internal */
export interface Site {
  /** The provider module, e.g. "OpenAiCompat"; also the metadata namespace. */
  readonly module: string
  readonly method: string
  readonly model?: string | undefined
}

/** The error fields a provider's error body may carry (OpenAI, Anthropic, Ollama, TEI shapes). @internal */
export interface ErrorBody {
  readonly message?: string | undefined
  readonly type?: string | undefined
  readonly code?: string | undefined
  readonly param?: string | undefined
}

/** An HTTP response that failed, as the mapping sees it. @internal */
export interface FailedResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly method: string
  readonly url: string
}

const maxBodyInError = 2000

/** Reads `{error:{message,type,code,param}}`, `{error:"..."}`, `{type:"error", error:{type,message}}`, `{error, error_type}`. @internal */
export const parseErrorBody = (body: string): ErrorBody => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return body.trim() === "" ? {} : { message: body.trim().slice(0, maxBodyInError) }
  }
  if (typeof json !== "object" || json === null) return {}
  const top = json as Record<string, unknown>
  const inner = typeof top.error === "object" && top.error !== null ? top.error as Record<string, unknown> : top
  const str = (value: unknown) =>
    typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined
  return {
    message: str(inner.message) ?? (typeof top.error === "string" ? top.error : undefined) ?? str(top.message),
    type: str(inner.type) ?? str(top.error_type),
    code: str(inner.code),
    param: str(inner.param)
  }
}

/**
 * The wait a response asks for: `retry-after-ms`, then `retry-after` in seconds or as an HTTP date.
 *
 * @internal
 */
export const retryAfterOf = (headers: Readonly<Record<string, string>>, now: number = Date.now()): Duration.Duration | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined) {
    const value = Number.parseFloat(ms)
    if (Number.isFinite(value) && value >= 0) return Duration.millis(value)
  }
  const after = headers["retry-after"]
  if (after === undefined) return undefined
  const seconds = Number(after.trim())
  if (after.trim() !== "" && Number.isFinite(seconds) && seconds >= 0) return Duration.millis(seconds * 1000)
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Duration.millis(Math.max(0, date - now))
}

type MakeReason = (info: {
  readonly status: number
  readonly error: ErrorBody
  readonly description: string
  readonly http: typeof AiError.HttpContext.Type
  readonly metadata: AiError.ProviderMetadata
  readonly retryAfter: Duration.Duration | undefined
  readonly site: Site
}) => AiError.AiErrorReason

const invalidRequest: MakeReason = ({ description, error, http, metadata }) =>
  new AiError.InvalidRequestError({ description, http, metadata, ...(error.param === undefined ? {} : { parameter: error.param }) })
const modelNotFound: MakeReason = ({ description, http, metadata, site }) =>
  new AiError.InvalidRequestError({
    parameter: "model",
    description: site.model === undefined ? description : `model '${site.model}' not found: ${description}`,
    http,
    metadata
  })
const authentication = (kind: "InvalidKey" | "InsufficientPermissions"): MakeReason => ({ description, http, metadata }) =>
  new AiError.AuthenticationError({ kind, description, http, metadata })
const providerError: MakeReason = ({ description, http, metadata }) =>
  new AiError.InternalProviderError({ description, http, metadata })
const rateLimit: MakeReason = ({ http, metadata, retryAfter }) =>
  new AiError.RateLimitError({ http, metadata, ...(retryAfter === undefined ? {} : { retryAfter }) })
const quota: MakeReason = ({ http, metadata }) => new AiError.QuotaExhaustedError({ http, metadata })
const unknown: MakeReason = ({ description, http, metadata }) => new AiError.UnknownError({ description, http, metadata })

// HTTP status -> reason. 408 (timeout), 5xx and Anthropic's 529 (overloaded) are worth retrying.
const byStatus: Readonly<Record<number, MakeReason>> = {
  400: invalidRequest,
  401: authentication("InvalidKey"),
  403: authentication("InsufficientPermissions"),
  404: modelNotFound,
  408: providerError,
  409: invalidRequest,
  413: invalidRequest,
  422: invalidRequest,
  424: providerError,
  429: rateLimit
}

// Provider error codes and types. A real HTTP status decides first (OpenAI sends a 401 with type
// "invalid_request_error"); only a 429 is refined by its code (a quota is not a rate limit). Errors reported
// inside a successful stream have no status of their own, so their code or type decides.
const byCode: Readonly<Record<string, MakeReason>> = {
  insufficient_quota: quota,
  billing_hard_limit_reached: quota,
  rate_limit_exceeded: rateLimit,
  rate_limit_error: rateLimit,
  overloaded_error: providerError,
  server_is_overloaded: providerError,
  api_error: providerError,
  server_error: providerError,
  authentication_error: authentication("InvalidKey"),
  permission_error: authentication("InsufficientPermissions"),
  invalid_request_error: invalidRequest,
  model_not_found: modelNotFound,
  not_found_error: modelNotFound
}

const codeReason = (error: ErrorBody): MakeReason | undefined =>
  (error.code !== undefined ? byCode[error.code] : undefined) ?? (error.type !== undefined ? byCode[error.type] : undefined)

const reasonFor = (status: number | undefined, error: ErrorBody): MakeReason => {
  if (status === undefined) return codeReason(error) ?? providerError
  if (status === 429) return codeReason(error) === quota ? quota : rateLimit
  return byStatus[status] ?? (status >= 500 ? providerError : status >= 400 ? invalidRequest : unknown)
}

const safeHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (name !== "set-cookie" && name !== "authorization" && name !== "x-api-key") out[name] = value
  }
  return out
}

/**
 * A failed HTTP response -> `AiError`. An `x-should-retry` header (OpenAI) overrides the status: `true` makes it
 * a retryable provider error, `false` a non-retryable one.
 *
 * @internal
 */
export const fromResponse = (
  site: Site,
  response: FailedResponse,
  errorBody?: ErrorBody,
  inStream = false
): AiError.AiError => {
  const error = errorBody ?? parseErrorBody(response.body)
  const requestId = response.headers["x-request-id"] ?? response.headers["request-id"]
  const description = AiError.buildErrorDescription({
    status: response.status,
    message: error.message,
    method: response.method,
    url: response.url,
    errorCode: error.code,
    errorType: error.type,
    requestId,
    body: undefined
  })
  const http = {
    response: { status: response.status, headers: safeHeaders(response.headers) },
    body: response.body.slice(0, maxBodyInError)
  }
  const metadata: AiError.ProviderMetadata = {
    [site.module]: {
      status: response.status,
      ...(error.code === undefined ? {} : { errorCode: error.code }),
      ...(error.type === undefined ? {} : { errorType: error.type }),
      ...(requestId === undefined ? {} : { requestId })
    }
  }
  const shouldRetry = response.headers["x-should-retry"]
  const make = shouldRetry === "true" ? providerError : shouldRetry === "false" && response.status >= 500 ? unknown : reasonFor(inStream ? undefined : response.status, error)
  const reason = make({
    status: response.status,
    error,
    description,
    http,
    metadata,
    retryAfter: retryAfterOf(response.headers),
    site
  })
  return AiError.make({ module: site.module, method: site.method, reason })
}

/**
 * An error the provider reports inside a successful response (an SSE `error` event, an NDJSON `{"error"}` line):
 * its code or type decides (an overload or an unknown one is a retryable provider error).
 *
 * @internal
 */
export const fromStreamError = (
  site: Site,
  request: { readonly method: string; readonly url: string; readonly status: number },
  error: ErrorBody
): AiError.AiError =>
  fromResponse(
    site,
    { status: request.status, headers: {}, body: JSON.stringify({ error }), method: request.method, url: request.url },
    error,
    true
  )

/** The HTTP client failed before or while reading a response. @internal */
export const fromHttpClientError = (site: Site, error: HttpClientError.HttpClientError): AiError.AiError => {
  const reason = error.reason
  switch (reason._tag) {
    case "TransportError":
    case "EncodeError":
    case "InvalidUrlError":
      return AiError.make({
        module: site.module,
        method: site.method,
        reason: AiError.NetworkError.fromHttpClientError(error as HttpClientError.HttpClientError & { readonly reason: typeof reason })
      })
    default: {
      // The body could not be read to its end: the connection was cut after the headers.
      const request = reason.request
      return AiError.make({
        module: site.module,
        method: site.method,
        reason: new AiError.NetworkError({
          reason: "TransportError",
          method: request.method,
          url: request.url,
          description: `the response body was cut off (${reason._tag}${reason.description ? `: ${reason.description}` : ""})`,
          cause: error
        })
      })
    }
  }
}

/** The stream ended in the middle of an event, or before its end marker. @internal */
export const streamCut = (site: Site, request: { readonly method: string; readonly url: string }, detail: string): AiError.AiError =>
  AiError.make({
    module: site.module,
    method: site.method,
    reason: new AiError.NetworkError({
      reason: "TransportError",
      method: request.method,
      url: request.url,
      description: `the response stream was cut: ${detail}`
    })
  })

/** A body or stream event that is not what the provider's format says. @internal */
export const malformed = (site: Site, description: string, body?: string): AiError.AiError =>
  AiError.make({
    module: site.module,
    method: site.method,
    reason: new AiError.InvalidResponseError({
      description,
      ...(body === undefined ? {} : { http: { body: body.slice(0, maxBodyInError) } })
    })
  })

/** A request the provider cannot express (an image for a text-only API, ...). @internal */
export const unsupported = (site: Site, description: string): AiError.AiError =>
  AiError.make({ module: site.module, method: site.method, reason: new AiError.InvalidUserInputError({ description }) })

/** A tool or output schema the provider's JSON Schema cannot express (a throw from the conversion). @internal */
export const schemaError = (site: Site) => (cause: unknown): AiError.AiError =>
  AiError.make({
    module: site.module,
    method: site.method,
    reason: new AiError.UnsupportedSchemaError({ description: cause instanceof Error ? cause.message : String(cause) })
  })
