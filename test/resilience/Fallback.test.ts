// The fallback chain: a dead remote (nothing listens on its port) in front of the local llama.cpp model.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiCompat from "../../src/providers/OpenAiCompat.ts"
import * as Resilience from "../../src/resilience/Resilience.ts"
import * as F from "../providers/FaultServer.ts"
import { closedPort } from "../support/closedPort.ts"

const Local = LlamaLanguageModel.layerModel({
  path: await ensureModel("tiny-qwen2"),
  config: { maxTokens: 12, sampling: { seed: 5 } }
}).pipe(Layer.provide(Native.layer))

// A closed loopback port: the connection is refused at once.
const Dead = OpenAiCompat.layer({ baseUrl: `http://127.0.0.1:${await closedPort()}/v1`, model: "remote" }).pipe(
  Resilience.languageModel({ key: "dead/remote", retry: { times: 1, base: "1 millis", jitter: false } }),
  Layer.provide(NodeHttpClient.layerUndici)
)

// A live remote whose stream breaks after its first words: the fallback must not add the local model's text.
const Breaking = Layer.unwrap(Effect.gen(function*() {
  const server = yield* F.Fault
  const frames = F.textStream(["remote", " words", " more"])
  yield* server.script(F.stream([frames[0]!, frames[1]!, frames[2]!.slice(0, 20)], { cut: true }))
  return OpenAiCompat.layer({ baseUrl: `${server.url}/v1`, model: "breaking" })
})).pipe(Layer.provide([F.layer, NodeHttpClient.layerUndici]))

layer(Resilience.fallback([Dead, Local]), { excludeTestServices: true })("fallback: dead remote, then local", (it) => {
  it.effect("generateText: the remote's connection is refused (after its own retry), the local model answers", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.generateText({ prompt: "Hello?" })
      assert.strictEqual(response.finishReason, "length")
      assert.strictEqual(response.usage.outputTokens.total, 12)
      const metadata = response.content.find((p) => p.type === "response-metadata")
      assert.include(metadata?.modelId ?? "", "tiny-qwen2")
    }))

  it.effect("streamText: a remote that fails before its first part falls back as a whole", () =>
    Effect.gen(function*() {
      const parts = yield* LanguageModel.streamText({ prompt: "Hello?" }).pipe(Stream.runCollect)
      assert.isAbove(parts.filter((p) => p.type === "text-delta").length, 0)
      assert.strictEqual(parts.find((p) => p.type === "finish")?.usage.outputTokens.total, 12)
    }))
})

layer(Resilience.fallback([Breaking, Local]), { excludeTestServices: true })("fallback: a remote stream cut mid-way", (it) => {
  it.effect("a stream that already emitted text fails instead of mixing in the local model's text", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const error = yield* LanguageModel.streamText({ prompt: "Hello?" }).pipe(
        Stream.runForEach((p) => Effect.sync(() => p.type === "text-delta" && seen.push(p.delta))),
        Effect.flip
      )
      assert.strictEqual(error.reason._tag, "NetworkError")
      assert.deepStrictEqual(seen, ["remote", " words"])
    }))
})
