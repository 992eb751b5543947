/**
 * LlamaError -> AiError at the effect/ai boundary, by table, keeping `isRetryable` meaningful.
 *
 * @internal
 */
import { AiError } from "effect/ai"
import type { LlamaError, LlamaErrorReason } from "../../llama/LlamaError.ts"

type Make = (message: string) => AiError.AiErrorReason

const invalidRequest: Make = (description) => new AiError.InvalidRequestError({ description })
const internal: Make = (description) => new AiError.InternalProviderError({ description })
const unknown: Make = (description) => new AiError.UnknownError({ description })

const table: Readonly<Record<LlamaErrorReason["_tag"], Make>> = {
  ModelNotFound: invalidRequest,
  InvalidModelFile: invalidRequest,
  ModelLoadFailed: internal,
  ContextCreateFailed: internal,
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
  AddonUnavailable: internal,
  InternalError: unknown
}

/** @internal */
export const toAiError = (method: string) => (error: LlamaError): AiError.AiError =>
  AiError.make({ module: "LlamaLanguageModel", method, reason: table[error.reason._tag](error.message) })
