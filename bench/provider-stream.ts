/**
 * `npm run bench:providers`: streamText through effect-llama's OpenAI-compatible provider against the official
 * `openai` npm client, both streaming the same chat completion from the same llama-server (built from
 * vendor/llama.cpp with the addon's flags, one slot, on the bench-0.5b model), same prompt, seed and token count.
 *
 * Method: after `--warmup` untimed rounds, each round runs both contenders once, in alternating order (A B, B A,
 * ...), each on its own request. Per request: time to first token (request start -> first text delta reaches
 * the caller) and decode speed ((completion tokens - 1) / (last delta - first delta)). Reported: medians, and the
 * ratio effect-llama / openai (tokens/s; target >= 0.98) and the difference in time to first token (target
 * within 5 ms). The server's prompt cache makes every request after the first prefill only the new tokens, so
 * time to first token is dominated by the client and one decode step.
 *
 * Each request waits (up to `--quiet-wait` ms) for a quiet machine first, as the main bench does.
 *
 * A second table isolates the clients' own cost: a loopback server replays a recorded stream of `--replay`
 * chunks, one event per write as llama-server sends them but with no model behind, and each client consumes
 * it whole (wall time per chunk).
 *
 * Usage: npm run bench:providers [-- --model bench-0.5b --tokens 128 --rounds 10 --warmup 2 --threads 2 --quiet-wait 20000]
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Effect, Exit, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import OpenAI from "openai"
import { ensureLlamaTools } from "../scripts/build-llama-tools.ts"
import * as OpenAiCompat from "../src/providers/OpenAiCompat.ts"
import * as OpenAiPresets from "../src/providers/OpenAiPresets.ts"
import * as LlamaServer from "../test/support/LlamaServer.ts"
import { waitForQuiet } from "./quiet.ts"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const settings = {
  model: arg("model", "bench-0.5b"),
  tokens: Number(arg("tokens", "128")),
  rounds: Number(arg("rounds", "10")),
  warmup: Number(arg("warmup", "2")),
  threads: Number(arg("threads", "2")),
  /** Longest wait (ms) for a quiet machine before each measured request; 0 to not wait. */
  quietWait: Number(arg("quiet-wait", "20000")),
  replay: Number(arg("replay", "5000"))
}
const prompt = "Tell me a long story about a lighthouse keeper and the sea."
const seed = 42
const temperature = 0.8

interface Sample {
  readonly ttftMs: number
  readonly tokensPerSecond: number
  readonly tokens: number
  readonly text: string
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const sample = (start: number, first: number, last: number, tokens: number, text: string): Sample => ({
  ttftMs: first - start,
  tokensPerSecond: tokens > 1 && last > first ? (tokens - 1) / ((last - first) / 1000) : Number.NaN,
  tokens,
  text
})

const main = Effect.gen(function*() {
  yield* Effect.promise(() => ensureLlamaTools(["llama-server"], { output: "inherit" }))
  const server = yield* LlamaServer.start({
    model: settings.model,
    parallel: 1,
    threads: settings.threads,
    contextSize: 4096
  })
  const baseURL = `${server.baseUrl}/v1`
  console.log(`bench:providers: llama-server on ${server.modelPath} (${settings.threads} threads, 1 slot)`)

  // effect-llama: the provider's LanguageModel, built once.
  const context = yield* Layer.build(
    OpenAiCompat.layer({
      ...OpenAiPresets.llamaServer,
      baseUrl: baseURL,
      model: settings.model,
      config: { maxTokens: settings.tokens, temperature, seed }
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  )
  const ours = Effect.promise(async () => {
    const start = performance.now()
    let first = 0
    let last = 0
    let text = ""
    let tokens = 0
    const exit = await Effect.runPromiseExit(
      LanguageModel.streamText({ prompt }).pipe(
        Stream.runForEach((part) =>
          Effect.sync(() => {
            if (part.type === "text-delta") {
              const now = performance.now()
              if (first === 0) first = now
              last = now
              text += part.delta
            } else if (part.type === "finish") tokens = part.usage.outputTokens.total ?? 0
          })
        ),
        Effect.provide(context)
      )
    )
    if (Exit.isFailure(exit)) throw new Error(`effect-llama stream failed: ${String(exit.cause)}`)
    return sample(start, first, last, tokens, text)
  })

  // The official client, same request.
  const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0 })
  const theirs = Effect.promise(async () => {
    const start = performance.now()
    let first = 0
    let last = 0
    let text = ""
    let tokens = 0
    const stream = await client.chat.completions.create({
      model: settings.model,
      messages: [{ role: "user", content: prompt }],
      max_tokens: settings.tokens,
      temperature,
      seed,
      stream: true,
      stream_options: { include_usage: true }
    })
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content
      if (delta !== undefined && delta !== null && delta !== "") {
        const now = performance.now()
        if (first === 0) first = now
        last = now
        text += delta
      }
      if (chunk.usage) tokens = chunk.usage.completion_tokens
    }
    return sample(start, first, last, tokens, text)
  })

  const results = { "effect-llama": [] as Array<Sample>, openai: [] as Array<Sample> }
  let noisy = 0
  for (let round = 0; round < settings.warmup + settings.rounds; round++) {
    const order = round % 2 === 0 ? (["effect-llama", "openai"] as const) : (["openai", "effect-llama"] as const)
    for (const name of order) {
      const quiet = yield* Effect.promise(() => waitForQuiet(0.25, settings.quietWait))
      if (quiet.busy > 0.25) noisy++
      const s = yield* (name === "effect-llama" ? ours : theirs)
      if (round >= settings.warmup) results[name].push(s)
    }
  }
  const a = results["effect-llama"]
  const b = results.openai
  if (a.some((s, i) => s.text !== b[i]!.text || s.tokens !== settings.tokens)) {
    console.log("bench:providers: WARNING: the two clients did not receive the same text or token count")
  }
  const row = (name: string, xs: ReadonlyArray<Sample>) =>
    `| ${name} | ${median(xs.map((s) => s.tokensPerSecond)).toFixed(2)} | ${median(xs.map((s) => s.ttftMs)).toFixed(2)} |`
  const ratio = median(a.map((s) => s.tokensPerSecond)) / median(b.map((s) => s.tokensPerSecond))
  const ttftDiff = median(a.map((s) => s.ttftMs)) - median(b.map((s) => s.ttftMs))
  if (noisy > 0) console.log(`bench:providers: WARNING: ${noisy} requests started on a busy machine (figures are noisy)`)
  console.log(`\nstreamText, ${settings.model}, ${settings.tokens} tokens, ${settings.rounds} rounds (median):\n`)
  console.log("| client | tokens/s | time to first token (ms) |")
  console.log("| --- | ---: | ---: |")
  console.log(row("effect-llama OpenAiCompat.streamText", a))
  console.log(row("openai@7 chat.completions.create (stream)", b))
  console.log(`\nratio tokens/s (effect-llama / openai): ${ratio.toFixed(3)} (target >= 0.98)`)
  console.log(`time to first token, effect-llama - openai: ${ttftDiff >= 0 ? "+" : ""}${ttftDiff.toFixed(2)} ms (target within 5 ms)`)

  // -- client cost per chunk: a replayed stream, no model --------------------------------------------------------
  const recorded = (() => {
    const frame = (delta: unknown, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "r", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`
    const frames = [frame({ role: "assistant", content: null })]
    for (let i = 0; i < settings.replay; i++) frames.push(frame({ content: ` w${i % 97}` }))
    frames.push(frame({}, "length"))
    frames.push(`data: ${JSON.stringify({ id: "r", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 5, completion_tokens: settings.replay, total_tokens: settings.replay + 5 } })}\n\ndata: [DONE]\n\n`)
    return frames
  })()
  const replayServer = createServer((request, response) => {
    request.resume()
    request.on("end", () => {
      response.writeHead(200, { "content-type": "text/event-stream" })
      // One event per write, the next one after the socket took it: llama-server's pattern, as fast as it goes.
      let i = 0
      const next = (): void => {
        if (i < recorded.length) response.write(recorded[i++]!, () => setImmediate(next))
        else response.end()
      }
      next()
    })
  })
  yield* Effect.acquireRelease(
    Effect.callback<void>((resume) => void replayServer.listen(0, "127.0.0.1", () => resume(Effect.void))),
    () => Effect.sync(() => replayServer.close())
  )
  const replayUrl = `http://127.0.0.1:${(replayServer.address() as AddressInfo).port}/v1`
  const replayContext = yield* Layer.build(
    OpenAiCompat.layer({ baseUrl: replayUrl, model: "m" }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  )
  const replayClient = new OpenAI({ baseURL: replayUrl, apiKey: "unused", maxRetries: 0 })
  const cost = {
    "effect-llama": Effect.promise(async () => {
      const start = performance.now()
      let n = 0
      await Effect.runPromise(LanguageModel.streamText({ prompt }).pipe(
        Stream.runForEach((part) => Effect.sync(() => part.type === "text-delta" && n++)),
        Effect.provide(replayContext)
      ))
      return { ms: performance.now() - start, n }
    }),
    openai: Effect.promise(async () => {
      const start = performance.now()
      let n = 0
      const stream = await replayClient.chat.completions.create({ model: "m", messages: [{ role: "user", content: prompt }], stream: true })
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) n++
      return { ms: performance.now() - start, n }
    })
  }
  const costs = { "effect-llama": [] as Array<number>, openai: [] as Array<number> }
  for (let round = 0; round < settings.warmup + settings.rounds; round++) {
    for (const name of round % 2 === 0 ? (["effect-llama", "openai"] as const) : (["openai", "effect-llama"] as const)) {
      yield* Effect.promise(() => waitForQuiet(0.25, settings.quietWait))
      const { ms, n } = yield* cost[name]
      if (n !== settings.replay) console.log(`bench:providers: WARNING: ${name} saw ${n} of ${settings.replay} chunks`)
      if (round >= settings.warmup) costs[name].push((ms * 1000) / n)
    }
  }
  console.log(`\nclient cost, a replayed stream of ${settings.replay} chunks (median µs per chunk, wall time):\n`)
  console.log("| client | µs per chunk |")
  console.log("| --- | ---: |")
  console.log(`| effect-llama OpenAiCompat.streamText | ${median(costs["effect-llama"]).toFixed(1)} |`)
  console.log(`| openai@7 chat.completions.create (stream) | ${median(costs.openai).toFixed(1)} |`)
})

// runMain: Ctrl-C interrupts the program, so the scope closes and llama-server is stopped.
NodeRuntime.runMain(Effect.scoped(main))


