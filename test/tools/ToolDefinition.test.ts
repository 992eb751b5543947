// tool(): the JSON Schema of every supported field kind, OpenAI definitions, typed failures naming the field, the
// registry's call history, the default and isolated registries.
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as ToolDefinition from "../../src/tools/ToolDefinition.ts"
import * as ToolRegistry from "../../src/tools/ToolRegistry.ts"

const Mode = { Fast: "fast", Slow: "slow" } as const

// Every field kind the definer handles.
const Forecast = ToolDefinition.tool("Forecast", {
  description: "Weather forecast for a place",
  parameters: {
    city: Schema.String.annotate({ description: "City name" }),
    days: Schema.optionalKey(Schema.Int.annotate({ description: "Days ahead" })),
    note: Schema.optional(Schema.String),
    unit: ToolDefinition.withDefault(Schema.Literals(["C", "F"]).annotate({ description: "Unit" }), "C"),
    mode: Schema.Enum(Mode),
    tags: Schema.Array(Schema.String).annotate({ description: "Labels" }),
    where: Schema.Struct({
      lat: Schema.Finite,
      lon: Schema.Number,
      label: Schema.optional(Schema.String)
    }).annotate({ description: "Coordinates" }),
    query: Schema.Union([Schema.String, Schema.Int]),
    nickname: Schema.NullOr(Schema.String),
    hours: Schema.Array(Schema.Struct({ at: Schema.Int, rain: Schema.optionalKey(Schema.Boolean) })),
    verbose: Schema.Boolean
  },
  success: Schema.Struct({ unit: Schema.String, days: Schema.Int }),
  handler: (p) => Effect.succeed({ unit: p.unit, days: p.days ?? 1 })
})

const expected = {
  type: "object",
  properties: {
    city: { type: "string", description: "City name" },
    days: { type: "integer", description: "Days ahead" },
    note: { type: "string" },
    unit: { type: "string", enum: ["C", "F"], description: "Unit", default: "C" },
    mode: { type: "string", enum: ["fast", "slow"] },
    tags: { type: "array", items: { type: "string" }, description: "Labels" },
    where: {
      type: "object",
      properties: { lat: { type: "number" }, lon: { type: "number" }, label: { type: "string" } },
      required: ["lat", "lon"],
      additionalProperties: false,
      description: "Coordinates"
    },
    query: { anyOf: [{ type: "string" }, { type: "integer" }] },
    nickname: { anyOf: [{ type: "string" }, { type: "null" }] },
    hours: {
      type: "array",
      items: {
        type: "object",
        properties: { at: { type: "integer" }, rain: { type: "boolean" } },
        required: ["at"],
        additionalProperties: false
      }
    },
    verbose: { type: "boolean" }
  },
  required: ["city", "mode", "tags", "where", "query", "nickname", "hours", "verbose"],
  additionalProperties: false
}

const valid = {
  city: "Oslo",
  mode: "fast",
  tags: [],
  where: { lat: 59.9, lon: 10.7 },
  query: "rain",
  nickname: null,
  hours: [{ at: 9 }],
  verbose: false
}

describe("tool()", () => {
  it("the JSON Schema of a Struct with every supported field kind", () => {
    assert.deepStrictEqual(ToolDefinition.jsonSchema(Forecast), expected)
  })

  it("a fields record and a Schema.Struct give the same tool; no parameters is an empty object", () => {
    const fromStruct = ToolDefinition.tool("Add", {
      description: "Adds",
      parameters: Schema.Struct({ a: Schema.Int, b: Schema.Int }),
      handler: ({ a, b }) => Effect.succeed(a + b)
    })
    const fromFields = ToolDefinition.tool("Add", {
      description: "Adds",
      parameters: { a: Schema.Int, b: Schema.Int },
      handler: ({ a, b }) => Effect.succeed(a + b)
    })
    assert.deepStrictEqual(ToolDefinition.jsonSchema(fromFields), ToolDefinition.jsonSchema(fromStruct))
    const none = ToolDefinition.tool("Now", { description: "The time", handler: () => Effect.succeed("noon") })
    assert.deepStrictEqual(ToolDefinition.jsonSchema(none), { type: "object", properties: {}, additionalProperties: false })
  })

  it("definitions in OpenAI's tool format", () => {
    assert.deepStrictEqual(ToolDefinition.definitions([Forecast], { strict: false }), [{
      type: "function",
      function: { name: "Forecast", description: "Weather forecast for a place", parameters: expected, strict: false }
    }])
  })

  it.effect("execute: data and durationMs; a default fills an absent field", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.make
      yield* registry.register(Forecast)
      const ok = yield* registry.execute("Forecast", valid)
      assert.isTrue(ok.success)
      if (ok.success) assert.deepStrictEqual(ok.data, { unit: "C", days: 1 })
      assert.isAtLeast(ok.durationMs, 0)
      assert.strictEqual(ok.durationMs, ok.durationMillis)
      assert.deepStrictEqual(yield* registry.definitions(), ToolDefinition.definitions([Forecast]))
    }))

  it.effect("an invalid call returns a typed failure naming the field", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.make
      yield* registry.register(Forecast)
      const wrongType = yield* registry.execute("Forecast", { ...valid, where: { lat: "north", lon: 10 } })
      assert.isFalse(wrongType.success)
      if (wrongType.success) return
      assert.strictEqual(wrongType.failure._tag, "ToolCallError")
      assert.strictEqual(wrongType.failure.reason, "InvalidArguments")
      assert.strictEqual(wrongType.failure.field, "where.lat")
      assert.deepStrictEqual(wrongType.failure.issues, [{ path: "where.lat", message: "Expected number" }])

      const several = yield* registry.execute("Forecast", { ...valid, unit: "K", tags: ["a", 2], city: undefined })
      if (several.success) return assert.fail("expected a failure")
      assert.deepStrictEqual(several.failure.issues!.map((i) => i.path), ["city", "unit", "tags[1]"])
      assert.include(several.failure.message, "tags[1]")
    }))

  it.effect("execute with a timeout: a slow tool is reported as timed out, and the history says so", () =>
    Effect.gen(function*() {
      const Slow = ToolDefinition.tool("Slow", {
        description: "Takes a minute",
        handler: () => Effect.as(Effect.sleep("1 minute"), "done")
      })
      const registry = yield* ToolRegistry.make
      yield* registry.register(Slow)
      const fiber = yield* Effect.forkChild(registry.execute("Slow", {}, { timeout: "2 seconds" }))
      yield* TestClock.adjust("2 seconds")
      const result = yield* Fiber.join(fiber)
      if (result.success) return assert.fail("expected a timeout")
      assert.strictEqual(result.failure.reason, "Timeout")
      assert.strictEqual(result.durationMs, Duration.toMillis(Duration.seconds(2)))
      const [record] = yield* registry.history()
      assert.strictEqual(record!.tool, "Slow")
      assert.isFalse(record!.success)
      assert.strictEqual(record!.failure?.reason, "Timeout")
      assert.strictEqual(record!.durationMs, 2000)
    }))

  it.effect("the call history: arguments, result, duration, source; bounded; filtered", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.makeWith({ historyLimit: 2 })
      yield* registry.register(Forecast)
      yield* registry.execute("Forecast", { ...valid, city: "Lima" })
      yield* registry.execute("Forecast", { ...valid, city: "Rome", days: 3 })
      yield* registry.execute("Forecast", { ...valid, city: 3 })
      const history = yield* registry.history()
      assert.deepStrictEqual(history.map((h) => [h.id, (h.arguments as { city: unknown }).city, h.success]), [[2, "Rome", true], [3, 3, false]])
      assert.deepStrictEqual(history[0]!.result, { unit: "C", days: 3 })
      assert.strictEqual(history[1]!.failure?.field, "city")
      assert.isTrue(history.every((h) => h.source === "execute" && h.durationMs >= 0))
      assert.strictEqual((yield* registry.history({ limit: 1 }))[0]!.id, 3)
      yield* registry.clearHistory
      assert.deepStrictEqual(yield* registry.history(), [])
    }))

  it.effect("layerDefault is one registry for the process; layer is a new one each time", () =>
    Effect.gen(function*() {
      const Ping = ToolDefinition.tool("Ping", { description: "Pong", handler: () => Effect.succeed("pong") })
      yield* Effect.flatMap(ToolRegistry.ToolRegistry, (r) => r.register(Ping)).pipe(Effect.provide(ToolRegistry.layerDefault))
      const seen = yield* Effect.flatMap(ToolRegistry.ToolRegistry, (r) => r.list()).pipe(
        Effect.provide(Layer.fresh(ToolRegistry.layerDefault))
      )
      assert.deepStrictEqual(seen.map((t) => t.name), ["Ping"])
      const isolated = yield* Effect.flatMap(ToolRegistry.ToolRegistry, (r) => r.list()).pipe(Effect.provide(ToolRegistry.layer))
      assert.deepStrictEqual(isolated, [])
    }))

  it.effect("layerTools registers for the life of the Layer", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.make
      yield* Effect.scoped(
        Effect.gen(function*() {
          yield* Layer.build(ToolRegistry.layerTools([Forecast], { category: "weather" }))
          assert.deepStrictEqual((yield* registry.list()).map((t) => [t.name, t.category]), [["Forecast", "weather"]])
        }).pipe(Effect.provideService(ToolRegistry.ToolRegistry, registry))
      )
      assert.deepStrictEqual(yield* registry.list(), [])
    }))
})
