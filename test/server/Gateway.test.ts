// A gateway's settings: providerSettingsApplier forwards a request's sampling and limits to a provider through
// the provider's own withConfigOverride, for plain and streamed calls. The provider here is a stand-in whose
// replies report the configuration it was called with (the real OpenAiCompat provider is the same shape).
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer, Stream } from "effect"
import { LanguageModel, type Response } from "effect/ai"
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
