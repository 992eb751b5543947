// HealthCheck: healthy when every check passes; unhealthy with the right reason when a provider's circuit is open,
// when its loopback server is down, when a model was disposed; a check that never answers fails at the timeout and
// the run ends there (TestClock).
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Scope, Stream } from "effect"
import { AiError, LanguageModel } from "effect/ai"
import { TestClock } from "effect/testing"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as LlamaResources from "../../src/llama/LlamaResources.ts"
import * as Native from "../../src/native/Native.ts"
import * as Resilience from "../../src/resilience/Resilience.ts"
import * as HealthCheck from "../../src/system/HealthCheck.ts"
import * as HealthChecks from "../../src/system/HealthChecks.ts"

const modelPath = await ensureModel("tiny-qwen2")

// A loopback HTTP server (127.0.0.1, a free port) that answers 200; `stop` closes it (connections are refused).
const loopback = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly stop: Effect.Effect<void> }>((resume) => {
    const server = createServer((_, res) => res.end("ok"))
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      const stop = Effect.callback<void>((done) => {
        server.closeAllConnections()
        server.close(() => done(Effect.void))
      })
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}/v1/models`, stop, server }))
    })
  }),
  ({ stop }) => Effect.ignore(Effect.timeout(stop, "1 second"))
)

// A provider whose every call fails with a retryable error, behind the resilience wrapper (circuit after 2 failures).
const failing = Layer.effect(
  LanguageModel.LanguageModel,
  LanguageModel.make({
    generateText: () =>
      Effect.fail(AiError.make({
        module: "Test",
        method: "generateText",
        reason: new AiError.InternalProviderError({ description: "overloaded" })
      })),
    streamText: () => Stream.empty
  })
).pipe(Resilience.languageModel({ key: "test/flaky", retry: false, circuit: { failureThreshold: 2, resetAfter: "1 minute" } }))

const resilienceOf = Effect.gen(function*() {
  const context = yield* Layer.build(failing)
  return {
    resilience: Context.get(context, Resilience.Resilience),
    call: Effect.ignore(Effect.provide(LanguageModel.generateText({ prompt: "hi" }), context))
  }
})

const check = (health: HealthCheck.Service, name: string) =>
  Effect.map(health.run(), (report) => ({ report, result: report.checks.find((c) => c.name === name)! }))

describe("HealthCheck", () => {
  it.live("healthy: the addon loads, the model is loaded, the provider's circuit is closed and its server answers", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      const server = yield* loopback
      const { resilience } = yield* resilienceOf
      const model = yield* LlamaModel.make({ path: modelPath })
      yield* health.register(HealthChecks.addon)
      yield* health.register(HealthChecks.llama)
      yield* health.register(HealthChecks.model(model))
      yield* health.register(HealthChecks.memory({ minFreeBytes: 1 }))
      yield* health.register(HealthChecks.provider({ name: "flaky", resilience, url: server.url }))
      const report = yield* health.run()
      assert.strictEqual(report.overall, "healthy", report.reasons.join("; "))
      assert.deepStrictEqual(report.reasons, [])
      assert.deepStrictEqual(report.checks.map((c) => [c.name, c.status]), [
        ["addon", "pass"],
        ["llama", "pass"],
        ["model", "pass"],
        ["memory", "pass"],
        ["provider:flaky", "pass"]
      ])
      const provider = report.checks.find((c) => c.name === "provider:flaky")!
      assert.deepStrictEqual(provider.details, { circuit: "Closed", url: server.url, status: 200 })
      const llama = report.checks.find((c) => c.name === "llama")!.details as { models: ReadonlyArray<{ state: string }> }
      assert.deepStrictEqual(llama.models.map((m) => m.state), ["loaded"])
    }).pipe(Effect.provide(Native.layer)), 60_000)

  it.live("unhealthy when the provider's circuit is open", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      const server = yield* loopback
      const { call, resilience } = yield* resilienceOf
      yield* health.register(HealthChecks.provider({ name: "flaky", resilience, url: server.url }))
      yield* call
      yield* call
      assert.strictEqual(yield* resilience.circuitState, "Open")
      const { report, result } = yield* check(health, "provider:flaky")
      assert.strictEqual(report.overall, "unhealthy")
      assert.strictEqual(result.status, "fail")
      assert.strictEqual(result.reason, "circuit test/flaky is open")
      assert.deepStrictEqual(report.reasons, ["provider:flaky: circuit test/flaky is open"])
    }))

  it.live("unhealthy when the provider's loopback server is down", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      const server = yield* loopback
      yield* health.register(HealthChecks.provider({ name: "local", url: server.url }))
      assert.strictEqual((yield* health.run()).overall, "healthy")
      yield* server.stop
      const { report, result } = yield* check(health, "provider:local")
      assert.strictEqual(report.overall, "unhealthy")
      assert.strictEqual(result.reason, `${server.url} unreachable: ECONNREFUSED`)
    }))

  it.live("unhealthy when a model was disposed", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      const scope = yield* Scope.make()
      const model = yield* Scope.provide(scope)(LlamaModel.make({ path: modelPath }))
      yield* health.register(HealthChecks.model(model, "chat-model"))
      yield* health.register(HealthChecks.llama)
      assert.strictEqual((yield* health.run()).overall, "healthy")
      yield* Scope.close(scope, Exit.void) // the app still holds the model; its Scope freed it
      const report = yield* health.run()
      assert.strictEqual(report.overall, "unhealthy")
      assert.deepStrictEqual(report.reasons, ["chat-model: model effect-llama-tiny-qwen2 is disposed"])
      assert.deepStrictEqual(yield* LlamaResources.list, [])
    }).pipe(Effect.provide(Native.layer)), 60_000)

  it.live("a model freed out from under its Scope fails the llama check", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      yield* health.register(HealthChecks.llama)
      const model = yield* LlamaModel.make({ path: modelPath })
      yield* Effect.promise(() => model.native.dispose())
      const { result } = yield* check(health, "llama")
      assert.strictEqual(result.status, "fail")
      assert.match(result.reason!, /^model effect-llama-tiny-qwen2 \(#\d+\) disposed while in use$/)
    }).pipe(Effect.provide(Native.layer)), 60_000)

  it.effect("a check that never answers fails at its timeout; the run takes no longer than its timeout", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make({ timeout: "3 seconds" })
      yield* health.register({ name: "stuck", run: Effect.uninterruptible(Effect.never) })
      yield* health.register({ name: "slow", run: Effect.as(Effect.sleep("10 seconds"), HealthCheck.pass()), timeout: "1 second" })
      yield* health.register({ name: "quick", run: Effect.succeed(HealthCheck.pass()) })
      yield* health.register({ name: "optional", critical: false, run: Effect.fail(new Error("cache cold")) })
      const fiber = yield* Effect.forkChild(health.run())
      yield* TestClock.adjust("3 seconds")
      const report = yield* Fiber.join(fiber)
      assert.strictEqual(report.durationMs, 3000)
      assert.strictEqual(report.overall, "unhealthy")
      assert.deepStrictEqual(report.checks.map((c) => [c.name, c.status, c.reason, c.durationMs]), [
        ["stuck", "fail", "no answer within 3s", 3000],
        ["slow", "fail", "no answer within 1s", 1000],
        ["quick", "pass", undefined, 0],
        ["optional", "fail", "cache cold", 0]
      ])
    }))

  it.effect("a non-critical failure or a warning is degraded; checks live as long as their Scope", () =>
    Effect.gen(function*() {
      const health = yield* HealthCheck.make()
      yield* health.register({ name: "ok", run: Effect.succeed(HealthCheck.pass()) })
      yield* Effect.scoped(Effect.gen(function*() {
        yield* health.register({ name: "cache", critical: false, run: Effect.succeed(HealthCheck.fail("cold")) })
        assert.strictEqual((yield* health.run()).overall, "degraded")
      }))
      assert.deepStrictEqual(yield* health.names, ["ok"])
      yield* Effect.scoped(Effect.gen(function*() {
        yield* health.register({ name: "queue", run: Effect.succeed(HealthCheck.warn("long queue")) })
        const report = yield* health.run()
        assert.strictEqual(report.overall, "degraded")
        assert.deepStrictEqual(report.reasons, ["queue: long queue"])
      }))
      assert.strictEqual((yield* health.run()).overall, "healthy")
    }))

  it.effect("any Layer contributes checks; layerProvider watches the Resilience in context", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(
        Layer.mergeAll(
          HealthCheck.contribute({ name: "custom", run: Effect.succeed(HealthCheck.pass()) }),
          HealthChecks.layerProvider({ name: "flaky" }).pipe(Layer.provide(failing))
        ).pipe(Layer.provideMerge(HealthCheck.layer()))
      )
      const health = Context.get(context, HealthCheck.HealthCheck)
      assert.deepStrictEqual(yield* health.names, ["custom", "provider:flaky"])
      const report = yield* health.run()
      assert.deepStrictEqual(report.checks.find((c) => c.name === "provider:flaky")!.details, { circuit: "Closed" })
    }))
})
