// The server's own behaviour: health while the model loads, keys, CORS, body limit, error bodies, metrics, the
// OpenAPI document, tokenize, text completions, a disconnect stopping its generation, a gateway without a tokenizer.
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import { ensureModel } from "../../scripts/models.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl, get, post, scriptedModel, sseData } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")

// A model that loads only once the test opens the gate.
const gate = Deferred.makeUnsafe<void>()
const Gated = Layer.unwrap(Effect.as(Deferred.await(gate), scriptedModel("hello from a gated model")))
  .pipe(Layer.provideMerge(Layer.empty)) as Layer.Layer<LanguageModel.LanguageModel>

describe("server", () => {
  layer(OpenAiServer.layerNode(Gated, { port: 0, apiKeys: ["k"], cors: true, maxBodyBytes: 2048 }), {
    excludeTestServices: true
  })("a gateway over any LanguageModel", (it) => {
    it.effect("health is 503 (public, with Retry-After) while the model loads, 200 after; API calls wait for it too", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const loading = yield* get(`${url}/health`)
        assert.strictEqual(loading.status, 503)
        assert.strictEqual(loading.headers.get("retry-after"), "1")
        assert.deepInclude(JSON.parse(loading.text), { error: { message: "Loading model", type: "unavailable_error", param: null, code: "model_not_ready" } })
        const early = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }] }, { authorization: "Bearer k" })
        assert.strictEqual(early.status, 503)
        yield* Deferred.succeed(gate, undefined)
        yield* (yield* OpenAiServer.OpenAiServer).ready
        const ready = yield* get(`${url}/health`)
        assert.strictEqual(ready.status, 200)
        assert.deepStrictEqual(JSON.parse(ready.text), { status: "ok" })
      }))

    it.effect("keys: none or a wrong one is a 401 in OpenAI's shape; health, the page and the OpenAPI document are public", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const missing = yield* get(`${url}/v1/models`)
        assert.strictEqual(missing.status, 401)
        assert.strictEqual(JSON.parse(missing.text).error.type, "authentication_error")
        const wrong = yield* get(`${url}/v1/models`, { authorization: "Bearer kk" })
        assert.strictEqual(wrong.status, 401)
        const metrics = yield* get(`${url}/metrics`)
        assert.strictEqual(metrics.status, 401)
        const page = yield* get(`${url}/`)
        assert.strictEqual(page.status, 200)
        assert.include(page.headers.get("content-type") ?? "", "text/html")
        const openapi = yield* get(`${url}/openapi.json`)
        assert.strictEqual(openapi.status, 200)
        const document = JSON.parse(openapi.text) as { openapi: string; paths: Record<string, unknown> }
        assert.strictEqual(document.openapi, "3.1.0")
        for (const path of ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models", "/health", "/metrics", "/tokenize", "/detokenize"]) {
          assert.property(document.paths, path)
        }
      }))

    it.effect("the scripted model answers plain and streamed chats; a gateway has no tokenizer or embeddings (501)", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const auth = { authorization: "Bearer k" }
        const plain = yield* post(`${url}/v1/chat/completions`, { model: "effect-llama", messages: [{ role: "user", content: "hi" }] }, auth)
        assert.strictEqual(plain.status, 200)
        const body = JSON.parse(plain.text)
        assert.strictEqual(body.choices[0].message.content, "hello from a gated model")
        assert.deepStrictEqual(body.usage, { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 })
        const streamed = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }], stream: true }, auth)
        const data = sseData(streamed.text)
        assert.strictEqual(data[data.length - 1], "[DONE]")
        const text = data.slice(0, -1).map((d) => JSON.parse(d).choices[0]?.delta.content ?? "").join("")
        assert.strictEqual(text, "hello from a gated model")
        const completion = yield* post(`${url}/v1/completions`, { prompt: "hi" }, auth)
        assert.strictEqual(JSON.parse(completion.text).choices[0].text, "hello from a gated model")
        const tokenize = yield* post(`${url}/tokenize`, { content: "hi" }, auth)
        assert.strictEqual(tokenize.status, 501)
        const embed = yield* post(`${url}/v1/embeddings`, { input: "hi" }, auth)
        assert.strictEqual(embed.status, 501)
      }))

    it.effect("CORS preflight and headers; a body over the limit is a 413; broken JSON, n=2, unknown model and route", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const auth = { authorization: "Bearer k" }
        const preflight = yield* Effect.promise(() =>
          fetch(`${url}/v1/chat/completions`, {
            method: "OPTIONS",
            headers: { origin: "http://example.test", "access-control-request-method": "POST" }
          })
        )
        assert.strictEqual(preflight.status, 204)
        assert.strictEqual(preflight.headers.get("access-control-allow-origin"), "*")
        assert.include(preflight.headers.get("access-control-allow-headers") ?? "", "authorization")
        const withOrigin = yield* get(`${url}/v1/models`, { ...auth, origin: "http://example.test" })
        assert.strictEqual(withOrigin.headers.get("access-control-allow-origin"), "*")
        const large = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "x".repeat(4096) }] }, auth)
        assert.strictEqual(large.status, 413)
        assert.strictEqual(JSON.parse(large.text).error.code, "request_too_large")
        const broken = yield* Effect.promise(() =>
          fetch(`${url}/v1/chat/completions`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: "{nope" })
        )
        assert.strictEqual(broken.status, 400)
        const two = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }], n: 2 }, auth)
        assert.strictEqual(two.status, 400)
        assert.strictEqual(JSON.parse(two.text).error.param, "n")
        const badField = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "robot", content: "hi" }] }, auth)
        assert.strictEqual(badField.status, 400)
        assert.strictEqual(JSON.parse(badField.text).error.param, "messages[0].role")
        const model = yield* post(`${url}/v1/chat/completions`, { model: "gpt-9", messages: [{ role: "user", content: "hi" }] }, auth)
        assert.strictEqual(model.status, 404)
        assert.strictEqual(JSON.parse(model.text).error.code, "model_not_found")
        const route = yield* get(`${url}/v2/nothing`, auth)
        assert.strictEqual(route.status, 404)
        assert.strictEqual(JSON.parse(route.text).error.type, "invalid_request_error")
      }))

    it.effect("metrics: Prometheus text with requests, tokens, queue depth, slots and latency", () =>
      Effect.gen(function*() {
        const url = yield* baseUrl
        const metrics = yield* get(`${url}/metrics`, { authorization: "Bearer k" })
        assert.strictEqual(metrics.status, 200)
        assert.include(metrics.headers.get("content-type") ?? "", "text/plain")
        for (const name of [
          "effect_llama_server_requests_total",
          "effect_llama_server_prompt_tokens_total",
          "effect_llama_server_completion_tokens_total",
          "effect_llama_server_queue_depth",
          "effect_llama_server_slots_busy",
          "effect_llama_server_request_duration_seconds_bucket"
        ]) assert.include(metrics.text, name)
        assert.match(metrics.text, /effect_llama_server_requests_total\{[^}]*route="\/v1\/chat\/completions"[^}]*\} \d+/)
      }))
  })

  layer(
    OpenAiServer.layerNode(
      OpenAiServer.localModels({ path: tinyQwen, parallel: 1, threads: 1, embeddings: false, config: { stop: ["ohel"] } })
        .pipe(Layer.provide(Native.layer)),
      { port: 0 }
    ),
    { excludeTestServices: true }
  )("a local model with configured stop strings", (it) => {
    it.effect("a request's stop strings add to the model's: both end the reply, whichever comes first", () =>
      Effect.gen(function*() {
        yield* (yield* OpenAiServer.OpenAiServer).ready
        const url = yield* baseUrl
        // A +100 bias on token 14990 ("hello") makes the reply "hellohello...": "ohel" ends it after "hell".
        const ask = (stop: ReadonlyArray<string>) =>
          Effect.map(
            post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "Say something." }], max_tokens: 6, logit_bias: { "14990": 100 }, stop }),
            (r) => JSON.parse(r.text).choices[0]
          )
        const own = yield* ask(["xyz"])
        assert.strictEqual(own.message.content, "hell")
        assert.strictEqual(own.finish_reason, "stop")
        const earlier = yield* ask(["llohe"])
        assert.strictEqual(earlier.message.content, "he")
      }))
  })

  layer(
    OpenAiServer.layerNode(
      OpenAiServer.localModels({ path: tinyQwen, parallel: 2, contextSize: 4096, threads: 1, embeddings: false }).pipe(
        Layer.provide(Native.layer)
      ),
      { port: 0 }
    ),
    { excludeTestServices: true }
  )("the local model", (it) => {
    it.effect("tokenize and detokenize round trip, with pieces", () =>
      Effect.gen(function*() {
        const server = yield* OpenAiServer.OpenAiServer
        yield* server.ready
        const url = yield* baseUrl
        const tokens = JSON.parse((yield* post(`${url}/tokenize`, { content: "hello world" })).text).tokens as Array<number>
        assert.deepStrictEqual(tokens, [14990, 1879])
        const pieces = JSON.parse((yield* post(`${url}/tokenize`, { content: "hello world", with_pieces: true })).text).tokens
        assert.deepStrictEqual(pieces, [{ id: 14990, piece: "hello" }, { id: 1879, piece: " world" }])
        const text = JSON.parse((yield* post(`${url}/detokenize`, { tokens })).text)
        assert.deepStrictEqual(text, { content: "hello world" })
        const bad = yield* post(`${url}/detokenize`, { tokens: [10_000_000] })
        assert.strictEqual(bad.status, 400)
      }))

    it.effect("logit_bias, stop and seed reach the sampler: a +100 bias forces a token, a stop string ends on it", () =>
      Effect.gen(function*() {
        yield* (yield* OpenAiServer.OpenAiServer).ready
        const url = yield* baseUrl
        const ask = (extra: Record<string, unknown>) =>
          Effect.map(post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "Say something." }], max_tokens: 4, ...extra }), (r) => JSON.parse(r.text))
        // Token 14990 is "hello" in this vocabulary.
        const forced = yield* ask({ logit_bias: { "14990": 100 }, temperature: 0.9, seed: 3 })
        assert.strictEqual(forced.choices[0].message.content, "hellohellohellohello")
        const stopped = yield* ask({ logit_bias: { "14990": 100 }, stop: ["llohe"] })
        assert.strictEqual(stopped.choices[0].message.content, "he")
        assert.strictEqual(stopped.choices[0].finish_reason, "stop")
        const a = yield* ask({ temperature: 1, seed: 42, max_tokens: 8 })
        const b = yield* ask({ temperature: 1, seed: 42, max_tokens: 8 })
        assert.strictEqual(a.choices[0].message.content, b.choices[0].message.content)
        const badBias = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "x" }], logit_bias: { word: 1 } })
        assert.strictEqual(JSON.parse(badBias.text).error.param, "logit_bias")
      }))

    it.effect("text completions, plain (with echo) and streamed, continue the prompt with no chat template", () =>
      Effect.gen(function*() {
        yield* (yield* OpenAiServer.OpenAiServer).ready
        const url = yield* baseUrl
        const plain = JSON.parse((yield* post(`${url}/v1/completions`, { prompt: "Once upon a time", max_tokens: 6, temperature: 0, echo: true })).text)
        assert.strictEqual(plain.object, "text_completion")
        assert.isTrue((plain.choices[0].text as string).startsWith("Once upon a time"))
        assert.strictEqual(plain.choices[0].finish_reason, "length")
        assert.deepStrictEqual(plain.usage, { prompt_tokens: 4, completion_tokens: 6, total_tokens: 10 })
        const streamed = sseData((yield* post(`${url}/v1/completions`, { prompt: "Once upon a time", max_tokens: 6, temperature: 0, stream: true })).text)
        assert.strictEqual(streamed[streamed.length - 1], "[DONE]")
        const text = streamed.slice(0, -1).map((d) => JSON.parse(d).choices[0].text).join("")
        assert.strictEqual("Once upon a time" + text, plain.choices[0].text)
      }))

    it.effect("a client that disconnects mid-stream stops its generation and frees its slot", () =>
      Effect.gen(function*() {
        const server = yield* OpenAiServer.OpenAiServer
        yield* server.ready
        const url = yield* baseUrl
        const controller = new AbortController()
        const reader = yield* Effect.promise(async () => {
          const response = await fetch(`${url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ messages: [{ role: "user", content: "Talk for long." }], max_tokens: 1900, stream: true }),
            signal: controller.signal
          })
          const reader = response.body!.getReader()
          await reader.read() // the first chunk: generation is under way
          return reader
        })
        assert.strictEqual(server.stats().busy, 1)
        const aborted = performance.now()
        controller.abort()
        yield* Effect.promise(() => reader.cancel().catch(() => undefined))
        yield* server.awaitIdle.pipe(Effect.timeout("5 seconds"))
        const freedMs = performance.now() - aborted
        // 1,900 tokens take seconds on this model; the slot came back long before (the native job stopped).
        assert.isBelow(freedMs, 1000, `slot freed after ${freedMs.toFixed(0)} ms`)
        assert.strictEqual(server.stats().busy, 0)
        const metrics = yield* get(`${url}/metrics`)
        assert.match(metrics.text, /effect_llama_server_client_disconnects_total(\{[^}]*\})? [1-9]/)
        // The slot works again (the bias forces "hello" each step, so no early end of generation).
        const next = yield* post(`${url}/v1/chat/completions`, { messages: [{ role: "user", content: "hi" }], max_tokens: 3, logit_bias: { "14990": 100 } })
        assert.strictEqual(JSON.parse(next.text).usage.completion_tokens, 3)
      }))
  })
})
