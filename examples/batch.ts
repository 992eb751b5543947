/**
 * LlmClient.completeBatch: many prompts, a few at a time, one result (an Exit) per prompt in input order, so
 * that one failure (here a prompt far longer than the context) loses none of the others; then the statistics.
 * Run: node examples/batch.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit, Layer, Option } from "effect"
import { LlamaLanguageModel, LlmClient, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const prompts = [
  "Name a colour.",
  "Name a planet.",
  `Summarize: ${"the quick brown fox jumps over the lazy dog. ".repeat(400)}`,
  "Name a river.",
  "Name a tree."
]

const program = Effect.gen(function*() {
  const client = yield* LlmClient.LlmClient
  yield* client.warmup
  yield* client.resetStats
  const results = yield* client.completeBatch(prompts, { concurrency: 2 })
  for (const [i, result] of results.entries()) {
    yield* Exit.match(result, {
      onSuccess: (completion) => Console.log(`#${i} ok (${completion.finishReason}): ${JSON.stringify(completion.text.slice(0, 40))}`),
      onFailure: (cause) =>
        Console.log(`#${i} failed: ${
          Option.match(Cause.findErrorOption(cause), {
            onNone: () => "interrupted",
            onSome: (error) => `${error.reason._tag}: ${error.message.slice(0, 100)}`
          })
        }`)
    })
  }
  const stats = yield* client.stats
  yield* Console.log(
    `stats: ${stats.requests} requests, ${stats.successes} ok, ${stats.failures} failed, ` +
      `p50 ${stats.p50LatencyMs.toFixed(0)} ms, p95 ${stats.p95LatencyMs.toFixed(0)} ms, ` +
      `tokens in/out ${stats.inputTokens}/${stats.outputTokens}`
  )
})

const Local = LlamaLanguageModel.layerModel({
  path: modelPath,
  context: { contextSize: 1024, sequences: 2 },
  config: { maxTokens: 16 }
}).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(LlmClient.layer({ name: "batch-example" }).pipe(Layer.provideMerge(Local)))))
