/**
 * The endpoints besides chat: text completions, embeddings, models, tokenize/detokenize, health, metrics.
 *
 * @internal
 */
import { Effect, Exit, Metric, Option, Scope, Stream } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as LlamaContext from "../../llama/LlamaContext.ts"
import * as Prometheus from "../../telemetry/Prometheus.ts"
import { CompletionRequest, DetokenizeRequest, EmbeddingRequest, TokenizeRequest } from "../OpenAiSchema.ts"
import { invalidRequest, NotSupported, ServerError } from "../ServerError.ts"
import { fromAiError, fromLlamaError } from "./aiErrors.ts"
import { modelError, recordUsage } from "./chatHandler.ts"
import { type Settings, settingsOf } from "./chatRequest.ts"
import { finishReasonOf, usageOf } from "./chatResponse.ts"
import { decode, errorResponse, newId, nowSeconds, readJson, sseDone, sseFrames, sseHeaders } from "./http.ts"
import { samplingOf } from "./localSettings.ts"
import { serverMetrics } from "./metrics.ts"
import type { Runtime, Served } from "./runtime.ts"

const notSupported = (message: string) => new ServerError({ reason: new NotSupported({ message }) })


// ============================================================================
// /v1/completions
// ============================================================================

const decodeCompletion = decode(CompletionRequest)

const localRequest = (context: LlamaContext.Service["generate"], prompt: string, settings: Settings) =>
  context({
    prompt,
    sampling: samplingOf(settings),
    ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
    ...(settings.stop === undefined ? {} : { stop: settings.stop })
  })

type Finish = "stop" | "length"

const localFinish = (reason: string): Finish => (reason === "length" ? "length" : "stop")

interface TextPiece {
  readonly text: string
  readonly finish?: Finish
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number }
}

// The pieces of one completion: on the local model straight from the context (no chat template), on any other
// model through streamText with the prompt as a user message.
const pieces = (runtime: Runtime, served: Served, prompt: string, settings: Settings): Stream.Stream<TextPiece, ServerError> =>
  Option.match(served.llamaContext, {
    onSome: (context) =>
      localRequest(context.generate, prompt, settings).pipe(
        Stream.mapError(fromLlamaError),
        Stream.map((event): TextPiece =>
          event.type === "token" ? { text: event.text } : {
            text: event.text,
            finish: localFinish(event.reason),
            usage: {
              prompt_tokens: event.usage.promptTokens,
              completion_tokens: event.usage.completionTokens,
              total_tokens: event.usage.promptTokens + event.usage.completionTokens
            }
          }
        )
      ),
    onNone: () =>
      runtime.options.settings.stream(served.languageModel.streamText({ prompt }), settings).pipe(
        Stream.mapError(modelError),
        Stream.map((part: any): TextPiece | undefined => {
          if (part.type === "text-delta") return { text: part.delta }
          if (part.type === "finish") {
            const finish = finishReasonOf(part.reason)
            return { text: "", finish: finish === "length" ? "length" : "stop", usage: usageOf(part.usage) }
          }
          return undefined
        }),
        Stream.filter((piece): piece is TextPiece => piece !== undefined)
      )
  })

/** @internal */
export const completions = (runtime: Runtime) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const body = yield* decodeCompletion(yield* readJson(request))
    const served = yield* runtime.served
    yield* runtime.checkModel(served, body.model)
    const base = yield* settingsOf(body, body.max_tokens)
    const settings = base.maxTokens === undefined && runtime.options.defaultMaxTokens !== undefined
      ? { ...base, maxTokens: runtime.options.defaultMaxTokens }
      : base
    if (body.suffix !== undefined && body.suffix !== null && body.suffix !== "") {
      return yield* invalidRequest("suffix (fill-in-the-middle) is not supported", "suffix")
    }
    const prompts = typeof body.prompt === "string" ? [body.prompt] : body.prompt
    if (prompts.length === 0) return yield* invalidRequest("prompt must not be empty", "prompt")
    const id = newId("cmpl")
    const created = nowSeconds()
    const echo = body.echo === true
    const choice = (index: number, text: string, finish: Finish | null) => ({ index, text, finish_reason: finish, logprobs: null })
    if (body.stream === true) {
      if (prompts.length !== 1) return yield* invalidRequest("a streamed completion takes one prompt", "prompt")
      const scope = yield* Scope.make()
      yield* served.admission.acquire.pipe(Scope.provide(scope))
      let usage: TextPiece["usage"]
      const chunk = (text: string, finish: Finish | null) => ({
        id,
        object: "text_completion",
        created,
        model: served.modelId,
        choices: [choice(0, text, finish)]
      })
      const frames = pieces(runtime, served, prompts[0]!, settings).pipe(
        Stream.mapArray((batch) => {
          const out = []
          for (const piece of batch) {
            if (piece.usage !== undefined) usage = piece.usage
            if (piece.text !== "" || piece.finish !== undefined) out.push(chunk(piece.text, piece.finish ?? null))
          }
          return [sseFrames(out)]
        }),
        Stream.concat(Stream.suspend(() =>
          Stream.fromEffect(Effect.as(
            usage === undefined ? Effect.void : recordUsage(usage),
            body.stream_options?.include_usage === true && usage !== undefined
              ? [sseFrames([{ id, object: "text_completion", created, model: served.modelId, choices: [], usage }]), sseDone]
              : [sseDone]
          )).pipe(Stream.flattenIterable)
        )),
        Stream.catch((error) => Stream.make(sseFrames([{ error: error.body.error }]))),
        Stream.onExit((exit) => Scope.close(scope, exit))
      )
      const head: Stream.Stream<Uint8Array> = echo ? Stream.make(sseFrames([chunk(prompts[0]!, null)])) : Stream.empty
      yield* Effect.addFinalizer(() => Scope.close(scope, Exit.void))
      return HttpServerResponse.stream(Stream.concat(head, frames), { contentType: "text/event-stream", headers: sseHeaders })
    }
    const results = yield* Effect.scoped(Effect.gen(function*() {
      yield* served.admission.acquire
      return yield* Effect.forEach(prompts, (prompt) =>
        Stream.runFold(pieces(runtime, served, prompt, settings), () => ({ text: "", finish: "stop" as Finish, usage: undefined as TextPiece["usage"] }), (acc, piece) => {
          acc.text += piece.text
          if (piece.finish !== undefined) acc.finish = piece.finish
          if (piece.usage !== undefined) acc.usage = piece.usage
          return acc
        }))
    }))
    const usage = results.reduce(
      (sum, r) => ({
        prompt_tokens: sum.prompt_tokens + (r.usage?.prompt_tokens ?? 0),
        completion_tokens: sum.completion_tokens + (r.usage?.completion_tokens ?? 0),
        total_tokens: sum.total_tokens + (r.usage?.total_tokens ?? 0)
      }),
      { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
    )
    yield* recordUsage(usage)
    return HttpServerResponse.jsonUnsafe({
      id,
      object: "text_completion",
      created,
      model: served.modelId,
      choices: results.map((r, i) => choice(i, (echo ? prompts[i]! : "") + r.text, r.finish)),
      usage
    })
  })

// ============================================================================
// /v1/embeddings
// ============================================================================

const decodeEmbedding = decode(EmbeddingRequest)

const base64Of = (vector: ReadonlyArray<number>): string => {
  const floats = new Float32Array(vector)
  // Float32Array is little-endian on every platform Node runs on; OpenAI's base64 is little-endian float32.
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength).toString("base64")
}

/** @internal */
export const embeddings = (runtime: Runtime) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const body = yield* decodeEmbedding(yield* readJson(request))
    const served = yield* runtime.served
    yield* runtime.checkModel(served, body.model)
    if (Option.isNone(served.embeddingModel)) return yield* notSupported("this server has no embedding model")
    const inputs = typeof body.input === "string" ? [body.input] : body.input
    if (inputs.length === 0) return yield* invalidRequest("input must not be empty", "input")
    const model = served.embeddingModel.value
    const response = yield* model.embedMany(inputs).pipe(Effect.mapError(fromAiError))
    const vectors = response.embeddings.map((e) => e.vector)
    const dims = vectors[0]?.length ?? 0
    if (body.dimensions !== undefined && body.dimensions !== null && body.dimensions !== dims) {
      return yield* invalidRequest(`this model's embeddings have ${dims} dimensions`, "dimensions")
    }
    const promptTokens = response.usage.inputTokens ?? (yield* Option.match(served.llamaModel, {
      onNone: () => Effect.succeed(0),
      onSome: (m) =>
        Effect.map(
          Effect.forEach(inputs, (text) => m.tokenize(text), { concurrency: 4 }),
          (all) => all.reduce((n, tokens) => n + tokens.length, 0)
        ).pipe(Effect.orElseSucceed(() => 0))
    }))
    yield* Metric.update(serverMetrics.promptTokens, promptTokens)
    const base64 = body.encoding_format === "base64"
    return HttpServerResponse.jsonUnsafe({
      object: "list",
      model: served.modelId,
      data: vectors.map((vector, index) => ({ object: "embedding", index, embedding: base64 ? base64Of(vector) : vector })),
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens }
    })
  })

// ============================================================================
// /v1/models
// ============================================================================

const started = nowSeconds()

const modelObject = (served: Served) => ({ id: served.modelId, object: "model", created: started, owned_by: "effect-llama" })

/** @internal */
export const models = (runtime: Runtime) =>
  Effect.map(runtime.served, (served) => HttpServerResponse.jsonUnsafe({ object: "list", data: [modelObject(served)] }))

/** @internal */
export const model = (runtime: Runtime, id: string) =>
  Effect.gen(function*() {
    const served = yield* runtime.served
    yield* runtime.checkModel(served, id)
    return HttpServerResponse.jsonUnsafe(modelObject(served))
  })

// ============================================================================
// /tokenize, /detokenize
// ============================================================================

const decodeTokenize = decode(TokenizeRequest)
const decodeDetokenize = decode(DetokenizeRequest)

const localModel = (served: Served) =>
  Option.match(served.llamaModel, {
    onNone: () => Effect.fail(notSupported("this server's model has no local tokenizer")),
    onSome: Effect.succeed
  })

/** @internal */
export const tokenize = (runtime: Runtime) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const body = yield* decodeTokenize(yield* readJson(request))
    const model = yield* localModel(yield* runtime.served)
    const tokens = Array.from(
      yield* model.tokenize(body.content, {
        addSpecial: body.add_special ?? false,
        parseSpecial: body.parse_special ?? true
      }).pipe(Effect.mapError(fromLlamaError))
    )
    if (body.with_pieces !== true) return HttpServerResponse.jsonUnsafe({ tokens })
    const pieces = yield* Effect.forEach(tokens, (id) =>
      Effect.map(model.detokenize([id], { unparseSpecial: true }), (piece) => ({ id, piece }))).pipe(
        Effect.mapError(fromLlamaError)
      )
    return HttpServerResponse.jsonUnsafe({ tokens: pieces })
  })

/** @internal */
export const detokenize = (runtime: Runtime) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const body = yield* decodeDetokenize(yield* readJson(request))
    const model = yield* localModel(yield* runtime.served)
    const vocab = model.info.vocabSize
    const bad = body.tokens.findIndex((t) => t >= vocab)
    if (bad >= 0) return yield* invalidRequest(`token ${body.tokens[bad]} is outside the vocabulary (${vocab})`, `tokens[${bad}]`)
    const content = yield* model.detokenize(body.tokens).pipe(Effect.mapError(fromLlamaError))
    return HttpServerResponse.jsonUnsafe({ content })
  })

// ============================================================================
// /health, /metrics
// ============================================================================

/** @internal */
export const health = (runtime: Runtime) =>
  Effect.match(runtime.served, {
    onSuccess: () => HttpServerResponse.jsonUnsafe({ status: "ok" }),
    onFailure: errorResponse
  })

/** @internal Every Effect metric of the process (the server's, the models', agents', tools'), as `Prometheus` renders it. */
export const metrics = Prometheus.response()
