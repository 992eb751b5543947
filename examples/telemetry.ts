/**
 * Telemetry of model calls: `EffectLlama.layer` instruments the app's model (requests by outcome, tokens, latency,
 * time to first token; GenAI attributes on each call's span) and exports spans and metrics over OTLP/HTTP to
 * `OTEL_EXPORTER_OTLP_ENDPOINT` when it is set (e.g. a collector at http://127.0.0.1:4318). The Prometheus
 * exposition of the same metrics is printed at the end (`Prometheus.route` serves it from a server of your own).
 * Run: node examples/telemetry.ts   (OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 to export)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { EffectLlama, LlamaLanguageModel, Prometheus } from "../src/index.ts"
import { modelPath } from "./model.ts"

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({ prompt: "Name a colour." })
  yield* Console.log(`generateText: ${response.usage.outputTokens.total} tokens, finish: ${response.finishReason}`)
  const parts = yield* Stream.runCollect(LanguageModel.streamText({ prompt: "Name a fruit." }))
  yield* Console.log(`streamText: ${parts.filter((p) => p.type === "text-delta").length} deltas`)

  const exposition = yield* Prometheus.text()
  yield* Console.log(exposition.split("\n").filter((line) => /^effect_llama_model_(requests|tokens)_total\{/.test(line)).join("\n"))
}).pipe(Effect.withSpan("telemetry-example"))

const App = EffectLlama.layer({
  logLevel: "Warn",
  llamaLogLevel: "error",
  serviceName: "telemetry-example",
  tracing: true,
  metrics: { otlp: true },
  models: LlamaLanguageModel.layerModel({ path: modelPath, config: { maxTokens: 16 } })
})

NodeRuntime.runMain(program.pipe(Effect.provide(App)))
