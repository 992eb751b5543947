// The OpenAI-compatible provider against a scripted loopback server: every failure is an AiError with the
// right reason and retryability; requests carry what they should; streams are joined and checked for cuts.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, Schema, Stream } from "effect"
import { AiError, LanguageModel, Tool, Toolkit } from "effect/ai"
import * as OpenAiCompat from "../../src/providers/OpenAiCompat.ts"
import * as OpenAiCompatEmbeddingModel from "../../src/providers/OpenAiCompatEmbeddingModel.ts"
import { closedPort } from "../support/closedPort.ts"
import * as F from "./FaultServer.ts"

const Provider = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* F.Fault
  return OpenAiCompat.layer({
    baseUrl: `${url}/v1`,
    model: "fault-model",
    apiKey: Redacted.make("sk-test"),
    organization: "org-1",
    project: "proj-1",
    headers: { "X-Extra": "yes" }
  })
})).pipe(Layer.provideMerge(F.layer), Layer.provideMerge(NodeHttpClient.layerUndici))

const fail = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.flip(effect), (error) =>
    AiError.isAiError(error) ? Effect.succeed(error) : Effect.die(new Error(`not an AiError: ${String(error)}`)))

const generate = LanguageModel.generateText({ prompt: "hi" })
const streamed = LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runCollect)

const Add = Tool.make("Add", {
  parameters: Schema.Struct({ a: Schema.Int, b: Schema.Int }),
  success: Schema.Int
})
const Calculator = Toolkit.make(Add)
const CalculatorHandlers = Calculator.toLayer({ Add: ({ a, b }) => Effect.succeed(a + b) })

layer(Provider, { excludeTestServices: true })("OpenAiCompat against a fault-injecting server", (it) => {
  describe("errors", () => {
    it.effect("429 with retry-after: RateLimitError, retryable, retryAfter from the header (ms, seconds, date)", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.json(429, F.openAiError("slow down", "requests", "rate_limit_exceeded"), { "retry-after": "3" }))
        const seconds = yield* fail(generate)
        assert.strictEqual(seconds.reason._tag, "RateLimitError")
        assert.isTrue(seconds.isRetryable)
        assert.strictEqual(Duration.toMillis(seconds.retryAfter!), 3000)
        yield* server.script(F.json(429, F.openAiError("slow down", "requests"), { "retry-after-ms": "250", "retry-after": "9" }))
        assert.strictEqual(Duration.toMillis((yield* fail(generate)).retryAfter!), 250)
        const date = new Date(Date.now() + 10_000).toUTCString()
        yield* server.script(F.json(429, F.openAiError("slow down", "requests"), { "retry-after": date }))
        const fromDate = Duration.toMillis((yield* fail(generate)).retryAfter!)
        assert.isTrue(fromDate > 7000 && fromDate <= 10_000, String(fromDate))
      }))

    it.effect("429 insufficient_quota: QuotaExhaustedError, not retryable", () =>
      Effect.gen(function*() {
        yield* (yield* F.Fault).script(F.json(429, F.openAiError("You exceeded your quota", "insufficient_quota", "insufficient_quota")))
        const error = yield* fail(generate)
        assert.strictEqual(error.reason._tag, "QuotaExhaustedError")
        assert.isFalse(error.isRetryable)
      }))

    it.effect("401/403: AuthenticationError (even with OpenAI's type invalid_request_error), not retryable", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.json(401, F.openAiError("Incorrect API key", "invalid_request_error", "invalid_api_key")))
        const error = yield* fail(generate)
        assert.strictEqual(error.reason._tag, "AuthenticationError")
        assert.strictEqual((error.reason as AiError.AuthenticationError).kind, "InvalidKey")
        assert.isFalse(error.isRetryable)
        yield* server.script(F.json(403, F.openAiError("no access", "permission_error")))
        assert.strictEqual(((yield* fail(generate)).reason as AiError.AuthenticationError).kind, "InsufficientPermissions")
      }))

    it.effect("400/409/422: InvalidRequestError; 404 names the model; none retryable", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        for (const status of [400, 409, 422]) {
          yield* server.script(F.json(status, F.openAiError("bad temperature", "invalid_request_error")))
          const error = yield* fail(generate)
          assert.strictEqual(error.reason._tag, "InvalidRequestError", String(status))
          assert.isFalse(error.isRetryable)
        }
        yield* server.script(F.json(404, F.openAiError("The model does not exist", "invalid_request_error", "model_not_found")))
        const missing = yield* fail(generate)
        assert.strictEqual(missing.reason._tag, "InvalidRequestError")
        assert.include(missing.message, "fault-model")
        assert.strictEqual((missing.reason as AiError.InvalidRequestError).parameter, "model")
      }))

    it.effect("408, 500, 503, 529: retryable provider errors; x-should-retry overrides", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        for (const status of [408, 500, 502, 503, 529]) {
          yield* server.script(F.json(status, F.openAiError("overloaded", "server_error")))
          const error = yield* fail(generate)
          assert.strictEqual(error.reason._tag, "InternalProviderError", String(status))
          assert.isTrue(error.isRetryable)
        }
        yield* server.script(F.json(500, F.openAiError("do not retry", "server_error"), { "x-should-retry": "false" }))
        assert.isFalse((yield* fail(generate)).isRetryable)
        yield* server.script(F.json(400, F.openAiError("lock timeout", "invalid_request_error"), { "x-should-retry": "true" }))
        assert.isTrue((yield* fail(generate)).isRetryable)
      }))

    it.effect("a connection reset before the headers, and a refused connection: retryable NetworkError", () =>
      Effect.gen(function*() {
        yield* (yield* F.Fault).script(F.reset)
        const reset = yield* fail(generate)
        assert.strictEqual(reset.reason._tag, "NetworkError")
        assert.isTrue(reset.isRetryable)
        const port = yield* Effect.promise(closedPort)
        const refused = yield* fail(
          Effect.flatMap(OpenAiCompat.make({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "m" }), (model) =>
            model.generateText({ prompt: "hi" }))
        )
        assert.strictEqual(refused.reason._tag, "NetworkError")
        assert.isTrue(refused.isRetryable)
      }))

    it.effect("a malformed body: InvalidResponseError, a typed failure and not a defect", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.raw(200, "{\"choices\": [{\"mess"))
        const error = yield* fail(generate)
        assert.strictEqual(error.reason._tag, "InvalidResponseError")
        yield* server.script(F.json(200, { unexpected: true }))
        assert.strictEqual((yield* fail(generate)).reason._tag, "InvalidResponseError")
        yield* server.script(F.stream(["data: {not json\n\n"]))
        assert.strictEqual((yield* fail(streamed)).reason._tag, "InvalidResponseError")
      }))

    it.effect("an SSE stream cut mid-event, or before [DONE] without a finish: typed, retryable NetworkError", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        const frames = F.textStream(["Hel", "lo"])
        yield* server.script(F.stream([frames[0]!, frames[1]!.slice(0, 20)], { cut: true }))
        const cut = yield* fail(streamed)
        assert.strictEqual(cut.reason._tag, "NetworkError")
        assert.isTrue(cut.isRetryable)
        yield* server.script(F.stream([frames[0]!, frames[1]!.slice(0, 20)]))
        assert.include((yield* fail(streamed)).message, "inside an event")
        yield* server.script(F.stream([frames[0]!]))
        assert.include((yield* fail(streamed)).message, "[DONE]")
      }))

    it.effect("a schema strict mode cannot express: UnsupportedSchemaError before any request, not a defect", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.json(200, F.completion("{}")))
        const Either = Schema.Union([Schema.Struct({ a: Schema.String }), Schema.Struct({ b: Schema.Int })])
        const error = yield* fail(LanguageModel.generateObject({ prompt: "one", schema: Either }))
        assert.strictEqual(error.reason._tag, "UnsupportedSchemaError")
        assert.strictEqual((yield* server.requests).length, 0)
      }))

    it.effect("an error frame after the 200 fails the stream with its reason", () =>
      Effect.gen(function*() {
        yield* (yield* F.Fault).script(F.stream(F.sse([F.chunk({ content: "a" }), F.openAiError("overloaded", "server_error")])))
        const error = yield* fail(streamed)
        assert.strictEqual(error.reason._tag, "InternalProviderError")
        assert.isTrue(error.isRetryable)
      }))
  })

  describe("requests and responses", () => {
    it.effect("headers: Bearer key, organization, project, extra headers; body: model, messages, settings", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.json(200, F.completion("ok")))
        const response = yield* LanguageModel.generateText({
          prompt: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }]
        }).pipe(OpenAiCompat.withConfigOverride({ temperature: 0.2, maxTokens: 9, seed: 4, stop: ["\n"], extraBody: { top_k: 5 } }))
        assert.strictEqual(response.text, "ok")
        const [request] = yield* server.requests
        assert.strictEqual(request!.url, "/v1/chat/completions")
        assert.strictEqual(request!.headers.authorization, "Bearer sk-test")
        assert.strictEqual(request!.headers["openai-organization"], "org-1")
        assert.strictEqual(request!.headers["openai-project"], "proj-1")
        assert.strictEqual(request!.headers["x-extra"], "yes")
        assert.deepStrictEqual(request!.json, {
          model: "fault-model",
          messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }],
          temperature: 0.2,
          max_tokens: 9,
          seed: 4,
          stop: ["\n"],
          top_k: 5
        })
      }))

    it.effect("usage with cached and reasoning tokens; finish reasons; reasoning_content", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.json(200, F.completion("answer", {
          choices: [{ index: 0, message: { role: "assistant", content: "answer", reasoning_content: "thinking" }, finish_reason: "length" }],
          usage: {
            prompt_tokens: 100,
            completion_tokens: 30,
            total_tokens: 130,
            prompt_tokens_details: { cached_tokens: 60 },
            completion_tokens_details: { reasoning_tokens: 10 }
          }
        })))
        const response = yield* generate
        assert.strictEqual(response.finishReason, "length")
        assert.strictEqual(response.reasoningText, "thinking")
        assert.deepStrictEqual({ ...response.usage.inputTokens }, { total: 100, cacheRead: 60, uncached: 40 })
        assert.deepStrictEqual({ ...response.usage.outputTokens }, { total: 30, reasoning: 10, text: 20 })
      }))

    it.effect("streamed tool-call fragments are joined per index, interleaved; include_usage is asked for", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script(F.stream(F.sse([
          F.chunk({ role: "assistant", reasoning_content: "let me add" }),
          F.chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "Add", arguments: "" } }] }),
          F.chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "Add", arguments: "{\"a\":" } }] }),
          F.chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"a\": 1," } }] }),
          F.chunk({ tool_calls: [{ index: 1, function: { arguments: "10, \"b\": 20}" } }] }),
          F.chunk({ tool_calls: [{ index: 0, function: { arguments: " \"b\": 2}" } }] }),
          F.chunk({}, "tool_calls"),
          { ...F.chunk({}), choices: [], usage: { prompt_tokens: 8, completion_tokens: 12, total_tokens: 20 } },
          "[DONE]"
        ])))
        const toolkit = yield* Calculator.pipe(Effect.provide(CalculatorHandlers))
        const parts = yield* LanguageModel.streamText({ prompt: "add", toolkit }).pipe(Stream.runCollect)
        const results = parts.flatMap((p) => (p.type === "tool-result" ? [[p.id, p.result]] : []))
        assert.deepStrictEqual(results, [["call_a", 3], ["call_b", 30]])
        const deltas = parts.flatMap((p) => (p.type === "tool-params-delta" && p.id === "call_a" ? [p.delta] : []))
        assert.strictEqual(deltas.join(""), "{\"a\": 1, \"b\": 2}")
        assert.isTrue(parts.some((p) => p.type === "reasoning-delta" && p.delta === "let me add"))
        const finish = parts.find((p) => p.type === "finish")
        assert.strictEqual(finish?.reason, "tool-calls")
        assert.strictEqual(finish?.usage.outputTokens.total, 12)
        const [request] = yield* server.requests
        assert.deepStrictEqual(request!.json.stream_options, { include_usage: true })
        assert.strictEqual(request!.json.tools[0].function.name, "Add")
        assert.strictEqual(request!.json.tools[0].function.parameters.additionalProperties, false)
      }))

    it.effect("every toolChoice: auto, none, required, a named tool, oneOf", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        const toolkit = yield* Calculator.pipe(Effect.provide(CalculatorHandlers))
        const choices: Array<[LanguageModel.ToolChoice<"Add">, unknown]> = [
          ["auto", "auto"],
          ["none", "none"],
          ["required", "required"],
          [{ tool: "Add" }, { type: "function", function: { name: "Add" } }],
          [{ mode: "required", oneOf: ["Add"] }, "required"]
        ]
        for (const [choice, expected] of choices) {
          yield* server.script(F.json(200, F.completion("ok")))
          yield* LanguageModel.generateText({ prompt: "hi", toolkit, toolChoice: choice })
          const [request] = yield* server.requests
          assert.deepStrictEqual(request!.json.tool_choice, expected)
        }
      }))

    it.effect("embeddings: batched input arrays (maxBatchSize), dimensions, vectors placed by index", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        yield* server.script((request, response) => {
          const inputs = request.json.input as Array<string>
          // Out of order on purpose: the provider must place them by `index`.
          const data = inputs.map((s, index) => ({ object: "embedding", index, embedding: [s.length, index] })).reverse()
          F.json(200, { object: "list", data, usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } })(request, response)
        })
        const model = yield* OpenAiCompatEmbeddingModel.make({
          baseUrl: `${server.url}/v1`, model: "text-embedding-3-small", dimensions: 2, maxBatchSize: 2, concurrency: 1
        })
        const result = yield* model.embedMany(["a", "bb", "ccc"])
        assert.deepStrictEqual(result.embeddings.map((e) => e.vector), [[1, 0], [2, 1], [3, 0]])
        assert.strictEqual(result.usage.inputTokens, 3)
        const requests = yield* server.requests
        assert.deepStrictEqual(requests.map((r) => [r.url, r.json.input, r.json.dimensions]), [
          ["/v1/embeddings", ["a", "bb"], 2],
          ["/v1/embeddings", ["ccc"], 2]
        ])
      }))

    it.effect("generateObject: json_schema (strict); a server that rejects it is asked again with json_object", () =>
      Effect.gen(function*() {
        const server = yield* F.Fault
        const City = Schema.Struct({ name: Schema.String, people: Schema.Int })
        yield* server.script(F.json(200, F.completion("{\"name\":\"Oslo\",\"people\":700000}")))
        const first = yield* LanguageModel.generateObject({ prompt: "a city", schema: City, objectName: "City" })
        assert.deepStrictEqual(first.value, { name: "Oslo", people: 700000 })
        const [strict] = yield* server.requests
        assert.strictEqual(strict!.json.response_format.type, "json_schema")
        assert.strictEqual(strict!.json.response_format.json_schema.name, "City")
        assert.isTrue(strict!.json.response_format.json_schema.strict)
        yield* server.script(
          F.json(400, F.openAiError("response_format json_schema is not supported", "invalid_request_error")),
          F.json(200, F.completion("{\"name\":\"Lima\",\"people\":9}"))
        )
        const second = yield* LanguageModel.generateObject({ prompt: "a city", schema: City })
        assert.deepStrictEqual(second.value, { name: "Lima", people: 9 })
        const [, retried] = yield* server.requests
        assert.deepStrictEqual(retried!.json.response_format, { type: "json_object" })
        assert.include(retried!.json.messages[0].content, "JSON Schema")
      }))
  })
})
