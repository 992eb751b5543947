// Helpers for the server tests: the base URL of a server under test, SSE parsing, a scripted LanguageModel.
import { Effect, Layer, Stream } from "effect"
import { LanguageModel, type Response } from "effect/ai"
import { HttpServer } from "effect/http"

export const baseUrl: Effect.Effect<string, never, HttpServer.HttpServer> = Effect.gen(function*() {
  const address = (yield* HttpServer.HttpServer).address
  if (address._tag === "UnixPathAddress") return yield* Effect.die(new Error("expected a TCP address"))
  return `http://127.0.0.1:${address.port}`
})

/** The `data:` payloads of an SSE body, in order. */
export const sseData = (body: string): Array<string> =>
  body.split("\n\n").flatMap((frame) =>
    frame.split("\n").filter((line) => line.startsWith("data: ")).map((line) => line.slice(6))
  )

export interface Posted {
  readonly status: number
  readonly headers: Headers
  readonly text: string
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}): Effect.Effect<Posted> =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body)
    })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

export const get = (url: string, headers: Record<string, string> = {}): Effect.Effect<Posted> =>
  Effect.promise(async () => {
    const response = await fetch(url, { headers })
    return { status: response.status, headers: response.headers, text: await response.text() }
  })

/** A LanguageModel that answers every prompt with `reply`, streamed in pieces of `pieceSize` characters. */
export const scriptedModel = (reply: string, options: { readonly pieceSize?: number; readonly delayMs?: number } = {}) =>
  Layer.effect(LanguageModel.LanguageModel, LanguageModel.make({
    generateText: () =>
      Effect.succeed([
        { type: "text", text: reply },
        { type: "finish", reason: "stop", usage: { inputTokens: { total: 3 }, outputTokens: { total: 5 } } }
      ]),
    streamText: () => {
      const size = options.pieceSize ?? 4
      const pieces: Array<Response.StreamPartEncoded> = [{ type: "text-start", id: "t" }]
      for (let i = 0; i < reply.length; i += size) pieces.push({ type: "text-delta", id: "t", delta: reply.slice(i, i + size) })
      pieces.push({ type: "text-end", id: "t" })
      pieces.push({ type: "finish", reason: "stop", usage: { inputTokens: { total: 3 }, outputTokens: { total: pieces.length - 2 } } })
      const stream = Stream.fromIterable(pieces)
      return options.delayMs === undefined ? stream : stream.pipe(Stream.tap(() => Effect.sleep(options.delayMs!)))
    }
  }))
