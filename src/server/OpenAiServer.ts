/**
 * An OpenAI-compatible HTTP server over any effect/ai `LanguageModel` (+ `EmbeddingModel`) Layer: the local
 * llama.cpp model by default, or any provider Layer (with its resilience policies), which makes it a gateway.
 * Chat completions (plain, SSE, tools, response formats), text completions, embeddings, models, health, metrics,
 * tokenize/detokenize, the OpenAPI document and a chat page. Requests beyond the free slots wait in a bounded
 * queue, as in llama-server; a client that disconnects stops its generation and frees its slot.
 *
 * @since 0.2.0
 */
import { NodeHttpServer } from "@effect/platform-node"
import { ByteSize, Context, Duration, Effect, Layer, Metric, Redacted, type Stream } from "effect"
import type { EmbeddingModel, LanguageModel } from "effect/ai"
import {
  type Etag,
  HttpIncomingMessage,
  type HttpPlatform,
  HttpRouter,
  HttpServer,
  type HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import type { FileSystem, Path } from "effect"
import { createServer } from "node:http"
import * as LlamaContext from "../llama/LlamaContext.ts"
import type { LlamaError } from "../llama/LlamaError.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import * as LlamaEmbeddingModel from "../ai/LlamaEmbeddingModel.ts"
import * as LlamaLanguageModel from "../ai/LlamaLanguageModel.ts"
import type { Native } from "../native/Native.ts"
import { html } from "./ChatPage.ts"
import type { AdmissionStats } from "./internal/admission.ts"
import { chatCompletions } from "./internal/chatHandler.ts"
import type { Settings } from "./internal/chatRequest.ts"
import * as Handlers from "./internal/handlers.ts"
import { errorResponse, respondToFailures } from "./internal/http.ts"
import { localSettings } from "./internal/localSettings.ts"
import { type ConfigOverride, providerConfig, type ProviderConfig as ProviderConfigShape, providerSettings } from "./internal/providerSettings.ts"
import { serverMetrics } from "./internal/metrics.ts"
import * as Runtime from "./internal/runtime.ts"
import { Api } from "./OpenAiApi.ts"
import { PayloadTooLarge, RouteNotFound, ServerError, Unauthorized } from "./ServerError.ts"

// ============================================================================
// Options
// ============================================================================

/**
 * Sampling and limits of one request, as the server read them from its body.
 *
 * @category models
 * @since 0.2.0
 */
export type GenerationSettings = Settings

/**
 * How a request's settings reach the served model: run an Effect (or Stream) of the model with them. The
 * default, `localSettings`, is the local model's per-call configuration; a gateway passes its provider's.
 *
 * @category models
 * @since 0.2.0
 */
export interface SettingsApplier {
  readonly effect: <A, E, R>(self: Effect.Effect<A, E, R>, settings: GenerationSettings) => Effect.Effect<A, E, R>
  readonly stream: <A, E, R>(self: Stream.Stream<A, E, R>, settings: GenerationSettings) => Stream.Stream<A, E, R>
}

/**
 * The local model's `SettingsApplier` (`LlamaLanguageModel.ConfigOverride`).
 *
 * @category constants
 * @since 0.2.0
 */
export const localSettingsApplier: SettingsApplier = localSettings

/**
 * The per-call configuration fields that remote providers share (OpenAiCompat's `Config` has them all), as a
 * gateway forwards a request's settings. `logitBias` maps token ids, as strings, to biases.
 *
 * @category models
 * @since 0.2.0
 */
export type ProviderConfig = ProviderConfigShape

/**
 * A gateway's `SettingsApplier`: a request's settings reach a remote provider through that provider's
 * `withConfigOverride` (merged over the provider's configured defaults). With no `toConfig`, the settings become a
 * `ProviderConfig`, which fits `OpenAiCompat`; pass `toConfig` for a provider whose fields differ.
 *
 *   OpenAiServer.layerNode(OpenAiCompat.layer({ ... }), { settings: OpenAiServer.providerSettingsApplier(OpenAiCompat.withConfigOverride) })
 *
 * @category constructors
 * @since 0.2.0
 */
export const providerSettingsApplier: {
  (withConfigOverride: ConfigOverride<ProviderConfig>): SettingsApplier
  <C>(withConfigOverride: ConfigOverride<C>, toConfig: (settings: GenerationSettings) => C): SettingsApplier
} = <C>(withConfigOverride: ConfigOverride<C>, toConfig?: (settings: GenerationSettings) => C): SettingsApplier =>
  providerSettings(withConfigOverride, toConfig ?? ((settings) => providerConfig(settings) as C))

/**
 * Server options; all optional.
 *
 * @category configuration
 * @since 0.2.0
 */
export interface Options {
  /** The model id clients send and `/v1/models` lists. Default: the local model's name, else `effect-llama`. */
  readonly modelId?: string
  /** Accepted `Authorization: Bearer` keys (any of them); none means no authentication. */
  readonly apiKeys?: ReadonlyArray<string | Redacted.Redacted<string>>
  /** CORS: `true` allows any origin, or list the allowed origins. Default off. */
  readonly cors?: boolean | { readonly origins: ReadonlyArray<string> }
  /** Largest request body in bytes (413 beyond). Default 8 MiB. */
  readonly maxBodyBytes?: number
  /** Requests that may wait for a slot; beyond, 503 with Retry-After. Default 256. */
  readonly maxQueued?: number
  /** Parallel generations (slots). Default: the local context's sequences, else 4. */
  readonly parallel?: number
  /** The Retry-After of a 503. Default 1 second. */
  readonly retryAfterSeconds?: number
  /** `max_tokens` for requests that set none. Default: none (the model's own limit). */
  readonly defaultMaxTokens?: number
  /** How request settings reach the model. Default: `localSettingsApplier`. */
  readonly settings?: SettingsApplier
  /** Serve the chat page at `/`. Default true. */
  readonly chatPage?: boolean
}

/**
 * What a served models Layer provides: a `LanguageModel`, and optionally an `EmbeddingModel` (for
 * `/v1/embeddings`), a `LlamaModel` (for `/tokenize`) and a `LlamaContext` (for raw `/v1/completions`).
 *
 * @category models
 * @since 0.2.0
 */
export type Models =
  | LanguageModel.LanguageModel
  | EmbeddingModel.EmbeddingModel
  | LlamaModel.LlamaModel
  | LlamaContext.LlamaContext

// ============================================================================
// Service
// ============================================================================

/**
 * @category models
 * @since 0.2.0
 */
export interface Service {
  /** Waits until the models are loaded; fails with the models Layer's error if they cannot be. */
  readonly ready: Effect.Effect<void, unknown>
  /** Slots and queue right now (zeros until the models are loaded). */
  readonly stats: () => AdmissionStats & { readonly loaded: boolean }
  /** The served model id, once loaded. */
  readonly modelId: Effect.Effect<string, unknown>
  /** Waits until the models are loaded and no request holds or waits for a slot. */
  readonly awaitIdle: Effect.Effect<void, unknown>
}

/**
 * The running server.
 *
 * @category services
 * @since 0.2.0
 */
export class OpenAiServer extends Context.Service<OpenAiServer, Service>()("effect-llama/OpenAiServer") {}

// ============================================================================
// Constructor
// ============================================================================

const resolve = (options: Options): Runtime.ResolvedOptions => ({
  modelId: options.modelId,
  apiKeys: (options.apiKeys ?? []).map((key) => (typeof key === "string" ? Redacted.make(key) : key)),
  cors: options.cors === undefined || options.cors === false
    ? false
    : options.cors === true
    ? { origins: [] }
    : { origins: options.cors.origins },
  maxBodyBytes: options.maxBodyBytes ?? Runtime.defaults.maxBodyBytes,
  maxQueued: options.maxQueued ?? Runtime.defaults.maxQueued,
  parallel: options.parallel,
  retryAfterSeconds: options.retryAfterSeconds ?? Runtime.defaults.retryAfterSeconds,
  defaultMaxTokens: options.defaultMaxTokens,
  settings: options.settings ?? Runtime.defaults.settings,
  chatPage: options.chatPage ?? true
})

// Routes reachable without a key: health (for probes), the page, the OpenAPI document, CORS preflights.
const isPublic = (request: HttpServerRequest.HttpServerRequest) => {
  const path = request.url.split("?")[0]
  return request.method === "OPTIONS" || path === "/health" || path === "/" || path === "/openapi.json"
}

// The route label of the request counter: known routes only, so random paths cannot grow the label set.
const routes = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/tokenize", "/detokenize", "/health", "/metrics", "/openapi.json", "/"])
const routeOf = (url: string) => {
  const path = url.split("?")[0]!
  return path.startsWith("/v1/models/") ? "/v1/models/:model" : routes.has(path) ? path : "unmatched"
}

const corsHeaders = (cors: Runtime.ResolvedOptions["cors"], origin: string | undefined): Record<string, string> => {
  if (cors === false) return {}
  const allowed = cors.origins.length === 0 ? "*" : origin !== undefined && cors.origins.includes(origin) ? origin : undefined
  if (allowed === undefined) return {}
  return {
    "access-control-allow-origin": allowed,
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type",
    "access-control-max-age": "86400",
    ...(allowed === "*" ? {} : { vary: "Origin" })
  }
}

// Authentication, CORS, the body limit, error bodies for router-level failures, request counts.
const middleware = (runtime: Runtime.Runtime) =>
  HttpRouter.middleware<{ handles: HttpServerError.HttpServerError }>()((app) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const cors = corsHeaders(runtime.options.cors, request.headers["origin"])
      const withCors = (response: HttpServerResponse.HttpServerResponse) =>
        Object.keys(cors).length === 0 ? response : HttpServerResponse.setHeaders(response, cors)
      const count = (response: HttpServerResponse.HttpServerResponse) =>
        Effect.as(
          Metric.update(Metric.withAttributes(serverMetrics.requests, { route: routeOf(request.url), status: String(response.status) }), 1),
          withCors(response)
        )
      if (request.method === "OPTIONS" && runtime.options.cors !== false) return yield* count(HttpServerResponse.empty({ status: 204 }))
      if (!isPublic(request) && !runtime.authorized(request.headers["authorization"])) {
        return yield* count(errorResponse(new ServerError({ reason: new Unauthorized({ message: "Invalid or missing API key (Authorization: Bearer <key>)" }) })))
      }
      const length = Number(request.headers["content-length"] ?? "0")
      if (length > runtime.options.maxBodyBytes) {
        return yield* count(errorResponse(new ServerError({ reason: new PayloadTooLarge({ message: `the request body is over ${runtime.options.maxBodyBytes} bytes` }) })))
      }
      const response = yield* Effect.provideService(app, HttpIncomingMessage.MaxBodySize, ByteSize.bytes(runtime.options.maxBodyBytes)).pipe(
        Effect.catchTag("HttpServerError", (error) => respondToFailures(Effect.fail(error)))
      )
      return yield* count(response)
    }), { global: true })

const handlersFor = (runtime: Runtime.Runtime) =>
  Layer.mergeAll(
    HttpApiBuilder.group(Api, "openai", (handlers) =>
      handlers
        .handleRaw("chatCompletions", ({ request }) => respondToFailures(chatCompletions(runtime)(request)))
        .handleRaw("completions", ({ request }) => respondToFailures(Handlers.completions(runtime)(request)))
        .handleRaw("embeddings", ({ request }) => respondToFailures(Handlers.embeddings(runtime)(request)))
        .handleRaw("models", () => respondToFailures(Handlers.models(runtime)))
        .handleRaw("model", ({ params }) => respondToFailures(Handlers.model(runtime, params.model)))),
    HttpApiBuilder.group(Api, "tokenizer", (handlers) =>
      handlers
        .handleRaw("tokenize", ({ request }) => respondToFailures(Handlers.tokenize(runtime)(request)))
        .handleRaw("detokenize", ({ request }) => respondToFailures(Handlers.detokenize(runtime)(request)))),
    HttpApiBuilder.group(Api, "system", (handlers) =>
      handlers
        .handleRaw("health", () => Handlers.health(runtime))
        .handleRaw("metrics", () => Handlers.metrics)
        .handleRaw("chatPage", () =>
          Effect.succeed(
            runtime.options.chatPage
              ? HttpServerResponse.text(html, { contentType: "text/html; charset=utf-8" })
              : errorResponse(new ServerError({ reason: new RouteNotFound({ message: "the chat page is disabled" }) }))
          )))
  )

/**
 * The server as a Layer over an `HttpServer` you provide (e.g. `NodeHttpServer.layer`): serves `models`, which
 * it builds in the background so `/health` answers 503 while they load. Closing the Layer stops serving (the
 * `HttpServer` decides how long in-flight requests get), then disposes the models.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = <E, R>(
  models: Layer.Layer<LanguageModel.LanguageModel, E, R>,
  options: Options = {}
): Layer.Layer<
  OpenAiServer,
  never,
  R | HttpServer.HttpServer | HttpPlatform.HttpPlatform | FileSystem.FileSystem | Path.Path | Etag.Generator
> =>
  Layer.unwrap(Effect.gen(function*() {
    const runtime = yield* Runtime.make(models, resolve(options))
    const empty = { slots: 0, busy: 0, queued: 0, peakQueued: 0, rejected: 0 }
    const service = OpenAiServer.of({
      ready: Effect.asVoid(runtime.ready),
      stats: () => {
        const served = runtime.current()
        return { ...(served?.admission.stats() ?? empty), loaded: served !== undefined }
      },
      modelId: Effect.map(runtime.ready, (s) => s.modelId),
      awaitIdle: Effect.flatMap(runtime.ready, (s) => s.admission.awaitIdle)
    })
    const app = Layer.mergeAll(
      HttpApiBuilder.layer(Api, { openapiPath: "/openapi.json" }).pipe(Layer.provide(handlersFor(runtime))),
      middleware(runtime)
    )
    return Layer.merge(
      HttpRouter.serve(app, { disableListenLog: true, disableLogger: true }),
      Layer.succeed(OpenAiServer, service)
    )
  }))

/**
 * `layer` on Node's HTTP server at `host`:`port` (port 0 picks a free one). On shutdown, requests in flight get
 * `gracePeriod` (default 10 seconds) to finish before they are aborted; then the models are disposed.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerNode = <E, R>(
  models: Layer.Layer<LanguageModel.LanguageModel, E, R>,
  options: Options & {
    readonly host?: string
    readonly port?: number
    readonly gracePeriod?: Duration.Input
  } = {}
): Layer.Layer<OpenAiServer | HttpServer.HttpServer, HttpServerError.ServeError, R> =>
  layer(models, options).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer({ requestTimeout: 0 }), {
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 8080,
      gracefulShutdownTimeout: options.gracePeriod ?? Duration.seconds(10)
    }))
  )

/**
 * The local models Layer for a GGUF file: the `LanguageModel` on a context with `parallel` sequences (slots),
 * an `EmbeddingModel` on an embedding context of its own over the same loaded model, plus the `LlamaModel` and
 * `LlamaContext` (for `/tokenize` and `/v1/completions`).
 *
 * @category layers
 * @since 0.2.0
 */
export const localModels = (options: {
  readonly path: string
  readonly parallel?: number
  /** Context size in tokens, shared by the slots. Default 4096 × parallel. */
  readonly contextSize?: number
  readonly gpuLayers?: number
  readonly threads?: number
  readonly embeddings?: boolean
  /** Token events a stream may fall behind before its generation pauses (see `LlamaContext.Options`). Default 512. */
  readonly window?: number
  readonly config?: LlamaLanguageModel.Config
  readonly onProgress?: (progress: number) => void
}): Layer.Layer<Models, LlamaError, Native> => {
  const parallel = options.parallel ?? 4
  const model = LlamaModel.layer({
    path: options.path,
    ...(options.gpuLayers === undefined ? {} : { gpuLayers: options.gpuLayers }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress })
  })
  const threads = options.threads === undefined ? {} : { threads: options.threads }
  const generation = LlamaLanguageModel.layer(options.config ?? {}).pipe(
    Layer.provideMerge(LlamaContext.layer({
      contextSize: options.contextSize ?? 4096 * parallel,
      sequences: parallel,
      // A server's slots share one batch: a client reading slowly should not hold its slot's decoding back.
      window: options.window ?? 512,
      ...threads
    }))
  )
  const embedding = options.embeddings === false
    ? Layer.empty
    : LlamaEmbeddingModel.layer().pipe(Layer.provide(LlamaContext.layer({ sequences: 4, embeddings: true, ...threads })))
  return Layer.mergeAll(generation, embedding).pipe(Layer.provideMerge(model))
}
