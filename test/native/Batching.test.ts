// How the scheduler groups prompts into steps: requests that arrive together join one prompt step (a newcomer
// stops the step under way, which runs again with it), and unequal prompt chunks are evened out by evaluating
// again a few cached tokens. Neither may change a token: each request gets what it gets alone.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const tinyModel = Effect.flatMap(modelFile("tiny-qwen2"), (path) => loadModel(path))

describe("batching", () => {
  it.effect("prompts of unequal length started together on cached sequences: each gets the tokens it gets alone", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const options = { contextSize: 4 * 512, sequences: 4 }
      const shared = yield* openContext(model, options)
      const alone = yield* openContext(model, { contextSize: 512 })
      const system = "You are a careful assistant who answers in one short sentence. "
      const prefix = yield* Effect.promise(() => model.tokenize(system, false, false))
      // Each sequence caches the system text; the next prompts add 1 to 7 words after it.
      yield* Effect.forEach([0, 1, 2, 3], (i) => generate(shared, { sequence: i, text: system + `Warm up ${i}.`, maxTokens: 2, sampling: greedy }))
      const questions = ["Why?", "Why is the sky blue?", "Why is the sea salty and cold?", "Why do cats purr when they are happy and calm?"]
      const request = (i: number) => ({ sequence: i, text: system + questions[i]!, maxTokens: 10, sampling: greedy })
      const together = yield* Effect.all([0, 1, 2, 3].map((i) => generate(shared, request(i))), { concurrency: "unbounded" })
      for (const [i, out] of together.entries()) {
        const ref = yield* generate(alone, { ...request(i), sequence: 0 })
        assert.deepStrictEqual(out.tokens, ref.tokens, `sequence ${i}`)
        const { cachedTokens, promptTokens } = out.done.usage
        // The cached system text is reused, less at most the few tokens evaluated again to even the chunks.
        assert.isAtLeast(cachedTokens, prefix.length - 1 - 8, `sequence ${i} cached`)
        assert.isBelow(cachedTokens, promptTokens)
      }
    }))

  it.live("a request that arrives during another's prompt step joins it: both get their tokens; aborting it leaves the other whole", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const shared = yield* openContext(model, { contextSize: 2 * 1024, sequences: 2 })
      const alone = yield* openContext(model, { contextSize: 1024 })
      const long = { sequence: 0, text: "The history of the lighthouse, told year by year. ".repeat(36), maxTokens: 8, sampling: greedy }
      const short = { sequence: 1, text: "A lighthouse keeper's first night:", maxTokens: 8, sampling: greedy }
      const refLong = yield* generate(alone, long)
      const refShort = yield* generate(alone, { ...short, sequence: 0 })
      assert.isAbove(refLong.done.usage.promptTokens, 300) // one step (of the 512 a batch holds) that takes some time

      // The short request comes a few milliseconds into the long prompt's step: both come out as they do alone.
      const first = yield* Effect.forkChild(generate(shared, long))
      yield* Effect.sleep("3 millis")
      const second = yield* generate(shared, short)
      const firstOut = yield* Fiber.join(first)
      assert.deepStrictEqual(firstOut.tokens, refLong.tokens)
      assert.deepStrictEqual(second.tokens, refShort.tokens)

      // Again with another long prompt, the newcomer interrupted at once: the long request is unharmed.
      const other = { ...long, text: "The story of the harbour, told day by day. ".repeat(36) }
      const again = yield* Effect.forkChild(generate(shared, other))
      yield* Effect.sleep("3 millis")
      const gone = yield* Effect.forkChild(generate(shared, short))
      yield* Effect.sleep("2 millis")
      yield* Fiber.interrupt(gone)
      const againOut = yield* Fiber.join(again)
      const refAgain = yield* generate(alone, other)
      assert.deepStrictEqual(againOut.tokens, refAgain.tokens)
      assert.strictEqual(againOut.tokens.length, 8)
      const after = yield* generate(shared, short)
      assert.deepStrictEqual(after.tokens, refShort.tokens, "the context serves the next request")
    }))
})
