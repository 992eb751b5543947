// The official `openai` npm client (7.x) against our server on a generated model: chat, streamed chat with usage,
// a forced tool call round trip, json_schema output, embeddings (float and base64), models, and error mapping as
// the client sees it (bad key, over-long prompt, full queue retried).
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import OpenAI, { AuthenticationError, BadRequestError } from "openai"
import { ensureModel } from "../../scripts/models.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const KEYS = ["sk-test-one", "sk-test-two"]

// One slot and no queue: a second request while one runs is refused (503), which the queue test relies on.
const Server = OpenAiServer.layerNode(
  OpenAiServer.localModels({ path: tinyQwen, parallel: 1, contextSize: 2048, threads: 1, config: { sampling: { seed: 7 } } }).pipe(
    Layer.provide(Native.layer)
  ),
  { port: 0, apiKeys: KEYS, maxQueued: 0, retryAfterSeconds: 1 }
)

const client = (options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) =>
  Effect.map(baseUrl, (url) => new OpenAI({ baseURL: `${url}/v1`, apiKey: KEYS[1]!, maxRetries: 0, ...options }))

const call = <A>(f: () => Promise<A>) => Effect.promise(f)
const failure = <A>(f: () => Promise<A>) =>
  Effect.promise(() => f().then(() => undefined, (error: unknown) => error))

const Weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current temperature for a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", enum: ["Paris", "Oslo", "Lima"] },
        days: { type: "integer", minimum: 1, maximum: 3 }
      },
      required: ["city", "days"],
      additionalProperties: false
    }
  }
}

const Forecast = Schema.Struct({
  city: Schema.Literals(["Paris", "Oslo"]),
  rain: Schema.Boolean,
  celsius: Schema.Int.check(Schema.isBetween({ minimum: -20, maximum: 40 }))
})

layer(Server, { excludeTestServices: true, timeout: 300_000 })("OpenAI client against the server", (it) => {
  it.effect("models lists the served model", () =>
    Effect.gen(function*() {
      yield* (yield* OpenAiServer.OpenAiServer).ready
      const openai = yield* client()
      const models = yield* call(() => openai.models.list())
      assert.deepStrictEqual(models.data.map((m) => m.id), ["effect-llama-tiny-qwen2"])
      const one = yield* call(() => openai.models.retrieve("effect-llama-tiny-qwen2"))
      assert.strictEqual(one.id, "effect-llama-tiny-qwen2")
    }))

  it.effect("chat, then the same chat streamed with usage: same text (greedy), usage in the last chunk", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const request = {
        model: "effect-llama-tiny-qwen2",
        messages: [{ role: "system" as const, content: "Be brief." }, { role: "user" as const, content: "Describe the sea." }],
        max_tokens: 12,
        temperature: 0
      }
      const plain = yield* call(() => openai.chat.completions.create(request))
      assert.strictEqual(plain.object, "chat.completion")
      assert.strictEqual(plain.choices.length, 1)
      assert.strictEqual(plain.choices[0]!.finish_reason, "length")
      assert.strictEqual(plain.usage?.completion_tokens, 12)
      assert.isAbove(plain.usage?.prompt_tokens ?? 0, 5)
      const text = plain.choices[0]!.message.content ?? ""
      assert.isAbove(text.length, 0)

      const chunks = yield* call(async () => {
        const stream = await openai.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } })
        const out = []
        for await (const chunk of stream) out.push(chunk)
        return out
      })
      assert.isAtLeast(chunks.length, 4)
      assert.strictEqual(chunks[0]!.choices[0]!.delta.role, "assistant")
      const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")
      assert.strictEqual(streamed, text)
      const finish = chunks.find((c) => c.choices[0]?.finish_reason !== null && c.choices[0]?.finish_reason !== undefined)
      assert.strictEqual(finish?.choices[0]!.finish_reason, "length")
      const last = chunks[chunks.length - 1]!
      assert.deepStrictEqual(last.choices, [])
      assert.strictEqual(last.usage?.completion_tokens, 12)
      assert.strictEqual(last.usage?.prompt_tokens, plain.usage?.prompt_tokens)
      assert.isTrue(chunks.every((c) => c.id === chunks[0]!.id && c.object === "chat.completion.chunk"))
    }))

  it.effect("a forced tool call, the tool's result as a tool message, then the answer", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const messages: Array<OpenAI.ChatCompletionMessageParam> = [
        { role: "system", content: "Use the tools." },
        { role: "user", content: "Weather in Paris?" }
      ]
      const first = yield* call(() =>
        openai.chat.completions.create({
          model: "effect-llama-tiny-qwen2",
          messages,
          tools: [Weather],
          tool_choice: { type: "function", function: { name: "get_weather" } },
          parallel_tool_calls: false,
          max_tokens: 120
        })
      )
      const choice = first.choices[0]!
      assert.strictEqual(choice.finish_reason, "tool_calls")
      const calls = choice.message.tool_calls ?? []
      assert.isAtLeast(calls.length, 1)
      for (const toolCall of calls) {
        assert.strictEqual(toolCall.type, "function")
        if (toolCall.type !== "function") continue
        assert.strictEqual(toolCall.function.name, "get_weather")
        const args = JSON.parse(toolCall.function.arguments) as { city: string; days: number }
        assert.include(["Paris", "Oslo", "Lima"], args.city)
        assert.isTrue(Number.isInteger(args.days) && args.days >= 1 && args.days <= 3)
        assert.isAbove(toolCall.id.length, 0)
      }
      const second = yield* call(() =>
        openai.chat.completions.create({
          model: "effect-llama-tiny-qwen2",
          messages: [
            ...messages,
            choice.message,
            ...calls.map((c) => ({ role: "tool" as const, tool_call_id: c.id, content: JSON.stringify({ celsius: 21 }) }))
          ],
          tools: [Weather],
          tool_choice: "none",
          max_tokens: 10
        })
      )
      const answer = second.choices[0]!
      assert.include(["stop", "length"], answer.finish_reason)
      assert.isUndefined(answer.message.tool_calls)
      assert.isString(answer.message.content)
      // The second prompt holds the call and its result: longer than the same turn without them.
      const control = yield* call(() =>
        openai.chat.completions.create({ model: "effect-llama-tiny-qwen2", messages, tools: [Weather], tool_choice: "none", max_tokens: 1 })
      )
      assert.isAbove(second.usage?.prompt_tokens ?? 0, (control.usage?.prompt_tokens ?? 0) + 10)
    }))

  it.effect("a forced tool call, streamed: fragments per index assemble into the call", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const chunks = yield* call(async () => {
        const stream = await openai.chat.completions.create({
          model: "effect-llama-tiny-qwen2",
          messages: [{ role: "user", content: "Weather in Oslo?" }],
          tools: [Weather],
          tool_choice: { type: "function", function: { name: "get_weather" } },
          parallel_tool_calls: false,
          max_tokens: 120,
          stream: true
        })
        const out = []
        for await (const chunk of stream) out.push(chunk)
        return out
      })
      const calls = new Map<number, { id: string; name: string; args: string }>()
      for (const chunk of chunks) {
        for (const fragment of chunk.choices[0]?.delta.tool_calls ?? []) {
          const entry = calls.get(fragment.index) ?? { id: "", name: "", args: "" }
          if (fragment.id !== undefined) entry.id = fragment.id
          if (fragment.function?.name !== undefined) entry.name = fragment.function.name
          entry.args += fragment.function?.arguments ?? ""
          calls.set(fragment.index, entry)
        }
      }
      assert.isAtLeast(calls.size, 1)
      const first = calls.get(0)!
      assert.strictEqual(first.name, "get_weather")
      assert.isAbove(first.id.length, 0)
      assert.include(["Paris", "Oslo", "Lima"], (JSON.parse(first.args) as { city: string }).city)
      const finish = chunks.map((c) => c.choices[0]?.finish_reason).filter((f) => f != null)
      assert.deepStrictEqual(finish, ["tool_calls"])
    }))

  it.effect("response_format json_schema: the content parses against the schema", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const response = yield* call(() =>
        openai.chat.completions.create({
          model: "effect-llama-tiny-qwen2",
          messages: [{ role: "user", content: "The forecast for Paris, as JSON." }],
          response_format: {
            type: "json_schema",
            json_schema: { name: "forecast", strict: true, schema: Schema.toJsonSchemaDocument(Forecast, { onExcessProperty: "error" }).schema as Record<string, unknown> }
          },
          max_tokens: 400
        })
      )
      const content = response.choices[0]!.message.content ?? ""
      const value = Schema.decodeUnknownSync(Schema.fromJsonString(Forecast))(content)
      assert.include(["Paris", "Oslo"], value.city)
      assert.strictEqual(response.choices[0]!.finish_reason, "stop")
    }))

  it.effect("embeddings: floats, base64 and the client's own decoding agree", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const input = ["the sea is salty", "rivers are not"]
      const floats = yield* call(() => openai.embeddings.create({ model: "effect-llama-tiny-qwen2", input, encoding_format: "float" }))
      const raw = yield* call(() => openai.embeddings.create({ model: "effect-llama-tiny-qwen2", input, encoding_format: "base64" }))
      const decoded = yield* call(() => openai.embeddings.create({ model: "effect-llama-tiny-qwen2", input })) // the client asks base64, decodes
      assert.strictEqual(floats.data.length, 2)
      for (const [i, item] of floats.data.entries()) {
        const vector = item.embedding as unknown as Array<number>
        assert.strictEqual(vector.length, 64)
        assert.approximately(Math.hypot(...vector), 1, 1e-4)
        const bytes = Buffer.from(raw.data[i]!.embedding as unknown as string, "base64")
        const fromBase64 = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
        assert.deepStrictEqual(fromBase64, vector)
        assert.deepStrictEqual(Array.from(decoded.data[i]!.embedding), vector)
      }
      assert.isAbove(floats.usage.prompt_tokens, 4)
    }))

  it.effect("a bad key is an AuthenticationError; every configured key works", () =>
    Effect.gen(function*() {
      const wrong = yield* client({ apiKey: "sk-wrong" })
      const error = yield* failure(() => wrong.models.list())
      assert.instanceOf(error, AuthenticationError)
      assert.strictEqual((error as AuthenticationError).status, 401)
      const first = yield* client({ apiKey: KEYS[0]! })
      const models = yield* call(() => first.models.list())
      assert.strictEqual(models.data.length, 1)
    }))

  it.effect("an over-long prompt is a BadRequestError (context_length_exceeded), streamed or not", () =>
    Effect.gen(function*() {
      const openai = yield* client()
      const messages = [{ role: "user" as const, content: "many words ".repeat(3000) }]
      const plain = yield* failure(() => openai.chat.completions.create({ model: "effect-llama-tiny-qwen2", messages, max_tokens: 4 }))
      assert.instanceOf(plain, BadRequestError)
      assert.strictEqual((plain as BadRequestError).code, "context_length_exceeded")
      const streamed = yield* failure(() => openai.chat.completions.create({ model: "effect-llama-tiny-qwen2", messages, max_tokens: 4, stream: true }))
      assert.instanceOf(streamed, BadRequestError)
    }))

  it.effect("a full queue answers 503 with Retry-After, which the client retries until it succeeds", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const server = yield* OpenAiServer.OpenAiServer
      // Occupy the one slot with a long streamed generation.
      const blocker = new AbortController()
      const blocking = yield* call(() =>
        fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${KEYS[0]}`, "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "Talk." }], max_tokens: 1500, stream: true }),
          signal: blocker.signal
        })
      )
      assert.strictEqual(blocking.status, 200)
      const statuses: Array<number> = []
      const retryAfter: Array<string | null> = []
      const openai = yield* client({
        maxRetries: 3,
        fetch: async (input: string | URL | Request, init?: RequestInit) => {
          const response = await fetch(input, init)
          statuses.push(response.status)
          retryAfter.push(response.headers.get("retry-after"))
          if (response.status === 503) blocker.abort() // the slot frees while the client waits to retry
          return response
        }
      })
      const rejectedBefore = server.stats().rejected
      const answer = yield* call(() =>
        openai.chat.completions.create({ model: "effect-llama-tiny-qwen2", messages: [{ role: "user", content: "Hi" }], max_tokens: 3 })
      )
      yield* call(() => blocking.body?.cancel().catch(() => undefined) ?? Promise.resolve())
      assert.strictEqual(statuses[0], 503)
      assert.strictEqual(retryAfter[0], "1")
      assert.strictEqual(statuses[statuses.length - 1], 200)
      assert.strictEqual(answer.usage?.completion_tokens, 3)
      assert.isAtLeast(server.stats().rejected - rejectedBefore, 1)
      assert.strictEqual(server.stats().busy, 0)
    }))
})
