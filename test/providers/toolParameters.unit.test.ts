// The tool parameters every remote provider sends: a schema-defined tool's closed JSON Schema, and a dynamic
// tool's own JSON Schema (an MCP server's tools arrive that way), not the `{}` of its unknown parameters schema.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { Tool } from "effect/ai"
import { functionTools, toolParameters } from "../../src/providers/internal/json.ts"

describe("toolParameters", () => {
  it.effect("a dynamic tool keeps its JSON Schema; a schema-defined tool gets its closed JSON Schema", () =>
    Effect.sync(() => {
      const raw = { type: "object", properties: { q: { type: "string" } }, required: ["q"] }
      const lookup = Tool.dynamic("Lookup", { description: "Looks a word up", parameters: raw })
      assert.deepStrictEqual(toolParameters(lookup), raw)
      assert.deepStrictEqual(functionTools([lookup]), [
        { type: "function", function: { name: "Lookup", description: "Looks a word up", parameters: raw } }
      ])
      const add = Tool.make("Add", { parameters: Schema.Struct({ a: Schema.Number, b: Schema.Number }) })
      const closed = toolParameters(add)
      assert.strictEqual(closed.type, "object")
      assert.strictEqual(closed.additionalProperties, false)
      assert.deepStrictEqual(Object.keys(closed.properties as object), ["a", "b"])
    }))
})
