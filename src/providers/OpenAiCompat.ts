/**
 * Any OpenAI-compatible server (`/v1/chat/completions`, `/v1/models`) as effect/ai's `LanguageModel`: OpenAI
 * itself, Ollama's `/v1`, llama-server, vLLM, LM Studio, OpenRouter, DeepSeek, Mistral, xAI, Together, Fireworks,
 * Groq, Gemini's OpenAI endpoint and Azure OpenAI (see `OpenAiPresets`). generateText, streamText (SSE,
 * tool-call fragments joined per index, usage at the end, `reasoning_content` as reasoning), tools with every
 * `toolChoice`, and generateObject through `response_format: json_schema` (strict) with a `json_object` fallback
 * for servers that reject it. Every failure is an `AiError` whose reason says whether a retry can help.
 *
 * @since 0.2.0
 */
import { makeConfigOverride, mergeConfig } from "../ai/internal/configOverride.ts"
import { Config as EffectConfig, Context, Effect, Layer, Option, Redacted, Stream } from "effect"
import { AiError, LanguageModel, Model, OpenAiStructuredOutput, type Response } from "effect/ai"
import { HttpClient } from "effect/http"
import { type Connection as ConnectionShape, defaultBaseUrl, endpointOf } from "./internal/connection.ts"
import { schemaError, type Site, streamCut } from "./internal/errors.ts"
import { closedJsonSchema, functionTools, isObject, type Json, stringOf } from "./internal/json.ts"
import { chunkDecoder, completionParts, toMessages, toToolChoice } from "./internal/openai.ts"
import { sse } from "./internal/streaming.ts"
import * as Transport from "./internal/transport.ts"
import type { Preset } from "./OpenAiPresets.ts"

// ============================================================================
// Configuration
// ============================================================================

/**
 * Where the server is and how to authenticate.
 *
 * @category models
 * @since 0.2.0
 */
export type Connection = ConnectionShape

/**
 * Per-call generation settings: defaults in `Options.config`, per call with `withConfigOverride`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Config {
  readonly temperature?: number
  readonly topP?: number
  readonly maxTokens?: number
  readonly seed?: number
  readonly stop?: ReadonlyArray<string>
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  /** Token id (as a string) -> bias from -100 to 100. */
  readonly logitBias?: Readonly<Record<string, number>>
  readonly parallelToolCalls?: boolean
  readonly reasoningEffort?: "minimal" | "low" | "medium" | "high"
  readonly user?: string
  /** More request fields, sent as given: server-specific settings such as llama-server's `top_k` or `cache_prompt`. */
  readonly extraBody?: Readonly<Record<string, unknown>>
}

/**
 * Everything `make` needs: the server (a preset's fields or your own), the model, and defaults.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options extends Connection {
  readonly model: string
  /** Name used in errors, metadata and spans. Default `"OpenAiCompat"`. */
  readonly name?: string | undefined
  /**
   * How generateObject asks for JSON: `json_schema` (default) or `json_object` for servers that lack it. A
   * server that rejects `json_schema` with a 400 is asked again with `json_object`, and from then on.
   */
  readonly structuredOutput?: "json_schema" | "json_object" | undefined
  /** Send `strict: true` with the JSON Schema, rewritten to OpenAI's strict subset. Default true. */
  readonly strictJsonSchema?: boolean | undefined
  /** Whether the server understands `tool_choice` (Ollama's `/v1` does not). Default true. */
  readonly toolChoice?: boolean | undefined
  /**
   * Whether `tool_choice` may name a tool (`{type: "function", function: {name}}`). Where not (llama-server),
   * a named choice is sent as `"required"` with only that tool. Default true.
   */
  readonly namedToolChoice?: boolean | undefined
  /** `max_tokens` (default) or `max_completion_tokens` (OpenAI's reasoning models). */
  readonly maxTokensField?: "max_tokens" | "max_completion_tokens" | undefined
  /** Ask for the usage chunk at the end of a stream (`stream_options.include_usage`). Default true. */
  readonly streamUsage?: boolean | undefined
  readonly config?: Config | undefined
}

const override = makeConfigOverride<Config>("effect-llama/OpenAiCompat/ConfigOverride")

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

// ============================================================================
// Request body
// ============================================================================

const samplingFields = (config: Config, maxTokensField: string): Json => {
  const out: Json = {}
  const set = (key: string, value: unknown) => {
    if (value !== undefined) out[key] = value
  }
  set("temperature", config.temperature)
  set("top_p", config.topP)
  set(maxTokensField, config.maxTokens)
  set("seed", config.seed)
  set("stop", config.stop)
  set("presence_penalty", config.presencePenalty)
  set("frequency_penalty", config.frequencyPenalty)
  set("logit_bias", config.logitBias)
  set("reasoning_effort", config.reasoningEffort)
  set("user", config.user)
  return out
}

const jsonInstruction = (schema: Json): Json => ({
  role: "system",
  content: `Answer with one JSON object, and nothing else, that matches this JSON Schema:\n${JSON.stringify(schema)}`
})

// ============================================================================
// Constructor
// ============================================================================

/**
 * Builds the `LanguageModel` for `options.model` on the server `options` describes.
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
  const endpoint = endpointOf(options, client)
  const name = options.name ?? "OpenAiCompat"
  const strict = options.strictJsonSchema ?? true
  const toolChoiceSupported = options.toolChoice ?? true
  const namedToolChoice = options.namedToolChoice ?? true
  const maxTokensField = options.maxTokensField ?? "max_tokens"
  let jsonObjectOnly = options.structuredOutput === "json_object"

  const body = (
    provider: LanguageModel.ProviderOptions,
    site: Site,
    config: Config,
    stream: boolean,
    jsonObject: boolean
  ): Effect.Effect<Json, AiError.AiError> =>
    Effect.gen(function*() {
      const messages = toMessages(site, provider.prompt)
      if (AiError.isAiError(messages)) return yield* Effect.fail(messages)
      const out: Json = { model: options.model, messages, ...samplingFields(config, maxTokensField) }
      const choice = provider.toolChoice
      const named = typeof choice === "object" && "tool" in choice ? choice.tool : undefined
      if (provider.tools.length > 0 && !(choice === "none" && !toolChoiceSupported)) {
        const onlyNamed = named !== undefined && (!toolChoiceSupported || !namedToolChoice)
        const tools = onlyNamed ? provider.tools.filter((t) => t.name === named) : provider.tools
        out.tools = yield* Effect.try({ try: () => functionTools(tools), catch: schemaError(site) })
        if (toolChoiceSupported) out.tool_choice = onlyNamed ? "required" : toToolChoice(choice)
        if (config.parallelToolCalls !== undefined) out.parallel_tool_calls = config.parallelToolCalls
      }
      if (provider.responseFormat.type === "json") {
        const { objectName, schema } = provider.responseFormat
        const jsonSchema = yield* Effect.try({
          try: () => strict ? (OpenAiStructuredOutput.toCodecOpenAI(schema).jsonSchema as Json) : closedJsonSchema(schema),
          catch: schemaError(site)
        })
        if (jsonObject) {
          out.response_format = { type: "json_object" }
          out.messages = [jsonInstruction(jsonSchema), ...messages]
        } else {
          out.response_format = {
            type: "json_schema",
            json_schema: { name: objectName, schema: jsonSchema, ...(strict ? { strict: true } : {}) }
          }
        }
      }
      if (stream) {
        out.stream = true
        if (options.streamUsage ?? true) out.stream_options = { include_usage: true }
      }
      return { ...out, ...config.extraBody }
    })

  const settings = Effect.gen(function*() {
    const current = yield* ConfigOverride
    return mergeConfig(options.config ?? {}, current) satisfies Config
  })

  const annotate = (provider: LanguageModel.ProviderOptions, config: Config) => {
    provider.span.attribute("gen_ai.system", name)
    provider.span.attribute("gen_ai.request.model", options.model)
    if (config.maxTokens !== undefined) provider.span.attribute("gen_ai.request.max_tokens", config.maxTokens)
  }

  // A 400/422 that names json_schema or response_format: the server lacks json_schema.
  const rejectsJsonSchema = (error: AiError.AiError) =>
    error.reason._tag === "InvalidRequestError" && /json_schema|response_format/i.test(error.reason.description ?? "")

  const generateText = (provider: LanguageModel.ProviderOptions) =>
    Effect.gen(function*() {
      const site: Site = { module: name, method: "generateText", model: options.model }
      const config = yield* settings
      annotate(provider, config)
      const send = (jsonObject: boolean) =>
        Effect.flatMap(body(provider, site, config, false, jsonObject), (json) =>
          Transport.json(endpoint, site, Transport.post(endpoint, "/chat/completions", json)))
      const wantsJson = provider.responseFormat.type === "json"
      const response = yield* (wantsJson && !jsonObjectOnly
        ? send(false).pipe(Effect.catchIf(rejectsJsonSchema, () => {
          jsonObjectOnly = true
          return send(true)
        }))
        : send(wantsJson))
      const parts = completionParts(site, response)
      if (AiError.isAiError(parts)) return yield* Effect.fail(parts)
      return parts
    })

  const streamText = (provider: LanguageModel.ProviderOptions): Stream.Stream<Response.StreamPartEncoded, AiError.AiError> =>
    Stream.unwrap(Effect.gen(function*() {
      const site: Site = { module: name, method: "streamText", model: options.model }
      const config = yield* settings
      annotate(provider, config)
      const json = yield* body(provider, site, config, true, jsonObjectOnly)
      const request = Transport.post(endpoint, "/chat/completions", json)
      return Transport.stream(endpoint, site, request, (response) => {
        const where = { method: request.method, url: request.url, status: response.status }
        return sse(chunkDecoder(site, where), (detail) => streamCut(site, where, detail))
      })
    }))

  return yield* LanguageModel.make({
    generateText,
    streamText,
    ...(strict ? { codecTransformer: OpenAiStructuredOutput.toCodecOpenAI } : {})
  })
})

// ============================================================================
// Models
// ============================================================================

/**
 * One entry of `/v1/models`.
 *
 * @category models
 * @since 0.2.0
 */
export interface ModelInfo {
  readonly id: string
  readonly ownedBy: string | undefined
  readonly created: number | undefined
}

/**
 * The server's `/v1/models`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const listModels = (connection: Connection & { readonly name?: string | undefined }): Effect.Effect<
  ReadonlyArray<ModelInfo>,
  AiError.AiError,
  HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    const endpoint = endpointOf(connection, yield* HttpClient.HttpClient)
    const site: Site = { module: connection.name ?? "OpenAiCompat", method: "listModels" }
    const json = yield* Transport.json(endpoint, site, Transport.get(endpoint, "/models"))
    const data = isObject(json) && Array.isArray(json.data) ? json.data : []
    return data.filter(isObject).map((entry) => ({
      id: stringOf(entry.id) ?? "",
      ownedBy: stringOf(entry.owned_by),
      created: typeof entry.created === "number" ? entry.created : undefined
    }))
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * The `LanguageModel` for `options`. Needs an `HttpClient` (`NodeHttpClient.layerUndici`, `FetchHttpClient.layer`).
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options): Layer.Layer<LanguageModel.LanguageModel, never, HttpClient.HttpClient> =>
  Layer.effect(LanguageModel.LanguageModel, make(options))

/**
 * Like `layer`, with the API key and base URL read from `Config`: `OPENAI_API_KEY` (or the preset's key variable)
 * and `OPENAI_BASE_URL` (else the preset's base URL, else OpenAI's); empty ones count as unset. A missing key is
 * fine for local servers.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseUrl"> & {
    readonly preset?: Preset | undefined
    readonly apiKey?: EffectConfig.Config<Redacted.Redacted<string>> | undefined
    readonly baseUrl?: EffectConfig.Config<string> | undefined
  }
): Layer.Layer<LanguageModel.LanguageModel, EffectConfig.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    LanguageModel.LanguageModel,
    Effect.gen(function*() {
      const resolved = yield* resolveConnection(options)
      return yield* make({ ...options.preset, ...options, ...resolved })
    })
  )

/** Reads the key and base URL for `layerConfig` (shared with the embedding model). @internal */
export const resolveConnection = (options: {
  readonly preset?: Preset | undefined
  readonly apiKey?: EffectConfig.Config<Redacted.Redacted<string>> | undefined
  readonly baseUrl?: EffectConfig.Config<string> | undefined
}): Effect.Effect<{ readonly apiKey: Redacted.Redacted<string> | undefined; readonly baseUrl: string }, EffectConfig.ConfigError> =>
  Effect.gen(function*() {
    const keyConfig = options.apiKey ?? EffectConfig.Redacted(options.preset?.apiKeyVariable ?? "OPENAI_API_KEY")
    const apiKey = yield* EffectConfig.option(keyConfig)
    const baseUrl = yield* EffectConfig.option(options.baseUrl ?? EffectConfig.String("OPENAI_BASE_URL"))
    // An empty variable counts as unset.
    return {
      apiKey: Option.getOrUndefined(Option.filter(apiKey, (key) => Redacted.value(key) !== "")),
      baseUrl: Option.getOrElse(Option.filter(baseUrl, (url) => url !== ""), () => options.preset?.baseUrl ?? defaultBaseUrl)
    }
  })

/**
 * An effect/ai `Model` (a Layer that also names the provider and model), like the official providers' `model`.
 *
 * @category layers
 * @since 0.2.0
 */
export const model = (
  name: string,
  options: Omit<Options, "model">
): Model.Model<string, LanguageModel.LanguageModel, HttpClient.HttpClient> =>
  Model.make(options.name ?? "openai-compat", name, layer({ ...options, model: name }))
