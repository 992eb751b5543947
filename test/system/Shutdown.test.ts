// Shutdown is the app's Scope closing. On the real addon and the generated model: closing it during a stream stops
// accepting work, drains the stream (it ends normally), disposes the context, then the model, in that order, with
// no error logged and no native handle left; past the drain timeout the work left is interrupted first.
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, type Duration, Effect, Exit, Fiber, Layer, Logger, Metric, Scope, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as LlamaResources from "../../src/llama/LlamaResources.ts"
import * as EffectLlama from "../../src/system/EffectLlama.ts"
import * as Lifecycle from "../../src/system/Lifecycle.ts"
import * as Telemetry from "../../src/telemetry/Telemetry.ts"

const modelPath = await ensureModel("tiny-qwen2")

// Everything the test observes, in the order it happened: log lines of interest, handle events, the stream's end.
const observe = () => {
  const order: Array<string> = []
  const errors: Array<string> = []
  const handles = new Map<number, string>()
  const logger = Logger.make((o) => {
    const message = Array.isArray(o.message) ? o.message.join(" ") : String(o.message)
    if (o.logLevel === "Error" || o.logLevel === "Fatal") errors.push(message)
    if (message === "effect-llama: stopped accepting work") order.push("stop accepting")
    if (message === "effect-llama: drained") order.push("drained")
    if (message === "effect-llama: drain timed out, interrupting the work left") order.push("drain timed out")
  })
  const unsubscribe = LlamaResources.subscribe((event) => {
    handles.set(event.resource.id, event.type)
    if (event.type === "disposed") order.push(`${event.resource.kind} disposed`)
  })
  return { order, errors, handles, logger, unsubscribe }
}

const app = (logger: Logger.Logger<unknown, void>, drainTimeout: Duration.Input) =>
  EffectLlama.layer({
    logLevel: "Debug",
    health: false,
    drainTimeout,
    models: LlamaLanguageModel.layerModel({
      path: modelPath,
      context: { contextSize: 2048, sequences: 1 },
      config: { sampling: { seed: 7 } }
    })
  }).pipe(Layer.provide(Logger.layer([logger])))

// Starts a stream as admitted work and waits for its first text; the stream runs outside the app's Scope.
const startStream = (context: Context.Context<Lifecycle.Lifecycle | LanguageModel.LanguageModel>, maxTokens: number, order: Array<string>) =>
  Effect.gen(function*() {
    const lifecycle = Context.get(context, Lifecycle.Lifecycle)
    const first = yield* Deferred.make<void>()
    // The stream's own end is observed inside the admitted work (the consumer's fiber may resume later).
    const stream = LanguageModel.streamText({ prompt: "Tell me a story." }).pipe(
      Stream.onExit((exit) => Effect.sync(() => order.push(Exit.isSuccess(exit) ? "stream finished" : "stream interrupted")))
    )
    const fiber = yield* lifecycle.admitStream(stream).pipe(
      LlamaLanguageModel.withConfigOverride({ maxTokens }),
      Stream.tap((part) => (part.type === "text-delta" ? Deferred.succeed(first, undefined) : Effect.void)),
      Stream.runCollect,
      Effect.provideContext(context),
      Effect.forkDetach
    )
    yield* Deferred.await(first)
    return { fiber, lifecycle }
  })

describe("shutdown", () => {
  it.live("closing the app Scope during a stream: stop, drain, context dispose, model dispose", () =>
    Effect.gen(function*() {
      const seen = observe()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(app(seen.logger, "60 seconds"), scope)
      const model = Context.get(context, LlamaModel.LlamaModel)
      const llamaContext = Context.get(context, LlamaContext.LlamaContext)
      const { fiber, lifecycle } = yield* startStream(context, 24, seen.order)
      assert.strictEqual(yield* lifecycle.inFlight, 1)
      assert.strictEqual((yield* Metric.value(Telemetry.metrics.inFlight)).value, 1)

      const closing = yield* Effect.forkDetach(Scope.close(scope, Exit.void))
      // Once shutdown began, new work is refused.
      while ((yield* lifecycle.phase) === "running") yield* Effect.sleep("5 millis")
      const refused = yield* Effect.flip(lifecycle.admit(Effect.void))
      assert.strictEqual(refused._tag, "ShutdownError")
      yield* Fiber.join(closing)

      const parts = yield* Fiber.join(fiber)
      assert.strictEqual(parts.at(-1)!.type, "finish") // drained: the stream ran to its end
      seen.unsubscribe()
      assert.deepStrictEqual(seen.order, ["stop accepting", "stream finished", "drained", "context disposed", "model disposed"])
      assert.deepStrictEqual(seen.errors, [])
      // No native handle left: both were freed, and the process holds none.
      assert.strictEqual(yield* model.state, "disposed")
      assert.strictEqual(yield* llamaContext.state, "disposed")
      assert.deepStrictEqual([...seen.handles.values()], ["disposed", "disposed"])
      assert.deepStrictEqual(yield* LlamaResources.list, [])
      assert.strictEqual(yield* lifecycle.phase, "stopped")
      assert.strictEqual((yield* Metric.value(Telemetry.metrics.inFlight)).value, 0)
    }), 120_000)

  it.live("past the drain timeout the work left is interrupted before the context is disposed", () =>
    Effect.gen(function*() {
      const seen = observe()
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(app(seen.logger, "100 millis"), scope)
      const { fiber } = yield* startStream(context, 4000, seen.order)
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.hasInterrupts(exit))
      seen.unsubscribe()
      assert.deepStrictEqual(seen.order, [
        "stop accepting",
        "drain timed out",
        "stream interrupted",
        "drained",
        "context disposed",
        "model disposed"
      ])
      assert.deepStrictEqual(seen.errors, [])
      assert.deepStrictEqual(yield* LlamaResources.list, [])
    }), 120_000)
})
