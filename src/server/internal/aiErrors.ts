/**
 * AiError (what any effect/ai model fails with) -> ServerError, by table. Where the AiError carries the local
 * model's `LlamaError` (as its cause, or its reason's cause), that reason's own table entry wins: it knows a
 * context overflow from another invalid request. Adjust both tables here, nowhere else.
 *
 * @internal
 */
import { Duration } from "effect"
import type { AiError } from "effect/ai"
import type { LlamaError, LlamaErrorReason } from "../../llama/LlamaError.ts"
import * as ServerError from "../ServerError.ts"

type Make = (message: string, error: AiError.AiError) => ServerError.ServerErrorReason

const invalid = (message: string) => new ServerError.InvalidRequest({ message })
const internal = (message: string) => new ServerError.Internal({ message })
const overloaded = (message: string) => new ServerError.Overloaded({ message, retryAfterSeconds: 1 })
const retryAfter = (error: AiError.AiError) => {
  const after = error.retryAfter
  return after === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(Duration.toSeconds(after))) }
}

/** @internal */
export const aiReasonTable: Readonly<Record<AiError.AiErrorReason["_tag"], Make>> = {
  RateLimitError: (message, error) => new ServerError.RateLimited({ message, code: "rate_limit_exceeded", ...retryAfter(error) }),
  QuotaExhaustedError: (message) => new ServerError.RateLimited({ message, code: "insufficient_quota" }),
  AuthenticationError: internal, // the upstream rejected the gateway's own credentials: not the client's fault
  ContentPolicyError: (message) => new ServerError.InvalidRequest({ message, code: "content_policy_violation" }),
  InvalidRequestError: invalid,
  InvalidResponseError: internal,
  InternalProviderError: internal,
  NetworkError: internal,
  InvalidOutputError: internal,
  StructuredOutputError: internal,
  UnsupportedSchemaError: (message) => new ServerError.InvalidRequest({ message, param: "response_format" }),
  UnknownError: internal,
  ToolNotFoundError: internal,
  ToolParameterValidationError: internal,
  InvalidToolResultError: invalid,
  ToolResultEncodingError: invalid,
  ToolConfigurationError: invalid,
  ToolkitRequiredError: invalid,
  InvalidUserInputError: invalid
}

type MakeLocal = (message: string) => ServerError.ServerErrorReason

/** @internal */
export const llamaReasonTable: Readonly<Partial<Record<LlamaErrorReason["_tag"], MakeLocal>>> = {
  ContextOverflow: (message) => new ServerError.ContextLengthExceeded({ message }),
  InvalidSampling: invalid,
  GrammarError: (message) => new ServerError.InvalidRequest({ message, param: "response_format" }),
  TemplateError: (message) => new ServerError.InvalidRequest({ message, param: "messages" }),
  InvalidRequest: invalid,
  NoKvSlot: overloaded,
  Busy: overloaded
}

// What the native side says on an overflow, for an AiError that did not keep the LlamaError.
const overflowText = /the prompt has \d+ tokens; a sequence of this context holds/

const llamaReason = (error: unknown, depth = 0): { _tag: LlamaErrorReason["_tag"]; message: string } | undefined => {
  if (depth > 3 || typeof error !== "object" || error === null) return undefined
  const value = error as { _tag?: unknown; reason?: { _tag?: unknown; message?: unknown }; cause?: unknown }
  if (value._tag === "LlamaError" && typeof value.reason?._tag === "string") {
    return { _tag: value.reason._tag as LlamaErrorReason["_tag"], message: String(value.reason.message ?? "") }
  }
  return llamaReason(value.cause, depth + 1) ?? llamaReason(value.reason, depth + 1)
}

/** @internal */
export const fromAiError = (error: AiError.AiError): ServerError.ServerError => {
  const message = error.reason.message
  const local = llamaReason(error)
  const byLlama = local === undefined ? undefined : llamaReasonTable[local._tag]
  if (byLlama !== undefined) return new ServerError.ServerError({ reason: byLlama(local!.message) })
  if (overflowText.test(message)) return new ServerError.ServerError({ reason: new ServerError.ContextLengthExceeded({ message }) })
  return new ServerError.ServerError({ reason: aiReasonTable[error.reason._tag](message, error) })
}

/** A LlamaError from the local model used directly (tokenize, text completion): its table entry, else a 500. @internal */
export const fromLlamaError = (error: LlamaError): ServerError.ServerError => {
  const make = llamaReasonTable[error.reason._tag]
  return new ServerError.ServerError({ reason: (make ?? internal)(error.reason.message) })
}
