// Grammar-constrained generation: JSON Schema -> GBNF (llama.cpp's json-schema-to-grammar) -> sampled JSON that
// decodes with the Effect Schema the JSON Schema came from, for many seeds on a random-weight model.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { binding, generate, loadModel, modelFile, openContext } from "../support/native.ts"

const Order = Schema.Struct({
  item: Schema.Literals(["book", "pen", "lamp"]),
  quantity: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 20 })),
  tags: Schema.Array(Schema.Literals(["new", "sale", "gift"])).check(Schema.isMaxLength(3)),
  shipping: Schema.Struct({
    express: Schema.Boolean,
    zone: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 9 }))
  }),
  payment: Schema.Union([
    Schema.Struct({ card: Schema.Literals(["visa", "amex"]) }),
    Schema.Struct({ cash: Schema.Boolean })
  ])
})

const jsonSchema = (() => {
  const doc = Schema.toJsonSchemaDocument(Order, { onExcessProperty: "error" })
  return { ...doc.schema, $defs: doc.definitions }
})()

describe("grammar", () => {
  it.effect("jsonSchemaToGrammar turns a schema into GBNF and rejects a broken one", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const grammar = native.jsonSchemaToGrammar(JSON.stringify(jsonSchema))
      assert.match(grammar, /^root ::= /m)
      assert.include(grammar, "\"\\\"lamp\\\"\"")
      const err = yield* Effect.flip(Effect.try({ try: () => native.jsonSchemaToGrammar("{not json"), catch: (e) => e as { code?: string } }))
      assert.strictEqual(err.code, "GRAMMAR_ERROR")
    }))

  it.effect("50 seeds on a random model all yield JSON that decodes with the schema", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const grammar = native.jsonSchemaToGrammar(JSON.stringify(jsonSchema))
      const model = yield* loadModel(yield* modelFile("tiny-llama"))
      const ctx = yield* openContext(model, { contextSize: 4096, sequences: 4 })
      const decode = Schema.decodeUnknownExit(Order)
      const seeds = Array.from({ length: 50 }, (_, i) => i + 1)
      // Four lanes, one per sequence, run side by side; each lane takes its seeds one after another.
      const lanes = yield* Effect.forEach([0, 1, 2, 3], (lane) =>
        Effect.forEach(seeds.filter((seed) => seed % 4 === lane), (seed) =>
          generate(ctx, {
            sequence: lane,
            text: "Write one order as JSON:",
            maxTokens: 500,
            sampling: { temperature: 1, seed, grammar, grammarType: "output_format" }
          })), { concurrency: 4 })
      const outs = lanes.flat()
      for (const [i, out] of outs.entries()) {
        assert.strictEqual(out.done.reason, "eog", `output ${i}: ${out.text}`)
        const value: unknown = JSON.parse(out.text)
        const decoded = decode(value, { onExcessProperty: "error" })
        assert.isTrue(Exit.isSuccess(decoded), `output ${i}: ${out.text}`)
      }
      assert.isAbove(new Set(outs.map((o) => o.text)).size, 10) // seeds do lead to different answers
    }), 300_000)
})
