/**
 * LlamaError -> AiError at the effect/ai boundary, by table, keeping `isRetryable` meaningful and the LlamaError
 * reachable: its reason tag and message ride in the AiError reason's `metadata` (`llamaReason`, `llamaMessage`),
 * and the LlamaError itself is the AiError's `cause`.
 *
 * @internal
 */
import { AiError } from "effect/ai"
import type { LlamaError, LlamaErrorReason } from "../../llama/LlamaError.ts"

type Metadata = { readonly llamaReason: string; readonly llamaMessage: string }
type Make = (description: string, metadata: Metadata) => AiError.AiErrorReason

const invalidRequest: Make = (description, metadata) => new AiError.InvalidRequestError({ description, metadata })
const internal: Make = (description, metadata) => new AiError.InternalProviderError({ description, metadata })
const unknown: Make = (description, metadata) => new AiError.UnknownError({ description, metadata })

/**
 * Which AiError reason each LlamaError reason becomes (docs/errors.md has the same table). InternalProviderError
 * is retryable in effect/ai, so only the retryable llama reasons map to it: `isRetryable` agrees on both sides.
 *
 * @internal
 */
export const aiReasonByLlamaReason: Readonly<Record<LlamaErrorReason["_tag"], Make>> = {
  ModelNotFound: invalidRequest,
  InvalidModelFile: invalidRequest,
  ModelLoadFailed: unknown,
  ContextCreateFailed: unknown,
  VocabOnly: invalidRequest,
  ContextOverflow: invalidRequest,
  NoKvSlot: internal,
  ComputeError: internal,
  InvalidSampling: invalidRequest,
  SamplingFailed: unknown,
  GrammarError: invalidRequest,
  TemplateError: invalidRequest,
  ParseError: unknown,
  InvalidRequest: invalidRequest,
  Busy: internal,
  Disposed: unknown,
  AddonUnavailable: unknown,
  InternalError: unknown,
  InvalidState: invalidRequest,
  StateMismatch: invalidRequest,
  AdapterError: invalidRequest,
  VisionUnsupported: invalidRequest,
  InvalidMedia: invalidRequest
}

/**
 * The AiError for a LlamaError raised by `module.method`. Its message names the method once, then the reason.
 *
 * @internal
 */
export const toAiError = (module: string, method: string) => (error: LlamaError): AiError.AiError => {
  const { _tag, message } = error.reason
  const aiError = AiError.make({
    module,
    method,
    reason: aiReasonByLlamaReason[_tag](message, { llamaReason: _tag, llamaMessage: message })
  })
  Object.defineProperty(aiError, "cause", { value: error, enumerable: false, configurable: true, writable: true })
  return aiError
}
