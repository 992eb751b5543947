// Abort latency during a long prefill, and the JS thread staying free while the scheduler thread works.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { NativeModel } from "../../src/native/NativeBinding.ts"
import { type ContextHandle, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

const promptOf = (model: NativeModel, n: number) =>
  Effect.promise(async () => {
    const text = "The history of the world is long and full of detail. ".repeat(Math.ceil(n / 8))
    return (await model.tokenize(text, true, false)).slice(0, n)
  })

// Resolves with the time the job's done event reached JS.
const doneAt = (ctx: ContextHandle, job: number) =>
  Effect.callback<{ readonly reason: string; readonly completed: number; readonly at: number }>((resume) => {
    ctx.router.listen(job, (event) => {
      if (event.type === "done") {
        resume(Effect.succeed({ reason: event.reason, completed: event.usage.completionTokens, at: performance.now() }))
      }
    })
  })

describe("responsiveness", () => {
  it.live("abort during a 4,000-token prefill returns within 100 ms, and the next request succeeds", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("small-llama"))
      const ctx = yield* openContext(model, { contextSize: 8192 })
      const prompt = yield* promptOf(model, 4000)
      assert.strictEqual(prompt.length, 4000)
      const job = ctx.context.generate({ sequence: 0, tokens: prompt, maxTokens: 8, sampling: greedy })
      const done = yield* Effect.forkChild(doneAt(ctx, job))
      yield* Effect.sleep("150 millis") // inside the prefill, which takes over a second here
      const abortedAt = performance.now()
      assert.isTrue(ctx.context.abort(job))
      const { reason, completed, at } = yield* Fiber.join(done)
      assert.strictEqual(reason, "abort")
      assert.strictEqual(completed, 0) // it was stopped inside the prefill
      assert.isBelow(at - abortedAt, 100, `abort took ${(at - abortedAt).toFixed(1)} ms`)
      const next = yield* generate(ctx, { sequence: 0, tokens: prompt.slice(0, 64), maxTokens: 4, sampling: greedy })
      assert.strictEqual(next.tokens.length, 4)
      assert.strictEqual(next.done.usage.cachedTokens, 0)
    }), 120_000)

  it.live("while a 2,000-token prompt is evaluated, a 1 ms timer on the JS thread never waits more than 20 ms", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("small-llama"))
      const ctx = yield* openContext(model, { contextSize: 4096 })
      const prompt = yield* promptOf(model, 2000)
      let last = performance.now()
      let worst = 0
      let ticks = 0
      const timer = setInterval(() => {
        const now = performance.now()
        worst = Math.max(worst, now - last)
        last = now
        ticks++
      }, 1)
      const out = yield* generate(ctx, { sequence: 0, tokens: prompt, maxTokens: 1, sampling: greedy }).pipe(
        Effect.ensuring(Effect.sync(() => clearInterval(timer)))
      )
      assert.strictEqual(out.done.usage.promptTokens, 2000)
      assert.isAbove(out.done.timings.prefillMs, 100) // long enough for the measurement to mean something
      assert.isAbove(ticks, 50)
      assert.isAtMost(worst, 20, `worst timer delay ${worst.toFixed(1)} ms over ${ticks} ticks, prefill ${out.done.timings.prefillMs.toFixed(0)} ms`)
    }), 120_000)
})
