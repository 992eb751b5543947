// ToolRegistry: categories, enable/disable (what the model is offered), direct execution, metrics.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Metric, Schema } from "effect"
import * as Agent from "../../src/agent/Agent.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as ToolRegistry from "../../src/tools/ToolRegistry.ts"
import * as ScriptedModel from "../agent/ScriptedModel.ts"

class DivideByZero extends Schema.TaggedError<DivideByZero>()("DivideByZero", {}) {}

const Divide = AgentTool.make("Divide", {
  description: "Integer division",
  parameters: Schema.Struct({ a: Schema.Int, b: Schema.Int }),
  success: Schema.Struct({ quotient: Schema.Int }),
  failure: DivideByZero,
  handler: ({ a, b }) => (b === 0 ? Effect.fail(new DivideByZero()) : Effect.succeed({ quotient: Math.trunc(a / b) }))
})
const Weather = AgentTool.make("Weather", {
  description: "Temperature in a city",
  parameters: Schema.Struct({ city: Schema.Literals(["Oslo", "Lima"]) }),
  success: Schema.Struct({ celsius: Schema.Int }),
  handler: ({ city }) => Effect.succeed({ celsius: city === "Oslo" ? 4 : 19 })
})
const Forecast = AgentTool.make("Forecast", {
  description: "Tomorrow's weather",
  parameters: Schema.Struct({ city: Schema.Literals(["Oslo", "Lima"]) }),
  success: Schema.Literals(["sun", "rain"]),
  handler: () => Effect.succeed("rain" as const)
})

const setup = Effect.gen(function*() {
  const registry = yield* ToolRegistry.make
  yield* registry.register(Divide, { category: "math", version: "2.1.0" })
  yield* registry.register(Weather, { category: "weather" })
  yield* registry.register(Forecast, { category: "weather", enabled: false })
  return registry
})

// Metrics live in a registry per test so counts do not leak between tests.
const isolated = <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.provideService(self, Metric.MetricRegistry, new Map())

describe("ToolRegistry", () => {
  it.effect("lists all tools, by category and by enabled state", () =>
    Effect.gen(function*() {
      const registry = yield* setup
      assert.deepStrictEqual((yield* registry.list()).map((t) => t.name), ["Divide", "Weather", "Forecast"])
      assert.deepStrictEqual((yield* registry.list({ category: "weather" })).map((t) => t.name), ["Weather", "Forecast"])
      assert.deepStrictEqual((yield* registry.list({ enabled: true })).map((t) => t.name), ["Divide", "Weather"])
      assert.deepStrictEqual(yield* registry.categories, ["math", "weather"])
      assert.deepStrictEqual(yield* registry.get("Divide"), {
        name: "Divide",
        description: "Integer division",
        category: "math",
        version: "2.1.0",
        enabled: true
      })
      const duplicate = yield* Effect.flip(registry.register(Divide))
      assert.strictEqual(duplicate.reason, "AlreadyRegistered")
      yield* registry.unregister("Divide")
      assert.strictEqual((yield* Effect.flip(registry.get("Divide"))).reason, "NotFound")
    }))

  it.effect("the toolkit holds the enabled tools; a tool disabled mid-run is not offered at the next step", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Lockdown", params: {} }] }, { text: "done" }))
    return Effect.gen(function*() {
      const registry = yield* setup
      assert.deepStrictEqual(Object.keys((yield* registry.toolkit()).tools), ["Divide", "Weather"])
      assert.deepStrictEqual(Object.keys((yield* registry.toolkit({ category: "weather" })).tools), ["Weather"])
      yield* registry.register(AgentTool.make("Lockdown", {
        description: "Disables Divide",
        handler: () => Effect.orDie(registry.disable("Divide"))
      }), { category: "admin" })
      const agent = yield* Agent.make({ tools: registry.toolkit() })
      yield* agent.generate("Lock it down")
      assert.deepStrictEqual(model.requests.map((r) => r.tools), [["Divide", "Weather", "Lockdown"], ["Weather", "Lockdown"]])
      yield* registry.enable("Divide")
      yield* registry.disable("Weather")
      yield* agent.generate("Again")
      assert.deepStrictEqual(model.requests[2]!.tools, ["Divide", "Lockdown"])
    }).pipe(Effect.provide(model.layer), isolated)
  })

  it.effect("execute validates params and reports success, data or error, and duration", () =>
    Effect.gen(function*() {
      const registry = yield* setup
      const ok = yield* registry.execute("Divide", { a: 7, b: 2 })
      assert.isTrue(ok.success)
      if (ok.success) assert.deepStrictEqual(ok.data, { quotient: 3 })
      assert.isAtLeast(ok.durationMillis, 0)
      const failed = yield* registry.execute("Divide", { a: 1, b: 0 })
      assert.isFalse(failed.success)
      if (!failed.success) assert.deepStrictEqual(failed.error, { _tag: "DivideByZero" })
      const invalid = yield* registry.execute("Divide", { a: "one", b: 2 })
      assert.isFalse(invalid.success)
      if (!invalid.success) assert.strictEqual((invalid.error as { reason: { _tag: string } }).reason._tag, "ToolParameterValidationError")
      assert.strictEqual((yield* Effect.flip(registry.execute("Nope", {}))).reason, "NotFound")
      assert.strictEqual((yield* Effect.flip(registry.execute("Forecast", { city: "Oslo" }))).reason, "Disabled")
    }).pipe(isolated))

  it.effect("metrics count calls, successes and failures, direct and from a model", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence(
      { calls: [{ name: "Divide", params: { a: 4, b: 2 } }, { name: "Divide", params: { a: 4, b: 0 } }] },
      { text: "done" }
    ))
    return Effect.gen(function*() {
      const registry = yield* setup
      yield* registry.execute("Divide", { a: 9, b: 3 })
      yield* registry.execute("Divide", { a: 9, b: "x" })
      const agent = yield* Agent.make({ tools: registry.toolkit() })
      yield* agent.generate("Divide twice")
      const divide = yield* registry.metrics("Divide")
      assert.strictEqual(divide.calls, 4)
      assert.strictEqual(divide.successes, 2)
      assert.strictEqual(divide.failures, 2)
      assert.strictEqual(divide.duration.count, 4)
      const weather = yield* registry.metrics("Weather")
      assert.strictEqual(weather.calls, 0)
      // The same series, read through Effect's Metric API, tagged with the tool's name.
      const snapshot = yield* Metric.snapshot
      const calls = snapshot.find((m) => m.id === "effect_llama_tool_calls_total" && m.attributes?.["tool"] === "Divide")
      assert.isDefined(calls)
    }).pipe(Effect.provide(model.layer), isolated)
  })
})
