// EmbeddingClient over an EmbeddingModel that counts its batches: documents keep their metadata, one batch
// for many documents, cosine similarity and ranking.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { EmbeddingModel } from "effect/ai"
import * as EmbeddingClient from "../../src/client/EmbeddingClient.ts"

let batches = 0
// A toy model: [count of "cat", count of "dog", length / 10].
const Toy = Layer.effect(EmbeddingModel.EmbeddingModel, EmbeddingModel.make({
  embedMany: ({ inputs }) =>
    Effect.sync(() => {
      batches++
      return {
        results: inputs.map((s) => [s.split("cat").length - 1, s.split("dog").length - 1, s.length / 10]),
        usage: { inputTokens: inputs.length }
      }
    })
}))

describe("EmbeddingClient", () => {
  it.effect("embedDocument returns the vector with its metadata", () =>
    Effect.gen(function*() {
      const doc = yield* EmbeddingClient.embedDocument("a cat", { id: 7, source: "notes" })
      assert.deepStrictEqual(doc, { content: "a cat", metadata: { id: 7, source: "notes" }, vector: [1, 0, 0.5] })
    }).pipe(Effect.provide(Toy)))

  it.effect("embedDocuments: one batch, input order kept; rank orders by cosine similarity", () =>
    Effect.gen(function*() {
      batches = 0
      const docs = yield* EmbeddingClient.embedDocuments([
        { content: "dog dog dog", metadata: "d" },
        { content: "cat and cat", metadata: "c" },
        { content: "a cat and a dog", metadata: "cd" }
      ])
      assert.strictEqual(batches, 1)
      assert.deepStrictEqual(docs.map((d) => d.metadata), ["d", "c", "cd"])
      const query = [1, 0, 0]
      assert.deepStrictEqual(EmbeddingClient.rank(query, docs, 2).map((d) => d.metadata), ["c", "cd"])
      assert.deepStrictEqual(yield* EmbeddingClient.embedDocuments([]), [])
    }).pipe(Effect.provide(Toy)))

  it.effect("similarity: cosine; 1, 0, -1 at the extremes, 0 for a zero vector", () =>
    Effect.sync(() => {
      assert.closeTo(EmbeddingClient.similarity([1, 2, 3], [2, 4, 6]), 1, 1e-12)
      assert.closeTo(EmbeddingClient.similarity([1, 0], [0, 5]), 0, 1e-12)
      assert.closeTo(EmbeddingClient.similarity([1, 1], [-1, -1]), -1, 1e-12)
      assert.strictEqual(EmbeddingClient.similarity([0, 0], [1, 1]), 0)
      assert.closeTo(EmbeddingClient.similarity([1, 2], [2, 1]), 0.8, 1e-12)
      assert.throws(() => EmbeddingClient.similarity([1], [1, 2]))
    }))
})
