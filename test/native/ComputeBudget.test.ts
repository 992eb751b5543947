// Busy contexts share one compute budget: each decode takes its threads from it, so two contexts that each use
// every core take turns instead of running twice the threads on the same cores (12x slower before the budget).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { binding, embed, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

describe("compute budget", () => {
  it.live("a generating and an embedding context take turns; threads in use never exceed the budget", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const budget = native.systemInfo().computeBudget
      assert.isAtLeast(budget.threads, 1)
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const threads = budget.threads
      const lm = yield* openContext(model, { contextSize: 512, threads })
      const em = yield* openContext(model, { contextSize: 1024, sequences: 4, embeddings: true, threads })
      const texts = Array.from({ length: 32 }, (_, i) => `text ${i} about the sea and the weather`)
      const before = native.systemInfo().computeBudget
      const [generation, vectors] = yield* Effect.all([
        generate(lm, { sequence: 0, text: "Once upon a time", maxTokens: 64, ignoreEog: true, sampling: greedy }),
        Effect.forEach([1, 2, 3, 4], () => embed(em, { texts }))
      ], { concurrency: 2 })
      const after = native.systemInfo().computeBudget
      assert.strictEqual(generation.tokens.length, 64)
      assert.strictEqual(vectors.length, 4)
      assert.isAtLeast(after.turns - before.turns, 64 + 4) // one turn per decode: 64 tokens, at least a batch per embed
      assert.isAbove(after.waits, before.waits) // they met, and one waited for the other
      assert.isAtMost(after.peak, threads)
      assert.strictEqual(after.inUse, 0)
    }), 120_000)
})
