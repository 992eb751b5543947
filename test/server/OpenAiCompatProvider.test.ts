// Our own OpenAI-compatible provider (src/providers/OpenAiCompat*) against our own server on a generated model:
// the round trips the official client makes in OpenAiClient.test.ts, seen through effect/ai. Text and its stream,
// a forced tool call whose result goes back as a tool message, generateObject through json_schema, embeddings,
// models, errors as AiError reasons (bad key, over-long prompt, full queue), a cancelled stream freeing its slot.
// Then the server as a gateway: a second server serving the provider Layer, driven by the openai client.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Redacted, Ref, Schema, Stream } from "effect"
import { AiError, EmbeddingModel, LanguageModel, Prompt, Tool, Toolkit } from "effect/ai"
import OpenAI from "openai"
import { ensureModel } from "../../scripts/models.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiCompat from "../../src/providers/OpenAiCompat.ts"
import * as OpenAiCompatEmbeddingModel from "../../src/providers/OpenAiCompatEmbeddingModel.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const KEY = "sk-provider-test"
const MODEL = "effect-llama-tiny-qwen2"

// One slot and no queue: a request while another runs is refused (503), which the queue test relies on.
const Server = OpenAiServer.layerNode(
  OpenAiServer.localModels({ path: tinyQwen, parallel: 1, contextSize: 2048, threads: 1, config: { sampling: { seed: 7 } } }).pipe(
    Layer.provide(Native.layer)
  ),
  { port: 0, apiKeys: [KEY], maxQueued: 0, retryAfterSeconds: 1 }
)

const connection = (apiKey = KEY) => Effect.map(baseUrl, (url) => ({ baseUrl: `${url}/v1`, apiKey: Redacted.make(apiKey) }))

// The provider's LanguageModel and EmbeddingModel on the server under test.
const Remote = Layer.unwrap(Effect.map(connection(), (options) =>
  Layer.mergeAll(
    OpenAiCompat.layer({ ...options, model: MODEL, config: { maxTokens: 16, temperature: 0 } }),
    OpenAiCompatEmbeddingModel.layer({ ...options, model: MODEL })
  ))).pipe(Layer.provideMerge(Server), Layer.provideMerge(NodeHttpClient.layerUndici))

const GetWeather = Tool.make("GetWeather", {
  description: "Current temperature for a city",
  parameters: Schema.Struct({ city: Schema.Literals(["Paris", "Oslo", "Lima"]) }),
  success: Schema.Struct({ celsius: Schema.Int })
})
const Weather = Toolkit.make(GetWeather)

const Forecast = Schema.Struct({
  city: Schema.Literals(["Paris", "Oslo"]),
  rain: Schema.Boolean,
  celsius: Schema.Int.check(Schema.isBetween({ minimum: -20, maximum: 40 }))
})

const reasonOf = <A, R>(effect: Effect.Effect<A, AiError.AiError, R>) =>
  Effect.flip(effect).pipe(Effect.map((error) => error.reason))

const prompt = "Describe the sea."

layer(Remote, { excludeTestServices: true, timeout: 300_000 })("OpenAiCompat provider against the server", (it) => {
  it.effect("models: listModels sees the served model", () =>
    Effect.gen(function*() {
      yield* (yield* OpenAiServer.OpenAiServer).ready
      const models = yield* OpenAiCompat.listModels(yield* connection())
      assert.deepStrictEqual(models.map((m) => m.id), [MODEL])
    }))

  it.effect("generateText, then streamText: same text (greedy), finish reason and usage from the usage chunk", () =>
    Effect.gen(function*() {
      const whole = yield* LanguageModel.generateText({ prompt })
      assert.isAbove(whole.text.length, 0)
      assert.strictEqual(whole.finishReason, "length")
      assert.strictEqual(whole.usage.outputTokens.total, 16)
      assert.isAbove(whole.usage.inputTokens.total ?? 0, 5)
      const parts = yield* LanguageModel.streamText({ prompt }).pipe(Stream.runCollect)
      const deltas = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : []))
      assert.isAbove(deltas.length, 1)
      assert.strictEqual(deltas.join(""), whole.text)
      const finish = parts.find((p) => p.type === "finish")
      assert.strictEqual(finish?.reason, "length")
      assert.strictEqual(finish?.usage.outputTokens.total, 16)
      assert.strictEqual(finish?.usage.inputTokens.total, whole.usage.inputTokens.total)
    }))

  it.effect("a forced tool call runs the handler; its result goes back as a tool message, then the answer", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make<Array<string>>([])
      const toolkit = yield* Weather.pipe(Effect.provide(Weather.toLayer({
        GetWeather: ({ city }) => Effect.as(Ref.update(calls, (c) => [...c, city]), { celsius: 21 })
      })))
      const question = Prompt.make([{ role: "system", content: "Use the tools." }, { role: "user", content: "Weather in Paris?" }])
      const first = yield* LanguageModel.generateText({ prompt: question, toolkit, toolChoice: { tool: "GetWeather" } }).pipe(
        OpenAiCompat.withConfigOverride({ maxTokens: 120, parallelToolCalls: false })
      )
      assert.strictEqual(first.finishReason, "tool-calls")
      assert.isAtLeast(first.toolCalls.length, 1)
      assert.strictEqual(first.toolResults[0]!.name, "GetWeather")
      assert.deepStrictEqual(first.toolResults[0]!.result, { celsius: 21 })
      const made = yield* Ref.get(calls)
      assert.strictEqual(made.length, first.toolCalls.length)
      assert.include(["Paris", "Oslo", "Lima"], made[0])
      // The assistant's tool calls and the tool message with their results, then an answer in text.
      const history = Prompt.concat(question, Prompt.fromResponseParts(first.content))
      assert.deepStrictEqual(history.content.map((m) => m.role), ["system", "user", "assistant", "tool"])
      const answer = yield* LanguageModel.generateText({ prompt: history, toolkit, toolChoice: "none" }).pipe(
        OpenAiCompat.withConfigOverride({ maxTokens: 10 })
      )
      assert.include(["stop", "length"], answer.finishReason)
      assert.strictEqual(answer.toolCalls.length, 0)
      assert.isAbove(answer.text.length, 0)
      // The server read the call and its result: the prompt is longer than the same turn without them.
      const control = yield* LanguageModel.generateText({ prompt: question, toolkit, toolChoice: "none" }).pipe(
        OpenAiCompat.withConfigOverride({ maxTokens: 1 })
      )
      assert.isAbove(answer.usage.inputTokens.total ?? 0, (control.usage.inputTokens.total ?? 0) + 10)
    }))

  it.effect("a forced tool call, streamed: the provider assembles the fragments into the call", () =>
    Effect.gen(function*() {
      const toolkit = yield* Weather.pipe(Effect.provide(Weather.toLayer({ GetWeather: () => Effect.succeed({ celsius: 4 }) })))
      const parts = yield* LanguageModel.streamText({ prompt: "Weather in Oslo?", toolkit, toolChoice: { tool: "GetWeather" } }).pipe(
        Stream.runCollect,
        OpenAiCompat.withConfigOverride({ maxTokens: 120, parallelToolCalls: false })
      )
      const call = parts.find((p) => p.type === "tool-call")
      assert.strictEqual(call?.name, "GetWeather")
      assert.include(["Paris", "Oslo", "Lima"], (call?.params as { city: string }).city)
      const result = parts.find((p) => p.type === "tool-result")
      assert.deepStrictEqual(result?.type === "tool-result" ? result.result : undefined, { celsius: 4 })
      assert.strictEqual(parts.find((p) => p.type === "finish")?.reason, "tool-calls")
    }))

  it.effect("generateObject through response_format json_schema decodes against the schema", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.generateObject({ prompt: "The forecast for Paris, as JSON.", schema: Forecast }).pipe(
        OpenAiCompat.withConfigOverride({ maxTokens: 400 })
      )
      assert.include(["Paris", "Oslo"], response.value.city)
      assert.isBoolean(response.value.rain)
      assert.isTrue(Number.isInteger(response.value.celsius))
    }))

  it.effect("embeddings: one unit vector per input, in order, equal to the server's base64 encoding", () =>
    Effect.gen(function*() {
      const model = yield* EmbeddingModel.EmbeddingModel
      const input = ["the sea is salty", "rivers are not", "the sea is salty"]
      const many = yield* model.embedMany(input)
      const [a, b, c] = many.embeddings.map((e) => e.vector)
      assert.strictEqual(a!.length, 64)
      assert.approximately(Math.hypot(...a!), 1, 1e-4)
      assert.deepStrictEqual(a, c)
      assert.notDeepEqual(a, b)
      const url = yield* baseUrl
      const raw = yield* Effect.promise(() =>
        fetch(`${url}/v1/embeddings`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ input: input[1], encoding_format: "base64" })
        }).then((r) => r.json() as Promise<{ data: Array<{ embedding: string }> }>)
      )
      const bytes = Buffer.from(raw.data[0]!.embedding, "base64")
      assert.deepStrictEqual(Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)), b)
    }))

  it.effect("errors as AiError reasons: a bad key, an over-long prompt (streamed or not)", () =>
    Effect.gen(function*() {
      const wrong = yield* OpenAiCompat.make({ ...(yield* connection("sk-wrong")), model: MODEL })
      const auth = yield* reasonOf(wrong.generateText({ prompt }))
      assert.strictEqual(auth._tag, "AuthenticationError")
      assert.isFalse(auth.isRetryable)
      const long = "many words ".repeat(3000)
      const tooLong = yield* reasonOf(LanguageModel.generateText({ prompt: long }))
      assert.strictEqual(tooLong._tag, "InvalidRequestError")
      assert.isFalse(tooLong.isRetryable)
      const streamed = yield* reasonOf(Stream.runDrain(LanguageModel.streamText({ prompt: long })))
      assert.strictEqual(streamed._tag, "InvalidRequestError")
    }))

  it.effect("a full queue is a retryable reason with the server's Retry-After; a cancelled stream frees the slot", () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.OpenAiServer
      let busyWhileStreaming = 0
      let refused: AiError.AiErrorReason | undefined
      const taken = yield* LanguageModel.streamText({ prompt: "Tell me a long story." }).pipe(
        Stream.filter((p) => p.type === "text-delta"),
        Stream.take(3),
        Stream.tap(() =>
          Effect.gen(function*() {
            busyWhileStreaming = Math.max(busyWhileStreaming, server.stats().busy)
            // The one slot is taken and nothing may queue: a second request is refused.
            if (refused === undefined) refused = yield* reasonOf(LanguageModel.generateText({ prompt }))
          })
        ),
        Stream.runCollect,
        OpenAiCompat.withConfigOverride({ maxTokens: 1500 })
      )
      assert.strictEqual(taken.length, 3)
      assert.strictEqual(busyWhileStreaming, 1)
      assert.strictEqual(refused?._tag, "InternalProviderError")
      assert.isTrue(refused?.isRetryable)
      assert.strictEqual(refused?._tag === "InternalProviderError" ? refused.http?.response?.status : undefined, 503)
      assert.strictEqual(refused?._tag === "InternalProviderError" ? refused.http?.response?.headers["retry-after"] : undefined, "1")
      // Taking 3 parts closed the stream: the request was cancelled, its generation stopped, the slot freed.
      yield* server.awaitIdle
      assert.strictEqual(server.stats().busy, 0)
      const after = yield* LanguageModel.generateText({ prompt }).pipe(OpenAiCompat.withConfigOverride({ maxTokens: 2 }))
      assert.strictEqual(after.usage.outputTokens.total, 2)
    }))

  it.effect("as a gateway: a second server serves the provider Layer, and the openai client talks through it", () =>
    Effect.gen(function*() {
      // The upstream's address is read here: inside the gateway's Layer, HttpServer is the gateway's own.
      const upstream = yield* connection()
      const Gateway = OpenAiServer.layerNode(OpenAiCompat.layer({ ...upstream, model: MODEL }), {
        port: 0,
        modelId: "gateway",
        settings: OpenAiServer.providerSettingsApplier(OpenAiCompat.withConfigOverride)
      })
      const context = yield* Layer.build(Gateway)
      const gateway = yield* baseUrl.pipe(Effect.provideContext(context))
      const openai = new OpenAI({ baseURL: `${gateway}/v1`, apiKey: "unused", maxRetries: 0 })
      const request = { model: "gateway", messages: [{ role: "user" as const, content: prompt }], max_tokens: 8, temperature: 0 }
      const viaGateway = yield* Effect.promise(() => openai.chat.completions.create(request))
      const direct = yield* LanguageModel.generateText({ prompt }).pipe(OpenAiCompat.withConfigOverride({ maxTokens: 8 }))
      assert.strictEqual(viaGateway.choices[0]!.message.content, direct.text)
      assert.strictEqual(viaGateway.usage?.completion_tokens, 8) // max_tokens went through the provider's config
      assert.strictEqual(viaGateway.choices[0]!.finish_reason, "length")
      const chunks = yield* Effect.promise(async () => {
        const out = []
        for await (const chunk of await openai.chat.completions.create({ ...request, stream: true })) out.push(chunk)
        return out
      })
      assert.strictEqual(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), direct.text)
    }).pipe(Effect.scoped))
})
