/**
 * Ollama's native chat API (`/api/chat`) as effect/ai's `LanguageModel`: NDJSON streaming, thinking as
 * reasoning, whole tool calls, structured output through `format` (a JSON Schema), `options` for sampling and
 * `keep_alive`. The base URL is yours to set (`OLLAMA_HOST` for `layerConfig`), not fixed to localhost.
 * Ollama has no `tool_choice`: `"none"` leaves the tools out, a named tool offers only that tool, and `"required"`
 * cannot be enforced. For Ollama's OpenAI-compatible `/v1` use `OpenAiCompat` with `OpenAiPresets.ollama`.
 *
 * @since 0.2.0
 */
import { makeConfigOverride, mergeConfig } from "../ai/internal/configOverride.ts"
import { Config as EffectConfig, Context, Effect, Layer, Option, Stream } from "effect"
import { AiError, LanguageModel, Model, type Response } from "effect/ai"
import { HttpClient } from "effect/http"
import { malformed, schemaError, type Site, streamCut } from "./internal/errors.ts"
import { closedJsonSchema, functionTools, type Json } from "./internal/json.ts"
import { lineDecoder, responseParts, toMessages } from "./internal/ollama.ts"
import { ndjson } from "./internal/streaming.ts"
import * as Transport from "./internal/transport.ts"

// ============================================================================
// Configuration
// ============================================================================

/**
 * Per-call settings; `options` holds any other of Ollama's model options (`num_ctx`, `repeat_penalty`, ...).
 *
 * @category models
 * @since 0.2.0
 */
export interface Config {
  readonly temperature?: number
  readonly topP?: number
  readonly topK?: number
  readonly seed?: number
  /** `num_predict`. */
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  /** Thinking for models that have it. */
  readonly think?: boolean
  /** How long the model stays loaded after the call, e.g. `"5m"`. */
  readonly keepAlive?: string
  readonly options?: Readonly<Record<string, unknown>>
}

/**
 * The server, the model and defaults.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  readonly model: string
  /** Default `http://localhost:11434`. */
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly config?: Config | undefined
}

const override = makeConfigOverride<Config>("effect-llama/Ollama/ConfigOverride")

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

/**
 * Ollama's default address.
 *
 * @category constants
 * @since 0.2.0
 */
export const defaultBaseUrl = "http://localhost:11434"

const module = "Ollama"

/** @internal */
export const endpointOf = (
  options: { readonly baseUrl?: string | undefined; readonly headers?: Readonly<Record<string, string>> | undefined },
  client: HttpClient.HttpClient
): Transport.Endpoint => ({
  client,
  baseUrl: Transport.trimBaseUrl(options.baseUrl ?? defaultBaseUrl),
  headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]))
})

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
  const endpoint = endpointOf(options, yield* HttpClient.HttpClient)
  const settings = Effect.gen(function*() {
    const current = yield* ConfigOverride
    return mergeConfig(options.config ?? {}, current) satisfies Config
  })

  const body = (provider: LanguageModel.ProviderOptions, site: Site, config: Config, stream: boolean) =>
    Effect.gen(function*() {
      const messages = toMessages(site, provider.prompt)
      if (AiError.isAiError(messages)) return yield* Effect.fail(messages)
      const modelOptions: Json = { ...config.options }
      if (config.temperature !== undefined) modelOptions.temperature = config.temperature
      if (config.topP !== undefined) modelOptions.top_p = config.topP
      if (config.topK !== undefined) modelOptions.top_k = config.topK
      if (config.seed !== undefined) modelOptions.seed = config.seed
      if (config.maxTokens !== undefined) modelOptions.num_predict = config.maxTokens
      if (config.stop !== undefined) modelOptions.stop = config.stop
      const out: Json = { model: options.model, messages, stream }
      if (Object.keys(modelOptions).length > 0) out.options = modelOptions
      if (config.think !== undefined) out.think = config.think
      if (config.keepAlive !== undefined) out.keep_alive = config.keepAlive
      const choice = provider.toolChoice
      if (provider.tools.length > 0 && choice !== "none") {
        const named = typeof choice === "object" && "tool" in choice ? choice.tool : undefined
        const tools = named === undefined ? provider.tools : provider.tools.filter((t) => t.name === named)
        out.tools = yield* Effect.try({ try: () => functionTools(tools), catch: schemaError(site) })
      }
      if (provider.responseFormat.type === "json") {
        const schema = provider.responseFormat.schema
        out.format = yield* Effect.try({ try: () => closedJsonSchema(schema), catch: schemaError(site) })
      }
      return out
    })

  const generateText = (provider: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const site: Site = { module, method: "generateText", model: options.model }
      const config = yield* settings
      provider.span.attribute("gen_ai.system", "ollama")
      provider.span.attribute("gen_ai.request.model", options.model)
      const json = yield* body(provider, site, config, false)
      const response = yield* Transport.json(endpoint, site, Transport.post(endpoint, "/api/chat", json))
      const parts = responseParts(site, response)
      if (AiError.isAiError(parts)) return yield* Effect.fail(parts)
      return parts
    })

  const streamText = (provider: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.unwrap(Effect.gen(function*() {
      const site: Site = { module, method: "streamText", model: options.model }
      const config = yield* settings
      provider.span.attribute("gen_ai.system", "ollama")
      provider.span.attribute("gen_ai.request.model", options.model)
      const request = Transport.post(endpoint, "/api/chat", yield* body(provider, site, config, true))
      return Transport.stream(endpoint, site, request, (response) => {
        const where = { method: request.method, url: request.url, status: response.status }
        const cut = (detail: string) => streamCut(site, where, detail)
        return ndjson(lineDecoder(site, where, cut), (line) => malformed(site, "a stream line is not JSON", line), cut)
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
 * Like `layer`, with the base URL from `OLLAMA_HOST` when set (`host:port` or a URL).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "baseUrl"> & { readonly baseUrl?: EffectConfig.Config<string> | undefined }
): Layer.Layer<LanguageModel.LanguageModel, EffectConfig.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.gen(function*() {
      const host = yield* EffectConfig.option(options.baseUrl ?? EffectConfig.String("OLLAMA_HOST"))
      return yield* make({ ...options, baseUrl: Option.getOrUndefined(Option.map(host, hostUrl)) })
    })
  )

/** `OLLAMA_HOST` may be `0.0.0.0:11434` or a URL. @internal */
export const hostUrl = (host: string): string => /^https?:\/\//.test(host) ? host : `http://${host}`

/**
 * An effect/ai `Model` for `name`.
 *
 * @category layers
 * @since 0.2.0
 */
export const model = (
  name: string,
  options: Omit<Options, "model">
): Model.Model<"ollama", LanguageModel.LanguageModel, HttpClient.HttpClient> =>
  Model.make("ollama", name, layer({ ...options, model: name }))
