/**
 * Anthropic's Messages API (`/v1/messages`) as effect/ai's `LanguageModel`: system prompts, text, images and
 * PDFs, tool_use / tool_result blocks, thinking blocks as reasoning, tools with `input_schema` and every
 * `tool_choice` (auto, any, tool, none), streaming with `input_json_delta` fragments joined per block, usage
 * with cache reads and writes, and generateObject through a forced tool call. An `error` event after the 200
 * (`overloaded_error`) fails the stream with a retryable `AiError`.
 *
 * @since 0.2.0
 */
import { makeConfigOverride, mergeConfig } from "../ai/internal/configOverride.ts"
import { Config as EffectConfig, Context, Effect, Layer, Option, Redacted, Stream } from "effect"
import { AiError, LanguageModel, Model, type Response } from "effect/ai"
import { HttpClient } from "effect/http"
import { eventDecoder, messageParts, toMessages, toToolChoice, toTools } from "./internal/anthropic.ts"
import { schemaError, type Site, streamCut } from "./internal/errors.ts"
import { closedJsonSchema, type Json } from "./internal/json.ts"
import { sse } from "./internal/streaming.ts"
import * as Transport from "./internal/transport.ts"

// ============================================================================
// Configuration
// ============================================================================

/**
 * Per-call settings: defaults in `Options.config`, per call with `withConfigOverride`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Config {
  /** Required by the API; default 4096. */
  readonly maxTokens?: number
  readonly temperature?: number
  readonly topP?: number
  readonly topK?: number
  readonly stopSequences?: ReadonlyArray<string>
  /** Extended thinking with this many budget tokens. */
  readonly thinkingBudget?: number
  readonly parallelToolCalls?: boolean
  /** More request fields, sent as given. */
  readonly extraBody?: Readonly<Record<string, unknown>>
}

/**
 * The server, the model and defaults.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  readonly model: string
  /** Default `https://api.anthropic.com/v1`. */
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** Default `2023-06-01`. */
  readonly version?: string | undefined
  /** `anthropic-beta` features. */
  readonly beta?: ReadonlyArray<string> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly config?: Config | undefined
}

const override = makeConfigOverride<Config>("effect-llama/Anthropic/ConfigOverride")

/**
 * The per-call override of `Config`.
 *
 * @category services
 * @since 0.2.0
 */
export const ConfigOverride: Context.Reference<Config> = override.reference

/**
 * Runs an Effect or a Stream with `overrides` merged over the model's configuration: object fields (`extraBody`)
 * merge key by key, lists (stop sequences) gain the override's entries, other fields are replaced.
 *
 * @category configuration
 * @since 0.2.0
 */
export const withConfigOverride = override.withConfigOverride

const module = "Anthropic"

// ============================================================================
// Constructor
// ============================================================================

/**
 * Builds the `LanguageModel`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function*(options: Options): Effect.fn.Return<
  LanguageModel.LanguageModel,
  never,
  HttpClient.HttpClient
> {
  const client = yield* HttpClient.HttpClient
  const headers: Record<string, string> = { "anthropic-version": options.version ?? "2023-06-01" }
  if (options.apiKey !== undefined) headers["x-api-key"] = Redacted.value(options.apiKey)
  if (options.beta !== undefined && options.beta.length > 0) headers["anthropic-beta"] = options.beta.join(",")
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value
  const endpoint: Transport.Endpoint = {
    client,
    baseUrl: Transport.trimBaseUrl(options.baseUrl ?? "https://api.anthropic.com/v1"),
    headers
  }

  const settings = Effect.gen(function*() {
    const current = yield* ConfigOverride
    return mergeConfig(options.config ?? {}, current) satisfies Config
  })

  // Structured output: one tool whose input schema is the object's, forced with tool_choice.
  const objectToolOf = (provider: LanguageModel.ProviderOptions) =>
    provider.responseFormat.type === "json" ? provider.responseFormat.objectName : undefined

  const body = (provider: LanguageModel.ProviderOptions, site: Site, config: Config, stream: boolean) =>
    Effect.gen(function*() {
      const converted = toMessages(site, provider.prompt)
      if (AiError.isAiError(converted)) return yield* Effect.fail(converted)
      const out: Json = {
        model: options.model,
        max_tokens: config.maxTokens ?? 4096,
        messages: converted.messages,
        ...(converted.system === undefined ? {} : { system: converted.system })
      }
      if (config.temperature !== undefined) out.temperature = config.temperature
      if (config.topP !== undefined) out.top_p = config.topP
      if (config.topK !== undefined) out.top_k = config.topK
      if (config.stopSequences !== undefined) out.stop_sequences = config.stopSequences
      if (config.thinkingBudget !== undefined) out.thinking = { type: "enabled", budget_tokens: config.thinkingBudget }
      if (provider.responseFormat.type === "json") {
        const { objectName, schema } = provider.responseFormat
        const inputSchema = yield* Effect.try({ try: () => closedJsonSchema(schema), catch: schemaError(site) })
        out.tools = [{ name: objectName, description: "Answer with this tool's input.", input_schema: inputSchema }]
        out.tool_choice = { type: "tool", name: objectName }
      } else if (provider.tools.length > 0) {
        const tools = provider.tools
        out.tools = yield* Effect.try({ try: () => toTools(tools), catch: schemaError(site) })
        out.tool_choice = toToolChoice(provider.toolChoice, config.parallelToolCalls)
      }
      if (stream) out.stream = true
      return { ...out, ...config.extraBody }
    })

  const generateText = (provider: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const site: Site = { module, method: "generateText", model: options.model }
      const config = yield* settings
      provider.span.attribute("gen_ai.system", "anthropic")
      provider.span.attribute("gen_ai.request.model", options.model)
      const json = yield* body(provider, site, config, false)
      const response = yield* Transport.json(endpoint, site, Transport.post(endpoint, "/messages", json))
      const parts = messageParts(site, response, objectToolOf(provider))
      if (AiError.isAiError(parts)) return yield* Effect.fail(parts)
      return parts
    })

  const streamText = (provider: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.unwrap(Effect.gen(function*() {
      const site: Site = { module, method: "streamText", model: options.model }
      const config = yield* settings
      provider.span.attribute("gen_ai.system", "anthropic")
      provider.span.attribute("gen_ai.request.model", options.model)
      const request = Transport.post(endpoint, "/messages", yield* body(provider, site, config, true))
      return Transport.stream(endpoint, site, request, (response) => {
        const where = { method: request.method, url: request.url, status: response.status }
        const cut = (detail: string) => streamCut(site, where, detail)
        return sse(eventDecoder(site, where, cut), cut)
      })
    }))

  return yield* LanguageModel.make({ generateText, streamText })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * The `LanguageModel` for `options`. Needs an `HttpClient`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/**
 * Like `layer`, with the key from `ANTHROPIC_API_KEY` and the base URL from `ANTHROPIC_BASE_URL` (optional).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseUrl"> & {
    readonly apiKey?: EffectConfig.Config<Redacted.Redacted<string>> | undefined
    readonly baseUrl?: EffectConfig.Config<string> | undefined
  }
): Layer.Layer<LanguageModel.LanguageModel, EffectConfig.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.gen(function*() {
      const apiKey = yield* EffectConfig.option(options.apiKey ?? EffectConfig.Redacted("ANTHROPIC_API_KEY"))
      const baseUrl = yield* EffectConfig.option(options.baseUrl ?? EffectConfig.String("ANTHROPIC_BASE_URL"))
      return yield* make({ ...options, apiKey: Option.getOrUndefined(apiKey), baseUrl: Option.getOrUndefined(baseUrl) })
    })
  )

/**
 * An effect/ai `Model` for `name`.
 *
 * @category layers
 * @since 0.2.0
 */
export const model = (
  name: string,
  options: Omit<Options, "model">
): Model.Model<"anthropic", LanguageModel.LanguageModel, HttpClient.HttpClient> =>
  Model.make("anthropic", name, layer({ ...options, model: name }))
