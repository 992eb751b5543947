// Ollama's native API against a loopback server replaying its NDJSON streams (whole tool calls, a final
// {"error"} line), structured output through `format`, and /api/embed.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schema, Stream } from "effect"
import { EmbeddingModel, LanguageModel, Tool, Toolkit } from "effect/ai"
import * as Ollama from "../../src/providers/Ollama.ts"
import * as OllamaEmbeddingModel from "../../src/providers/OllamaEmbeddingModel.ts"
import * as F from "./FaultServer.ts"

const Provider = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* F.Fault
  return Layer.mergeAll(
    Ollama.layer({ baseUrl: url, model: "llama3.2", config: { temperature: 0.3, maxTokens: 64, keepAlive: "1m" } }),
    OllamaEmbeddingModel.layer({ baseUrl: url, model: "nomic-embed-text", maxBatchSize: 2 })
  )
})).pipe(Layer.provideMerge(F.layer), Layer.provideMerge(NodeHttpClient.layerUndici))

const ndjson = (lines: ReadonlyArray<unknown>) => lines.map((line) => `${JSON.stringify(line)}\n`)
const line = (content: string, extra: Record<string, unknown> = {}) => ({
  model: "llama3.2",
  created_at: "2025-01-01T00:00:00Z",
  message: { role: "assistant", content },
  done: false,
  ...extra
})
const done = { ...line(""), done: true, done_reason: "stop", prompt_eval_count: 26, eval_count: 3 }

const Lookup = Tool.make("Lookup", { parameters: Schema.Struct({ query: Schema.String }), success: Schema.String })
const Tools = Toolkit.make(Lookup)
const ToolsLayer = Tools.toLayer({ Lookup: ({ query }) => Effect.succeed(`found ${query}`) })

layer(Provider, { excludeTestServices: true })("Ollama", (it) => {
  it.effect("stream: NDJSON lines, thinking as reasoning, usage from the done line; request with options", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.stream(ndjson([
        line("", { message: { role: "assistant", content: "", thinking: "hmm" } }),
        line("The sky"),
        line(" is blue."),
        done
      ]), { contentType: "application/x-ndjson" }))
      const parts = yield* LanguageModel.streamText({ prompt: "Why is the sky blue?" }).pipe(Stream.runCollect)
      assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), "The sky is blue.")
      assert.isTrue(parts.some((p) => p.type === "reasoning-delta" && p.delta === "hmm"))
      const finish = parts.find((p) => p.type === "finish")
      assert.strictEqual(finish?.reason, "stop")
      assert.strictEqual(finish?.usage.inputTokens.total, 26)
      assert.strictEqual(finish?.usage.outputTokens.total, 3)
      const [request] = yield* server.requests
      assert.strictEqual(request!.url, "/api/chat")
      assert.deepStrictEqual(request!.json, {
        model: "llama3.2",
        messages: [{ role: "user", content: "Why is the sky blue?" }],
        stream: true,
        options: { temperature: 0.3, num_predict: 64 },
        keep_alive: "1m"
      })
    }))

  it.effect("a final {\"error\"} line fails the stream with a typed error; the text before it arrived", () =>
    Effect.gen(function*() {
      yield* (yield* F.Fault).script(F.stream(ndjson([line("Partial"), { error: "model runner has unexpectedly stopped" }])))
      const seen: Array<string> = []
      const error = yield* LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runForEach((p) => Effect.sync(() => p.type === "text-delta" && seen.push(p.delta))),
        Effect.flip
      )
      assert.strictEqual(error.reason._tag, "InternalProviderError")
      assert.include(error.message, "unexpectedly stopped")
      assert.deepStrictEqual(seen, ["Partial"])
    }))

  it.effect("whole tool calls (arguments as an object) run the handler; tools sent as functions", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.stream(ndjson([
        line("", { message: { role: "assistant", content: "", tool_calls: [{ function: { name: "Lookup", arguments: { query: "effect" } } }] } }),
        { ...done, done_reason: "stop" }
      ])))
      const toolkit = yield* Tools.pipe(Effect.provide(ToolsLayer))
      const parts = yield* LanguageModel.streamText({ prompt: "look it up", toolkit }).pipe(Stream.runCollect)
      assert.strictEqual(parts.find((p) => p.type === "tool-result")?.result, "found effect")
      assert.strictEqual(parts.find((p) => p.type === "finish")?.reason, "tool-calls")
      const [request] = yield* server.requests
      assert.strictEqual(request!.json.tools[0].function.name, "Lookup")
    }))

  it.effect("generateObject sends the JSON Schema as `format`; a 503 (queue full) is retryable, 404 names the model", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.json(200, { ...done, message: { role: "assistant", content: "{\"answer\":42}" } }))
      const response = yield* LanguageModel.generateObject({ prompt: "answer", schema: Schema.Struct({ answer: Schema.Int }) })
      assert.strictEqual(response.value.answer, 42)
      const [request] = yield* server.requests
      assert.strictEqual(request!.json.stream, false)
      assert.strictEqual(request!.json.format.type, "object")
      assert.deepStrictEqual(request!.json.format.required, ["answer"])
      yield* server.script(F.json(503, { error: "server busy, please try again. maximum pending requests exceeded" }))
      const busy = yield* Effect.flip(LanguageModel.generateText({ prompt: "hi" }))
      assert.strictEqual(busy.reason._tag, "InternalProviderError")
      assert.isTrue(busy.isRetryable)
      yield* server.script(F.json(404, { error: "model \"llama3.2\" not found, try pulling it first" }))
      const missing = yield* Effect.flip(LanguageModel.generateText({ prompt: "hi" }))
      assert.strictEqual(missing.reason._tag, "InvalidRequestError")
      assert.include(missing.message, "llama3.2")
    }))

  it.effect("a stream that ends before its done line is a cut", () =>
    Effect.gen(function*() {
      yield* (yield* F.Fault).script(F.stream(ndjson([line("a"), line("b")]).concat(["{\"model\":\"llama3"])))
      const error = yield* Effect.flip(LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runDrain))
      assert.strictEqual(error.reason._tag, "NetworkError")
      assert.isTrue(error.isRetryable)
    }))

  it.effect("/api/embed: inputs batched (maxBatchSize 2), vectors in order", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const vectors = (inputs: ReadonlyArray<string>) => inputs.map((s) => [s.length, 1])
      const step: F.Step = (request, response) =>
        F.json(200, { model: "nomic-embed-text", embeddings: vectors(request.json.input), prompt_eval_count: 2 })(request, response)
      yield* server.script(step)
      const model = yield* EmbeddingModel.EmbeddingModel
      const result = yield* model.embedMany(["a", "bb", "ccc"])
      assert.deepStrictEqual(result.embeddings.map((e) => e.vector), [[1, 1], [2, 1], [3, 1]])
      assert.strictEqual(result.usage.inputTokens, 4)
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map((r) => [r.url, r.json.input]), [["/api/embed", ["a", "bb"]], ["/api/embed", ["ccc"]]])
    }))
})
