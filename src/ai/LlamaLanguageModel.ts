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
import type { LlamaError } from "../llama/LlamaError.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import type { Sampling } from "../llama/Sampling.ts"
import { Native } from "../native/Native.ts"
import type { AppliedChat, FinishReason } from "../native/NativeBinding.ts"
import { ChatParts, completeCalls, messageParts } from "./internal/ChatParts.ts"
import { toAiError } from "./internal/errors.ts"
import { closedJsonSchema, toMessages, toolChoiceOf, toTools } from "./internal/messages.ts"

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
  readonly sampling?: Sampling
  /** Default: until the model ends its turn or the sequence's share of the context is full. */
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  /** Let the model call several tools in one turn, where its template supports it. Default true. */
  readonly parallelToolCalls?: boolean
  /** For templates with a thinking mode. Default true. */
  readonly enableThinking?: boolean
  /** A Jinja chat template to use instead of the model's own. */
  readonly templateOverride?: string
}

/**
 * The per-call override of `Config`, read by every call.
 *
 * @category services
 * @since 0.1.0
 */
export const ConfigOverride = Context.Reference<Config>("effect-llama/LlamaLanguageModel/ConfigOverride", {
  defaultValue: () => ({})
})

/**
 * Runs `effect` with `overrides` merged over the model's configuration.
 *
 * @category configuration
 * @since 0.1.0
 */
export const withConfigOverride: {
  (overrides: Config): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, overrides: Config): Effect.Effect<A, E, R>
} = ((...args: Array<unknown>) => {
  if (args.length === 1) {
    const overrides = args[0] as Config
    return <A, E, R>(self: Effect.Effect<A, E, R>) => apply(self, overrides)
  }
  return apply(args[0] as Effect.Effect<unknown, unknown, unknown>, args[1] as Config)
}) as never

const apply = <A, E, R>(self: Effect.Effect<A, E, R>, overrides: Config): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const current = yield* ConfigOverride
    return yield* Effect.provideService(self, ConfigOverride, { ...current, ...overrides })
  })

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

const record = (options: LanguageModel.ProviderOptions, done: LlamaContext.Generation["done"]) =>
  Effect.gen(function*() {
    const { usage, timings } = done
    options.span.attribute("llama.prompt_tokens", usage.promptTokens)
    options.span.attribute("llama.cached_tokens", usage.cachedTokens)
    options.span.attribute("llama.completion_tokens", usage.completionTokens)
    options.span.attribute("llama.prefill_ms", timings.prefillMs)
    options.span.attribute("llama.generate_ms", timings.generateMs)
    yield* Metric.update(metrics.inputTokens, usage.promptTokens)
    yield* Metric.update(metrics.cachedTokens, usage.cachedTokens)
    yield* Metric.update(metrics.outputTokens, usage.completionTokens)
    yield* Metric.update(metrics.latency, Duration.millis(timings.prefillMs + timings.generateMs))
    if (timings.generateMs > 0 && usage.completionTokens > 1) {
      yield* Metric.update(metrics.tokensPerSecond, (usage.completionTokens - 1) / (timings.generateMs / 1000))
    }
  })

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

  // Prompt + tools -> template output -> a generation request with the template's grammar and stops.
  const prepare = (options: LanguageModel.ProviderOptions, method: string) =>
    Effect.gen(function*() {
      const settings = { ...config, ...(yield* ConfigOverride) }
      const messages = yield* toMessages(options.prompt)
      const tools = typeof options.toolChoice === "object" && "tool" in options.toolChoice
        ? options.tools.filter((t) => t.name === (options.toolChoice as { tool: string }).tool)
        : options.tools
      const choice = tools.length === 0 ? "auto" : toolChoiceOf(options.toolChoice)
      const offered = choice === "none" ? [] : tools
      // Structured output: the chat prompt, then a pure JSON grammar for the answer (no prefill of the template's
      // generation prompt, which some vocabularies cannot tokenize the way the template wrote it).
      const objectGrammar = options.responseFormat.type === "json"
        ? yield* model.jsonSchemaToGrammar(closedJsonSchema(options.responseFormat.schema)).pipe(
          Effect.mapError(toAiError(method))
        )
        : undefined
      const applied: AppliedChat = yield* model.applyChat({
        messages: JSON.stringify(messages),
        ...(offered.length === 0 ? {} : { tools: JSON.stringify(toTools(offered)), toolChoice: choice }),
        // A weak model may never leave the free text common/chat allows before a required call.
        forceToolCall: offered.length > 0 && choice === "required",
        parallelToolCalls: settings.parallelToolCalls ?? true,
        enableThinking: objectGrammar === undefined && (settings.enableThinking ?? true),
        ...(settings.templateOverride === undefined ? {} : { templateOverride: settings.templateOverride })
      }).pipe(Effect.mapError(toAiError(method)))
      if (offered.length > 0 && !applied.toolCalls.supported) {
        // never generate as if the tools were there: the template did not show them and nothing would parse a call
        return yield* AiError.make({
          module: "LlamaLanguageModel",
          method,
          reason: new AiError.InvalidRequestError({
            description: `this model's chat template (${applied.toolCalls.family}) has no tool-call format; ` +
              "set templateOverride to a tool-capable template (docs/tool-call-formats.md)"
          })
        })
      }
      const request: LlamaContext.GenerateRequest = {
        prompt: applied.prompt,
        ...(settings.sampling === undefined ? {} : { sampling: settings.sampling }),
        ...(objectGrammar !== undefined ? { grammar: { gbnf: objectGrammar, type: "user" as const } } : applied.grammar === "" ? {} : {
          grammar: {
            gbnf: applied.grammar,
            type: applied.grammarType === "none" ? "user" : applied.grammarType,
            lazy: applied.grammarLazy,
            triggers: applied.grammarTriggers,
            preservedTokens: applied.preservedTokens,
            generationPrompt: applied.generationPrompt
          }
        }),
        ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
        stop: [...applied.additionalStops, ...(settings.stop ?? [])]
      }
      options.span.attribute("llama.chat_format", applied.parser.formatName)
      return { applied, request }
    })

  const parse = (text: string, isPartial: boolean, applied: AppliedChat, method: string) =>
    model.parseChat(text, isPartial, applied.parser).pipe(Effect.mapError(toAiError(method)))

  // After a cut (token limit, abort) the text is parsed as partial, and a call left unfinished is dropped.
  const parseFinal = (text: string, reason: FinishReason, applied: AppliedChat, method: string) => {
    const cut = reason !== "eog" && reason !== "stop"
    return Effect.map(parse(text, cut, applied, method), (parsed) => (cut ? completeCalls(parsed) : parsed))
  }

  const generateText = (options: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const { applied, request } = yield* prepare(options, "generateText")
      const out = yield* context.generateText(request).pipe(Effect.mapError(toAiError("generateText")))
      const parsed = yield* parseFinal(out.text, out.done.reason, applied, "generateText")
      yield* record(options, out.done)
      const parts: Array<Response.PartEncoded> = [
        { type: "response-metadata", modelId, timestamp: new Date().toISOString() },
        ...messageParts(parsed, newCallId),
        { type: "finish", reason: finishReason(out.done.reason, parsed.toolCalls.length), usage: usageOf(out.done) }
      ]
      return parts
    })

  const streamText = (options: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.unwrap(Effect.gen(function*() {
      const { applied, request } = yield* prepare(options, "streamText")
      const assembler = new ChatParts(newCallId)
      let text = ""
      const head = Stream.make<Array<Response.StreamPartEncoded>>({ type: "response-metadata", modelId, timestamp: new Date().toISOString() })
      // One parse per chunk of events: when tokens arrive faster than they are consumed, they are parsed together.
      const body = context.generate(request).pipe(
        Stream.mapError(toAiError("streamText")),
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
            const parsed = yield* parseFinal(text, end.reason, applied, "streamText")
            yield* record(options, end)
            return [[
              ...assembler.finish(parsed),
              { type: "finish", reason: finishReason(end.reason, parsed.toolCalls.length), usage: usageOf(end) }
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
