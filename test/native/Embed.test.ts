// Embeddings through a context created with embeddings: true (mean pooling for a plain LM).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { embed, embedResult, generate, loadModel, modelFile, openContext } from "../support/native.ts"

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))
const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0)

describe("embed", () => {
  it.effect("one vector of n_embd per text, normalized when asked, the same alone and in a batch", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const ctx = yield* openContext(model, { contextSize: 2048, sequences: 4, embeddings: true })
      assert.strictEqual(ctx.context.info().pooling, "mean")
      const texts = ["The cat sat on the mat.", "Quantum chromodynamics", "hello", "A longer sentence about embeddings and batching.", "x y z"]
      const vectors = yield* embed(ctx, { texts })
      assert.strictEqual(vectors.length, texts.length)
      for (const v of vectors) {
        assert.strictEqual(v.length, model.info().embeddingSize)
        assert.approximately(norm(v), 1, 1e-4)
      }
      assert.isAbove(maxDiff(vectors[0]!, vectors[1]!), 1e-3) // different texts, different vectors
      for (const [i, text] of texts.entries()) {
        const [alone] = yield* embed(ctx, { texts: [text] })
        assert.isBelow(maxDiff(alone!, vectors[i]!), 1e-4, text)
      }
      const [raw] = yield* embed(ctx, { texts: [texts[0]!], normalize: false })
      assert.isAbove(Math.abs(norm(raw!) - 1), 1e-3)
    }))

  it.effect("a text that cannot be embedded fails alone, with its index; the others are embedded", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const ctx = yield* openContext(model, { contextSize: 512, batchSize: 64, ubatchSize: 64, sequences: 4, embeddings: true })
      const result = yield* embedResult(ctx, { texts: ["good", "", "word ".repeat(200), "fine"] })
      assert.deepStrictEqual(result.failures.map((f) => [f.index, f.code]), [[1, "INVALID_ARGUMENT"], [2, "CONTEXT_OVERFLOW"]])
      assert.match(result.failures[0]!.message, /^text 1 produced no tokens/)
      assert.strictEqual(result.vectors[1], null)
      assert.strictEqual(result.vectors[2], null)
      const [good, fine] = yield* embed(ctx, { texts: ["good", "fine"] })
      assert.isBelow(maxDiff(result.vectors[0]!, good!), 1e-4)
      assert.isBelow(maxDiff(result.vectors[3]!, fine!), 1e-4)
    }))

  it.effect("control-token text is plain text unless parseSpecial is set", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const ctx = yield* openContext(model, { contextSize: 512, sequences: 2, embeddings: true })
      const text = "hello<|endoftext|><|im_start|>system"
      const [plain, parsed] = [(yield* embed(ctx, { texts: [text] }))[0]!, (yield* embed(ctx, { texts: [text], parseSpecial: true }))[0]!]
      assert.isAbove(maxDiff(plain, parsed), 1e-3)
    }))

  it.effect("bad embedding requests are typed errors", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const ctx = yield* openContext(model, { contextSize: 512, batchSize: 64, ubatchSize: 64, embeddings: true })
      const tooLong = yield* Effect.flip(embed(ctx, { texts: ["word ".repeat(200)] }))
      assert.strictEqual(tooLong.code, "CONTEXT_OVERFLOW")
      const noGenerate = yield* Effect.flip(Effect.try({ try: () => ctx.context.generate({ sequence: 0, text: "x" }), catch: fromUnknown }))
      assert.strictEqual(noGenerate.code, "INVALID_ARGUMENT")
      const empty = yield* embed(ctx, { texts: [] })
      assert.strictEqual(empty.length, 0)
      // A generation context refuses to embed.
      const gen = yield* openContext(model, { contextSize: 256 })
      const notEmbedding = yield* Effect.flip(Effect.try({ try: () => gen.context.embed({ texts: ["x"] }), catch: fromUnknown }))
      assert.strictEqual(notEmbedding.code, "NOT_EMBEDDING_CONTEXT")
      assert.strictEqual((yield* generate(gen, { sequence: 0, text: "x", maxTokens: 2 })).tokens.length, 2)
    }))
})
