/**
 * Native error codes (addon/errors.h) -> `LlamaError` reasons, by table. An unknown code is a bug: a defect.
 *
 * @internal
 */
import { Cause, Effect } from "effect"
import type { NativeError } from "../../native/NativeError.ts"
import * as LlamaError from "../LlamaError.ts"

type Reason = LlamaError.LlamaErrorReason

/** @internal */
export const reasonByCode: Readonly<Record<string, (message: string) => Reason>> = {
  INVALID_ARGUMENT: (message) => new LlamaError.InvalidRequest({ message }),
  MODEL_NOT_FOUND: (message) => new LlamaError.ModelNotFound({ message }),
  MODEL_NOT_A_FILE: (message) => new LlamaError.InvalidModelFile({ message }),
  INVALID_MODEL_FILE: (message) => new LlamaError.InvalidModelFile({ message }),
  MODEL_LOAD_FAILED: (message) => new LlamaError.ModelLoadFailed({ message }),
  CONTEXT_CREATE_FAILED: (message) => new LlamaError.ContextCreateFailed({ message }),
  VOCAB_ONLY: (message) => new LlamaError.VocabOnly({ message }),
  CONTEXT_OVERFLOW: (message) => new LlamaError.ContextOverflow({ message }),
  LLAMA_DECODE_NO_KV_SLOT: (message) => new LlamaError.NoKvSlot({ message }),
  LLAMA_DECODE_INVALID_BATCH: (message) => new LlamaError.ComputeError({ message }),
  LLAMA_DECODE_COMPUTE_ERROR: (message) => new LlamaError.ComputeError({ message }),
  INVALID_SAMPLING: (message) => new LlamaError.InvalidSampling({ message }),
  SAMPLING_ERROR: (message) => new LlamaError.SamplingFailed({ message }),
  GRAMMAR_ERROR: (message) => new LlamaError.GrammarError({ message }),
  TEMPLATE_ERROR: (message) => new LlamaError.TemplateError({ message }),
  PARSE_ERROR: (message) => new LlamaError.ParseError({ message }),
  SEQUENCE_BUSY: (message) => new LlamaError.Busy({ message }),
  NOT_EMBEDDING_CONTEXT: (message) => new LlamaError.InvalidRequest({ message }),
  DISPOSED: (message) => new LlamaError.Disposed({ message }),
  INTERNAL: (message) => new LlamaError.InternalError({ message }),
  LORA_NOT_FOUND: (message) => new LlamaError.AdapterError({ message }),
  LORA_LOAD_FAILED: (message) => new LlamaError.AdapterError({ message }),
  STATE_INVALID: (message) => new LlamaError.InvalidState({ message }),
  STATE_MISMATCH: (message) => new LlamaError.StateMismatch({ message }),
  NO_PROJECTOR: (message) => new LlamaError.VisionUnsupported({ message }),
  PROJECTOR_LOAD_FAILED: (message) => new LlamaError.VisionUnsupported({ message }),
  INVALID_MEDIA: (message) => new LlamaError.InvalidMedia({ message }),
  NOT_RANK_CONTEXT: (message) => new LlamaError.InvalidRequest({ message })
}

// Codes that mean "stopped on request": interruption, never a failure.
const interruptions = new Set(["ABORTED", "MODEL_LOAD_ABORTED"])

/**
 * Maps a native error to a `LlamaError` failure; aborts become interruption, unknown codes a defect.
 *
 * @internal
 */
export const fromNative = (module: string, method: string) => (error: NativeError): Effect.Effect<never, LlamaError.LlamaError> => {
  if (interruptions.has(error.code)) return Effect.interrupt
  const reason = reasonByCode[error.code]
  if (reason === undefined) {
    return Effect.die(new Cause.UnknownError(error, `unknown native error code ${error.code}: ${error.message}`))
  }
  return Effect.fail(new LlamaError.LlamaError({ module, method, reason: reason(withoutMethodPrefix(error.message, method)) }))
}

// The addon names its method ("Model.applyChat: ..."); the LlamaError names it already: say it once.
const withoutMethodPrefix = (message: string, method: string): string =>
  message.replace(new RegExp(`^(?:\\w+\\.)?${method.replace(/[^\w]/g, "")}: `), "")
