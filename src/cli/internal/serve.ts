/**
 * `effect-llama serve`: the OpenAI-compatible server on a local model, or (`--upstream`) a gateway to a remote
 * OpenAI-compatible server through the OpenAiCompat provider. It listens at once (`/health` is 503 until the model
 * is loaded); SIGINT/SIGTERM stop it gracefully: no new connections, requests in flight get the grace period, then
 * the model is disposed and the process exits 0. A second signal stops at once.
 *
 * @internal
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Deferred, Duration, Effect, Layer, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import * as Native from "../../native/Native.ts"
import * as OpenAiCompat from "../../providers/OpenAiCompat.ts"
import * as OpenAiCompatEmbeddingModel from "../../providers/OpenAiCompatEmbeddingModel.ts"
import { CliFailure } from "../CliFailure.ts"
import * as OpenAiServer from "../../server/OpenAiServer.ts"
import * as Flags from "./flags.ts"
import { onSignal, status } from "./output.ts"

const keysOf = (flag: Option.Option<string>): ReadonlyArray<string> => {
  const text = Option.getOrUndefined(flag) ?? process.env["EFFECT_LLAMA_API_KEY"] ?? ""
  return text.split(",").map((k) => k.trim()).filter((k) => k !== "")
}

// The models to serve: the local GGUF file, or the upstream server's model through the OpenAiCompat provider.
const modelsOf = (flags: {
  readonly model: Option.Option<string>
  readonly upstream: Option.Option<string>
  readonly upstreamModel: Option.Option<string>
  readonly upstreamKey: Option.Option<string>
  readonly embeddings: boolean
}) =>
  Effect.gen(function*() {
    if (Option.isSome(flags.upstream)) {
      if (Option.isSome(flags.model)) return yield* Effect.fail(new CliFailure({ kind: "Usage", description: "--model and --upstream exclude each other" }))
      if (Option.isNone(flags.upstreamModel)) return yield* Effect.fail(new CliFailure({ kind: "Usage", description: "--upstream needs --upstream-model" }))
      const key = Option.getOrUndefined(flags.upstreamKey) ?? process.env["OPENAI_API_KEY"]
      const connection = {
        baseUrl: flags.upstream.value,
        model: flags.upstreamModel.value,
        ...(key === undefined || key === "" ? {} : { apiKey: Redacted.make(key) })
      }
      const language = OpenAiCompat.layer(connection)
      const models = flags.embeddings ? Layer.merge(language, OpenAiCompatEmbeddingModel.layer(connection)) : language
      return { kind: "upstream" as const, label: flags.upstream.value, modelId: flags.upstreamModel.value, models: models.pipe(Layer.provide(NodeHttpClient.layerUndici)) }
    }
    if (Option.isNone(flags.model)) return yield* Effect.fail(new CliFailure({ kind: "Usage", description: "serve needs --model (a GGUF file) or --upstream (a server's URL)" }))
    yield* Flags.checkModelFile(flags.model.value)
    return { kind: "local" as const, label: flags.model.value, path: flags.model.value }
  })

/** @internal */
export const serve = Command.make("serve", {
  model: Flags.model.pipe(Flag.optional),
  upstream: Flag.String("upstream").pipe(Flag.withDescription("serve a remote OpenAI-compatible server instead (its base URL, e.g. https://api.openai.com/v1): a gateway"), Flag.optional),
  upstreamModel: Flag.String("upstream-model").pipe(Flag.withDescription("the upstream's model"), Flag.optional),
  upstreamKey: Flag.String("upstream-key").pipe(Flag.withDescription("the upstream's API key (default: $OPENAI_API_KEY)"), Flag.optional),
  host: Flag.String("host").pipe(Flag.withDescription("address to listen on (default 127.0.0.1)"), Flag.withDefault("127.0.0.1")),
  port: Flag.Int("port").pipe(Flag.withDescription("port (default 8080; 0 picks a free one)"), Flag.withDefault(8080)),
  parallel: Flag.Int("parallel").pipe(Flag.withAlias("np"), Flag.withDescription("slots: requests generated at once (default 4)"), Flag.withDefault(4)),
  ctxSize: Flag.Int("ctx-size").pipe(Flag.withAlias("c"), Flag.withDescription("context size shared by the slots (default 4096 per slot)"), Flag.optional),
  apiKey: Flag.String("api-key").pipe(Flag.withDescription("accepted Bearer keys, comma-separated (default: $EFFECT_LLAMA_API_KEY; none: no auth)"), Flag.optional),
  threads: Flags.threads,
  gpuLayers: Flags.gpuLayers,
  maxQueued: Flag.Int("max-queued").pipe(Flag.withDescription("requests that may wait for a slot; more get 503 (default 256)"), Flag.withDefault(256)),
  maxBody: Flag.Int("max-body").pipe(Flag.withDescription("largest request body in bytes (default 8 MiB)"), Flag.withDefault(8 * 1024 * 1024)),
  cors: Flag.Boolean("cors").pipe(Flag.withDescription("allow cross-origin requests from any origin"), Flag.withDefault(false)),
  grace: Flag.Finite("grace").pipe(Flag.withDescription("seconds in-flight requests get on shutdown (default 10)"), Flag.withDefault(10)),
  modelId: Flag.String("model-id").pipe(Flag.withDescription("the model id clients use (default: the model's name)"), Flag.optional),
  maxTokens: Flag.Int("max-tokens").pipe(Flag.withAlias("n"), Flag.withDescription("max_tokens for requests that set none"), Flag.optional),
  embeddings: Flag.Boolean("embeddings").pipe(Flag.withDescription("serve /v1/embeddings (--no-embeddings to skip its context)"), Flag.withDefault(true)),
  chatPage: Flag.Boolean("chat-page").pipe(Flag.withDescription("serve the chat page at / (--no-chat-page to turn it off)"), Flag.withDefault(true))
}, (flags) =>
  Effect.gen(function*() {
    const source = yield* modelsOf(flags)
    const optional = <K extends string, A>(key: K, option: Option.Option<A>) =>
      Option.match(option, { onNone: () => ({}), onSome: (value) => ({ [key]: value }) as { [P in K]: A } })
    const progress = source.kind === "local" ? Flags.loadProgress(source.path) : { onProgress: () => {}, done: () => {} }
    const models = source.kind === "upstream" ? source.models : OpenAiServer.localModels({
      path: source.path,
      parallel: flags.parallel,
      embeddings: flags.embeddings,
      onProgress: progress.onProgress,
      ...optional("contextSize", flags.ctxSize),
      ...optional("threads", flags.threads),
      ...optional("gpuLayers", flags.gpuLayers)
    }).pipe(Layer.provide(Native.layer))
    const upstream = source.kind === "upstream"
      ? { modelId: source.modelId, parallel: flags.parallel, settings: OpenAiServer.providerSettingsApplier(OpenAiCompat.withConfigOverride) }
      : {}
    const context = yield* Layer.build(OpenAiServer.layerNode(models, {
      host: flags.host,
      port: flags.port,
      gracePeriod: Duration.seconds(flags.grace),
      apiKeys: keysOf(flags.apiKey),
      cors: flags.cors,
      maxQueued: flags.maxQueued,
      maxBodyBytes: flags.maxBody,
      chatPage: flags.chatPage,
      ...upstream,
      ...optional("modelId", flags.modelId),
      ...optional("defaultMaxTokens", flags.maxTokens)
    }))
    const server = yield* OpenAiServer.OpenAiServer.pipe(Effect.provideContext(context))
    const address = (yield* HttpServer.HttpServer.pipe(Effect.provideContext(context))).address
    const url = address._tag === "UnixPathAddress" ? address.path : `http://${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:${address.port}`
    yield* status(`effect-llama: listening on ${url} (${source.kind === "local" ? "loading" : "upstream"} ${source.label})`)
    // The first signal stops gracefully; a second one is the process's (immediate) interrupt.
    const stop = yield* Deferred.make<void>()
    yield* onSignal(() => Deferred.doneUnsafe(stop, Effect.void))
    const loaded = yield* Effect.raceFirst(Effect.as(server.ready, true), Effect.as(Deferred.await(stop), false))
    progress.done()
    if (loaded) {
      const stats = server.stats()
      yield* status(`effect-llama: serving ${yield* server.modelId} on ${url} with ${stats.slots} slots${keysOf(flags.apiKey).length > 0 ? ", API key required" : ""}; Ctrl-C stops`)
      yield* Deferred.await(stop)
    }
    yield* status(`effect-llama: shutting down (in-flight requests get ${flags.grace}s)`)
  }).pipe(Effect.scoped)).pipe(Command.withDescription("Serve a local model (or --upstream, a remote server's) over an OpenAI-compatible HTTP API, with a chat page at /"))
