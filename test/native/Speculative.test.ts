// Speculative decoding: with a draft model (another one of the same vocabulary, or the model itself) or prompt
// lookup, the output is token for token what decoding without a draft gives; the done event reports the drafting.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { ContextOptions, SamplingOptions } from "../../src/native/NativeBinding.ts"
import { type ContextHandle, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const prompts = Array.from({ length: 20 }, (_, i) =>
  [
    "The quick brown fox", "Once upon a time", "def main():", "In 1492,", "The weather today is",
    "import numpy as np", "Dear Sir or Madam,", "1, 2, 3, 4,", "To be or not to be", "SELECT * FROM"
  ][i % 10]! + (i >= 10 ? " again and again" : ""))

describe("speculative decoding", () => {
  it.effect("20 prompts: the same tokens as plain greedy decoding with each drafter; acceptance reported", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const draft = yield* loadModel(yield* modelFile("tiny-qwen2-draft"))
      const plain = yield* openContext(model, { contextSize: 2048, sequences: 4 })
      const request = (text: string, i: number) => ({ sequence: i % 4, text, maxTokens: 16, sampling: greedy, ignoreEog: true })
      // Four lanes, one per sequence, each running its prompts in order: the sequences decode in one batch.
      const runAll = (ctx: ContextHandle) =>
        Effect.map(
          Effect.all([0, 1, 2, 3].map((lane) =>
            Effect.forEach(prompts.flatMap((_, i) => (i % 4 === lane ? [i] : [])), (i) =>
              Effect.map(generate(ctx, request(prompts[i]!, i)), (out) => [i, out] as const))
          ), { concurrency: "unbounded" }),
          (lanes) => lanes.flat().sort((a, b) => a[0] - b[0]).map(([, out]) => out)
        )
      const expected = yield* runAll(plain)
      const drafters: ReadonlyArray<[string, NonNullable<ContextOptions["speculative"]>]> = [
        ["draft model", { type: "draft", model: draft, draftTokens: 6 }],
        ["self draft", { type: "draft", model, draftTokens: 4 }],
        ["prompt lookup", { type: "ngram", draftTokens: 8 }]
      ]
      for (const [name, speculative] of drafters) {
        const ctx = yield* openContext(model, { contextSize: 2048, sequences: 4, speculative })
        assert.strictEqual(ctx.context.info().speculative, speculative.type)
        const got = yield* runAll(ctx)
        let drafted = 0
        let accepted = 0
        for (const [i, out] of got.entries()) {
          assert.deepStrictEqual(out.tokens, expected[i]!.tokens, `${name}: ${prompts[i]}`)
          assert.strictEqual(out.text, expected[i]!.text)
          const spec = out.done.speculative
          assert.isDefined(spec, name)
          assert.isAtMost(spec!.accepted, spec!.drafted)
          assert.strictEqual(spec!.acceptanceRate, spec!.drafted === 0 ? 0 : spec!.accepted / spec!.drafted)
          drafted += spec!.drafted
          accepted += spec!.accepted
        }
        assert.isAbove(drafted, 0, name)
        if (name === "self draft") assert.strictEqual(accepted, drafted) // the model agrees with itself
        // A request may opt out: no drafting, same tokens.
        const optOut = yield* generate(ctx, { ...request(prompts[0]!, 0), speculative: false })
        assert.deepStrictEqual(optOut.tokens, expected[0]!.tokens)
        assert.strictEqual(optOut.done.speculative, undefined)
      }
      assert.strictEqual(expected[0]!.done.speculative, undefined) // no drafter, nothing reported
    }), 300_000) // 80 generations: minutes on a loaded 2-core machine

  it.effect("seeded sampling, stop strings and token limits give the same output with a draft", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const plain = yield* openContext(model, { contextSize: 2048 })
      const spec = yield* openContext(model, { contextSize: 2048, speculative: { type: "draft", model, draftTokens: 5 } })
      const sampling: SamplingOptions = { temperature: 0.9, topK: 40, seed: 1234 }
      for (const extra of [{ sampling }, { sampling: greedy, maxTokens: 5 }, { sampling, stop: ["e"] }]) {
        const request = { sequence: 0, text: "Tell me a story about", maxTokens: 16, ignoreEog: true, ...extra }
        const a = yield* generate(plain, request)
        const b = yield* generate(spec, request)
        assert.deepStrictEqual(b.tokens, a.tokens, JSON.stringify(extra))
        assert.strictEqual(b.text, a.text)
        assert.strictEqual(b.done.reason, a.done.reason)
      }
    }), 300_000)

  it.effect("a draft model of another vocabulary is refused when the context is made", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const llama = yield* loadModel(yield* modelFile("tiny-llama"))
      const error = yield* Effect.flip(openContext(model, { speculative: { type: "draft", model: llama } }))
      assert.strictEqual(error.code, "INVALID_ARGUMENT")
      assert.match(error.message, /vocabulary/)
    }))
})
