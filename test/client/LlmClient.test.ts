// LlmClient over a remote provider (wrapped in resilience policies) talking to a scripted loopback server.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Exit, Layer, Metric, Schema, Stream } from "effect"
import { Tool, Toolkit } from "effect/ai"
import * as LlmClient from "../../src/client/LlmClient.ts"
import * as OpenAiCompat from "../../src/providers/OpenAiCompat.ts"
import * as Resilience from "../../src/resilience/Resilience.ts"
import * as F from "../providers/FaultServer.ts"

const Client = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* F.Fault
  return LlmClient.layer({ name: "test-client" }).pipe(
    Layer.provideMerge(
      OpenAiCompat.layer({ baseUrl: `${url}/v1`, model: "m" }).pipe(
        Resilience.languageModel({ key: "client/m", retry: { times: 2, base: "1 millis", max: "2 millis", jitter: false } })
      )
    )
  )
})).pipe(Layer.provideMerge(F.layer), Layer.provideMerge(NodeHttpClient.layerUndici))

// Answers with the user's text reversed after a delay that shuffles completion order; "fail" gets a 400.
const echo: F.Step = (request, response) => {
  const messages = request.json.messages as ReadonlyArray<{ role: string; content: string }>
  const last = messages[messages.length - 1]!.content
  if (last.includes("fail")) return F.json(400, F.openAiError("bad prompt", "invalid_request_error"))(request, response)
  setTimeout(() => F.json(200, F.completion([...last].reverse().join("")))(request, response), (last.length % 3) * 15)
}

const Lookup = Tool.make("Lookup", { parameters: Schema.Struct({ q: Schema.String }), success: Schema.String })
const Tools = Toolkit.make(Lookup)

layer(Client, { excludeTestServices: true })("LlmClient", (it) => {
  it.effect("completeBatch: one Exit per prompt in input order; a failing prompt loses none of the others", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(echo)
      const client = yield* LlmClient.LlmClient
      yield* client.resetStats
      const prompts = ["abc", "please fail", "hello", "xy", "effect"]
      const results = yield* client.completeBatch(prompts, { concurrency: 3 })
      assert.strictEqual(results.length, 5)
      assert.deepStrictEqual(
        results.map((r) => (Exit.isSuccess(r) ? r.value.text : "failed")),
        ["cba", "failed", "olleh", "yx", "tceffe"]
      )
      const failure = results[1]!
      assert.isTrue(Exit.isFailure(failure))
      const stats = yield* client.stats
      assert.strictEqual(stats.requests, 5)
      assert.strictEqual(stats.successes, 4)
      assert.strictEqual(stats.failures, 1)
      assert.strictEqual(stats.inputTokens, 20)
      assert.strictEqual(stats.outputTokens, 8)
      assert.strictEqual(stats.circuit, "Closed")
      assert.isAbove(stats.averageLatencyMs, 0)
      assert.isAtLeast(stats.p95LatencyMs, stats.p50LatencyMs)
    }))

  it.effect("stats count the wrapper's retries; resetStats starts over; the counters are metrics", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const client = yield* LlmClient.LlmClient
      yield* client.resetStats
      yield* server.script(F.json(503, F.openAiError("busy", "server_error")), F.json(200, F.completion("ok")))
      assert.strictEqual(yield* client.complete("hi"), "ok")
      const stats = yield* client.stats
      assert.strictEqual(stats.retries, 1)
      assert.strictEqual(stats.requests, 1)
      const exported = yield* Metric.value(Metric.withAttributes(LlmClient.metrics.requests, { client: "test-client" }))
      assert.isAtLeast(exported.count, 1)
      yield* client.resetStats
      const reset = yield* client.stats
      assert.deepStrictEqual([reset.requests, reset.successes, reset.failures, reset.retries, reset.p50LatencyMs], [0, 0, 0, 0, 0])
    }))

  it.effect("completeFull returns tool calls without running them; chat sends the conversation", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const client = yield* LlmClient.LlmClient
      yield* server.script(F.json(200, F.completion("", {
        choices: [{
          index: 0,
          message: { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "Lookup", arguments: "{\"q\":\"x\"}" } }] },
          finish_reason: "tool_calls"
        }]
      })))
      const full = yield* client.completeFull("look up x", { toolkit: Tools, toolChoice: "required" })
      assert.deepStrictEqual(full.toolCalls, [{ id: "c1", name: "Lookup", params: { q: "x" } }])
      assert.strictEqual(full.finishReason, "tool-calls")
      assert.strictEqual((yield* server.requests)[0]!.json.tool_choice, "required")
      yield* server.script(echo)
      const reply = yield* client.chat([
        { role: "system", content: "Be brief." },
        { role: "user", content: "one" },
        { role: "assistant", content: "eno" },
        { role: "user", content: "two" }
      ])
      assert.strictEqual(reply.text, "owt")
      assert.deepStrictEqual((yield* server.requests)[0]!.json.messages.map((m: { role: string }) => m.role), ["system", "user", "assistant", "user"])
    }))

  it.effect("completeStream gives the text as it comes; warmup makes one request", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const client = yield* LlmClient.LlmClient
      yield* client.resetStats
      yield* server.script(F.stream(F.textStream(["str", "eam", "ed"])))
      const pieces = yield* client.completeStream("go").pipe(Stream.runCollect)
      assert.deepStrictEqual(pieces, ["str", "eam", "ed"])
      const stats = yield* client.stats
      assert.strictEqual(stats.successes, 1)
      assert.strictEqual(stats.outputTokens, 3)
      yield* server.script(F.json(200, F.completion("warm")))
      yield* client.warmup
      assert.strictEqual((yield* server.requests).length, 1)
    }))
})
