// KV state save/restore: a sequence saved mid-chat and restored into a fresh context continues exactly as if it
// had never stopped; damaged states and states from another model or settings are coded errors, never crashes.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { NativeContext } from "../../src/native/NativeBinding.ts"
import { fromUnknown, type NativeError } from "../../src/native/NativeError.ts"
import { generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const save = (context: NativeContext, sequence: number, path?: string) =>
  Effect.tryPromise({ try: () => context.saveState({ sequence, metadata: "turn 1", ...(path === undefined ? {} : { path }) }), catch: fromUnknown })

const load = (context: NativeContext, source: { readonly path: string } | { readonly data: Uint8Array }, sequence = 0) =>
  Effect.tryPromise({ try: () => context.loadState({ sequence, ...source }), catch: fromUnknown })

const code = (effect: Effect.Effect<unknown, NativeError>) => Effect.map(Effect.flip(effect), (e) => e.code)

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-state-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("KV state", () => {
  it.effect("a sequence saved mid-chat and restored into a fresh context continues with identical greedy tokens", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const dir = yield* tempDir
      const a = yield* openContext(model, { contextSize: 2048, sequences: 2 })
      const prompt = "<|im_start|>user\nTell me about foxes.<|im_end|>\n<|im_start|>assistant\n"
      const turn1 = yield* generate(a, { sequence: 1, text: prompt, maxTokens: 20, sampling: greedy, ignoreEog: true })
      const saved = yield* save(a.context, 1)
      const file = join(dir, "chat.state")
      yield* save(a.context, 1, file)
      assert.isDefined(saved.data)
      assert.strictEqual(saved.size, saved.data!.length)
      assert.deepStrictEqual(new Uint8Array(readFileSync(file)), saved.data)
      // The next turn, on the context that never stopped: the first turn's tokens as they were, then the next message.
      const tokenize = (text: string, addSpecial: boolean) =>
        Effect.tryPromise({ try: () => model.tokenize(text, addSpecial, true), catch: fromUnknown })
      const next = "<|im_end|>\n<|im_start|>user\nAnd wolves?<|im_end|>\n<|im_start|>assistant\n"
      const tokens = [...(yield* tokenize(prompt, true)), ...turn1.tokens, ...(yield* tokenize(next, false))]
      const nextTurn = { sequence: 1, tokens, maxTokens: 32, sampling: greedy, ignoreEog: true }
      const continued = yield* generate(a, nextTurn)
      // The same turn on fresh contexts, restored from bytes and from the file, into another sequence.
      for (const source of [{ data: saved.data! }, { path: file }]) {
        const b = yield* openContext(model, { contextSize: 2048, sequences: 2 })
        const restored = yield* load(b.context, source, 0)
        assert.strictEqual(restored.metadata, "turn 1")
        assert.isAbove(restored.tokens.length, 20)
        const resumed = yield* generate(b, { ...nextTurn, sequence: 0 })
        assert.strictEqual(resumed.done.usage.cachedTokens, continued.done.usage.cachedTokens)
        assert.strictEqual(resumed.done.usage.cachedTokens, restored.tokens.length) // the whole first turn
        assert.deepStrictEqual(resumed.tokens, continued.tokens)
      }
    }))

  it.effect("damaged states and states from another model or settings are typed errors; the context goes on", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const dir = yield* tempDir
      const a = yield* openContext(model, { contextSize: 1024 })
      // More tokens than the smallest context llama.cpp makes (it rounds a context up to 256 cells).
      yield* generate(a, { sequence: 0, text: "Once upon a time there was ".repeat(60), maxTokens: 8, sampling: greedy })
      const { data } = yield* save(a.context, 0)
      const bytes = data!
      const b = yield* openContext(model, { contextSize: 1024 })
      const flipped = bytes.slice()
      flipped[Math.floor(bytes.length / 2)]! ^= 0x10
      assert.strictEqual(yield* code(load(b.context, { data: flipped })), "STATE_INVALID")
      assert.strictEqual(yield* code(load(b.context, { data: bytes.slice(0, bytes.length - 9) })), "STATE_INVALID")
      assert.strictEqual(yield* code(load(b.context, { data: new Uint8Array(64) })), "STATE_INVALID")
      assert.strictEqual(yield* code(load(b.context, { data: new Uint8Array() })), "STATE_INVALID")
      const garbage = join(dir, "garbage.state")
      writeFileSync(garbage, "ELKVSTAT not really")
      assert.strictEqual(yield* code(load(b.context, { path: garbage })), "STATE_INVALID")
      assert.strictEqual(yield* code(load(b.context, { path: join(dir, "missing.state") })), "STATE_INVALID")
      // Another model of the same shape and vocabulary (other weights), another KV type (f32, not f16), too small a context.
      const other = yield* loadModel(yield* modelFile("tiny-qwen2-draft"))
      const c = yield* openContext(other, { contextSize: 1024 })
      assert.strictEqual(yield* code(load(c.context, { data: bytes })), "STATE_MISMATCH")
      const f32 = yield* openContext(model, { contextSize: 1024, kvCacheType: "f32" })
      assert.strictEqual(yield* code(load(f32.context, { data: bytes })), "STATE_MISMATCH")
      const small = yield* openContext(model, { contextSize: 256 })
      assert.strictEqual(yield* code(load(small.context, { data: bytes })), "STATE_MISMATCH")
      // Every context still serves, and the good state still loads.
      const restored = yield* load(b.context, { data: bytes })
      assert.isAbove(restored.tokens.length, 0)
      for (const ctx of [b, c, f32]) {
        const out = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 4, sampling: greedy })
        assert.strictEqual(out.tokens.length, 4)
      }
    }))

  it.effect("saving an empty sequence or one out of range is a typed error", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const a = yield* openContext(model, { contextSize: 1024, sequences: 2 })
      assert.strictEqual(yield* code(save(a.context, 1)), "INVALID_ARGUMENT")
      assert.strictEqual(yield* code(Effect.suspend(() => save(a.context, 5))), "INVALID_ARGUMENT")
      assert.strictEqual(yield* code(load(a.context, { data: new Uint8Array(16) }, 7)), "INVALID_ARGUMENT")
    }))
})
