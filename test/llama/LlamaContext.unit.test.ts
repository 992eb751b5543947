// The Effect layer over a scripted fake addon: stream assembly, acks, error mapping, abort on interruption.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as FakeNative from "../support/FakeNative.ts"

const setup = (script: FakeNative.Script, sequences = 1) => {
  const fake = FakeNative.make(script)
  const layer = LlamaContext.layer({ sequences }).pipe(
    Layer.provideMerge(LlamaModel.layer({ path: "/fake.gguf" })),
    Layer.provide(fake.layer)
  )
  return { fake, layer }
}

const words = ["Hel", "lo", " wor", "ld"]
const fourTokens: FakeNative.Script = () => [
  ...words.map((w, i) => FakeNative.token(i + 1, w)),
  { ...FakeNative.done(0, "eog", 4), text: "!" }
]

describe("LlamaContext (fake addon)", () => {
  it.live("streams token events then done, acking each token as the consumer takes it", () => {
    const { fake, layer } = setup(fourTokens)
    return Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const events = yield* Stream.runCollect(ctx.generate({ prompt: "hi", maxTokens: 4 }))
      assert.deepStrictEqual(events.map((e) => e.text), [...words, "!"])
      assert.strictEqual(events.at(-1)?.type, "done")
      assert.deepStrictEqual(fake.log.acked, [1, 1, 1, 1])
      assert.strictEqual(fake.log.generated[0]!.window, 32)
      const whole = yield* ctx.generateText({ prompt: "hi" })
      assert.strictEqual(whole.text, "Hello world!")
      assert.deepStrictEqual(whole.tokens, [1, 2, 3, 4])
    }).pipe(Effect.provide(layer))
  })

  it.live("interrupting the consumer aborts the native job and frees its sequence", () => {
    const endless: FakeNative.Script = () => Array.from({ length: 10_000 }, (_, i) => FakeNative.token(i, "x"))
    const { fake, layer } = setup(endless)
    return Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const first = yield* ctx.generate({ prompt: "go" }).pipe(Stream.take(2), Stream.runCollect)
      assert.strictEqual(first.length, 2)
      assert.deepStrictEqual(fake.log.aborted, [1])
      // One sequence: a second generation could only start because the first one gave it back.
      const fiber = yield* Effect.forkChild(ctx.generate({ prompt: "again" }).pipe(Stream.take(1), Stream.runCollect))
      const second = yield* Fiber.join(fiber)
      assert.strictEqual(second.length, 1)
      assert.deepStrictEqual(fake.log.aborted, [1, 2])
      assert.strictEqual(fake.log.active, 0)
    }).pipe(Effect.provide(layer))
  })

  it.live("an error event fails the stream with the mapped reason", () => {
    const failing: FakeNative.Script = () => [
      FakeNative.token(1, "a"),
      { type: "error", code: "LLAMA_DECODE_NO_KV_SLOT", message: "full" }
    ]
    const { layer } = setup(failing)
    return Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const err = yield* Effect.flip(ctx.generateText({ prompt: "x" }))
      assert.strictEqual(err.reason._tag, "NoKvSlot")
      assert.isTrue(err.isRetryable)
    }).pipe(Effect.provide(layer))
  })

  it.live("sequences are handed out by prefix: a continued prompt gets the sequence that holds its start", () => {
    const { fake, layer } = setup(fourTokens, 3)
    return Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      yield* ctx.generateText({ prompt: "alpha" })
      yield* ctx.generateText({ prompt: "beta" })
      yield* ctx.generateText({ prompt: "gamma" })
      yield* ctx.generateText({ prompt: "betaHello world! and more" })
      const sequences = fake.log.generated.map((r) => r.sequence)
      assert.strictEqual(sequences[3], sequences[1])
    }).pipe(Effect.provide(layer))
  })
})
