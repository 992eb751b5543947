/**
 * `POST /v1/chat/completions`. A request takes a slot (or waits in the queue), then runs on the served
 * `LanguageModel`: `generateText` for a plain answer, `streamText` for SSE, `generateObject` for a response
 * format. Tool calls are returned to the client, never run here. A streamed answer commits to 200 only once the
 * model produced its first part, so a prompt that does not fit is still a 400; from then on a failure is an
 * error event in the stream. However the stream ends (done, failed, client gone), the generation stops and the
 * slot is freed before the request's scope closes.
 *
 * @internal
 */
import { Effect, Exit, Metric, Pull, Scope, Stream } from "effect"
import { AiError } from "effect/ai"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { ChatCompletionRequest } from "../OpenAiSchema.ts"
import { Internal, ServerError } from "../ServerError.ts"
import { fromAiError } from "./aiErrors.ts"
import { type ChatCall, chatCall } from "./chatRequest.ts"
import { ChunkWriter, completionOf, type Meta, usageOf } from "./chatResponse.ts"
import { decode, newId, nowSeconds, readJson, sseDone, sseFrames, sseHeaders } from "./http.ts"
import { serverMetrics } from "./metrics.ts"
import type { Runtime, Served } from "./runtime.ts"

const decodeRequest = decode(ChatCompletionRequest)

/** Maps a model failure to a ServerError (anything not an AiError is a defect). @internal */
export const modelError = (error: unknown): ServerError =>
  AiError.isAiError(error)
    ? fromAiError(error)
    : error instanceof ServerError
    ? error
    : new ServerError({ reason: new Internal({ message: error instanceof Error ? error.message : String(error) }) })

const options = (call: ChatCall) => ({
  prompt: call.prompt,
  ...(call.toolkit === undefined ? {} : {
    toolkit: call.toolkit,
    toolChoice: call.toolChoice,
    disableToolCallResolution: true,
    toolCallValidation: "deferred" as const
  })
})

const withDefaults = (runtime: Runtime, call: ChatCall): ChatCall =>
  call.settings.maxTokens === undefined && runtime.options.defaultMaxTokens !== undefined
    ? { ...call, settings: { ...call.settings, maxTokens: runtime.options.defaultMaxTokens } }
    : call

/** Token counts into the server's metrics. @internal */
export const recordUsage = (usage: { readonly prompt_tokens: number; readonly completion_tokens: number }) =>
  Effect.andThen(
    Metric.update(serverMetrics.promptTokens, usage.prompt_tokens),
    Metric.update(serverMetrics.completionTokens, usage.completion_tokens)
  )

const sinceSeconds = (started: number) => (performance.now() - started) / 1000

const generate = (runtime: Runtime, served: Served, call: ChatCall, meta: Meta) =>
  Effect.scoped(Effect.gen(function*() {
    yield* served.admission.acquire
    const response = yield* runtime.options.settings.effect(served.languageModel.generateText(options(call)), call.settings).pipe(
      Effect.mapError(modelError)
    )
    return completionOf(meta, response)
  }))

// A response format: the whole object, then (when streamed) sent as one content chunk.
const generateObject = (runtime: Runtime, served: Served, call: ChatCall, meta: Meta) =>
  Effect.scoped(Effect.gen(function*() {
    if (call.responseFormat.type !== "json") return yield* Effect.die(new Error("generateObject without a JSON format"))
    yield* served.admission.acquire
    const format = call.responseFormat
    return yield* runtime.options.settings.effect(
      served.languageModel.generateObject({ ...options(call), schema: format.schema, objectName: format.name }),
      call.settings
    ).pipe(
      Effect.map((response) => completionOf(meta, response)),
      // Cut at the token limit: what the model wrote so far, as OpenAI does, not a failure.
      Effect.catch((error) =>
        AiError.isAiError(error) && error.reason._tag === "StructuredOutputError"
          ? Effect.succeed(cutObject(meta, error.reason.responseText))
          : Effect.fail(modelError(error))
      )
    )
  }))

const cutObject = (meta: Meta, text: string): ReturnType<typeof completionOf> => ({
  id: meta.id,
  object: "chat.completion",
  created: meta.created,
  model: meta.model,
  choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "length", logprobs: null }],
  usage: usageOf(undefined)
})

const objectAsStream = (completion: ReturnType<typeof completionOf>, meta: Meta, includeUsage: boolean) => {
  const writer = new ChunkWriter(meta)
  const choice = completion.choices[0]!
  const frames = [
    writer.start(),
    writer.chunk({ content: choice.message.content ?? "" }),
    writer.chunk({}, choice.finish_reason)
  ]
  if (includeUsage) frames.push({ ...writer.usageChunk(), usage: completion.usage })
  return HttpServerResponse.stream(Stream.make(sseFrames(frames), sseDone), { contentType: "text/event-stream", headers: sseHeaders })
}

const isContent = (part: { readonly type: string }) => part.type !== "response-metadata" && part.type !== "text-start" && part.type !== "reasoning-start"

const streamed = (runtime: Runtime, served: Served, call: ChatCall, meta: Meta, started: number) =>
  Effect.gen(function*() {
    // The stream's resources (slot, generation) live in a scope of their own, closed when the body ends.
    const scope = yield* Scope.make()
    const close = (exit: Exit.Exit<unknown, unknown>) => Scope.close(scope, exit)
    const opened = yield* Effect.gen(function*() {
      yield* served.admission.acquire
      const parts = runtime.options.settings.stream(served.languageModel.streamText(options(call)), call.settings)
      const pull = yield* Stream.toPull(parts)
      // Wait for the first part that carries content: until then a failure is still an HTTP error status.
      const head: Array<any> = []
      let ended = false
      while (!ended && !head.some(isContent)) {
        const chunk = yield* pull.pipe(
          Effect.map((c) => c as ReadonlyArray<any>),
          Pull.catchDone(() => Effect.sync(() => {
            ended = true
            return [] as ReadonlyArray<any>
          })),
          Effect.mapError(modelError)
        )
        head.push(...chunk)
      }
      return { head, pull, ended }
    }).pipe(Scope.provide(scope), Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : close(exit))))
    yield* Metric.update(serverMetrics.timeToFirstToken, sinceSeconds(started))
    const writer = new ChunkWriter(meta)
    const frames = (parts: ReadonlyArray<any>) => {
      const out = []
      for (const part of parts) {
        if (part.type === "error") out.push({ error: modelError(part.error).body.error })
        else out.push(...writer.part(part))
      }
      return out
    }
    const rest = opened.ended ? Stream.empty : Stream.fromPull(Effect.succeed(opened.pull))
    const body = Stream.concat(Stream.make(sseFrames([writer.start(), ...frames(opened.head)])), rest.pipe(
      Stream.mapArray((parts) => [sseFrames(frames(parts))])
    )).pipe(
      Stream.concat(Stream.suspend(() => {
        const usage = usageOf(writer.usage)
        return Stream.fromEffect(Effect.as(
          Effect.andThen(recordUsage(usage), Metric.update(serverMetrics.latency, sinceSeconds(started))),
          call.includeUsage ? [sseFrames([writer.usageChunk()]), sseDone] : [sseDone]
        )).pipe(Stream.flattenIterable)
      })),
      // After the 200, a failure is an error event (the OpenAI SDK raises it), then the stream ends.
      Stream.catch((error) => Stream.make(sseFrames([{ error: modelError(error).body.error }]))),
      Stream.onExit((exit) =>
        Effect.andThen(
          Exit.hasInterrupts(exit) ? Metric.update(serverMetrics.disconnects, 1) : Effect.void,
          close(exit)
        )
      )
    )
    // Also closed with the request, should the body never be read.
    yield* Effect.addFinalizer(() => close(Exit.void))
    return HttpServerResponse.stream(body, { contentType: "text/event-stream", headers: sseHeaders })
  })

/** @internal */
export const chatCompletions = (runtime: Runtime) => (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const started = performance.now()
    const body = yield* decodeRequest(yield* readJson(request))
    const served = yield* runtime.served
    yield* runtime.checkModel(served, body.model)
    const call = withDefaults(runtime, yield* chatCall(body))
    const meta: Meta = { id: newId("chatcmpl"), created: nowSeconds(), model: served.modelId }
    if (call.responseFormat.type === "json") {
      const completion = yield* generateObject(runtime, served, call, meta)
      yield* recordUsage(completion.usage)
      yield* Metric.update(serverMetrics.latency, sinceSeconds(started))
      return call.stream ? objectAsStream(completion, meta, call.includeUsage) : HttpServerResponse.jsonUnsafe(completion)
    }
    if (call.stream) return yield* streamed(runtime, served, call, meta, started)
    const completion = yield* generate(runtime, served, call, meta)
    yield* recordUsage(completion.usage)
    yield* Metric.update(serverMetrics.latency, sinceSeconds(started))
    return HttpServerResponse.jsonUnsafe(completion)
  })
