/**
 * The one error of effect-llama's local inference: `LlamaError { module, method, reason }`, where `reason` is a
 * tagged union saying what went wrong (a missing model file, an invalid sampling value, a full context...).
 * Each reason knows whether retrying can help (`isRetryable`). Interruption is never a `LlamaError`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const reasonFields = { message: Schema.String }

/**
 * The model path does not exist.
 *
 * @category errors
 * @since 0.1.0
 */
export class ModelNotFound extends Schema.TaggedClass<ModelNotFound>()("ModelNotFound", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The path is not a GGUF model file (a directory, another format, bad magic).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidModelFile extends Schema.TaggedClass<InvalidModelFile>()("InvalidModelFile", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * llama.cpp could not load the model (truncated or inconsistent file, unsupported architecture, out of memory).
 *
 * @category errors
 * @since 0.1.0
 */
export class ModelLoadFailed extends Schema.TaggedClass<ModelLoadFailed>()("ModelLoadFailed", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The context could not be created (usually out of memory for the asked size).
 *
 * @category errors
 * @since 0.1.0
 */
export class ContextCreateFailed extends Schema.TaggedClass<ContextCreateFailed>()("ContextCreateFailed", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The model was loaded vocab-only: it tokenizes and templates, but has no weights to run.
 *
 * @category errors
 * @since 0.1.0
 */
export class VocabOnly extends Schema.TaggedClass<VocabOnly>()("VocabOnly", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The prompt (or an embedding input) does not fit the context or batch.
 *
 * @category errors
 * @since 0.1.0
 */
export class ContextOverflow extends Schema.TaggedClass<ContextOverflow>()("ContextOverflow", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * llama.cpp found no KV cache slot for a batch: the context is full right now; it may free up.
 *
 * @category errors
 * @since 0.1.0
 */
export class NoKvSlot extends Schema.TaggedClass<NoKvSlot>()("NoKvSlot", reasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * A decode failed inside llama.cpp (an invalid batch or a backend compute error).
 *
 * @category errors
 * @since 0.1.0
 */
export class ComputeError extends Schema.TaggedClass<ComputeError>()("ComputeError", reasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * A sampling option is out of range or inconsistent; nothing was run.
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidSampling extends Schema.TaggedClass<InvalidSampling>()("InvalidSampling", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * Sampling broke mid-generation (for example a grammar that allows nothing the model may emit).
 *
 * @category errors
 * @since 0.1.0
 */
export class SamplingFailed extends Schema.TaggedClass<SamplingFailed>()("SamplingFailed", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A grammar or JSON Schema could not be turned into a working grammar.
 *
 * @category errors
 * @since 0.1.0
 */
export class GrammarError extends Schema.TaggedClass<GrammarError>()("GrammarError", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The chat template failed to render these messages and tools.
 *
 * @category errors
 * @since 0.1.0
 */
export class TemplateError extends Schema.TaggedClass<TemplateError>()("TemplateError", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * Generated text could not be parsed as the chat format's message.
 *
 * @category errors
 * @since 0.1.0
 */
export class ParseError extends Schema.TaggedClass<ParseError>()("ParseError", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A request argument is invalid (a wrong type, an unknown sequence, an empty prompt...).
 *
 * @category errors
 * @since 0.1.0
 */
export class InvalidRequest extends Schema.TaggedClass<InvalidRequest>()("InvalidRequest", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The sequence is already generating; wait for it (the services' sequence pool makes this rare).
 *
 * @category errors
 * @since 0.1.0
 */
export class Busy extends Schema.TaggedClass<Busy>()("Busy", reasonFields) {
  get isRetryable(): boolean {
    return true
  }
}

/**
 * The model or context was already disposed.
 *
 * @category errors
 * @since 0.1.0
 */
export class Disposed extends Schema.TaggedClass<Disposed>()("Disposed", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The native addon is missing or could not be loaded; the message says how to build it.
 *
 * @category errors
 * @since 0.1.0
 */
export class AddonUnavailable extends Schema.TaggedClass<AddonUnavailable>()("AddonUnavailable", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * An invariant inside llama.cpp failed on this request; the context goes on serving others.
 *
 * @category errors
 * @since 0.1.0
 */
export class InternalError extends Schema.TaggedClass<InternalError>()("InternalError", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A saved KV state could not be read: not a state, damaged (its checksum fails), or from another version.
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidState extends Schema.TaggedClass<InvalidState>()("InvalidState", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A saved KV state does not fit this context: saved from another model, with another KV cache type or layout, or
 * longer than a sequence of this context holds.
 *
 * @category errors
 * @since 0.2.0
 */
export class StateMismatch extends Schema.TaggedClass<StateMismatch>()("StateMismatch", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * A LoRA adapter could not be loaded (a missing file, not a LoRA GGUF, made for another base model), or a request
 * named an adapter that is not loaded for this model.
 *
 * @category errors
 * @since 0.2.0
 */
export class AdapterError extends Schema.TaggedClass<AdapterError>()("AdapterError", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * The request holds images and the model was loaded without a vision projector (or the projector failed to load).
 *
 * @category errors
 * @since 0.2.0
 */
export class VisionUnsupported extends Schema.TaggedClass<VisionUnsupported>()("VisionUnsupported", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * An image could not be decoded or encoded for the model (an unknown format, a damaged file).
 *
 * @category errors
 * @since 0.2.0
 */
export class InvalidMedia extends Schema.TaggedClass<InvalidMedia>()("InvalidMedia", reasonFields) {
  get isRetryable(): boolean {
    return false
  }
}

/**
 * Every reason a `LlamaError` may carry.
 *
 * @category errors
 * @since 0.1.0
 */
export const LlamaErrorReason = Schema.Union([
  ModelNotFound,
  InvalidModelFile,
  ModelLoadFailed,
  ContextCreateFailed,
  VocabOnly,
  ContextOverflow,
  NoKvSlot,
  ComputeError,
  InvalidSampling,
  SamplingFailed,
  GrammarError,
  TemplateError,
  ParseError,
  InvalidRequest,
  Busy,
  Disposed,
  AddonUnavailable,
  InternalError,
  InvalidState,
  StateMismatch,
  AdapterError,
  VisionUnsupported,
  InvalidMedia
])

/**
 * @category errors
 * @since 0.1.0
 */
export type LlamaErrorReason = typeof LlamaErrorReason.Type

/**
 * A failure of local inference: which service and method, and the typed reason.
 *
 * **Details** Handle a single reason with `Effect.catchReason("LlamaError", "ContextOverflow", ...)`.
 *
 * @category errors
 * @since 0.1.0
 */
export class LlamaError extends Schema.TaggedError<LlamaError>()("LlamaError", {
  module: Schema.String,
  method: Schema.String,
  reason: LlamaErrorReason
}) {
  get isRetryable(): boolean {
    return this.reason.isRetryable
  }

  override get message(): string {
    return `${this.module}.${this.method}: ${this.reason.message}`
  }
}
