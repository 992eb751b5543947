// llama.cpp logs reach a JS callback only when one is set (silent by default), at or above the asked level.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { binding, loadModel, modelFile } from "../support/native.ts"

describe("logger", () => {
  it.live("forwards llama.cpp logs to the callback at or above the minimum level, and stops when cleared", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const path = yield* modelFile("tiny-llama")
      const seen: Array<readonly [number, string]> = []
      native.setLogger((level, text) => seen.push([level, text]), 2)
      yield* Effect.scoped(loadModel(path))
      yield* Effect.sleep("20 millis") // log events arrive on later turns of the event loop
      native.setLogger(null)
      assert.isAbove(seen.length, 5)
      assert.isTrue(seen.every(([level]) => level >= 2 && level <= 4))
      assert.isTrue(seen.some(([, text]) => text.includes("llama_model_loader")), seen.map(([, t]) => t).join("").slice(0, 500))
      const before = seen.length
      yield* Effect.scoped(loadModel(path))
      yield* Effect.sleep("20 millis")
      assert.strictEqual(seen.length, before)
    }))

  it.live("a debug-level logger also receives debug messages; a non-function is rejected", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const levels = new Set<number>()
      native.setLogger((level) => levels.add(level), 1)
      yield* Effect.scoped(loadModel(yield* modelFile("tiny-llama")))
      yield* Effect.sleep("20 millis")
      native.setLogger(null)
      assert.isTrue(levels.has(1) || levels.has(2))
      const setLogger = native.setLogger as unknown as (cb: unknown) => void
      const err = yield* Effect.flip(Effect.try({ try: () => setLogger(42), catch: (e) => e as { code?: string } }))
      assert.strictEqual(err.code, "INVALID_ARGUMENT")
    }))
})
