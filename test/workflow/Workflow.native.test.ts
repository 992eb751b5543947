// A workflow on the real addon with the generated random-weight model: three agents fan out from the input (one of
// them forced, by grammar, to call a tool), a join, a summarizing agent. The run completes, and its events carry the
// tool call and result of that node, tagged with it.
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as Native from "../../src/native/Native.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as Workflow from "../../src/workflow/Workflow.ts"
import type { WorkflowEvent } from "../../src/workflow/WorkflowEvent.ts"
import * as WorkflowExecutor from "../../src/workflow/WorkflowExecutor.ts"
import * as WorkflowNode from "../../src/workflow/WorkflowNode.ts"

// Three sequences: the three agents of the fan-out may generate at the same time.
const Local = LlamaLanguageModel.layerModel({
  path: await ensureModel("tiny-qwen2"),
  context: { contextSize: 8192, sequences: 3 },
  config: { maxTokens: 16, sampling: { seed: 3 } }
}).pipe(Layer.provide(Native.layer))

const GetWeather = AgentTool.make("GetWeather", {
  description: "Current temperature in a city",
  parameters: Schema.Struct({ city: Schema.Literals(["Paris", "Oslo", "Lima"]) }),
  success: Schema.Struct({ celsius: Schema.Int }),
  handler: ({ city }) => Effect.succeed({ celsius: city === "Oslo" ? 4 : 15 })
})

layer(Local, { excludeTestServices: true })("Workflow on the local model", (it) => {
  it.effect("three agents fan out and join, one with a forced tool call; its events include the call and result", () =>
    Effect.gen(function*() {
      const Trip = Workflow.make("trip", { input: Schema.Struct({ city: Schema.String }) }).pipe(
        Workflow.add(
          WorkflowNode.agent("weather", {
            system: "You answer weather questions with the tools.",
            prompt: "How warm is it in {{input.city}}?",
            tools: yield* AgentTool.toolkit(GetWeather),
            maxSteps: 2,
            // A random model calls tools only when forced: required on step 1 (room for the call), then no tools.
            toolChoice: (step) => (step === 1 ? "required" : "none"),
            aroundStep: (step) =>
              LlamaLanguageModel.withConfigOverride({ maxTokens: step === 1 ? 120 : 12, parallelToolCalls: false })
          }),
          WorkflowNode.agent("history", { prompt: "One fact about the history of {{input.city}}." }),
          WorkflowNode.agent("food", { prompt: "One dish from {{input.city}}." }),
          WorkflowNode.join("notes"),
          WorkflowNode.agent("summary", {
            prompt: "Summarize for a traveller: {{nodes.notes.output}}",
            config: { maxTokens: 12 }
          })
        ),
        Workflow.connect("weather", "notes"),
        Workflow.connect("history", "notes"),
        Workflow.connect("food", "notes"),
        Workflow.connect("notes", "summary")
      )
      const events: Array<WorkflowEvent> = []
      const result = yield* WorkflowExecutor.execute(Trip, { city: "Oslo" }, {
        onEvent: (e) => Effect.sync(() => events.push(e))
      })

      assert.strictEqual(result.state, "succeeded")
      for (const name of ["weather", "history", "food", "notes", "summary"]) {
        assert.strictEqual(result.nodes[name]!.status, "succeeded", name)
      }
      assert.deepStrictEqual(Object.keys(result.nodes.notes!.output as object).sort(), ["food", "history", "weather"])
      assert.isAbove(result.usage.outputTokens, 0)

      const calls = events.filter((e) => e.type === "agent-tool-call")
      const results = events.filter((e) => e.type === "agent-tool-result")
      assert.isAtLeast(calls.length, 1)
      for (const c of calls) {
        assert.strictEqual(c.name, "weather")
        assert.strictEqual(c.tool, "GetWeather")
      }
      assert.deepStrictEqual(results.map((r) => r.id), calls.map((c) => c.id))
      for (const r of results) {
        assert.strictEqual(r.name, "weather")
        assert.isFalse(r.isFailure)
        assert.include([4, 15], (r.result as { readonly celsius: number }).celsius)
      }
      // Text deltas came from every agent, each tagged with its node.
      const talking = new Set(events.filter((e) => e.type === "agent-text-delta").map((e) => e.name))
      for (const name of ["history", "food", "summary"]) assert.isTrue(talking.has(name), name)
      // The summary started only after the join, which waited for all three.
      const order = events.map((e) => `${e.type} ${"name" in e ? e.name : ""}`)
      const joined = order.indexOf("node-finished notes")
      for (const name of ["weather", "history", "food"]) assert.isBelow(order.indexOf(`node-finished ${name}`), joined)
      assert.isAbove(order.indexOf("node-started summary"), joined)
    }), 240_000)
})
