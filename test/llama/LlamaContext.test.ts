// The Effect services on the real addon and a generated model: streams, interruption, pool, errors.
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Fiber, Layer, Stream } from "effect"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"
import { ensureModel } from "../../scripts/models.ts"

const tinyQwen = await ensureModel("tiny-qwen2")

const Llama = LlamaContext.layer({ contextSize: 4096, sequences: 4 }).pipe(
  Layer.provideMerge(LlamaModel.layer({ path: tinyQwen })),
  Layer.provideMerge(Native.layer)
)

const greedy = { temperature: 0 } as const

// Native work runs on real time (timeouts, sleeps): no TestClock in this block.
layer(Llama, { excludeTestServices: true })("LlamaContext", (it) => {
  it.effect("generate streams tokens then one done event; the text adds up", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const events = yield* Stream.runCollect(ctx.generate({ prompt: "Hello", maxTokens: 12, sampling: greedy }))
      assert.strictEqual(events.length, 13)
      assert.isTrue(events.slice(0, 12).every((e) => e.type === "token"))
      const done = events[12]!
      assert.strictEqual(done.type, "done")
      if (done.type === "done") {
        assert.strictEqual(done.reason, "length")
        assert.strictEqual(done.usage.completionTokens, 12)
      }
      const whole = yield* ctx.generateText({ prompt: "Hello", maxTokens: 12, sampling: greedy })
      assert.strictEqual(whole.text, events.map((e) => e.text).join(""))
    }))

  it.effect("a slow consumer loses nothing: backpressure pauses the native job", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const fast = yield* ctx.generateText({ prompt: "Count", maxTokens: 80, sampling: greedy })
      const slow = yield* ctx.generate({ prompt: "Count", maxTokens: 80, sampling: greedy }).pipe(
        Stream.tap(() => Effect.sleep("2 millis")),
        Stream.runCollect
      )
      const tokens = slow.flatMap((e) => (e.type === "token" ? [e.token] : []))
      assert.deepStrictEqual(tokens, fast.tokens)
    }))

  it.effect("while the consumer waits, the native job stops after `window` tokens it has not taken", () =>
    Effect.scoped(Effect.gen(function*() {
      const ctx = yield* LlamaContext.make({ contextSize: 1024, window: 4 })
      // The tiny model makes 40 tokens in a few ms; a consumer that sleeps after each chunk it takes finds at most
      // `window` tokens waiting each time.
      const chunks = yield* ctx.generate({ prompt: "Count", maxTokens: 40, ignoreEog: true, sampling: greedy }).pipe(
        Stream.chunks,
        Stream.tap(() => Effect.sleep("50 millis")),
        Stream.runCollect
      )
      const sizes = chunks.map((chunk) => chunk.filter((e) => e.type === "token").length)
      assert.strictEqual(sizes.reduce((a, b) => a + b, 0), 40)
      assert.isAtMost(Math.max(...sizes), 4, `chunk sizes ${sizes.join(",")}`)
      assert.isAbove(chunks.length, 40 / 4 - 1)
    })))

  it.effect("taking the first token interrupts the job; the next call on the context works", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const first = yield* ctx.generate({ prompt: "Tell me a long story", maxTokens: 2000, sampling: greedy }).pipe(
        Stream.take(1),
        Stream.runCollect
      )
      assert.strictEqual(first.length, 1)
      const next = yield* ctx.generateText({ prompt: "Again", maxTokens: 5, sampling: greedy })
      assert.strictEqual(next.tokens.length, 5)
    }))

  it.effect("Effect.timeout on a long generation interrupts it promptly and the context serves the next call", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const started = Date.now()
      const result = yield* ctx.generateText({ prompt: "Go on forever", maxTokens: 3000, ignoreEog: true, sampling: greedy }).pipe(
        Effect.timeout("100 millis"),
        Effect.flip
      )
      assert.strictEqual(result._tag, "TimeoutError")
      assert.isBelow(Date.now() - started, 1000)
      const next = yield* ctx.generateText({ prompt: "Next", maxTokens: 4, sampling: greedy })
      assert.strictEqual(next.tokens.length, 4)
    }))

  it.effect("16 concurrent generations on a 4-sequence context all complete", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const outs = yield* Effect.forEach(
        Array.from({ length: 16 }, (_, i) => i),
        (i) => ctx.generateText({ prompt: `Request ${i}:`, maxTokens: 16, sampling: greedy }),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(outs.length, 16)
      for (const out of outs) assert.strictEqual(out.tokens.length, 16)
      const alone = yield* ctx.generateText({ prompt: "Request 7:", maxTokens: 16, sampling: greedy })
      assert.deepStrictEqual(outs[7]!.tokens, alone.tokens)
    }))

  it.effect("a chat's next turn lands on the sequence that holds its prefix", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const turn1 = "<|im_start|>user\nHi there, how are you today?<|im_end|>\n<|im_start|>assistant\n"
      const first = yield* ctx.generateText({ prompt: turn1, maxTokens: 8, sampling: greedy })
      yield* ctx.generateText({ prompt: "Some unrelated prompt", maxTokens: 2, sampling: greedy })
      const turn2 = `${turn1}${first.text}<|im_end|>\n<|im_start|>user\nAnd now?<|im_end|>\n<|im_start|>assistant\n`
      const second = yield* ctx.generateText({ prompt: turn2, maxTokens: 4, sampling: greedy })
      const model = yield* LlamaModel.LlamaModel
      const turn1Tokens = yield* model.tokenize(turn1, { parseSpecial: true })
      // Another sequence would share nothing with this prompt; this one holds turn 1 (the last token may re-merge).
      assert.isAtLeast(second.done.usage.cachedTokens, turn1Tokens.length - 1)
    }))

  it.effect("bad requests fail with typed reasons", () =>
    Effect.gen(function*() {
      const ctx = yield* LlamaContext.LlamaContext
      const sampling = yield* Effect.flip(ctx.generateText({ prompt: "x", sampling: { temperature: -1 } }))
      assert.strictEqual(sampling.reason._tag, "InvalidSampling")
      const overflow = yield* Effect.flip(ctx.generateText({ prompt: "word ".repeat(1200) }))
      assert.strictEqual(overflow.reason._tag, "ContextOverflow")
      assert.isFalse(overflow.isRetryable)
      assert.include(overflow.message, "LlamaContext.generate")
      const grammar = yield* Effect.flip(ctx.generateText({ prompt: "x", grammar: { gbnf: "root ::= (" } }))
      assert.strictEqual(grammar.reason._tag, "GrammarError")
      const embed = yield* Effect.flip(ctx.embed(["x"]))
      assert.strictEqual(embed.reason._tag, "InvalidRequest")
    }))
})

describe("LlamaModel", () => {
  it.effect("a missing model file fails the layer with ModelNotFound", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(Effect.scoped(LlamaModel.make({ path: "/nonexistent/model.gguf" }))).pipe(
        Effect.provide(Native.layer)
      )
      assert.strictEqual(err._tag, "LlamaError")
      if (err._tag === "LlamaError") assert.strictEqual(err.reason._tag, "ModelNotFound")
    }))

  it.effect("tokenize, detokenize and info as Effects", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.make({ path: tinyQwen })
      const tokens = yield* model.tokenize("Hello world", { addSpecial: false })
      assert.strictEqual(yield* model.detokenize(tokens), "Hello world")
      assert.strictEqual(model.info.architecture, "qwen2")
    }).pipe(Effect.provide(Native.layer)))

  it.effect("interrupting a load aborts it", () =>
    Effect.gen(function*() {
      const bench = yield* Effect.promise(() => ensureModel("small-llama"))
      const fiber = yield* Effect.forkChild(Effect.scoped(LlamaModel.make({ path: bench })))
      yield* Fiber.interrupt(fiber)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(exit._tag === "Failure")
    }).pipe(Effect.provide(Native.layer)))
})
