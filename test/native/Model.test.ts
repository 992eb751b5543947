// The native Model: load (progress, abort), info, and every bad input as a typed error with a stable code.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Native from "../../src/native/Native.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { binding, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const scratch = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-model-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const loadCode = (path: string, options = {}) => Effect.map(Effect.flip(loadModel(path, options)), (e) => e.code)

describe("Model", () => {
  it.effect("loads a generated model with progress and reports its info", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const path = yield* modelFile("tiny-qwen2")
      const model = new native.Model(path, {})
      const progress: Array<number> = []
      yield* Effect.promise(() => model.load((p) => progress.push(p)))
      const info = model.info()
      assert.strictEqual(info.architecture, "qwen2")
      assert.strictEqual(info.vocabSize, 151936)
      assert.strictEqual(info.vocabType, "bpe")
      assert.strictEqual(info.layers, 2)
      assert.isAbove(info.parameters, 0)
      assert.isAbove(info.size, 0)
      assert.include(info.chatTemplates.default ?? "", "<tool_call>")
      assert.strictEqual(info.gpuLayers, 0) // CPU build
      assert.isAbove(progress.length, 0)
      assert.strictEqual(progress.at(-1), 1)
      yield* Effect.promise(() => model.dispose())
      assert.isTrue(model.disposed)
    }))

  it.effect("tokenize and detokenize round-trip, with and without special tokens", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const text = "<|im_start|>user\nHello, world! 你好<|im_end|>"
      const special = yield* Effect.promise(() => model.tokenize(text, false, true))
      const plain = yield* Effect.promise(() => model.tokenize(text, false, false))
      assert.isBelow(special.length, plain.length) // <|im_start|> is one token when parsed as special
      assert.strictEqual(yield* Effect.promise(() => model.detokenize(special, false, true)), text)
      assert.strictEqual(yield* Effect.promise(() => model.detokenize(plain, false, false)), text)
    }))

  it.effect("a missing file, a directory and a non-GGUF file fail with their own codes", () =>
    Effect.gen(function*() {
      const dir = yield* scratch
      const notGguf = join(dir, "notes.gguf")
      writeFileSync(notGguf, "this is not a model")
      assert.strictEqual(yield* loadCode(join(dir, "missing.gguf")), "MODEL_NOT_FOUND")
      assert.strictEqual(yield* loadCode(dir), "MODEL_NOT_A_FILE")
      assert.strictEqual(yield* loadCode(notGguf), "INVALID_MODEL_FILE")
    }))

  it.effect("truncated GGUF files fail to load with MODEL_LOAD_FAILED, never a crash", () =>
    Effect.gen(function*() {
      const dir = yield* scratch
      const bytes = readFileSync(yield* modelFile("tiny-llama"))
      for (const fraction of [0.0001, 0.01, 0.3, 0.9, 0.999]) {
        const path = join(dir, `cut-${fraction}.gguf`)
        writeFileSync(path, bytes.subarray(0, Math.max(4, Math.floor(bytes.length * fraction))))
        const err = yield* Effect.flip(loadModel(path))
        assert.strictEqual(err.code, "MODEL_LOAD_FAILED", `${fraction}: ${err.message}`)
        assert.include(err.message, path)
      }
    }))

  it.effect("a model whose weights are garbage loads and generates without crashing", () =>
    Effect.gen(function*() {
      const dir = yield* scratch
      const path = join(dir, "garbage.gguf")
      copyFileSync(yield* modelFile("tiny-llama"), path)
      const bytes = readFileSync(path)
      // Overwrite the last half (tensor data) with 0xFF: NaN f16 weights everywhere there.
      bytes.fill(0xff, Math.floor(bytes.length / 2))
      writeFileSync(path, bytes)
      const model = yield* loadModel(path)
      const ctx = yield* openContext(model, { contextSize: 256 })
      const out = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 8, sampling: greedy })
      assert.include(["eog", "length"], out.done.reason)
    }))

  it.effect("aborting a load rejects with MODEL_LOAD_ABORTED", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const model = new native.Model(yield* modelFile("tiny-qwen2"), {})
      const loading = model.load()
      model.abortLoad() // the flag is read by llama.cpp's progress callback on the loader thread
      const err = yield* Effect.flip(Effect.tryPromise({ try: () => loading, catch: fromUnknown }))
      assert.strictEqual(err.code, "MODEL_LOAD_ABORTED")
      yield* Effect.promise(() => model.dispose())
    }))

  it.effect("a vocab-only model tokenizes but refuses to make a context", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"), { vocabOnly: true })
      assert.isAbove((yield* Effect.promise(() => model.tokenize("hello", false, false))).length, 0)
      const err = yield* Effect.flip(openContext(model))
      assert.strictEqual(err.code, "VOCAB_ONLY")
    }))

  it.effect("use after dispose fails with DISPOSED; dispose twice is fine", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const model = new native.Model(yield* modelFile("tiny-qwen2"), {})
      yield* Effect.promise(() => model.load())
      yield* Effect.promise(() => model.dispose())
      yield* Effect.promise(() => model.dispose())
      const sync = yield* Effect.flip(Effect.try({ try: () => model.info(), catch: fromUnknown }))
      assert.strictEqual(sync.code, "DISPOSED")
      const tokenize = yield* Effect.flip(Effect.try({ try: () => model.tokenize("x", false, false), catch: fromUnknown }))
      assert.strictEqual(tokenize.code, "DISPOSED")
      const ctx = yield* Effect.flip(Effect.try({ try: () => new native.Context(model, {}), catch: fromUnknown }))
      assert.strictEqual(ctx.code, "DISPOSED")
    }))

  it.effect("a process that never disposes its model and context still exits", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("tiny-qwen2")
      const addon = Native.candidatePaths().find((p) => existsSync(p))!
      const script = `const b = require(${JSON.stringify(addon)}); (async () => { const m = new b.Model(${JSON.stringify(path)}, {}); ` +
        `await m.load(); const c = new b.Context(m, { contextSize: 256 }); await c.init(() => {}); })()`
      const result = spawnSync(process.execPath, ["-e", script], { timeout: 20_000 })
      assert.strictEqual(result.status, 0, `signal ${result.signal}`)
    }))

  it.effect("wrong argument types are TypeErrors with INVALID_ARGUMENT", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const Model = native.Model as unknown as new(...args: Array<unknown>) => unknown
      const Context = native.Context as unknown as new(...args: Array<unknown>) => unknown
      for (const attempt of [() => new Model(42), () => new Model("x", { gpuLayers: 1.5 }), () => new Context({}, {})]) {
        const err = yield* Effect.flip(Effect.try({ try: attempt, catch: fromUnknown }))
        assert.strictEqual(err.code, "INVALID_ARGUMENT")
      }
    }))
})
