// Hostile templates and deep JSON through the public API (LlamaModel): each case once crashed the process
// (SIGSEGV in the jinja engine, in tojson, in an error message, in json-schema-to-grammar) or ran on after its
// timeout. Now: a typed error, the process lives, and a timed-out render stops so its Scope closes at once.
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"

const path = await ensureModel("tiny-qwen2")
const Model = LlamaModel.layer({ path }).pipe(Layer.provide(Native.layer))

const messages = JSON.stringify([{ role: "user", content: "Hi" }])
const nested = (depth: number, open: string, close: string, inner: string) => open.repeat(depth) + inner + close.repeat(depth)

const reasonOf = <A>(effect: Effect.Effect<A, { readonly reason: { readonly _tag: string; readonly message: string } }>) =>
  Effect.map(Effect.flip(effect), (e) => [e.reason._tag, e.reason.message] as const)

const recursion = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
const endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"

layer(Model, { excludeTestServices: true })("hostile templates", (it) => {
  it.effect("a template that recurses without end is a TemplateError, not a stack overflow", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const [tag, message] = yield* reasonOf(model.applyChat({ messages, templateOverride: recursion }))
      assert.strictEqual(tag, "TemplateError")
      assert.include(message, "nesting too deep")
      // the process and the model live on
      const applied = yield* model.applyChat({ messages })
      assert.include(applied.prompt, "Hi")
    }))

  it.effect("ranges, string bombs, deep values and deep parses are bounded", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["{% for i in range(100000000) %}x{% endfor %}", "range() of 100000000 items"],
        ["{{ 'x' * 100000000000 }}", "string repetition"],
        ["{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}", "output grew past"],
        ["{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}{{ ns.x|tojson }}", "nested more than"],
        ["{{ " + "(".repeat(200000) + "1" + ")".repeat(200000) + " }}", "nesting too deep"],
        ["{{ 'a'|indent(100000000000) }}", "indent width"]
      ]
      for (const [templateOverride, why] of cases) {
        const [tag, message] = yield* reasonOf(model.applyChat({ messages, templateOverride }))
        assert.strictEqual(tag, "TemplateError", templateOverride.slice(0, 60))
        assert.include(message, why)
      }
    }))

  it.effect("an endless loop stops at its deadline", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const started = Date.now()
      const [tag, message] = yield* reasonOf(model.applyChat({ messages, templateOverride: endless, timeoutMs: 300 }))
      assert.strictEqual(tag, "TemplateError")
      assert.include(message, "deadline")
      assert.isBelow(Date.now() - started, 5_000)
    }))

  it.effect("a broken template says what is wrong, not 'std::exception'", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const [tag, message] = yield* reasonOf(model.applyChat({ messages, templateOverride: "{% if %}" }))
      assert.strictEqual(tag, "TemplateError")
      assert.notInclude(message, "std::exception")
      assert.include(message, "Unexpected token")
    }))
})

describe("Effect.timeout on a render", () => {
  it.live("frees the worker: the render stops, and the Scope closes within a second of the timeout", () =>
    Effect.gen(function*() {
      let timedOutAt = 0
      yield* Effect.scoped(Effect.gen(function*() {
        const model = yield* LlamaModel.make({ path })
        const result = yield* model.applyChat({ messages, templateOverride: endless }).pipe(
          Effect.timeout("200 millis"),
          Effect.flip
        )
        timedOutAt = Date.now()
        assert.strictEqual(result._tag, "TimeoutError")
      })).pipe(Effect.provide(Native.layer))
      // the model's dispose at Scope close did not wait for a render that runs on (it ran 97 s before)
      assert.isBelow(Date.now() - timedOutAt, 1_000)
    }), 60_000)
})

layer(Model, { excludeTestServices: true })("deep JSON", (it) => {
  it.effect("tools, messages and schemas nested past the limit are typed errors before native code parses them", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const parameters = nested(20_000, "{\"type\":\"object\",\"properties\":{\"a\":", "}}", "{\"type\":\"string\"}")
      const tools = `[{"type":"function","function":{"name":"f","parameters":${parameters}}}]`
      const [toolsTag, toolsMessage] = yield* reasonOf(model.applyChat({ messages, tools }))
      assert.deepStrictEqual([toolsTag, toolsMessage.includes("nested more than 64")], ["InvalidRequest", true])

      const deepMessages = `[{"role":"user","content":${nested(100_000, "[", "]", "1")}}]`
      const [messagesTag] = yield* reasonOf(model.applyChat({ messages: deepMessages }))
      assert.strictEqual(messagesTag, "InvalidRequest")

      // the public jsonSchemaToGrammar takes an object: too deep for JSON.stringify, a GrammarError all the same
      let schema: Record<string, unknown> = { type: "string" }
      for (let i = 0; i < 20_000; i++) schema = { type: "array", items: schema }
      const [schemaTag] = yield* reasonOf(model.jsonSchemaToGrammar(schema))
      assert.strictEqual(schemaTag, "GrammarError")
      const cyclic: Record<string, unknown> = { type: "object" }
      cyclic.properties = { self: cyclic }
      assert.strictEqual((yield* reasonOf(model.jsonSchemaToGrammar(cyclic)))[0], "GrammarError")

      // model output nested thousands of levels deep (a parse on the JS thread) is a ParseError
      const applied = yield* model.applyChat({
        messages,
        tools: JSON.stringify([{ type: "function", function: { name: "f", parameters: { type: "object", properties: { a: {} } } } }])
      })
      const text = `<tool_call>\n{"name": "f", "arguments": {"a": ${nested(100_000, "[", "]", "1")}}}\n</tool_call>`
      const [parseTag] = yield* reasonOf(model.parseChat(text, false, applied.parser))
      assert.strictEqual(parseTag, "ParseError")
      assert.include((yield* model.applyChat({ messages })).prompt, "Hi")
    }))

  it.effect("a $ref cycle fails at conversion, not at generation", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const [tag, message] = yield* reasonOf(model.jsonSchemaToGrammar({
        $defs: { a: { $ref: "#/$defs/b" }, b: { $ref: "#/$defs/a" } },
        $ref: "#/$defs/a"
      }))
      assert.strictEqual(tag, "GrammarError")
      assert.include(message, "left recursion")
      // a recursive schema that consumes input on the way is fine
      const tree = yield* model.jsonSchemaToGrammar({
        $defs: { node: { type: "object", properties: { children: { type: "array", items: { $ref: "#/$defs/node" } } } } },
        $ref: "#/$defs/node"
      })
      assert.include(tree, "root ::=")
    }))
})
