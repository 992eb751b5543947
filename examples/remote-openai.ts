/**
 * Any OpenAI-compatible server, from the environment: OPENAI_BASE_URL (default OpenAI's), OPENAI_API_KEY (not
 * needed by local servers), OPENAI_MODEL. The same program as examples/generate.ts and stream.ts; only the Layer
 * differs. The model is wrapped in resilience policies with the Balanced execution profile's defaults (swap in
 * ExecutionProfile.layerLowLatency for interactive use: 30 s a call, one retry, an early circuit).
 * Run: OPENAI_BASE_URL=http://127.0.0.1:8080/v1 node examples/remote-openai.ts   (llama-server, Ollama's /v1, vLLM...)
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { ExecutionProfile, OpenAiCompat, Resilience } from "../src/index.ts"

const model = process.env.OPENAI_MODEL ?? "gpt-4o-mini"

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({ prompt: "Write one sentence about the sea." })
  yield* Console.log(response.text)
  yield* Console.log(`finish: ${response.finishReason}, tokens in/out: ${response.usage.inputTokens.total}/${response.usage.outputTokens.total}`)
  yield* Console.log("streamed:")
  yield* LanguageModel.streamText({ prompt: "Tell me about lighthouses." }).pipe(
    Stream.runForEach((part) =>
      part.type === "text-delta"
        ? Effect.sync(() => process.stdout.write(part.delta))
        : part.type === "finish"
        ? Console.log(`\n[finish: ${part.reason}, ${part.usage.outputTokens.total} tokens]`)
        : Effect.void
    )
  )
  const resilience = yield* Resilience.Resilience
  yield* Console.log(`circuit of ${resilience.key}: ${yield* resilience.circuitState}`)
})

// OPENAI_API_KEY and OPENAI_BASE_URL come from Config (the environment by default).
const Remote = OpenAiCompat.layerConfig({ model, config: { maxTokens: 48 } }).pipe(
  Resilience.languageModel({ key: `openai-compat/${model}` }),
  Layer.provide([NodeHttpClient.layerUndici, ExecutionProfile.layerBalanced])
)

NodeRuntime.runMain(program.pipe(Effect.provide(Remote)))
