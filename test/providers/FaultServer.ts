// A scripted HTTP server on 127.0.0.1 for provider and resilience tests: each request gets the next step of the
// script (a status and body, an SSE or NDJSON stream that may be cut mid-event, a reset before the headers, a
// response that never comes), and every request is recorded.
import { Context, Effect, Layer, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: string
  readonly json: any
}

export type Step = (request: Recorded, response: ServerResponse) => void

export interface FaultServer {
  readonly url: string
  /** Replaces the script; requests past its end get the last step again. */
  readonly script: (...steps: ReadonlyArray<Step>) => Effect.Effect<void>
  readonly requests: Effect.Effect<ReadonlyArray<Recorded>>
  /** Resolves once `count` requests have arrived in all (waits in real time: works under a TestClock). */
  readonly received: (count: number) => Effect.Effect<void>
}

export class Fault extends Context.Service<Fault, FaultServer>()("effect-llama/test/FaultServer") {}

export const start: Effect.Effect<FaultServer, never, Scope.Scope> = Effect.gen(function*() {
  let steps: ReadonlyArray<Step> = [json(200, {})]
  let served = 0
  const recorded: Array<Recorded> = []
  const waiters: Array<{ readonly count: number; readonly done: () => void }> = []
  const server = createServer((request, response) => {
    let body = ""
    request.setEncoding("utf8")
    request.on("data", (chunk) => (body += chunk))
    request.on("end", () => {
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        parsed = undefined
      }
      const entry = { method: request.method ?? "", url: request.url ?? "", headers: request.headers, body, json: parsed }
      recorded.push(entry)
      for (const waiter of waiters.filter((w) => recorded.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.done()
      }
      const step = steps[Math.min(served++, steps.length - 1)]!
      step(entry, response)
    })
  })
  yield* Effect.acquireRelease(
    Effect.callback<void>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.void))
    }),
    () =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    script: (...next) =>
      Effect.sync(() => {
        steps = next
        served = 0
        recorded.length = 0
      }),
    requests: Effect.sync(() => [...recorded]),
    received: (count) =>
      Effect.promise(() =>
        recorded.length >= count ? Promise.resolve() : new Promise<void>((done) => waiters.push({ count, done }))
      )
  } satisfies FaultServer
})

export const layer: Layer.Layer<Fault> = Layer.effect(Fault, start)

// ----------------------------------------------------------------------------------------------------------------
// Steps

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Step => (_, response) => {
  response.writeHead(status, { "content-type": "application/json", ...headers })
  response.end(typeof body === "string" ? body : JSON.stringify(body))
}

/** A body sent as is (malformed JSON, ...). */
export const raw = (status: number, body: string, contentType = "application/json"): Step => (_, response) => {
  response.writeHead(status, { "content-type": contentType })
  response.end(body)
}

/** Closes the connection before any response bytes: a connection reset. */
export const reset: Step = (_, response) => {
  response.socket?.destroy()
}

/** Never answers (until the client gives up and closes the connection). */
export const hang: Step = () => {}

/**
 * A streamed body, written chunk by chunk. `cut`: destroy the connection after the chunks instead of ending the
 * response (a stream cut in the middle of whatever the last chunk left open).
 */
export const stream = (
  chunks: ReadonlyArray<string>,
  options: { readonly contentType?: string; readonly cut?: boolean; readonly status?: number } = {}
): Step => (_, response) => {
  response.writeHead(options.status ?? 200, {
    "content-type": options.contentType ?? "text/event-stream",
    "cache-control": "no-cache"
  })
  let i = 0
  const next = () => {
    if (i < chunks.length) {
      response.write(chunks[i++]!, () => setImmediate(next))
      return
    }
    if (options.cut) response.socket?.destroy()
    else response.end()
  }
  next()
}

/** SSE frames: `data: <json>` per value (strings are sent as they are), a blank line after each. */
export const sse = (events: ReadonlyArray<unknown>): Array<string> =>
  events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`)

/** Named SSE events (Anthropic): `event: <type>` and `data: <json>`. */
export const namedSse = (events: ReadonlyArray<{ readonly type: string; readonly [key: string]: unknown }>): Array<string> =>
  events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`)

// ----------------------------------------------------------------------------------------------------------------
// OpenAI shapes

export const completion = (text: string, extra: Record<string, unknown> = {}) => ({
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1_700_000_000,
  model: "fault-model",
  choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  ...extra
})

export const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "chatcmpl-1",
  object: "chat.completion.chunk",
  created: 1_700_000_000,
  model: "fault-model",
  choices: [{ index: 0, delta, finish_reason: finish }]
})

export const textStream = (pieces: ReadonlyArray<string>) =>
  sse([
    ...pieces.map((content) => chunk({ content })),
    chunk({}, "stop"),
    { ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: pieces.length, total_tokens: 5 + pieces.length } },
    "[DONE]"
  ])

export const openAiError = (message: string, type: string, code: string | null = null) => ({
  error: { message, type, param: null, code }
})
