/**
 * A remote model with the local one behind it: every call goes to the remote first (with its own retries and
 * circuit breaker) and, when that fails, to the local GGUF. By default the remote is an address where nothing
 * listens, so the local model answers; set OPENAI_BASE_URL (and OPENAI_API_KEY, OPENAI_MODEL) to a real server.
 * Run: node examples/fallback.ts
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import { LlamaLanguageModel, Native, OpenAiCompat, Resilience } from "../src/index.ts"
import { modelPath } from "./model.ts"

const Remote = OpenAiCompat.layerConfig({ model: process.env.OPENAI_MODEL ?? "gpt-4o-mini", config: { maxTokens: 48 } }).pipe(
  Resilience.languageModel({ key: "remote", retry: { times: 1, base: "100 millis" }, attemptTimeout: "20 seconds" }),
  Layer.provide(NodeHttpClient.layerUndici),
  Layer.orDie
)
const Local = LlamaLanguageModel.layerModel({ path: modelPath, config: { maxTokens: 48 } }).pipe(Layer.provide(Native.layer))

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({ prompt: "Write one sentence about the sea." })
  const metadata = response.content.find((part) => part.type === "response-metadata")
  yield* Console.log(response.text)
  yield* Console.log(`answered by: ${metadata?.modelId ?? "unknown"} (finish: ${response.finishReason})`)
})

// Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
if ((process.env.OPENAI_BASE_URL ?? "") === "") process.env.OPENAI_BASE_URL = "http://127.0.0.1:9/v1"

NodeRuntime.runMain(program.pipe(Effect.provide(Resilience.fallback([Remote, Local]))))
