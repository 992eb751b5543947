/**
 * A Chat with a Toolkit: the model must call GetWeather (toolChoice "required"); effect/ai decodes the call with
 * the tool's Schema and runs the handler; the next turn sees the result.
 * Run: node examples/chat-with-tools.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"
import { Chat, Tool, Toolkit } from "effect/ai"
import { LlamaLanguageModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const GetWeather = Tool.make("GetWeather", {
  description: "Current temperature in a city",
  parameters: Schema.Struct({ city: Schema.Literals(["Paris", "Oslo", "Lima"]) }),
  success: Schema.Struct({ celsius: Schema.Int })
})
const Weather = Toolkit.make(GetWeather)
const WeatherHandlers = Weather.toLayer({
  GetWeather: ({ city }) => Effect.succeed({ celsius: city === "Oslo" ? 4 : city === "Lima" ? 19 : 12 })
})

const program = Effect.gen(function*() {
  const toolkit = yield* Weather
  const chat = yield* Chat.fromPrompt([{ role: "system", content: "You answer weather questions with the tools." }])
  const turn1 = yield* chat.generateText({ prompt: "How warm is it in Oslo?", toolkit, toolChoice: "required" })
  for (const result of turn1.toolResults) yield* Console.log(`tool ${result.name} -> ${JSON.stringify(result.result)}`)
  const turn2 = yield* chat.generateText({ prompt: [], toolkit, toolChoice: "none" })
  yield* Console.log(`answer: ${turn2.text}`)
})

// Room for the forced call: a random model pads it with the whitespace the JSON grammar allows.
const Local = LlamaLanguageModel.layerModel({
  path: modelPath,
  config: { maxTokens: 200, sampling: { seed: 7 } }
}).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide([Local, WeatherHandlers])))
