/**
 * The local llama.cpp model as an effect/ai `LanguageModel`: any program written against `LanguageModel`
 * (generateText, streamText, generateObject, Chat, Toolkit) runs on a local GGUF model by providing one Layer.
 * Chat templates, tool-call formats and grammars come from llama.cpp's common library; tool calls are
 * grammar-constrained to the offered tools and their parameter schemas.
 *
 * @since 0.1.0
 */
import { Array as Arr, Context, Duration, Effect, Layer, Metric, Stream } from "effect"
import { AiError, LanguageModel, Model, type Response } from "effect/ai"
import * as LlamaContext from "../llama/LlamaContext.ts"
import { LlamaError } from "../llama/LlamaError.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import type { Sampling } from "../llama/Sampling.ts"
import { Native } from "../native/Native.ts"
import type { AppliedChat, FinishReason } from "../native/NativeBinding.ts"
import { ChatParts, completeCalls, messageParts } from "./internal/ChatParts.ts"
import { makeConfigOverride, mergeConfig as mergeConfigs } from "./internal/configOverride.ts"
import { toAiError } from "./internal/errors.ts"
import { prepare } from "./internal/prepare.ts"

// ============================================================================
// Configuration
// ============================================================================

/**
 * Per-call generation settings. Set defaults with `make`/`layer`, override per call with `withConfigOverride`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Config {
  /** Merged field by field over the layer's sampling: an override of `seed` keeps the layer's `temperature`. */
  readonly sampling?: Sampling
  /** A positive integer. Default: until the model ends its turn or the sequence's share of the context is full. */
  readonly maxTokens?: number
  /** Stop strings. An override adds its stops to the layer's; it does not remove them. */
  readonly stop?: ReadonlyArray<string>
  /** Let the model call several tools in one turn, where its template supports it. Default true. */
  readonly parallelToolCalls?: boolean
  /** For templates with a thinking mode. Default true. */
  readonly enableThinking?: boolean
  /** A Jinja chat template to use instead of the model's own. */
  readonly templateOverride?: string
  /**
   * Let control-token text in message contents and tool results (`<|im_end|>`, `<|im_start|>`) become control
   * tokens. Default false: contents are tokenized as plain text, so untrusted input cannot end its turn or write
   * a system turn or a tool call; only the template's own markup yields control tokens.
   */
  readonly allowSpecialTokensInContent?: boolean
}

/**
 * `override` over `base`: `sampling` merged field by field, `stop` strings added, the other fields replaced.
 *
 * @category configuration
 * @since 0.2.0
 */
export const mergeConfig: (base: Config, override: Config) => Config = mergeConfigs

const override = makeConfigOverride<Config>("effect-llama/LlamaLanguageModel/ConfigOverride")

/**
 * The per-call override of `Config`, read by every call.
 *
 * @category services
 * @since 0.1.0
 */
export const ConfigOverride: Context.Reference<Config> = override.reference

/**
 * Runs an Effect or a Stream (such as `LanguageModel.streamText(...)`) with `overrides` merged over the model's
 * configuration (see `mergeConfig`); nested overrides merge the same way, the inner one last.
 *
 * @category configuration
 * @since 0.1.0
 */
export const withConfigOverride = override.withConfigOverride

/**
 * The `LlamaError` behind an `AiError` from this provider (or `LlamaEmbeddingModel`), if there is one. Its reason
 * tag is also in the AiError reason's `metadata.llamaReason`, for `Effect.catchReason` handlers.
 *
 * @category error handling
 * @since 0.2.0
 */
export const llamaErrorOf = (error: AiError.AiError): LlamaError | undefined => {
  const cause = (error as { readonly cause?: unknown }).cause
  return cause instanceof LlamaError ? cause : undefined
}

// ============================================================================
// Metrics
// ============================================================================

/**
 * Metrics of local generation: token counts, latency and output speed.
 *
 * @category metrics
 * @since 0.1.0
 */
export const metrics = {
  inputTokens: Metric.counter("llama_input_tokens_total", { description: "prompt tokens (cached ones included)" }),
  cachedTokens: Metric.counter("llama_cached_tokens_total", { description: "prompt tokens reused from the KV cache" }),
  outputTokens: Metric.counter("llama_output_tokens_total", { description: "generated tokens" }),
  latency: Metric.timer("llama_request_latency", { description: "prefill + generation time per request" }),
  tokensPerSecond: Metric.histogram("llama_output_tokens_per_second", {
    description: "generation speed per request",
    boundaries: Metric.exponentialBoundaries({ start: 1, factor: 2, count: 12 })
  })
}

// ============================================================================
// Constructor
// ============================================================================

const finishReason = (reason: FinishReason, toolCalls: number): Response.FinishReason =>
  toolCalls > 0 ? "tool-calls" : reason === "length" ? "length" : reason === "abort" ? "other" : "stop"

const usageOf = (done: LlamaContext.Generation["done"]) => ({
  inputTokens: {
    total: done.usage.promptTokens,
    cacheRead: done.usage.cachedTokens,
    uncached: done.usage.promptTokens - done.usage.cachedTokens
  },
  outputTokens: { total: done.usage.completionTokens }
})

// What the finish part carries beyond effect/ai's usage: image tokens (counted in inputTokens) and drafting.
const finishMetadata = (done: LlamaContext.Generation["done"]) => ({
  "llama.cpp": {
    imageTokens: done.usage.imageTokens,
    ...(done.speculative === undefined ? {} : { speculative: { ...done.speculative } })
  }
})

const record = (options: LanguageModel.ProviderOptions, done: LlamaContext.Generation["done"]) =>
  Effect.gen(function*() {
    const { usage, timings } = done
    options.span.attribute("llama.prompt_tokens", usage.promptTokens)
    options.span.attribute("llama.cached_tokens", usage.cachedTokens)
    options.span.attribute("llama.completion_tokens", usage.completionTokens)
    options.span.attribute("llama.prefill_ms", timings.prefillMs)
    options.span.attribute("llama.generate_ms", timings.generateMs)
    if (usage.imageTokens > 0) options.span.attribute("llama.image_tokens", usage.imageTokens)
    if (done.speculative !== undefined) options.span.attribute("llama.acceptance_rate", done.speculative.acceptanceRate)
    yield* Metric.update(metrics.inputTokens, usage.promptTokens)
    yield* Metric.update(metrics.cachedTokens, usage.cachedTokens)
    yield* Metric.update(metrics.outputTokens, usage.completionTokens)
    yield* Metric.update(metrics.latency, Duration.millis(timings.prefillMs + timings.generateMs))
    if (timings.generateMs > 0 && usage.completionTokens > 1) {
      yield* Metric.update(metrics.tokensPerSecond, (usage.completionTokens - 1) / (timings.generateMs / 1000))
    }
  })

// Structured output cut at the token limit is not valid JSON: say so, rather than let decoding fail obscurely.
const checkNotTruncated = (
  options: LanguageModel.ProviderOptions,
  text: string,
  done: LlamaContext.Generation["done"],
  method: string
): Effect.Effect<void, AiError.AiError> =>
  options.responseFormat.type !== "json" || done.reason !== "length" ? Effect.void : Effect.fail(AiError.make({
    module: "LlamaLanguageModel",
    method,
    reason: new AiError.StructuredOutputError({
      description: `the output was cut off at the token limit after ${done.usage.completionTokens} tokens, before ` +
        "the JSON was complete (finish reason: length); raise maxTokens, or bound the schema's strings and arrays " +
        "(maxLength, maxItems) so the answer fits",
      responseText: text,
      metadata: { finishReason: "length", truncated: true },
      usage: { promptTokens: done.usage.promptTokens, completionTokens: done.usage.completionTokens }
    })
  }))

let callCounter = 0
const newCallId = () => `call_${Date.now().toString(36)}_${(++callCounter).toString(36)}`

/**
 * Builds the `LanguageModel` over the `LlamaModel` and `LlamaContext` in context.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(config: Config = {}): Effect.fn.Return<
  LanguageModel.LanguageModel,
  never,
  LlamaModel.LlamaModel | LlamaContext.LlamaContext
> {
  const model = yield* LlamaModel.LlamaModel
  const context = yield* LlamaContext.LlamaContext
  const modelId = model.info.name !== "" ? model.info.name : model.info.path

  const settingsNow = Effect.map(Effect.service(ConfigOverride), (override) => mergeConfig(config, override))
  const onError = (method: string) => toAiError("LlamaLanguageModel", method)

  const parse = (text: string, isPartial: boolean, applied: AppliedChat, method: string) =>
    model.parseChat(text, isPartial, applied.parser).pipe(Effect.mapError(onError(method)))

  // After a cut (token limit, abort) the text is parsed as partial, and a call left unfinished is dropped.
  const parseFinal = (text: string, reason: FinishReason, applied: AppliedChat, method: string) => {
    const cut = reason !== "eog" && reason !== "stop"
    return Effect.map(parse(text, cut, applied, method), (parsed) => (cut ? completeCalls(parsed) : parsed))
  }

  const generateText = (options: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const { applied, request } = yield* prepare(model, yield* settingsNow, options, "generateText")
      const out = yield* context.generateText(request).pipe(Effect.mapError(onError("generateText")))
      yield* checkNotTruncated(options, out.text, out.done, "generateText")
      const parsed = yield* parseFinal(out.text, out.done.reason, applied, "generateText")
      yield* record(options, out.done)
      const parts: Array<Response.PartEncoded> = [
        { type: "response-metadata", modelId, timestamp: new Date().toISOString() },
        ...messageParts(parsed, newCallId),
        {
          type: "finish",
          reason: finishReason(out.done.reason, parsed.toolCalls.length),
          usage: usageOf(out.done),
          metadata: finishMetadata(out.done)
        }
      ]
      return parts
    })

  const streamText = (options: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.unwrap(Effect.gen(function*() {
      const { applied, request } = yield* prepare(model, yield* settingsNow, options, "streamText")
      const assembler = new ChatParts(newCallId)
      let text = ""
      const head = Stream.make<Array<Response.StreamPartEncoded>>({ type: "response-metadata", modelId, timestamp: new Date().toISOString() })
      // One parse per chunk of events: when tokens arrive faster than they are consumed, they are parsed together.
      const body = context.generate(request).pipe(
        Stream.mapError(onError("streamText")),
        Stream.mapArrayEffect((events): Effect.Effect<Arr.NonEmptyReadonlyArray<ReadonlyArray<Response.StreamPartEncoded>>, AiError.AiError> => {
          const before = text.length
          let done: Extract<LlamaContext.GenerationEvent, { type: "done" }> | undefined
          for (const event of events) {
            text += event.text
            if (event.type === "done") done = event
          }
          if (done === undefined) {
            return text.length === before
              ? Effect.succeed([[]])
              : Effect.map(parse(text, true, applied, "streamText"), (parsed) => [assembler.update(parsed)])
          }
          const end = done
          return Effect.gen(function*() {
            yield* checkNotTruncated(options, text, end, "streamText")
            const parsed = yield* parseFinal(text, end.reason, applied, "streamText")
            yield* record(options, end)
            return [[
              ...assembler.finish(parsed),
              {
                type: "finish",
                reason: finishReason(end.reason, parsed.toolCalls.length),
                usage: usageOf(end),
                metadata: finishMetadata(end)
              }
            ]]
          })
        }),
        Stream.filter(Arr.isReadonlyArrayNonEmpty),
        Stream.flattenArray
      )
      return Stream.concat(head, body)
    }))

  return yield* LanguageModel.make({ generateText, streamText })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * The `LanguageModel` over a `LlamaModel` and `LlamaContext` you provide.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (config: Config = {}): Layer.Layer<
  LanguageModel.LanguageModel,
  never,
  LlamaModel.LlamaModel | LlamaContext.LlamaContext
> => Layer.effect(LanguageModel.LanguageModel, make(config))

/**
 * Everything in one layer: loads the GGUF at `path`, creates a context, and provides `LanguageModel` (plus the
 * `LlamaModel` and `LlamaContext` services). Needs the native addon (`Native.layer`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerModel = (options: {
  readonly path: string
  readonly model?: Omit<LlamaModel.Options, "path">
  readonly context?: LlamaContext.Options
  readonly config?: Config
}): Layer.Layer<LanguageModel.LanguageModel | LlamaModel.LlamaModel | LlamaContext.LlamaContext, LlamaError, Native> =>
  layer(options.config ?? {}).pipe(
    Layer.provideMerge(LlamaContext.layer(options.context ?? {})),
    Layer.provideMerge(LlamaModel.layer({ ...options.model, path: options.path }))
  )

/**
 * An effect/ai `Model` for a local GGUF file, like the official providers' `model(...)`: provide it to run any
 * `LanguageModel` program on that file. `name` is the model id reported in responses and spans.
 *
 * **Gotchas** `Model` layers cannot fail, so a load failure (missing file, bad GGUF) is a defect here; use
 * `layerModel` to handle it as a typed `LlamaError`.
 *
 * @category layers
 * @since 0.1.0
 */
export const model = (
  name: string,
  options: Parameters<typeof layerModel>[0]
): Model.Model<"llama.cpp", LanguageModel.LanguageModel | LlamaModel.LlamaModel | LlamaContext.LlamaContext, Native> =>
  Model.make("llama.cpp", name, layerModel(options).pipe(Layer.orDie))
