// Tool-call format conformance: every chat template in vendor/llama.cpp/models/templates is rendered with two tools,
// then its family's canonical one-call and two-call outputs and plain text are parsed back (canonical.ts). A
// family without a tool format must say so (toolCalls.supported false), never drop the tools silently.
import { assert, layer } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import type { AppliedChat, NativeModel } from "../../src/native/NativeBinding.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { loadModel, modelFile } from "../support/native.ts"
import { canonical } from "./canonical.ts"

const templates = new URL("../../vendor/llama.cpp/models/templates/", import.meta.url).pathname
const files = readdirSync(templates).filter((f) => f.endsWith(".jinja")).sort()

const tools = JSON.stringify([
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather in a city",
      parameters: {
        type: "object",
        properties: { city: { type: "string" }, days: { type: "integer" } },
        required: ["city", "days"]
      }
    }
  },
  {
    type: "function",
    function: {
      name: "get_time",
      description: "Time in a zone",
      parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] }
    }
  }
])
const messages = JSON.stringify([
  { role: "system", content: "You are a helpful assistant." },
  { role: "user", content: "What is the weather in Paris, and the time in UTC?" }
])
const weather = { name: "get_weather", arguments: { city: "Paris", days: 2 } }
const time = { name: "get_time", arguments: { zone: "UTC" } }

const apply = (model: NativeModel, templateOverride: string) =>
  Effect.tryPromise({
    try: () => model.applyChat({ messages, tools, templateOverride, parallelToolCalls: true, enableThinking: false }),
    catch: fromUnknown
  })

const parse = (model: NativeModel, applied: AppliedChat, text: string) =>
  Effect.try({ try: () => model.parseChat(text, false, applied.parser), catch: fromUnknown })

const calls = (parsed: { readonly toolCalls: ReadonlyArray<{ readonly name: string; readonly arguments: string }> }) =>
  parsed.toolCalls.map((c) => ({ name: c.name, arguments: JSON.parse(c.arguments) as unknown }))

class TemplateModel extends Context.Service<TemplateModel, NativeModel>()("test/TemplateModel") {}

const TemplateModelLayer = Layer.effect(
  TemplateModel,
  Effect.flatMap(modelFile("tiny-qwen2"), (path) => loadModel(path)).pipe(Effect.orDie)
)

layer(TemplateModelLayer, { excludeTestServices: true })("tool-call formats", (it) => {
  it.effect("every template in vendor/llama.cpp/models/templates has a canonical entry", () =>
    Effect.sync(() => {
      assert.deepStrictEqual(files.filter((f) => canonical[f] === undefined), [])
      assert.isAtLeast(files.length, 70)
    }))

  for (const file of files) {
    it.effect(file, () =>
      Effect.gen(function*() {
        const model = yield* TemplateModel
        const entry = canonical[file]!
        const applied = yield* apply(model, readFileSync(`${templates}${file}`, "utf8"))
        assert.strictEqual(applied.toolCalls.family, entry.family, "the reported family")
        assert.strictEqual(applied.parser.formatName, entry.family)
        if ("unsupported" in entry) {
          // no tool format: said plainly, and no grammar pretends otherwise
          assert.isFalse(applied.toolCalls.supported)
          assert.strictEqual(applied.grammar, "")
          return
        }
        assert.isTrue(applied.toolCalls.supported)
        assert.notStrictEqual(applied.grammar, "", "tools give a tool-call grammar")
        assert.include(applied.prompt, "get_weather", "the tools are rendered")
        const one = yield* parse(model, applied, entry.one)
        assert.deepStrictEqual(calls(one), [weather], `one call: ${JSON.stringify(one)}`)
        const two = yield* parse(model, applied, entry.two)
        assert.deepStrictEqual(calls(two), [weather, time], `two calls: ${JSON.stringify(two)}`)
        const plain = yield* parse(model, applied, "Hello there.")
        assert.deepStrictEqual([plain.content.includes("Hello there."), plain.toolCalls.length], [true, 0], JSON.stringify(plain))
      }))
  }
})
