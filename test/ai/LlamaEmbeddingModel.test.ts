// effect/ai EmbeddingModel on the local model: concurrent embeds become one native job.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { EmbeddingModel } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaEmbeddingModel from "../../src/ai/LlamaEmbeddingModel.ts"
import * as Native from "../../src/native/Native.ts"
import type { NativeBinding, NativeContext, NativeModel } from "../../src/native/NativeBinding.ts"

const tinyQwen = await ensureModel("tiny-qwen2")

// The real addon, with its embed calls counted (a subclass: native methods are read-only on instances).
const counting = (calls: { embed: number }) =>
  Layer.effect(Native.Native, Effect.map(Native.load, (binding): NativeBinding => {
    const Base = binding.Context as unknown as new(model: NativeModel, options?: object) => NativeContext
    class Counted extends Base {
      override embed(request: Parameters<NativeContext["embed"]>[0]) {
        calls.embed++
        return super.embed(request)
      }
    }
    return { ...binding, Context: Counted as unknown as NativeBinding["Context"] }
  }))

describe("LlamaEmbeddingModel", () => {
  it.live("concurrent embed calls are batched into one native call, one normalized vector each", () => {
    const calls = { embed: 0 }
    return Effect.gen(function*() {
      const model = yield* EmbeddingModel.EmbeddingModel
      const texts = ["one", "two", "three", "four", "five"]
      const results = yield* Effect.forEach(texts, (t) => model.embed(t), { concurrency: "unbounded" })
      assert.strictEqual(results.length, 5)
      for (const r of results) {
        assert.strictEqual(r.vector.length, 64)
        assert.approximately(Math.hypot(...r.vector), 1, 1e-4)
      }
      assert.strictEqual(calls.embed, 1)
    }).pipe(Effect.provide(LlamaEmbeddingModel.layerModel({ path: tinyQwen }).pipe(Layer.provide(counting(calls)))))
  })
})
