/**
 * `npm run bench:grammar`: grammar-constrained generation (a JSON Schema) on effect-llama against llama-server, same
 * model, prompt, schema, greedy sampling, threads and context, alternating round by round. llama-server builds its
 * grammar from the schema with llama.cpp's json-schema-to-grammar; effect-llama converts the same schema with the same
 * function and generates through LlamaContext. The figure is generated tokens per second over the generation (first
 * token to last), from each side's own timings; the ratio effect-llama / llama-server has a target of 0.95.
 *
 * Usage: npm run bench:grammar [-- --model bench-0.5b --runs 5 --tokens 96 --threads 2]
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { ensureModel, type ModelName } from "../scripts/models.ts"
import * as LlamaContext from "../src/llama/LlamaContext.ts"
import * as LlamaModel from "../src/llama/LlamaModel.ts"
import * as Native from "../src/native/Native.ts"
import * as LlamaServer from "../test/support/LlamaServer.ts"
import { waitForQuiet } from "./quiet.ts"

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const modelName = flag("model", "bench-0.5b") as ModelName
const runs = Number(flag("runs", "5"))
const tokens = Number(flag("tokens", "96"))
const threads = Number(flag("threads", "2"))
const contextSize = 2048

// Small enums and bounded numbers and strings: the answer fits the token limit, and both sides stop at the same point.
const schema = {
  type: "object",
  properties: {
    city: { type: "string", enum: ["Paris", "Oslo", "Lima", "Cairo"] },
    days: { type: "integer", minimum: 1, maximum: 7 },
    rain: { type: "boolean" },
    summary: { type: "string", maxLength: 48 }
  },
  required: ["city", "days", "rain", "summary"],
  additionalProperties: false
}
const prompt = "Write the weather forecast for the coming days as JSON with a city, the number of days, whether it " +
  "rains and a short summary.\n"

interface Run {
  readonly tokens: number
  readonly tokensPerSecond: number
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const serverRun = (baseUrl: string) =>
  Effect.promise(async (): Promise<Run> => {
    const response = await fetch(`${baseUrl}/completion`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, json_schema: schema, n_predict: tokens, temperature: 0, cache_prompt: false })
    })
    const body = await response.json() as { timings: { predicted_n: number; predicted_per_second: number } }
    return { tokens: body.timings.predicted_n, tokensPerSecond: body.timings.predicted_per_second }
  })

const program = Effect.gen(function*() {
  const path = yield* Effect.promise(() => ensureModel(modelName))
  const server = yield* LlamaServer.start({ model: path, contextSize, parallel: 1, threads, args: ["-b", "512", "-ub", "512"] })
  const model = yield* LlamaModel.LlamaModel
  const context = yield* LlamaContext.LlamaContext
  const gbnf = yield* model.jsonSchemaToGrammar(schema)
  const oursRun = Effect.map(
    context.generateText({ prompt, maxTokens: tokens, sampling: { temperature: 0 }, grammar: { gbnf } }),
    (g): Run => ({
      tokens: g.done.usage.completionTokens,
      // As llama-server: the tokens over the time from the first sampled token to the last.
      tokensPerSecond: g.done.usage.completionTokens / (g.done.timings.generateMs / 1000)
    })
  )
  console.log(`bench:grammar: ${modelName}, ${tokens} tokens max, ${threads} threads, ${runs} runs after 1 warm-up`)
  const ours: Array<Run> = []
  const theirs: Array<Run> = []
  for (let round = 0; round <= runs; round++) {
    yield* Effect.promise(() => waitForQuiet(0.1, 20_000))
    const a = yield* oursRun
    yield* Effect.promise(() => waitForQuiet(0.1, 20_000))
    const b = yield* serverRun(server.baseUrl)
    console.log(`${round === 0 ? "warm-up" : `run ${round}/${runs}`}  effect-llama ${a.tokensPerSecond.toFixed(1)} tok/s (${a.tokens}) | llama-server ${b.tokensPerSecond.toFixed(1)} tok/s (${b.tokens})`)
    if (round > 0) {
      ours.push(a)
      theirs.push(b)
    }
  }
  const ratio = median(ours.map((r, i) => r.tokensPerSecond / theirs[i]!.tokensPerSecond))
  console.log(`\neffect-llama ${median(ours.map((r) => r.tokensPerSecond)).toFixed(1)} tok/s, llama-server ` +
    `${median(theirs.map((r) => r.tokensPerSecond)).toFixed(1)} tok/s; median ratio ${ratio.toFixed(3)} (target >= 0.95)`)
})

const Local = LlamaContext.layer({ contextSize, threads, batchSize: 512, ubatchSize: 512 }).pipe(
  Layer.provideMerge(Layer.unwrap(Effect.map(Effect.promise(() => ensureModel(modelName)), (path) => LlamaModel.layer({ path })))),
  Layer.provide(Native.layer)
)

NodeRuntime.runMain(program.pipe(Effect.scoped, Effect.provide(Local)))
