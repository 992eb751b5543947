// Scopes own native memory: closing one frees the model and context. Metrics and logs reach Effect.
import { readdirSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Logger, Metric, Scope } from "effect"
import { LanguageModel } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaLogger from "../../src/llama/LlamaLogger.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const rssMb = () => process.memoryUsage().rss / 2 ** 20

describe("lifecycle", () => {
  it.live("closing the Scope frees the model and context: RSS returns near its baseline", () =>
    Effect.gen(function*() {
      const path = yield* Effect.promise(() => ensureModel("small-llama"))
      const cycle = Effect.gen(function*() {
        const scope = yield* Scope.make()
        const ctx = yield* LlamaContext.make({ contextSize: 8192, sequences: 2 }).pipe(
          Effect.provide(LlamaModel.layer({ path })),
          Scope.provide(scope)
        )
        yield* ctx.generateText({ prompt: "The history of the world ".repeat(200), maxTokens: 8, sampling: { temperature: 0 } })
        const loaded = rssMb()
        yield* Scope.close(scope, Exit.void)
        return loaded
      }).pipe(Effect.provide(Native.layer))
      yield* cycle // warm-up: allocator pools, the addon's own first-use memory
      const baseline = rssMb()
      const loaded = yield* cycle
      const after = rssMb()
      assert.isAbove(loaded - baseline, 30, `loaded ${loaded.toFixed(0)} MB vs baseline ${baseline.toFixed(0)} MB`)
      assert.isBelow(after - baseline, (loaded - baseline) * 0.25, `after ${after.toFixed(0)} MB, baseline ${baseline.toFixed(0)}, loaded ${loaded.toFixed(0)}`)
    }))

  it.live("each context's compute threads end with it: the process's thread count returns to its baseline", () =>
    Effect.gen(function*() {
      // Linux's per-thread entries; CI and the machines this project targets have them.
      const threadCount = () => readdirSync("/proc/self/task").length
      const cycle = Effect.scoped(Effect.gen(function*() {
        // Two contexts with pools of their own, one with a separate pool for prompts. A pool of n threads starts
        // n - 1 of them: the context's scheduler thread is the pool's first.
        const a = yield* LlamaContext.make({ contextSize: 512, threads: 2 })
        const b = yield* LlamaContext.make({ contextSize: 512, threads: 1, threadsBatch: 2 })
        yield* Effect.all([a, b].map((ctx) => ctx.generateText({ prompt: "Hello", maxTokens: 4, sampling: { temperature: 0 } })))
        return threadCount()
      })).pipe(Effect.provide(LlamaModel.layer({ path: tinyQwen })), Effect.provide(Native.layer))
      yield* cycle // warm-up: libuv's and V8's own threads start on first use
      const baseline = threadCount()
      const during = yield* cycle
      assert.isAtLeast(during - baseline, (1 + 1) + (1 + 0 + 1), `${during} threads with the contexts, ${baseline} before`)
      assert.strictEqual(threadCount(), baseline)
    }))

  it.live("each request updates the token metrics", () =>
    Effect.gen(function*() {
      const before = yield* Metric.value(LlamaLanguageModel.metrics.outputTokens)
      yield* LanguageModel.generateText({ prompt: "Hi" }).pipe(LlamaLanguageModel.withConfigOverride({ maxTokens: 5 }))
      const after = yield* Metric.value(LlamaLanguageModel.metrics.outputTokens)
      assert.strictEqual(after.count - before.count, 5)
      const input = yield* Metric.value(LlamaLanguageModel.metrics.inputTokens)
      assert.isAbove(input.count, 0)
    }).pipe(Effect.provide(LlamaLanguageModel.layerModel({ path: tinyQwen }).pipe(Layer.provide(Native.layer)))))

  it.live("LlamaLogger forwards llama.cpp logs to Effect's Logger", () =>
    Effect.gen(function*() {
      const messages: Array<string> = []
      const capture = Logger.make<unknown, void>(({ message }) => {
        messages.push(String(Array.isArray(message) ? message.join(" ") : message))
      })
      const path = yield* Effect.promise(() => ensureModel("tiny-llama"))
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(LlamaLogger.layer({ minLevel: "info" }))
        yield* Effect.scoped(LlamaModel.make({ path }))
        yield* Effect.sleep("20 millis")
      })).pipe(Effect.provide([Native.layer, Logger.layer([capture])]))
      assert.isTrue(messages.some((m) => m.includes("llama_model_loader")), messages.slice(0, 3).join("|"))
    }))
})
