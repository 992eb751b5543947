// Vision through libmtmd: a generated projector and a small PNG produce a generation whose usage counts the image
// tokens; a model without a projector, an unreadable image and a bad projector file are typed errors.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { png } from "../support/png.ts"
import { binding, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const user = "<|im_start|>user\n"
const rest = "What is in this picture?<|im_end|>\n<|im_start|>assistant\n"

describe("vision", () => {
  it.effect("an image prompt generates; usage counts the image tokens", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"), { projector: yield* modelFile("tiny-qwen2-mmproj") })
      assert.isTrue(model.info().vision)
      const ctx = yield* openContext(model, { contextSize: 1024, sequences: 2 })
      const textTokens = (yield* Effect.tryPromise({ try: () => model.tokenize(user + rest, true, true), catch: fromUnknown })).length
      const parts = [{ text: user }, { image: png(24, 16) }, { text: rest }]
      const out = yield* generate(ctx, { sequence: 0, parts, maxTokens: 8, sampling: greedy, ignoreEog: true })
      assert.strictEqual(out.tokens.length, 8)
      // 32x32 after resizing, 8x8 patches: 16 image tokens.
      assert.strictEqual(out.done.usage.imageTokens, 16)
      assert.strictEqual(out.done.usage.promptTokens, textTokens + 16)
      // Deterministic, and the image matters: another picture, another continuation is possible but the count holds.
      const again = yield* generate(ctx, { sequence: 1, parts, maxTokens: 8, sampling: greedy, ignoreEog: true })
      assert.deepStrictEqual(again.tokens, out.tokens)
      const two = yield* generate(ctx, {
        sequence: 0,
        parts: [{ text: user }, { image: png(8, 8, 1) }, { image: png(40, 40, 2) }, { text: rest }],
        maxTokens: 4,
        sampling: greedy
      })
      assert.strictEqual(two.done.usage.imageTokens, 32)
      // A sequence that held images serves a text prompt afresh.
      const text = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 4, sampling: greedy })
      assert.strictEqual(text.done.usage.cachedTokens, 0)
      assert.strictEqual(text.done.usage.imageTokens, 0)
    }))

  it.effect("no projector, an unreadable image, a bad projector file: typed errors", () =>
    Effect.gen(function*() {
      const plainModel = yield* loadModel(yield* modelFile("tiny-qwen2"))
      assert.isFalse(plainModel.info().vision)
      const ctx = yield* openContext(plainModel, { contextSize: 512 })
      const none = yield* Effect.flip(generate(ctx, { sequence: 0, parts: [{ image: png(8, 8) }] }))
      assert.strictEqual(none.code, "NO_PROJECTOR")
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"), { projector: yield* modelFile("tiny-qwen2-mmproj") })
      const vctx = yield* openContext(model, { contextSize: 512 })
      const junk = yield* Effect.flip(generate(vctx, { sequence: 0, parts: [{ text: user }, { image: new Uint8Array([1, 2, 3, 4]) }] }))
      assert.strictEqual(junk.code, "INVALID_MEDIA")
      const empty = yield* Effect.flip(generate(vctx, { sequence: 0, parts: [{ image: new Uint8Array() }] }))
      assert.strictEqual(empty.code, "INVALID_MEDIA")
      const native = yield* Effect.orDie(binding)
      for (const projector of ["/nonexistent/mmproj.gguf", yield* modelFile("tiny-qwen2")]) {
        const m = new native.Model(yield* modelFile("tiny-qwen2"), { projector })
        const failed = yield* Effect.flip(Effect.tryPromise({ try: () => m.load(), catch: fromUnknown }))
        assert.strictEqual(failed.code, "PROJECTOR_LOAD_FAILED", projector)
        yield* Effect.promise(() => m.dispose())
      }
      const ok = yield* generate(vctx, { sequence: 0, parts: [{ text: user }, { image: png(16, 16) }, { text: rest }], maxTokens: 2 })
      assert.strictEqual(ok.done.usage.imageTokens, 16)
    }))
})
