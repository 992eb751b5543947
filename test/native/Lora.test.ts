// LoRA adapters: loaded per model, applied per context or per request with a scale; scale 0 is the base model,
// a non-zero scale changes the output, and a request without the adapter is the base model again.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { GenerateRequest, NativeModel } from "../../src/native/NativeBinding.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const loadLora = (model: NativeModel, path: string) => Effect.tryPromise({ try: () => model.loadLora(path), catch: fromUnknown })

const prompts = ["Once upon a time", "The capital of France is", "def fibonacci(n):"]

describe("LoRA", () => {
  it.effect("scale 0 equals the base model, scale 1 changes the output, removing it restores the base", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const lora = yield* loadLora(model, yield* modelFile("tiny-qwen2-lora"))
      assert.isAbove(lora.id, 0)
      assert.strictEqual(lora.alpha, 8)
      const ctx = yield* openContext(model, { contextSize: 2048, sequences: 2 })
      const run = (extra: Partial<GenerateRequest>) =>
        Effect.forEach(prompts, (text) =>
          Effect.map(generate(ctx, { sequence: 0, text, maxTokens: 16, sampling: greedy, ignoreEog: true, ...extra }), (g) => g.tokens))
      const base = yield* run({})
      const zero = yield* run({ lora: [{ adapter: lora.id, scale: 0 }] })
      const one = yield* run({ lora: [{ adapter: lora.id, scale: 1 }] })
      const after = yield* run({})
      assert.deepStrictEqual(zero, base)
      for (const [i, tokens] of one.entries()) assert.notDeepEqual(tokens, base[i], prompts[i])
      assert.deepStrictEqual(after, base)
      // The same scale twice gives the same output.
      const again = yield* run({ lora: [{ adapter: lora.id, scale: 1 }] })
      assert.deepStrictEqual(again, one)
    }))

  it.effect("context adapters apply to requests that name none; sequences with other adapters take turns", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const lora = yield* loadLora(model, yield* modelFile("tiny-qwen2-lora"))
      const plain = yield* openContext(model, { contextSize: 2048, sequences: 2 })
      const adapted = yield* openContext(model, { contextSize: 2048, sequences: 2, lora: [{ adapter: lora.id, scale: 1 }] })
      const request = { sequence: 0, text: prompts[0]!, maxTokens: 16, sampling: greedy, ignoreEog: true }
      const base = yield* generate(plain, request)
      const withLora = yield* generate(plain, { ...request, lora: [{ adapter: lora.id }] })
      const viaContext = yield* generate(adapted, request)
      assert.deepStrictEqual(viaContext.tokens, withLora.tokens)
      // A request's own empty set overrides the context's.
      const none = yield* generate(adapted, { ...request, lora: [] })
      assert.deepStrictEqual(none.tokens, base.tokens)
      // Both at once on one context: each gets its own adapters, as when run alone.
      const [x, y] = yield* Effect.all([
        generate(plain, { ...request, sequence: 0 }),
        generate(plain, { ...request, sequence: 1, lora: [{ adapter: lora.id }] })
      ], { concurrency: "unbounded" })
      assert.deepStrictEqual(x.tokens, base.tokens)
      assert.deepStrictEqual(y.tokens, withLora.tokens)
      // setLora changes the context's adapters for later requests; a prefix cached without them is not reused.
      plain.context.setLora([{ adapter: lora.id, scale: 1 }])
      const switched = yield* generate(plain, request)
      assert.deepStrictEqual(switched.tokens, withLora.tokens)
      assert.strictEqual(switched.done.usage.cachedTokens, 0)
      plain.context.setLora([])
      assert.deepStrictEqual((yield* generate(plain, request)).tokens, base.tokens)
    }))

  it.effect("bad adapters are typed errors: not a LoRA, another base model, an unknown id", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const notLora = yield* Effect.flip(loadLora(model, yield* modelFile("tiny-qwen2")))
      assert.strictEqual(notLora.code, "LORA_LOAD_FAILED")
      const missing = yield* Effect.flip(loadLora(model, "/nonexistent/adapter.gguf"))
      assert.strictEqual(missing.code, "LORA_LOAD_FAILED")
      const llama = yield* loadModel(yield* modelFile("tiny-llama"))
      const otherArch = yield* Effect.flip(loadLora(llama, yield* modelFile("tiny-qwen2-lora")))
      assert.strictEqual(otherArch.code, "LORA_LOAD_FAILED")
      const ctx = yield* openContext(model, { contextSize: 512 })
      const unknown = yield* Effect.flip(generate(ctx, { sequence: 0, text: "x", maxTokens: 1, lora: [{ adapter: 99 }] }))
      assert.strictEqual(unknown.code, "LORA_NOT_FOUND")
      const lora = yield* loadLora(model, yield* modelFile("tiny-qwen2-lora"))
      assert.isTrue(model.unloadLora(lora.id))
      assert.isFalse(model.unloadLora(lora.id))
      const gone = yield* Effect.flip(generate(ctx, { sequence: 0, text: "x", maxTokens: 1, lora: [{ adapter: lora.id }] }))
      assert.strictEqual(gone.code, "LORA_NOT_FOUND")
      const ok = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 3, sampling: greedy })
      assert.strictEqual(ok.tokens.length, 3)
    }))
})
