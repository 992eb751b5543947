/**
 * The OpenAI-compatible server on the local model: start it on a free port, ask it one chat completion over HTTP
 * (what any OpenAI client does), print the answer, stop. `npx effect-llama serve --model m.gguf` runs the same
 * server from the command line.
 * Run: node examples/server.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { Native, OpenAiServer } from "../src/index.ts"
import { modelPath } from "./model.ts"

const Server = OpenAiServer.layerNode(
  OpenAiServer.localModels({ path: modelPath, parallel: 2, contextSize: 4096 }).pipe(Layer.provide(Native.layer)),
  { port: 0, apiKeys: ["sk-local"] }
)

const program = Effect.gen(function*() {
  const server = yield* OpenAiServer.OpenAiServer
  yield* server.ready // /health answers 503 until here
  const address = (yield* HttpServer.HttpServer).address
  const url = address._tag === "UnixPathAddress" ? address.path : `http://127.0.0.1:${address.port}`
  yield* Console.log(`serving ${yield* server.modelId} on ${url} (chat page at ${url}/)`)
  const answer = yield* Effect.promise(() =>
    fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer sk-local", "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Why is the sea salty?" }], max_tokens: 24 })
    }).then((r) => r.json() as Promise<{ choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } }>)
  )
  yield* Console.log(`reply: ${answer.choices[0]!.message.content}`)
  yield* Console.log(`finish: ${answer.choices[0]!.finish_reason}, ${answer.usage.completion_tokens} tokens`)
})

NodeRuntime.runMain(program.pipe(Effect.provide(Server)))
