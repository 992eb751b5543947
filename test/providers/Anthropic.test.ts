// Anthropic Messages against a loopback server that replays the event sequences of its streaming docs: text,
// thinking, a tool_use split in input_json_delta pieces, usage in message_delta, ping, an error after the 200.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Redacted, Schema, Stream } from "effect"
import { AiError, LanguageModel, Tool, Toolkit } from "effect/ai"
import * as Anthropic from "../../src/providers/Anthropic.ts"
import * as F from "./FaultServer.ts"

const Provider = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* F.Fault
  return Anthropic.layer({
    baseUrl: `${url}/v1`,
    model: "claude-test",
    apiKey: Redacted.make("sk-ant-test"),
    beta: ["interleaved-thinking-2025-05-14"],
    config: { maxTokens: 512 }
  })
})).pipe(Layer.provideMerge(F.layer), Layer.provideMerge(NodeHttpClient.layerUndici))

const GetWeather = Tool.make("GetWeather", {
  description: "Weather for a city",
  parameters: Schema.Struct({ city: Schema.String, unit: Schema.Literals(["C", "F"]) }),
  success: Schema.Struct({ temp: Schema.Int })
})
const Weather = Toolkit.make(GetWeather)
const WeatherHandlers = Weather.toLayer({ GetWeather: ({ unit }) => Effect.succeed({ temp: unit === "C" ? 12 : 54 }) })

const start = {
  type: "message_start",
  message: {
    id: "msg_1",
    type: "message",
    role: "assistant",
    model: "claude-test",
    content: [],
    stop_reason: null,
    usage: { input_tokens: 25, cache_read_input_tokens: 100, cache_creation_input_tokens: 7, output_tokens: 1 }
  }
}

const toolUseStream = F.namedSse([
  start,
  { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
  { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "The user wants " } },
  { type: "ping" },
  { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "the weather." } },
  { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "sig-1" } },
  { type: "content_block_stop", index: 0 },
  { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
  { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Let me check" } },
  { type: "content_block_delta", index: 1, delta: { type: "text_delta", text: " Oslo." } },
  { type: "content_block_stop", index: 1 },
  { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_1", name: "GetWeather", input: {} } },
  { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "" } },
  { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "{\"city\": \"Os" } },
  { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: "lo\", \"unit\"" } },
  { type: "ping" },
  { type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: ": \"C\"}" } },
  { type: "content_block_stop", index: 2 },
  { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 89 } },
  { type: "message_stop" }
])

layer(Provider, { excludeTestServices: true })("Anthropic", (it) => {
  it.effect("stream: thinking as reasoning, text, a tool_use joined from input_json_delta pieces, usage, pings ignored", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.stream(toolUseStream))
      const toolkit = yield* Weather.pipe(Effect.provide(WeatherHandlers))
      const parts = yield* LanguageModel.streamText({
        prompt: [{ role: "system", content: "Be useful." }, { role: "user", content: "Weather in Oslo?" }],
        toolkit,
        toolChoice: "required"
      }).pipe(Stream.runCollect)
      const reasoning = parts.flatMap((p) => (p.type === "reasoning-delta" ? [p.delta] : [])).join("")
      assert.strictEqual(reasoning, "The user wants the weather.")
      const text = parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join("")
      assert.strictEqual(text, "Let me check Oslo.")
      const call = parts.find((p) => p.type === "tool-call")
      assert.deepStrictEqual(call?.params, { city: "Oslo", unit: "C" })
      const result = parts.find((p) => p.type === "tool-result")
      assert.deepStrictEqual(result?.result, { temp: 12 })
      const finish = parts.find((p) => p.type === "finish")
      assert.strictEqual(finish?.reason, "tool-calls")
      assert.deepStrictEqual({ ...finish!.usage.inputTokens }, { total: 132, uncached: 25, cacheRead: 100, cacheWrite: 7 })
      assert.strictEqual(finish!.usage.outputTokens.total, 89)
      // The request: Messages API headers, system apart, tools with input_schema, tool_choice any.
      const [request] = yield* server.requests
      assert.strictEqual(request!.url, "/v1/messages")
      assert.strictEqual(request!.headers["x-api-key"], "sk-ant-test")
      assert.strictEqual(request!.headers["anthropic-version"], "2023-06-01")
      assert.strictEqual(request!.headers["anthropic-beta"], "interleaved-thinking-2025-05-14")
      assert.strictEqual(request!.json.system, "Be useful.")
      assert.strictEqual(request!.json.max_tokens, 512)
      assert.isTrue(request!.json.stream)
      assert.deepStrictEqual(request!.json.messages, [{ role: "user", content: [{ type: "text", text: "Weather in Oslo?" }] }])
      assert.strictEqual(request!.json.tools[0].name, "GetWeather")
      assert.strictEqual(request!.json.tools[0].input_schema.type, "object")
      assert.deepStrictEqual(request!.json.tool_choice, { type: "any" })
    }))

  it.effect("tool_choice: auto, none, a named tool", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const toolkit = yield* Weather.pipe(Effect.provide(WeatherHandlers))
      const message = { id: "msg_2", type: "message", role: "assistant", model: "claude-test", content: [{ type: "text", text: "ok" }], stop_reason: "end_turn", usage: { input_tokens: 3, output_tokens: 1 } }
      for (const [choice, expected] of [["auto", { type: "auto" }], ["none", { type: "none" }], [{ tool: "GetWeather" }, { type: "tool", name: "GetWeather" }]] as const) {
        yield* server.script(F.json(200, message))
        const response = yield* LanguageModel.generateText({ prompt: "hi", toolkit, toolChoice: choice })
        assert.strictEqual(response.text, "ok")
        assert.strictEqual(response.finishReason, "stop")
        assert.deepStrictEqual((yield* server.requests)[0]!.json.tool_choice, expected)
      }
    }))

  it.effect("a tool round trip: tool_use in the assistant turn, tool_result in a user turn", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.json(200, {
        id: "msg_3", type: "message", role: "assistant", model: "claude-test",
        content: [{ type: "text", text: "It is 12 degrees." }], stop_reason: "end_turn", usage: { input_tokens: 40, output_tokens: 6 }
      }))
      const response = yield* LanguageModel.generateText({
        prompt: [
          { role: "user", content: "Weather in Oslo?" },
          { role: "assistant", content: [{ type: "tool-call", id: "toolu_1", name: "GetWeather", params: { city: "Oslo", unit: "C" } }] },
          { role: "tool", content: [{ type: "tool-result", id: "toolu_1", name: "GetWeather", isFailure: false, result: { temp: 12 } }] }
        ]
      })
      assert.strictEqual(response.text, "It is 12 degrees.")
      const [request] = yield* server.requests
      assert.deepStrictEqual(request!.json.messages, [
        { role: "user", content: [{ type: "text", text: "Weather in Oslo?" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "GetWeather", input: { city: "Oslo", unit: "C" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "{\"temp\":12}" }] }
      ])
    }))

  it.effect("generateObject through a forced tool whose input_schema is the object's", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.json(200, {
        id: "msg_4", type: "message", role: "assistant", model: "claude-test",
        content: [{ type: "tool_use", id: "toolu_9", name: "Forecast", input: { city: "Oslo", rain: true } }],
        stop_reason: "tool_use", usage: { input_tokens: 30, output_tokens: 12 }
      }))
      const Forecast = Schema.Struct({ city: Schema.String, rain: Schema.Boolean })
      const response = yield* LanguageModel.generateObject({ prompt: "forecast", schema: Forecast, objectName: "Forecast" })
      assert.deepStrictEqual(response.value, { city: "Oslo", rain: true })
      assert.strictEqual(response.finishReason, "stop")
      const [request] = yield* server.requests
      assert.deepStrictEqual(request!.json.tool_choice, { type: "tool", name: "Forecast" })
    }))

  it.effect("stop reasons map: max_tokens -> length, refusal -> content-filter, pause_turn -> pause", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      for (const [stop, expected] of [["max_tokens", "length"], ["refusal", "content-filter"], ["pause_turn", "pause"], ["stop_sequence", "stop"]] as const) {
        yield* server.script(F.json(200, {
          id: "m", type: "message", role: "assistant", model: "claude-test", content: [{ type: "text", text: "x" }],
          stop_reason: stop, usage: { input_tokens: 1, output_tokens: 1 }
        }))
        assert.strictEqual((yield* LanguageModel.generateText({ prompt: "hi" })).finishReason, expected)
      }
    }))

  it.effect("an error event after the 200 fails the stream with a typed, retryable error (the text so far arrived)", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.stream(F.namedSse([
        start,
        { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } },
        { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }
      ])))
      const seen: Array<string> = []
      const error = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runForEach((p) => Effect.sync(() => p.type === "text-delta" && seen.push(p.delta))),
        Effect.flip
      )
      assert.isTrue(AiError.isAiError(error))
      assert.strictEqual((error as AiError.AiError).reason._tag, "InternalProviderError")
      assert.isTrue((error as AiError.AiError).isRetryable)
      assert.include((error as AiError.AiError).message, "Overloaded")
      assert.deepStrictEqual(seen, ["Hello"])
    }))

  it.effect("HTTP errors: 529 overloaded retryable, 429 with retry-after, 401, a stream cut before message_stop", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const anthropicError = (type: string, message: string) => ({ type: "error", error: { type, message }, request_id: "req_1" })
      yield* server.script(F.json(529, anthropicError("overloaded_error", "Overloaded")))
      const overloaded = yield* Effect.flip(LanguageModel.generateText({ prompt: "hi" }))
      assert.strictEqual(overloaded.reason._tag, "InternalProviderError")
      assert.isTrue(overloaded.isRetryable)
      yield* server.script(F.json(429, anthropicError("rate_limit_error", "slow"), { "retry-after": "2" }))
      const limited = yield* Effect.flip(LanguageModel.generateText({ prompt: "hi" }))
      assert.strictEqual(limited.reason._tag, "RateLimitError")
      assert.isDefined(limited.retryAfter)
      yield* server.script(F.json(401, anthropicError("authentication_error", "invalid x-api-key")))
      assert.strictEqual((yield* Effect.flip(LanguageModel.generateText({ prompt: "hi" }))).reason._tag, "AuthenticationError")
      yield* server.script(F.stream(F.namedSse([start, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }])))
      const cut = yield* Effect.flip(LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runDrain))
      assert.strictEqual(cut.reason._tag, "NetworkError")
      assert.include(cut.message, "message_stop")
    }))
})
