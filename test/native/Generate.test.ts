// Generation through the native scheduler: determinism, batching, prefix reuse, stops, limits, abort.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { SamplingOptions } from "../../src/native/NativeBinding.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { type Generation, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const tinyModel = Effect.flatMap(modelFile("tiny-qwen2"), (path) => loadModel(path))

describe("generate", () => {
  it.effect("greedy generation is deterministic, with or without a cached prefix", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const a = yield* openContext(model, { contextSize: 1024 })
      const b = yield* openContext(model, { contextSize: 1024 })
      const request = { sequence: 0, text: "The quick brown fox", maxTokens: 24, sampling: greedy }
      const first = yield* generate(a, request)
      const again = yield* generate(a, request) // same sequence: the prompt prefix comes from the KV cache
      const fresh = yield* generate(b, request)
      assert.strictEqual(first.tokens.length, 24)
      assert.strictEqual(first.done.reason, "length")
      assert.isAbove(again.done.usage.cachedTokens, 0)
      assert.deepStrictEqual(again.tokens, first.tokens)
      assert.deepStrictEqual(fresh.tokens, first.tokens)
      assert.strictEqual(first.text, fresh.text)
    }))

  it.effect("plain greedy (an argmax of the logits) picks the tokens common_sampler's greedy chain picks", () =>
    Effect.gen(function*() {
      // A zero logit bias changes no logit but sends the job through common_sampler's full chain.
      const throughChain = { temperature: 0, logitBias: [{ token: 0, bias: 0 }] }
      for (const name of ["tiny-qwen2", "tiny-llama"] as const) {
        const model = yield* Effect.flatMap(modelFile(name), (path) => loadModel(path))
        const ctx = yield* openContext(model, { contextSize: 2048, sequences: 3 })
        const prompts = ["The quick brown fox", "def main():", "Once upon a time, in a land"]
        const run = (sampling: SamplingOptions) =>
          Effect.all(prompts.map((text, i) => generate(ctx, { sequence: i, text, maxTokens: 48, sampling })), { concurrency: "unbounded" })
        const argmax = yield* run(greedy)
        const chain = yield* run(throughChain)
        for (const [i, out] of argmax.entries()) {
          assert.strictEqual(out.tokens.length, 48)
          assert.deepStrictEqual(out.tokens, chain[i]!.tokens, `${name}, prompt ${i}`)
        }
      }
    }))

  it.effect("with a fixed seed, sampling is deterministic", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024 })
      const sample = (seed: number) =>
        generate(ctx, { sequence: 0, text: "Once upon a time", maxTokens: 32, sampling: { temperature: 1.2, topK: 0, topP: 1, minP: 0, seed } })
      const one = yield* sample(42)
      const two = yield* sample(42)
      const other = yield* sample(7)
      assert.deepStrictEqual(two.tokens, one.tokens)
      assert.notDeepEqual(other.tokens, one.tokens)
    }))

  it.effect("a sequence generated alone and beside 3 others gives the same tokens", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const alone = yield* openContext(model, { contextSize: 2048, sequences: 4 })
      const shared = yield* openContext(model, { contextSize: 2048, sequences: 4 })
      const prompts = ["Alpha beta gamma", "The weather today is", "def fibonacci(n):", "In 1492, Columbus"]
      const request = (i: number) => ({ sequence: i, text: prompts[i]!, maxTokens: 32, sampling: greedy })
      const single = yield* generate(alone, request(0))
      const all = yield* Effect.all([0, 1, 2, 3].map((i) => generate(shared, request(i))), { concurrency: "unbounded" })
      assert.deepStrictEqual(all[0]!.tokens, single.tokens)
      for (const [i, out] of all.entries()) {
        const ref = yield* generate(alone, request(i))
        assert.deepStrictEqual(out.tokens, ref.tokens, `sequence ${i}`)
      }
    }))

  it.effect("a batch as small as the sequences, jobs started out of order: each gets the tokens it gets alone", () =>
    Effect.gen(function*() {
      // 4 batch slots for 4 sequences: the prompts go in a few tokens a step beside the others' decodes, and tokens
      // go in by sequence id whatever order the jobs came in. A batch smaller than the sequences is refused.
      const model = yield* tinyModel
      const options = { contextSize: 2048, sequences: 4, batchSize: 4, ubatchSize: 4 }
      const alone = yield* openContext(model, options)
      const shared = yield* openContext(model, options)
      const prompts = ["Alpha beta gamma", "The weather today is", "def fibonacci(n):", "In 1492, Columbus"]
      const request = (i: number) => ({ sequence: i, text: prompts[i]!, maxTokens: 12, sampling: greedy })
      const order = [3, 1, 2, 0]
      const all = yield* Effect.all(order.map((i) => generate(shared, request(i))), { concurrency: "unbounded" })
      for (const [k, i] of order.entries()) {
        const ref = yield* generate(alone, request(i))
        assert.strictEqual(all[k]!.tokens.length, 12)
        assert.deepStrictEqual(all[k]!.tokens, ref.tokens, `sequence ${i}`)
      }
      const small = yield* Effect.flip(openContext(model, { contextSize: 2048, sequences: 4, batchSize: 2 }))
      assert.strictEqual(small.code, "INVALID_ARGUMENT")
      assert.include(small.message, "batchSize (2) must be at least sequences (4)")
    }))

  it.effect("8 concurrent generations on 8 sequences finish with separate outputs and beat one sequence in tokens/s", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 8 * 256, sequences: 8 })
      const n = 48
      const request = (i: number) => ({ sequence: i, text: `Story number ${i}:`, maxTokens: n, sampling: greedy })
      // Best of two rounds each, interleaved, so a passing load spike on the machine does not decide the comparison.
      let singleMs = Infinity
      let batchMs = Infinity
      let outs: ReadonlyArray<Generation> = []
      for (let round = 0; round < 2; round++) {
        const t0 = performance.now()
        yield* generate(ctx, request(0))
        singleMs = Math.min(singleMs, performance.now() - t0)
        const t1 = performance.now()
        outs = yield* Effect.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => generate(ctx, request(i))), { concurrency: "unbounded" })
        batchMs = Math.min(batchMs, performance.now() - t1)
      }
      for (const [i, out] of outs.entries()) {
        assert.strictEqual(out.tokens.length, n, `sequence ${i}`)
        const alone = yield* generate(ctx, request(i))
        assert.deepStrictEqual(out.tokens, alone.tokens, `sequence ${i} matches its solo run`)
      }
      assert.isAbove(new Set(outs.map((o) => o.text)).size, 1)
      assert.isAbove((8 * n) / batchMs, n / singleMs, `aggregate ${((8 * n) / batchMs * 1000).toFixed(0)} tok/s vs ${(n / singleMs * 1000).toFixed(0)} tok/s`)
    }))

  it.effect("prefix reuse: a request sharing a prefix reports it as cached and evaluates only the rest", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024 })
      const other = yield* openContext(model, { contextSize: 1024 })
      const system = "You are a helpful assistant. Answer briefly and precisely. ".repeat(4)
      const prefix = yield* Effect.promise(() => model.tokenize(system, false, false))
      const first = yield* generate(ctx, { sequence: 0, text: system + "First question?", maxTokens: 4, sampling: greedy })
      const second = yield* generate(ctx, { sequence: 0, text: system + "Second question?", maxTokens: 8, sampling: greedy })
      assert.strictEqual(first.done.usage.cachedTokens, 0)
      assert.isAtLeast(second.done.usage.cachedTokens, prefix.length - 1)
      assert.isBelow(second.done.usage.cachedTokens, second.done.usage.promptTokens)
      // The cached KV gives the same answer as a full evaluation.
      const full = yield* generate(other, { sequence: 0, text: system + "Second question?", maxTokens: 8, sampling: greedy })
      assert.deepStrictEqual(second.tokens, full.tokens)
    }))

  it.effect("stop strings end generation before the stop text and are never emitted", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024 })
      const request = { sequence: 0, text: "Count: one two three", maxTokens: 40, sampling: greedy }
      const free = yield* generate(ctx, request)
      const stop = free.text.slice(Math.floor(free.text.length / 2), Math.floor(free.text.length / 2) + 3)
      const stopped = yield* generate(ctx, { ...request, stop: [stop] })
      assert.strictEqual(stopped.done.reason, "stop")
      assert.strictEqual(stopped.done.stop, stop)
      assert.strictEqual(stopped.text, free.text.slice(0, free.text.indexOf(stop)))
    }))

  it.effect("streamed text is UTF-8 safe: the pieces add up to the detokenized tokens, with no broken characters", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024 })
      // Byte-level BPE: many of the 151,936 tokens are partial UTF-8 sequences; a random model hits them often.
      for (const seed of [1, 2, 3]) {
        const out = yield* generate(ctx, { sequence: 0, text: "你好，世界", maxTokens: 200, sampling: { temperature: 1.5, topK: 0, topP: 1, minP: 0, seed } })
        const whole = yield* Effect.promise(() => model.detokenize(out.tokens, false, false))
        assert.strictEqual(out.text, whole)
        assert.strictEqual(out.text.includes("\uFFFD"), whole.includes("\uFFFD"))
      }
    }), 300_000) // 600 tokens sampled over the whole 151,936-token vocabulary: over 2 minutes on a loaded 2-core machine

  it.live("with a window, generation pauses until the consumer acks its token events", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024, sequences: 2 })
      let tokens = 0
      let done = false
      const job = ctx.context.generate({ sequence: 0, text: "Slowly", maxTokens: 100, window: 4, sampling: greedy })
      ctx.router.listen(job, (event) => {
        if (event.type === "token") tokens++
        else done = true
      })
      // Poll instead of fixed sleeps: a busy machine only delays these steps, it does not change the counts.
      const until = (condition: () => boolean) =>
        Effect.sleep("10 millis").pipe(Effect.repeat({ until: condition }), Effect.timeout("60 seconds"), Effect.orDie)
      yield* until(() => tokens >= 4)
      yield* Effect.sleep("200 millis") // ample time for 100 tokens on this model, were it not paused
      assert.strictEqual(tokens, 4)
      // Another sequence is not held up by the paused one.
      const other = yield* generate(ctx, { sequence: 1, text: "Meanwhile", maxTokens: 20, sampling: greedy })
      assert.strictEqual(other.tokens.length, 20)
      ctx.context.ack(job, 4)
      yield* until(() => tokens >= 8)
      yield* Effect.sleep("200 millis")
      assert.strictEqual(tokens, 8)
      ctx.context.ack(job, 1000)
      yield* until(() => done)
      assert.strictEqual(tokens, 100)
    }))

  it.effect("usage counts prompt and completion tokens", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 512 })
      const tokens = yield* Effect.promise(() => model.tokenize("Hello there", false, false))
      const out = yield* generate(ctx, { sequence: 0, tokens, maxTokens: 5, sampling: greedy })
      assert.strictEqual(out.done.usage.promptTokens, tokens.length)
      assert.strictEqual(out.done.usage.completionTokens, 5)
      assert.isAbove(out.done.timings.prefillMs, 0)
    }))

  it.effect("interrupting after the first token aborts, and the context serves the next request", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 1024 })
      let tokens = 0
      const job = ctx.context.generate({ sequence: 0, text: "Tell me everything", maxTokens: 500, sampling: greedy })
      const done = yield* Effect.callback<string>((resume) => {
        ctx.router.listen(job, (event) => {
          if (event.type === "token" && ++tokens === 1) assert.isTrue(ctx.context.abort(job))
          if (event.type === "done") resume(Effect.succeed(event.reason))
        })
      })
      assert.strictEqual(done, "abort")
      assert.isBelow(tokens, 500)
      assert.isFalse(ctx.context.abort(job)) // abort after finish is a no-op
      const next = yield* generate(ctx, { sequence: 0, text: "Tell me everything", maxTokens: 4, sampling: greedy })
      assert.strictEqual(next.done.usage.cachedTokens, 0) // the aborted sequence's cells were released
      assert.strictEqual(next.tokens.length, 4)
    }))

  it.effect("bad requests are typed errors with stable codes", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 256, sequences: 2 })
      const syncCode = (f: () => unknown) => Effect.map(Effect.flip(Effect.try({ try: f, catch: fromUnknown })), (e) => e.code)
      const bad: ReadonlyArray<SamplingOptions> = [
        { temperature: -1 },
        { topP: 1.5 },
        { topK: 2.5 },
        { mirostat: 3 as 2 },
        { seed: -4 },
        { logitBias: [{ token: 10_000_000, bias: 1 }] },
        { grammarLazy: true, grammar: "root ::= \"a\"" }
      ]
      for (const sampling of bad) {
        const code = yield* syncCode(() => ctx.context.generate({ sequence: 0, text: "x", sampling }))
        assert.strictEqual(code, "INVALID_SAMPLING", JSON.stringify(sampling))
      }
      assert.strictEqual(yield* syncCode(() => ctx.context.generate({ sequence: 5, text: "x" })), "INVALID_ARGUMENT")
      assert.strictEqual(yield* syncCode(() => ctx.context.generate({ sequence: 0, text: "" })), "INVALID_ARGUMENT")
      assert.strictEqual(yield* syncCode(() => ctx.context.embed({ texts: ["x"] })), "NOT_EMBEDDING_CONTEXT")
      const grammar = yield* Effect.flip(generate(ctx, { sequence: 0, text: "x", sampling: { grammar: "root ::= (" } }))
      assert.strictEqual(grammar.code, "GRAMMAR_ERROR")
      const long = yield* Effect.flip(generate(ctx, { sequence: 0, text: "word ".repeat(400) }))
      assert.strictEqual(long.code, "CONTEXT_OVERFLOW")
      const outOfVocab = yield* Effect.flip(generate(ctx, { sequence: 0, tokens: [1, 9_999_999] }))
      assert.strictEqual(outOfVocab.code, "INVALID_ARGUMENT")
      // Two jobs on one sequence at once: the second is refused, the first completes.
      const [first, second] = yield* Effect.all([
        generate(ctx, { sequence: 1, text: "a", maxTokens: 16, sampling: greedy }),
        Effect.flip(generate(ctx, { sequence: 1, text: "b", maxTokens: 4 }))
      ], { concurrency: "unbounded" })
      assert.strictEqual(first.tokens.length, 16)
      assert.strictEqual(second.code, "SEQUENCE_BUSY")
    }))

  it.effect("a sampler that breaks mid-generation fails that job only, and the context keeps serving", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-llama")) // its only end-of-generation token is </s>
      const ctx = yield* openContext(model, { contextSize: 256 })
      const eos = model.info().specialTokens.eos!
      // The grammar completes after one character, and end-of-generation is banned: nothing can be sampled.
      const sampling = { temperature: 0, grammar: "root ::= \"a\"", logitBias: [{ token: eos, bias: -Infinity }] }
      const err = yield* Effect.flip(generate(ctx, { sequence: 0, text: "x", maxTokens: 8, sampling }))
      assert.strictEqual(err.code, "SAMPLING_ERROR")
      const next = yield* generate(ctx, { sequence: 0, text: "x", maxTokens: 3, sampling: greedy })
      assert.strictEqual(next.tokens.length, 3)
    }))

  it.effect("a disposed context rejects work with DISPOSED and can be disposed twice", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 256 })
      yield* Effect.promise(() => ctx.context.dispose())
      yield* Effect.promise(() => ctx.context.dispose())
      const err = yield* Effect.flip(Effect.try({ try: () => ctx.context.generate({ sequence: 0, text: "x" }), catch: fromUnknown }))
      assert.strictEqual(err.code, "DISPOSED")
      assert.isFalse(ctx.context.abort(1))
    }))

  it.effect("disposing a context while it generates ends the job with reason abort", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 2048 })
      const fiber = generate(ctx, { sequence: 0, text: "Go on", maxTokens: 1500, sampling: greedy })
      const [out] = yield* Effect.all([fiber, Effect.promise(() => ctx.context.dispose())], { concurrency: "unbounded" })
      assert.strictEqual(out.done.reason, "abort")
    }))
})
