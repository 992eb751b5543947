/**
 * Generate text with the local model through effect/ai's LanguageModel.
 * Run: node examples/generate.ts   (LLAMA_MODEL_PATH=/path/to/model.gguf for a real model)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import { LlamaLanguageModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({ prompt: "Write one sentence about the sea." })
  yield* Console.log(response.text)
  yield* Console.log(`finish: ${response.finishReason}, tokens in/out: ${response.usage.inputTokens.total}/${response.usage.outputTokens.total}`)
})

const Local = LlamaLanguageModel.layerModel({ path: modelPath, config: { maxTokens: 48 } }).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
