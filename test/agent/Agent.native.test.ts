// The agent on the real addon with the generated random-weight model: a forced (grammar-constrained) tool call whose
// handler runs a nested agent on the same 2-sequence context, its result, and the end of the run within maxSteps.
// One forced call in all: with a 151k vocabulary, grammar-rejected tokens are slow to resample on a busy CPU.
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schema, Stream } from "effect"
import { ensureModel } from "../../scripts/models.ts"
import * as Agent from "../../src/agent/Agent.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as Native from "../../src/native/Native.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"

const Local = LlamaLanguageModel.layerModel({
  path: await ensureModel("tiny-qwen2"),
  context: { contextSize: 8192, sequences: 2 },
  config: { maxTokens: 200 }
}).pipe(Layer.provide(Native.layer))

// A random model only calls tools when forced: required on step 1, no tools after.
const firstStepOnly = (step: number) => (step === 1 ? "required" as const : "none" as const)
// The forced call needs room (the grammar allows whitespace a random model fills); later steps are noise: keep short.
const shortAfterFirst = (step: number) =>
  LlamaLanguageModel.withConfigOverride({ maxTokens: step === 1 ? 120 : 12, parallelToolCalls: false, sampling: { seed: 1 } })

layer(Local, { excludeTestServices: true })("Agent on the local model", (it) => {
  it.effect("calls a tool that runs a nested agent, gets its result, and finishes within maxSteps", () =>
    Effect.gen(function*() {
      const forecaster = yield* Agent.make({ system: "You write weather forecasts." })
      const GetWeather = AgentTool.make("GetWeather", {
        description: "Current temperature in a city, with a forecast",
        parameters: Schema.Struct({ city: Schema.Literals(["Paris", "Oslo", "Lima"]) }),
        success: Schema.Struct({ celsius: Schema.Int, forecastTokens: Schema.Int }),
        // The nested run needs a free sequence of the same context while the outer agent waits: sequences: 2.
        handler: ({ city }) =>
          forecaster.generate(`Forecast for ${city}.`).pipe(
            LlamaLanguageModel.withConfigOverride({ maxTokens: 6 }),
            Effect.map((r) => ({ celsius: city === "Oslo" ? 4 : 15, forecastTokens: r.usage.outputTokens })),
            Effect.orDie
          )
      })
      const agent = yield* Agent.make({
        system: "You answer weather questions with the tools.",
        tools: yield* AgentTool.toolkit(GetWeather),
        maxSteps: 3,
        toolChoice: firstStepOnly,
        aroundStep: shortAfterFirst
      })
      const events = yield* Stream.runCollect(agent.stream("How warm is it in Oslo?"))

      const calls = events.filter((e) => e.type === "tool-call")
      const results = events.filter((e) => e.type === "tool-result")
      assert.isAtLeast(calls.length, 1) // the template may allow several calls in one turn
      assert.deepStrictEqual(results.map((r) => r.id), calls.map((c) => c.id))
      for (const r of results) {
        assert.strictEqual(r.name, "GetWeather")
        assert.isFalse(r.isFailure)
        const { celsius, forecastTokens } = r.result as { readonly celsius: number; readonly forecastTokens: number }
        assert.include([4, 15], celsius)
        assert.isTrue(forecastTokens >= 1 && forecastTokens <= 6) // the nested run generated, within its own limit
      }
      const finished = events.at(-1)!
      assert.strictEqual(finished.type, "finished")
      const lastStep = events.filter((e) => e.type === "step-finished").at(-1)
      if (finished.type === "finished" && lastStep?.type === "step-finished") {
        // The second answer is noise cut at 12 tokens, unless the model ends its turn first.
        assert.strictEqual(finished.reason, lastStep.finishReason === "length" ? "length" : "stop")
        assert.strictEqual(finished.steps, 2)
        assert.isAbove(finished.usage.outputTokens, 0)
      }
      assert.isTrue(events.some((e) => e.type === "text-delta" && e.step === 2)) // streamed, not one final string
      const roles = (yield* agent.history).content.map((m) => m.role)
      assert.deepStrictEqual(roles, ["system", "user", "assistant", "tool", "assistant"])
      assert.strictEqual((yield* forecaster.history).content.length, 1 + 2 * calls.length)
    }))
})
