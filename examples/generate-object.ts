/**
 * Structured output: generateObject constrains sampling with a grammar built from the Schema, so the value
 * always decodes, whatever the model.
 * Run: node examples/generate-object.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"
import { LanguageModel } from "effect/ai"
import { LlamaLanguageModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const Forecast = Schema.Struct({
  city: Schema.Literals(["Paris", "Oslo", "Lima"]),
  rain: Schema.Boolean,
  celsius: Schema.Int.check(Schema.isBetween({ minimum: -30, maximum: 45 }))
})

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateObject({ prompt: "Tomorrow's forecast for Oslo.", schema: Forecast })
  yield* Console.log(response.value)
})

const Local = LlamaLanguageModel.layerModel({ path: modelPath, config: { maxTokens: 400 } }).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
