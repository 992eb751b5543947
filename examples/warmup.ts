/**
 * Warmup: the context makes one tiny decode before it serves (as llama.cpp's common_init does), so the first real
 * request does not pay for page faults and graph allocation. Run: node examples/warmup.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { LlamaContext, LlamaModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const firstTokenMs = Effect.gen(function*() {
  const ctx = yield* LlamaContext.LlamaContext
  const start = performance.now()
  yield* ctx.generate({ prompt: "Write one sentence about the sea.", maxTokens: 1 }).pipe(Stream.runDrain)
  return performance.now() - start
})

const program = Effect.gen(function*() {
  const ctx = yield* LlamaContext.LlamaContext
  const warmup = ctx.info.warmup
  if (warmup !== null) yield* Console.log(`warmup: ${warmup.tokens} token(s) in ${warmup.ms.toFixed(1)} ms`)
  yield* Console.log(`first request, first token after ${(yield* firstTokenMs).toFixed(1)} ms`)
})

const Local = LlamaContext.layer({ warmup: true }).pipe(
  Layer.provideMerge(LlamaModel.layer({ path: modelPath })),
  Layer.provide(Native.layer)
)

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
