// OpenTelemetry export: a loopback OTLP/HTTP receiver (127.0.0.1, a free port) gets the spans of one agent run with a
// tool call (invoke_agent > agent.step > chat model call and execute_tool, in one trace, with the GenAI token
// attributes) and the metrics; the Prometheus exposition shows the same counters.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Schema, Scope, Stream } from "effect"
import { HttpServer } from "effect/http"
import * as Agent from "../../src/agent/Agent.ts"
import * as GenAi from "../../src/telemetry/GenAi.ts"
import * as OtlpExport from "../../src/telemetry/OtlpExport.ts"
import * as Prometheus from "../../src/telemetry/Prometheus.ts"
import * as Telemetry from "../../src/telemetry/Telemetry.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as ScriptedModel from "../agent/ScriptedModel.ts"
import { attrs, receiver, spansOf, sumOf } from "./OtlpReceiver.ts"

const Lookup = AgentTool.make("OtlpLookup", {
  description: "Looks a word up",
  parameters: Schema.Struct({ word: Schema.String }),
  success: Schema.String,
  handler: ({ word }) => Effect.succeed(`${word}: found`)
})

describe("OTLP export", () => {
  it.live("one agent run with a tool call: spans with parent/child links and token attributes, metrics, Prometheus", () =>
    Effect.gen(function*() {
      const otlp = yield* receiver
      const model = ScriptedModel.make(ScriptedModel.sequence(
        { calls: [{ name: "OtlpLookup", params: { word: "otter" } }] },
        { text: "An otter is a mammal." }
      ))
      const app = Layer.mergeAll(
        Telemetry.languageModel(model.layer, { provider: "scripted", model: "script-1" }),
        // Exported when the Scope closes (the final flush), not on a timer.
        OtlpExport.layer({
          baseUrl: otlp.baseUrl,
          serviceName: "otlp-test",
          exportInterval: "1 hour",
          shutdownTimeout: "30 seconds"
        }),
        GenAi.layer
      )
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(app, scope)
      const events = yield* Effect.gen(function*() {
        const agent = yield* Agent.make({ name: "otlp-agent", tools: yield* AgentTool.toolkit(Lookup) })
        return yield* Stream.runCollect(agent.stream("What is an otter?"))
      }).pipe(Effect.provideContext(context))
      const finished = events.at(-1)!
      assert.deepStrictEqual(finished.type === "finished" && [finished.reason, finished.steps], ["stop", 2])
      // What the Prometheus endpoint (loopback, a free port) shows, before the exporters' final flush.
      const server = yield* Layer.build(Prometheus.layerServer({ port: 0 })).pipe(
        Effect.map((ctx) => Context.get(ctx, HttpServer.HttpServer))
      )
      const url = HttpServer.formatAddress(server.address)
      const exposition = yield* Effect.promise(async () => {
        const res = await fetch(`${url}/metrics`)
        assert.strictEqual(res.headers.get("content-type"), Prometheus.contentType)
        return res.text()
      })
      assert.strictEqual(exposition, yield* Prometheus.text())
      yield* Scope.close(scope, Exit.void)

      const spans = spansOf(otlp.received)
      const byName = (name: string) => spans.filter((s) => s.name === name)
      const [run] = byName("invoke_agent otlp-agent")
      assert.isDefined(run)
      assert.isUndefined(run!.parentSpanId === "" ? undefined : run!.parentSpanId)
      const steps = byName("agent.step 1").concat(byName("agent.step 2"))
      assert.strictEqual(steps.length, 2)
      for (const step of steps) assert.strictEqual(step.parentSpanId, run!.spanId)
      const [tool] = byName("execute_tool OtlpLookup")
      assert.strictEqual(tool!.parentSpanId, steps[0]!.spanId)
      const calls = byName("LanguageModel.streamText")
      assert.strictEqual(calls.length, 2)
      assert.deepStrictEqual(calls.map((c) => c.parentSpanId), steps.map((s) => s.spanId))
      // One trace.
      assert.deepStrictEqual([...new Set([run, ...steps, tool, ...calls].map((s) => s!.traceId))], [run!.traceId])

      assert.deepInclude(attrs(run!.attributes), {
        [GenAi.attributes.operationName]: "invoke_agent",
        [GenAi.attributes.agentName]: "otlp-agent",
        [GenAi.attributes.agentFinishReason]: "stop",
        [GenAi.attributes.inputTokens]: 20,
        [GenAi.attributes.outputTokens]: 10
      })
      assert.deepInclude(attrs(tool!.attributes), {
        [GenAi.attributes.operationName]: "execute_tool",
        [GenAi.attributes.toolName]: "OtlpLookup",
        [GenAi.attributes.toolCallId]: "call_0_0",
        [GenAi.attributes.toolOutcome]: "success"
      })
      const first = attrs(calls[0]!.attributes)
      assert.deepInclude(first, {
        [GenAi.attributes.operationName]: "chat",
        [GenAi.attributes.providerName]: "scripted",
        [GenAi.attributes.requestModel]: "script-1",
        [GenAi.attributes.inputTokens]: 10,
        [GenAi.attributes.outputTokens]: 5
      })
      assert.deepStrictEqual(first[GenAi.attributes.finishReasons], ["tool-calls"])
      assert.deepStrictEqual(attrs(calls[1]!.attributes)[GenAi.attributes.finishReasons], ["stop"])

      // Metrics over OTLP, and the same counters in the Prometheus exposition.
      const series: ReadonlyArray<readonly [string, Record<string, string>, number]> = [
        ["effect_llama_agent_tool_calls_total", { tool: "OtlpLookup", outcome: "success" }, 1],
        ["effect_llama_agent_runs_total", { agent: "otlp-agent", reason: "stop" }, 1],
        ["effect_llama_agent_steps_total", { agent: "otlp-agent" }, 2],
        ["effect_llama_model_requests_total", { provider: "scripted", operation: "streamText", outcome: "success" }, 2],
        ["effect_llama_model_tokens_total", { provider: "scripted", type: "input" }, 20],
        ["effect_llama_model_tokens_total", { provider: "scripted", type: "output" }, 10]
      ]
      for (const [name, labels, expected] of series) {
        assert.strictEqual(sumOf(otlp.received, name, labels), expected, `${name} ${JSON.stringify(labels)} over OTLP`)
        const line = exposition.split("\n").find((l) =>
          l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`))
        )
        assert.isDefined(line, `${name} ${JSON.stringify(labels)} in the exposition`)
        assert.strictEqual(Number(line!.split(" ").at(-1)), expected, line)
      }
      assert.match(exposition, /# TYPE effect_llama_model_duration_ms histogram/)
    }), 60_000)
})
