// effect/ai programs on the local provider: tools through Chat + Toolkit, generateObject, streamText.
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Ref, Schema, Stream } from "effect"
import { Chat, LanguageModel, Tool, Toolkit } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as Native from "../../src/native/Native.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const tinyLlama = await ensureModel("tiny-llama")

const Local = LlamaLanguageModel.layerModel({
  path: tinyQwen,
  context: { contextSize: 8192, sequences: 4 },
  config: { maxTokens: 300, sampling: { seed: 11 } }
}).pipe(Layer.provide(Native.layer))

const GetWeather = Tool.make("GetWeather", {
  description: "Current temperature for a city",
  parameters: Schema.Struct({
    city: Schema.Literals(["Paris", "Oslo", "Lima"]),
    days: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 3 }))
  }),
  success: Schema.Struct({ celsius: Schema.Int })
})
const Weather = Toolkit.make(GetWeather)

const Forecast = Schema.Struct({
  city: Schema.Literals(["Paris", "Oslo"]),
  rain: Schema.Boolean,
  celsius: Schema.Int.check(Schema.isBetween({ minimum: -20, maximum: 40 }))
})

layer(Local, { excludeTestServices: true })("LlamaLanguageModel", (it) => {
  it.effect("Chat + Toolkit with toolChoice required: the call decodes, the handler runs, the next turn sees it", () =>
    Effect.gen(function*() {
      const calls = yield* Ref.make<Array<string>>([])
      const handlers = Weather.toLayer({
        GetWeather: ({ city, days }) => Effect.as(Ref.update(calls, (c) => [...c, `${city}/${days}`]), { celsius: 21 })
      })
      const toolkit = yield* Weather.pipe(Effect.provide(handlers))
      const chat = yield* Chat.fromPrompt([{ role: "system", content: "Use the tools." }])
      // A forced call takes a few dozen tokens; a random model may then open more calls, cut by the limit.
      const first = yield* chat.generateText({ prompt: "Weather in Paris?", toolkit, toolChoice: "required" }).pipe(
        LlamaLanguageModel.withConfigOverride({ maxTokens: 120 })
      )
      assert.strictEqual(first.finishReason, "tool-calls")
      assert.isAtLeast(first.toolResults.length, 1)
      const result = first.toolResults[0]!
      assert.strictEqual(result.name, "GetWeather")
      assert.isFalse(result.isFailure)
      assert.deepStrictEqual(result.result, { celsius: 21 })
      assert.strictEqual((yield* Ref.get(calls)).length, first.toolResults.length)
      const history = yield* Ref.get(chat.history)
      assert.deepStrictEqual(history.content.map((m) => m.role), ["system", "user", "assistant", "tool"])
      // The next turn's prompt is the first one plus the call and its result; it reuses the first turn's KV cache.
      const second = yield* chat.generateText({ prompt: [], toolkit }).pipe(
        LlamaLanguageModel.withConfigOverride({ maxTokens: 8 })
      )
      const firstPrompt = first.usage.inputTokens.total ?? 0
      assert.isAbove(second.usage.inputTokens.total ?? 0, firstPrompt)
      assert.isAtLeast(second.usage.inputTokens.cacheRead ?? 0, firstPrompt - 1)
    }))

  it.effect("concatenated streamText deltas equal generateText's text (greedy)", () =>
    Effect.gen(function*() {
      const greedy = LlamaLanguageModel.withConfigOverride({ sampling: { temperature: 0 }, maxTokens: 40 })
      const full = yield* LanguageModel.generateText({ prompt: "Describe the sea." }).pipe(greedy)
      const parts = yield* LanguageModel.streamText({ prompt: "Describe the sea." }).pipe(Stream.runCollect, greedy)
      const streamed = parts.map((p) => (p.type === "text-delta" ? p.delta : "")).join("")
      assert.strictEqual(streamed, full.text)
      assert.isAbove(full.text.length, 0)
      const finish = parts.find((p) => p.type === "finish")
      assert.isDefined(finish)
      if (finish?.type === "finish") {
        assert.strictEqual(finish.reason, "length")
        assert.strictEqual(finish.usage.outputTokens.total, 40)
      }
    }))

  it.effect("streamText with a required tool streams tool-params deltas, then the tool call", () =>
    Effect.gen(function*() {
      const parts = yield* LanguageModel.streamText({
        prompt: "Weather in Oslo?",
        toolkit: Weather,
        toolChoice: { tool: "GetWeather" } as const,
        disableToolCallResolution: true
      }).pipe(Stream.runCollect, LlamaLanguageModel.withConfigOverride({ maxTokens: 120 }))
      const kinds = new Set(parts.map((p) => p.type))
      assert.isTrue(kinds.has("tool-params-start") && kinds.has("tool-params-delta") && kinds.has("tool-params-end"))
      const call = parts.find((p) => p.type === "tool-call")
      assert.isDefined(call)
      if (call?.type === "tool-call") {
        assert.strictEqual(call.name, "GetWeather")
        const deltas = parts.flatMap((p) => (p.type === "tool-params-delta" && p.id === call.id ? [p.delta] : []))
        assert.deepStrictEqual(JSON.parse(deltas.join("")), call.params)
      }
    }))

  it.effect("16 concurrent streamText calls on a 4-sequence context all complete", () =>
    Effect.gen(function*() {
      const outs = yield* Effect.forEach(
        Array.from({ length: 16 }, (_, i) => i),
        (i) =>
          LanguageModel.streamText({ prompt: `Question ${i}?` }).pipe(
            Stream.runCollect,
            LlamaLanguageModel.withConfigOverride({ maxTokens: 12, sampling: { temperature: 0 } })
          ),
        { concurrency: "unbounded" }
      )
      for (const parts of outs) {
        const finish = parts.find((p) => p.type === "finish")
        assert.isDefined(finish)
      }
    }))

  it.effect("Effect.timeout interrupts a long streamText promptly; the next call works", () =>
    Effect.gen(function*() {
      const started = Date.now()
      const timedOut = yield* LanguageModel.generateText({ prompt: "Talk." }).pipe(
        LlamaLanguageModel.withConfigOverride({ maxTokens: 3000 }),
        Effect.timeout("50 millis"),
        Effect.flip
      )
      assert.strictEqual(timedOut._tag, "TimeoutError")
      assert.isBelow(Date.now() - started, 1000)
      const next = yield* LanguageModel.generateText({ prompt: "Hi" }).pipe(LlamaLanguageModel.withConfigOverride({ maxTokens: 3 }))
      assert.strictEqual(next.usage.outputTokens.total, 3)
    }))

  it.effect("invalid sampling becomes an AiError with an InvalidRequestError reason", () =>
    Effect.gen(function*() {
      const err = yield* LanguageModel.generateText({ prompt: "x" }).pipe(
        LlamaLanguageModel.withConfigOverride({ sampling: { topP: 2 } }),
        Effect.flip
      )
      assert.strictEqual(err._tag, "AiError")
      if (err._tag === "AiError") assert.strictEqual(err.reason._tag, "InvalidRequestError")
    }))
})

// Grammar-constrained sampling scans the whole vocabulary per token when a random model's pick is rejected:
// the 32k-token llama vocabulary keeps 20 structured outputs quick (it has no template: chatml is used).
const LocalLlama = LlamaLanguageModel.layerModel({ path: tinyLlama, config: { maxTokens: 400 } }).pipe(
  Layer.provide(Native.layer)
)

layer(LocalLlama, { excludeTestServices: true })("LlamaLanguageModel, structured output", (it) => {
  it.effect("generateObject returns a value that decodes with the schema, for 20 seeds", () =>
    Effect.gen(function*() {
      for (let seed = 1; seed <= 20; seed++) {
        const response = yield* LanguageModel.generateObject({ prompt: "Give a forecast.", schema: Forecast }).pipe(
          LlamaLanguageModel.withConfigOverride({ sampling: { temperature: 1, seed } })
        )
        assert.include(["Paris", "Oslo"], response.value.city)
        assert.isTrue(Number.isInteger(response.value.celsius))
      }
    }))
})

describe("LlamaLanguageModel.model", () => {
  it.effect("an effect/ai Model layer, like the official providers'", () =>
    Effect.gen(function*() {
      const response = yield* LanguageModel.generateText({ prompt: "Hi" }).pipe(
        LlamaLanguageModel.withConfigOverride({ maxTokens: 2 })
      )
      assert.strictEqual(response.usage.outputTokens.total, 2)
    }).pipe(
      Effect.provide(LlamaLanguageModel.model("tiny-qwen2", { path: tinyQwen }).pipe(Layer.provide(Native.layer)))
    ))
})
