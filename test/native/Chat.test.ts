// Chat templates and tool calls through llama.cpp's common/chat, on the generated qwen2 model (Qwen2.5 template).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import type { NativeModel } from "../../src/native/NativeBinding.ts"
import { fromUnknown } from "../../src/native/NativeError.ts"
import { generate, loadModel, modelFile, openContext } from "../support/native.ts"

const templates = new URL("../../vendor/llama.cpp/models/templates/", import.meta.url).pathname

const weatherTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string", enum: ["Paris", "Oslo"] }, days: { type: "integer", minimum: 1, maximum: 3 } },
      required: ["city", "days"],
      additionalProperties: false
    }
  }
}
const messages = JSON.stringify([
  { role: "system", content: "You are a weather bot." },
  { role: "user", content: "What is the weather in Paris?" }
])
const tools = JSON.stringify([weatherTool])
const expected = { city: "Paris", days: 2 }

// Model output for one call to get_weather(expected), in each template's own format (llama.cpp's tests/test-chat.cpp).
const canonicalCalls: ReadonlyArray<readonly [string, string]> = [
  ["Qwen-Qwen2.5-7B-Instruct.jinja", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>"],
  ["NousResearch-Hermes-3-Llama-3.1-8B-tool_use.jinja", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>"],
  ["NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}</tool_call>"],
  ["MiMo-VL.jinja", "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>"],
  ["Qwen3-Coder.jinja", "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>"],
  ["ByteDance-Seed-OSS.jinja", "<seed:tool_call>\n<function=get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</seed:tool_call>"],
  ["GLM-4.6.jinja", "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>"],
  ["mistralai-Mistral-Nemo-Instruct-2407.jinja", "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}, \"id\": \"123456789\"}]"],
  ["meetkai-functionary-medium-v3.1.jinja", "<function=get_weather>{\"city\": \"Paris\", \"days\": 2}</function>"],
  ["meetkai-functionary-medium-v3.2.jinja", "get_weather\n{\"city\": \"Paris\", \"days\": 2}"],
  ["Apertus-8B-Instruct.jinja", "<|tools_prefix|>[{\"get_weather\": {\"city\": \"Paris\", \"days\": 2}}]<|tools_suffix|>"],
  ["moonshotai-Kimi-K2.jinja", "<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{\"city\": \"Paris\", \"days\": 2}<|tool_call_end|><|tool_calls_section_end|>"]
]

const apply = (model: NativeModel, options: Parameters<NativeModel["applyChat"]>[0]) =>
  Effect.tryPromise({ try: () => model.applyChat(options), catch: fromUnknown })

const tinyModel = Effect.flatMap(modelFile("tiny-qwen2"), (path) => loadModel(path))

describe("chat templates", () => {
  it.effect("the qwen2 model's own template renders tools and parses its own tool-call format", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const applied = yield* apply(model, { messages, tools })
      assert.include(applied.prompt, "<|im_start|>system\nYou are a weather bot.")
      assert.include(applied.prompt, "\"get_weather\"")
      assert.isTrue(applied.prompt.endsWith("<|im_start|>assistant\n"))
      assert.isTrue(applied.grammarLazy)
      assert.deepStrictEqual(applied.preservedTokens, ["<tool_call>", "</tool_call>"])
      assert.isTrue(applied.grammarTriggers.some((t) => t.value.includes("<tool_call>")))
      const parsed = model.parseChat(canonicalCalls[0]![1], false, applied.parser)
      assert.strictEqual(parsed.content, "")
      assert.strictEqual(parsed.toolCalls.length, 1)
      assert.strictEqual(parsed.toolCalls[0]!.name, "get_weather")
      assert.deepStrictEqual(JSON.parse(parsed.toolCalls[0]!.arguments), expected)
      const plain = model.parseChat("Hello there!", false, applied.parser)
      assert.deepStrictEqual([plain.content, plain.toolCalls.length], ["Hello there!", 0])
    }))

  for (const [file, call] of canonicalCalls) {
    it.effect(`${file} renders a conversation with tools and parses its canonical call`, () =>
      Effect.gen(function*() {
        const model = yield* tinyModel
        const templateOverride = readFileSync(`${templates}${file}`, "utf8")
        const applied = yield* apply(model, { messages, tools, templateOverride, enableThinking: false })
        assert.include(applied.prompt, "What is the weather in Paris?")
        assert.include(applied.prompt, "get_weather")
        assert.notStrictEqual(applied.grammar, "")
        const parsed = model.parseChat(call, false, applied.parser)
        assert.strictEqual(parsed.toolCalls.length, 1, `${file}: ${JSON.stringify(parsed)}`)
        assert.strictEqual(parsed.toolCalls[0]!.name, "get_weather")
        assert.deepStrictEqual(JSON.parse(parsed.toolCalls[0]!.arguments), expected)
      }))
  }

  it.effect("a lazy tool-call grammar (toolChoice auto) yields a call once the model opens one", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 2048 })
      const applied = yield* apply(model, { messages, tools, toolChoice: "auto" })
      assert.isTrue(applied.grammarLazy)
      const [opener] = yield* Effect.promise(() => model.tokenize("<tool_call>", false, true))
      const [newline] = yield* Effect.promise(() => model.tokenize("\n", false, true))
      // A random model never opens a call by itself: bias it towards the trigger "<tool_call>\n" (the opener
      // first, then, as the penalty keeps it from repeating, the newline); the lazy grammar does the rest.
      const out = yield* generate(ctx, {
        sequence: 0,
        text: applied.prompt,
        maxTokens: 300,
        stop: ["</tool_call>"],
        sampling: {
          temperature: 0,
          logitBias: [{ token: opener!, bias: 100 }, { token: newline!, bias: 50 }],
          repeatPenalty: 100,
          grammar: applied.grammar,
          grammarType: applied.grammarType === "none" ? "user" : applied.grammarType,
          grammarLazy: true,
          grammarTriggers: applied.grammarTriggers,
          preservedTokens: applied.preservedTokens,
          generationPrompt: applied.generationPrompt
        }
      })
      assert.strictEqual(out.done.reason, "stop")
      const parsed = model.parseChat(out.text + out.done.stop, false, applied.parser)
      assert.strictEqual(parsed.toolCalls.length, 1, out.text)
      assert.strictEqual(parsed.toolCalls[0]!.name, "get_weather")
      const args = JSON.parse(parsed.toolCalls[0]!.arguments)
      assert.include(["Paris", "Oslo"], args.city)
      assert.isTrue(Number.isInteger(args.days) && args.days >= 1 && args.days <= 3)
    }))

  it.effect("toolChoice required with forceToolCall makes a random model call the tool", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const ctx = yield* openContext(model, { contextSize: 2048 })
      const applied = yield* apply(model, { messages, tools, toolChoice: "required", forceToolCall: true })
      assert.isTrue(applied.toolCallForced)
      assert.isFalse(applied.grammarLazy)
      for (const seed of [1, 2, 3]) {
        const out = yield* generate(ctx, {
          sequence: 0,
          text: applied.prompt,
          maxTokens: 400,
          sampling: {
            temperature: 0.8,
            seed,
            grammar: applied.grammar,
            grammarType: "tool_calls",
            preservedTokens: applied.preservedTokens,
            generationPrompt: applied.generationPrompt
          }
        })
        const parsed = model.parseChat(out.text, out.done.reason !== "eog", applied.parser)
        assert.isAtLeast(parsed.toolCalls.length, 1, out.text)
        for (const call of parsed.toolCalls.filter((c) => c.arguments.endsWith("}"))) {
          assert.strictEqual(call.name, "get_weather")
          const args = JSON.parse(call.arguments)
          assert.include(["Paris", "Oslo"], args.city)
          assert.isTrue(Number.isInteger(args.days) && args.days >= 1 && args.days <= 3)
        }
      }
    }))

  it.effect("bad chat inputs are typed errors", () =>
    Effect.gen(function*() {
      const model = yield* tinyModel
      const notJson = yield* Effect.flip(apply(model, { messages: "[{" }))
      assert.strictEqual(notJson.code, "INVALID_ARGUMENT")
      const badTemplate = yield* Effect.flip(apply(model, { messages, templateOverride: "{% for x in %}" }))
      assert.strictEqual(badTemplate.code, "TEMPLATE_ERROR")
      const forceAuto = yield* Effect.flip(Effect.try({ try: () => model.applyChat({ messages, forceToolCall: true }), catch: fromUnknown }))
      assert.strictEqual(forceAuto.code, "INVALID_ARGUMENT")
    }))
})
