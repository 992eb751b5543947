// A gateway's settings: providerSettingsApplier forwards a request's sampling and limits to a provider through
// the provider's own withConfigOverride, for plain and streamed calls. The provider here is a stand-in whose
// replies report the configuration it was called with (the real OpenAiCompat provider is the same shape).
// Then an upstream's failures as the gateway's clients see them: a rate limit is a 429 with its Retry-After, a
// provider error a 500, both in OpenAI's shape; a failure after the stream began is an error event, then the end.
import { assert, layer } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Response } from "effect/ai"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl, post, sseData } from "./support.ts"

// The stand-in provider's per-call configuration, and its withConfigOverride (merging over the current one).
const Override = Context.Reference<OpenAiServer.ProviderConfig>("test/Gateway/Override", { defaultValue: () => ({ temperature: 1 }) })
const withOverride = <Self extends Effect.Effect<any, any, any> | Stream.Stream<any, any, any>>(self: Self, config: OpenAiServer.ProviderConfig): Self =>
  (Stream.isStream(self)
    ? Stream.unwrap(Effect.map(Effect.service(Override), (current) => Stream.provideService(self, Override, { ...current, ...config })))
    : Effect.flatMap(Effect.service(Override), (current) => Effect.provideService(self as Effect.Effect<any, any, any>, Override, { ...current, ...config }))) as never

const finish = { type: "finish", reason: "stop", usage: { inputTokens: { total: 1 }, outputTokens: { total: 1 } } } as const
const Reporting = Layer.effect(LanguageModel.LanguageModel, LanguageModel.make({
  generateText: () => Effect.map(Effect.service(Override), (config) => [{ type: "text", text: JSON.stringify(config) }, finish]),
  streamText: () =>
    Stream.unwrap(Effect.map(Effect.service(Override), (config): Stream.Stream<Response.StreamPartEncoded> =>
      Stream.fromIterable([
        { type: "text-start", id: "t" },
        { type: "text-delta", id: "t", delta: JSON.stringify(config) },
        { type: "text-end", id: "t" },
        finish
      ])))
}))

const Gateway = OpenAiServer.layerNode(Reporting, { port: 0, modelId: "remote", settings: OpenAiServer.providerSettingsApplier(withOverride) })

const request = {
  model: "remote",
  messages: [{ role: "user", content: "hi" }],
  max_completion_tokens: 7,
  stop: ["\n\n"],
  top_p: 0.5,
  seed: 3,
  presence_penalty: 0.25,
  logit_bias: { "42": -100 }
}
const expected = { temperature: 1, maxTokens: 7, stop: ["\n\n"], topP: 0.5, seed: 3, presencePenalty: 0.25, logitBias: { "42": -100 } }

layer(Gateway, { excludeTestServices: true })("gateway settings", (it) => {
  it.effect("a request's settings reach the provider's configuration, over its defaults", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const plain = yield* post(`${url}/v1/chat/completions`, request)
      assert.strictEqual(plain.status, 200)
      const content = (JSON.parse(plain.text) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content
      assert.deepStrictEqual(JSON.parse(content), expected)
      const streamed = yield* post(`${url}/v1/chat/completions`, { ...request, stream: true, temperature: 0.2 })
      const frames = sseData(streamed.text)
      assert.strictEqual(frames.at(-1), "[DONE]")
      const text = frames.slice(0, -1).map((f) => (JSON.parse(f) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "").join("")
      assert.deepStrictEqual(JSON.parse(text), { ...expected, temperature: 0.2 })
      // A request that sets nothing leaves the provider's defaults alone.
      const bare = yield* post(`${url}/v1/chat/completions`, { model: "remote", messages: [{ role: "user", content: "hi" }] })
      assert.deepStrictEqual(JSON.parse((JSON.parse(bare.text) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content), { temperature: 1 })
    }))
})

// An upstream that fails as the test says: before answering, or (streamed) after its first delta.
let failure: "rate" | "broken" | "midway" = "rate"
const upstreamError = () =>
  AiError.make({
    module: "Upstream",
    method: "generateText",
    reason: failure === "rate"
      ? new AiError.RateLimitError({ retryAfter: Duration.seconds(3) })
      : new AiError.InternalProviderError({ description: "upstream exploded" })
  })
const Failing = Layer.effect(LanguageModel.LanguageModel, LanguageModel.make({
  generateText: () => Effect.fail(upstreamError()),
  streamText: () =>
    failure === "midway"
      ? Stream.concat(
        Stream.fromIterable<Response.StreamPartEncoded>([{ type: "text-start", id: "t" }, { type: "text-delta", id: "t", delta: "partial" }]),
        Stream.fail(upstreamError())
      )
      : Stream.fail(upstreamError())
}))

layer(OpenAiServer.layerNode(Failing, { port: 0, modelId: "remote" }), { excludeTestServices: true })("upstream failures", (it) => {
  it.effect("a rate limit is a 429 with Retry-After, a provider error a 500; a failure mid-stream an error event", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const chat = { model: "remote", messages: [{ role: "user", content: "hi" }] }
      failure = "rate"
      const limited = yield* post(`${url}/v1/chat/completions`, chat)
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("retry-after"), "3")
      assert.strictEqual(JSON.parse(limited.text).error.code, "rate_limit_exceeded")
      failure = "broken"
      const broken = yield* post(`${url}/v1/chat/completions`, chat)
      assert.strictEqual(broken.status, 500)
      const body = JSON.parse(broken.text) as { error: { message: string; type: string; param: unknown; code: unknown } }
      assert.deepStrictEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"])
      assert.include(body.error.message, "upstream exploded")
      const brokenStream = yield* post(`${url}/v1/chat/completions`, { ...chat, stream: true })
      assert.strictEqual(brokenStream.status, 500) // nothing was produced yet: still a status
      failure = "midway"
      const midway = yield* post(`${url}/v1/chat/completions`, { ...chat, stream: true })
      assert.strictEqual(midway.status, 200)
      const frames = sseData(midway.text).map((f) => JSON.parse(f) as { choices?: Array<{ delta: { content?: string } }>; error?: { message: string } })
      assert.strictEqual(frames.map((f) => f.choices?.[0]?.delta.content ?? "").join(""), "partial")
      assert.include(frames.at(-1)?.error?.message ?? "", "upstream exploded")
    }))
})
