/**
 * `effect-llama serve`: the OpenAI-compatible server on a local model. It listens at once (`/health` is 503 until
 * the model is loaded); SIGINT/SIGTERM stop it gracefully: no new connections, requests in flight get the grace
 * period, then the model is disposed and the process exits 0. A second signal stops at once.
 *
 * @internal
 */
import { Deferred, Duration, Effect, Layer, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import * as Native from "../../native/Native.ts"
import * as OpenAiServer from "../../server/OpenAiServer.ts"
import * as Flags from "./flags.ts"
import { onSignal, status } from "./output.ts"

const keysOf = (flag: Option.Option<string>): ReadonlyArray<string> => {
  const text = Option.getOrUndefined(flag) ?? process.env["EFFECT_LLAMA_API_KEY"] ?? ""
  return text.split(",").map((k) => k.trim()).filter((k) => k !== "")
}

/** @internal */
export const serve = Command.make("serve", {
  model: Flags.model,
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
    yield* Flags.checkModelFile(flags.model)
    const progress = Flags.loadProgress(flags.model)
    const optional = <K extends string, A>(key: K, option: Option.Option<A>) =>
      Option.match(option, { onNone: () => ({}), onSome: (value) => ({ [key]: value }) as { [P in K]: A } })
    const models = OpenAiServer.localModels({
      path: flags.model,
      parallel: flags.parallel,
      embeddings: flags.embeddings,
      onProgress: progress.onProgress,
      ...optional("contextSize", flags.ctxSize),
      ...optional("threads", flags.threads),
      ...optional("gpuLayers", flags.gpuLayers)
    }).pipe(Layer.provide(Native.layer))
    const context = yield* Layer.build(OpenAiServer.layerNode(models, {
      host: flags.host,
      port: flags.port,
      gracePeriod: Duration.seconds(flags.grace),
      apiKeys: keysOf(flags.apiKey),
      cors: flags.cors,
      maxQueued: flags.maxQueued,
      maxBodyBytes: flags.maxBody,
      chatPage: flags.chatPage,
      ...optional("modelId", flags.modelId),
      ...optional("defaultMaxTokens", flags.maxTokens)
    }))
    const server = yield* OpenAiServer.OpenAiServer.pipe(Effect.provideContext(context))
    const address = (yield* HttpServer.HttpServer.pipe(Effect.provideContext(context))).address
    const url = address._tag === "UnixPathAddress" ? address.path : `http://${flags.host.includes(":") ? `[${flags.host}]` : flags.host}:${address.port}`
    yield* status(`effect-llama: listening on ${url} (loading ${flags.model})`)
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
  }).pipe(Effect.scoped)).pipe(Command.withDescription("Serve a local model over an OpenAI-compatible HTTP API (and a chat page at /)"))
