/**
 * Stream text as it is generated; stop after two seconds with Effect.timeout (the native job is aborted).
 * Run: node examples/stream.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { LlamaLanguageModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const program = LanguageModel.streamText({ prompt: "Tell me a story about a lighthouse." }).pipe(
  Stream.runForEach((part) =>
    part.type === "text-delta"
      ? Effect.sync(() => process.stdout.write(part.delta))
      : part.type === "finish"
      ? Console.log(`\n[finish: ${part.reason}, ${part.usage.outputTokens.total} tokens]`)
      : Effect.void
  ),
  Effect.timeout("2 seconds"),
  Effect.catchTag("TimeoutError", () => Console.log("\n[stopped after 2 seconds]"))
)

const Local = LlamaLanguageModel.layerModel({
  path: modelPath,
  config: { maxTokens: 128, sampling: { temperature: 0.7, seed: 42 } }
}).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
