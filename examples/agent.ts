/**
 * An agent with two tools on the local model, streaming its events (text deltas, tool calls and results, steps)
 * to the terminal. `npm start` runs it.
 *
 * Run: npm start                                   the generated random-weight model: its text is noise
 *      npm start -- --model /path/to/model.gguf    a real GGUF (or LLAMA_MODEL_PATH=/path/to/model.gguf npm start)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema, Stream } from "effect"
import { Agent, AgentTool, ContextBudget, LlamaLanguageModel, Native } from "../src/index.ts"

// `--model PATH` wins over LLAMA_MODEL_PATH; model.ts reads the variable when it is imported.
const flag = process.argv.indexOf("--model")
if (flag !== -1 && process.argv[flag + 1] !== undefined) process.env.LLAMA_MODEL_PATH = process.argv[flag + 1]
const { isRandomModel, modelPath } = await import("./model.ts")

const GetWeather = AgentTool.make("GetWeather", {
  description: "Current temperature in a city, in degrees Celsius",
  parameters: Schema.Struct({ city: Schema.Literals(["Paris", "Oslo", "Lima"]) }),
  success: Schema.Struct({ celsius: Schema.Int }),
  handler: ({ city }) => Effect.succeed({ celsius: city === "Oslo" ? 4 : city === "Lima" ? 19 : 12 })
})

const ToFahrenheit = AgentTool.make("ToFahrenheit", {
  description: "Convert a temperature from Celsius to Fahrenheit",
  parameters: Schema.Struct({ celsius: Schema.Int.check(Schema.isBetween({ minimum: -60, maximum: 60 })) }),
  success: Schema.Struct({ fahrenheit: Schema.Finite }),
  handler: ({ celsius }) => Effect.succeed({ fahrenheit: celsius * 9 / 5 + 32 })
})

const json = (value: unknown) => JSON.stringify(value)
const tokens = (usage: Agent.Usage) => `${usage.inputTokens}/${usage.outputTokens}`

const show = (event: Agent.AgentEvent): Effect.Effect<void> => {
  switch (event.type) {
    case "text-delta":
    case "reasoning-delta":
      return Effect.sync(() => process.stdout.write(event.delta))
    case "tool-call":
      return Console.log(`\n[tool call] ${event.name} ${json(event.params)}`)
    case "tool-result":
      return Console.log(`[tool result] ${event.name} ${event.isFailure ? "failed:" : "->"} ${json(event.result)}`)
    case "step-finished":
      return Console.log(`\n[step ${event.step}: ${event.finishReason}, tokens in/out ${tokens(event.usage)}]`)
    case "summarized":
      return Console.log(`[history: ${event.messages} messages summarized, ${event.tokensBefore}->${event.tokensAfter} tokens]`)
    case "finished":
      return Console.log(`[finished: ${event.reason} after ${event.steps} steps, tokens in/out ${tokens(event.usage)}]`)
  }
}

const program = Effect.gen(function*() {
  if (isRandomModel) {
    yield* Console.log(
      "NOTE: this is the generated random-weight test model, so its text is noise. The tool call is real: the\n" +
        "grammar forces it on the first step. For a real model: npm start -- --model /path/to/model.gguf\n" +
        "(or LLAMA_MODEL_PATH=/path/to/model.gguf npm start).\n"
    )
  }
  const agent = yield* Agent.make({
    system: "You answer weather questions. Use the tools, then answer in one sentence.",
    tools: yield* AgentTool.toolkit(GetWeather, ToFahrenheit),
    maxSteps: 4,
    // A random model calls tools only when forced: require one on step 1, then let it answer without tools.
    toolChoice: isRandomModel ? (step) => (step === 1 ? "required" : "none") : "auto",
    // Random model: one forced call (it needs room: the grammar allows whitespace it fills), then short noise.
    aroundStep: (step) =>
      LlamaLanguageModel.withConfigOverride(
        isRandomModel
          ? { maxTokens: step === 1 ? 200 : 48, parallelToolCalls: false, sampling: { seed: 1 } }
          : { maxTokens: 512 }
      ),
    contextBudget: yield* ContextBudget.llama()
  })
  yield* Console.log("> How warm is it in Oslo, in Fahrenheit?")
  yield* agent.stream("How warm is it in Oslo, in Fahrenheit?").pipe(Stream.runForEach(show))
})

// Two sequences: a tool may run a nested agent on the same context while this one waits for it.
const Local = LlamaLanguageModel.layerModel({ path: modelPath, context: { contextSize: 8192, sequences: 2 } }).pipe(
  Layer.provide(Native.layer)
)

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
