// Reranking on a rank-pooling model (the generated Qwen3-Reranker-shaped one): scores per (query, document) pair,
// the same in a batch as one by one.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { RankRequest } from "../../src/native/NativeBinding.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { type ContextHandle, loadModel, modelFile, openContext } from "../support/native.ts"

const rank = (handle: ContextHandle, request: RankRequest) =>
  Effect.callback<ReadonlyArray<number>, ReturnType<typeof fromUnknown>>((resume) => {
    let job: number
    try {
      job = handle.context.rank(request)
    } catch (cause) {
      resume(Effect.fail(fromUnknown(cause)))
      return
    }
    let scores: ReadonlyArray<number> = []
    handle.router.listen(job, (event) => {
      if (event.type === "embeddings") {
        assert.strictEqual(event.failures.length, 0)
        scores = event.vectors.map((v) => v![0]!)
      } else if (event.type === "done") resume(Effect.succeed(scores))
      else if (event.type === "error") resume(Effect.fail(fromUnknown(Object.assign(new Error(event.message), { code: event.code }))))
    })
  })

const documents = [
  "A cat is a small domesticated carnivorous mammal.",
  "Paris is the capital of France.",
  "Cats purr when they are content.",
  "The stock market fell today.",
  "Kittens are young cats."
]

describe("rank", () => {
  it.effect("scores for a batch equal the scores one by one", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen3-reranker"))
      assert.strictEqual(model.info().rankOutputs, 2)
      const ctx = yield* openContext(model, { embeddings: true, sequences: 4, contextSize: 2048 })
      assert.strictEqual(ctx.context.info().pooling, "rank")
      const query = "what are cats?"
      const batch = yield* rank(ctx, { queries: documents.map(() => query), documents })
      assert.strictEqual(batch.length, documents.length)
      for (const score of batch) assert.isTrue(score > 0 && score < 1, `a probability, got ${score}`)
      assert.isAbove(Math.max(...batch) - Math.min(...batch), 1e-6) // different documents, different scores
      for (const [i, document] of documents.entries()) {
        const [alone] = yield* rank(ctx, { queries: [query], documents: [document] })
        assert.approximately(alone!, batch[i]!, 1e-5, document)
      }
      // Another query changes the scores; each pair has its own query.
      const mixed = yield* rank(ctx, { queries: [query, "capital of France"], documents: [documents[1]!, documents[1]!] })
      assert.approximately(mixed[0]!, batch[1]!, 1e-5)
      assert.notStrictEqual(mixed[1], mixed[0])
    }))

  it.effect("rank needs a rank-pooling embedding context", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const ctx = yield* openContext(model, { embeddings: true })
      const error = yield* Effect.flip(rank(ctx, { queries: ["q"], documents: ["d"] }))
      assert.strictEqual(error.code, "NOT_RANK_CONTEXT")
      const reranker = yield* loadModel(yield* modelFile("tiny-qwen3-reranker"))
      const rctx = yield* openContext(reranker, { embeddings: true })
      const mismatch = yield* Effect.flip(rank(rctx, { queries: ["q"], documents: ["a", "b"] }))
      assert.strictEqual(mismatch.code, "INVALID_ARGUMENT")
    }))
})
