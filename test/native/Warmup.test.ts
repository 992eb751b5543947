// Warmup: one tiny decode on the context's own thread before init resolves (as llama.cpp's common_init does),
// leaving nothing in the KV cache and changing no result. Speed is in bench/parity.ts, not asserted here.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { binding, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

describe("warmup", () => {
  it.effect("the warmup decode runs before init resolves, takes a compute turn, and leaves no cells behind", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const before = native.systemInfo().computeBudget.turns
      const warm = yield* openContext(model, { contextSize: 512, warmup: true })
      const afterInit = native.systemInfo().computeBudget.turns
      const cold = yield* openContext(model, { contextSize: 512 })
      const afterCold = native.systemInfo().computeBudget.turns
      // The warm context's decode is done by the time init resolved; the cold one decoded nothing.
      assert.strictEqual(afterInit - before, 1)
      assert.strictEqual(afterCold, afterInit)
      const info = warm.context.info()
      assert.isNotNull(info.warmup)
      assert.isAtLeast(info.warmup!.tokens, 1)
      assert.isAbove(info.warmup!.ms, 0)
      assert.isNull(cold.context.info().warmup)
      // The first request finds an empty cache and produces what a cold context produces.
      const request = { sequence: 0, text: "The quick brown fox", maxTokens: 16, sampling: greedy }
      const first = yield* generate(warm, request)
      const coldFirst = yield* generate(cold, request)
      assert.strictEqual(first.done.usage.cachedTokens, 0)
      assert.deepStrictEqual(first.tokens, coldFirst.tokens)
    }))

  it.effect("an embedding context warms up too, and embeds as a cold one does", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen3-reranker"))
      const warm = yield* openContext(model, { embeddings: true, warmup: true, sequences: 2 })
      assert.isNotNull(warm.context.info().warmup)
      assert.strictEqual(warm.context.info().pooling, "rank")
    }))
})
