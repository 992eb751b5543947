// AgentTool: the JSON Schema comes from the parameter Schema; bad arguments and failures come back as results.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema, Stream } from "effect"
import * as AgentTool from "../../src/tools/AgentTool.ts"

class Closed extends Schema.TaggedError<Closed>()("Closed", { day: Schema.String }) {}

const Book = AgentTool.make("Book", {
  description: "Book a table",
  parameters: Schema.Struct({
    day: Schema.Literals(["mon", "tue"]).annotate({ description: "Day of the week" }),
    people: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 8 })),
    note: Schema.optionalKey(Schema.Literals(["window"]))
  }),
  success: Schema.Struct({ table: Schema.Int }),
  failure: Closed,
  handler: ({ day, people }) => (day === "mon" ? Effect.fail(new Closed({ day })) : Effect.succeed({ table: people + 10 }))
})

const handle = (params: unknown) =>
  Effect.gen(function*() {
    const kit = yield* AgentTool.toolkit(Book)
    const results = yield* kit.handle("Book", params as never).pipe(Effect.flatMap(Stream.runCollect))
    return results.at(-1)!
  })

describe("AgentTool", () => {
  it.effect("derives the tool's JSON Schema from its parameter Schema", () =>
    Effect.sync(() => {
      const schema = AgentTool.jsonSchema(Book) as {
        readonly type: string
        readonly properties: Record<string, { readonly enum?: ReadonlyArray<string>; readonly description?: string }>
        readonly required: ReadonlyArray<string>
      }
      assert.strictEqual(Book.tool.description, "Book a table")
      assert.strictEqual(Book.tool.failureMode, "return")
      assert.strictEqual(schema.type, "object")
      assert.deepStrictEqual(schema.properties["day"]!.enum, ["mon", "tue"])
      assert.strictEqual(schema.properties["day"]!.description, "Day of the week")
      assert.deepStrictEqual([...schema.required].sort(), ["day", "people"])
    }))

  it.effect("runs the handler; failures and invalid arguments are failed results, not errors", () =>
    Effect.gen(function*() {
      const ok = yield* handle({ day: "tue", people: 2 })
      assert.isFalse(ok.isFailure)
      assert.deepStrictEqual(ok.encodedResult, { table: 12 })
      const closed = yield* handle({ day: "mon", people: 2 })
      assert.isTrue(closed.isFailure)
      assert.deepStrictEqual(closed.encodedResult, { _tag: "Closed", day: "mon" })
      const invalid = yield* handle({ day: "tue", people: 20 })
      assert.isTrue(invalid.isFailure)
      assert.strictEqual(invalid.failureOrigin, "parameters")
    }))
})
