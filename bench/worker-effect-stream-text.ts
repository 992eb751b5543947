/**
 * Contender "effect-llama streamText": effect-llama through the Effect `LanguageModel.streamText` path, what an
 * application written against effect/ai runs. Same context settings as worker-effect-llama.ts (one sequence);
 * the prompt tokens become the text of one user message, which the model's chat template wraps. Greedy sampling.
 * One ManagedRuntime for the whole worker: no layer is built inside a timing.
 *
 * Compared with the raw native path (worker-effect-llama.ts), every token here also goes through the Effect
 * Stream with its backpressure window and acks, the incremental chat parse (common/chat, as llama-server does
 * for streaming) and the effect/ai response parts.
 */
import { Effect, Layer, ManagedRuntime, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import * as LlamaLanguageModel from "../src/ai/LlamaLanguageModel.ts"
import { LlamaModel } from "../src/llama/LlamaModel.ts"
import * as Native from "../src/native/Native.ts"
import { effectLlamaContextOptions, type Settings } from "./settings.ts"
import { type Contender, now, runWorker } from "./worker-harness.ts"
import { randomTokens, type Request } from "./workloads.ts"

interface Run {
  readonly startAt: number
  readonly firstDeltaAt: number
  readonly endAt: number
  readonly outputTokens: number
  /** Prompt tokens evaluated, i.e. not taken from the KV cache. */
  readonly uncachedTokens: number
}

const create = async (settings: Settings): Promise<Contender> => {
  const layer = LlamaLanguageModel.layerModel({
    path: settings.modelPath,
    context: { ...effectLlamaContextOptions(settings), sequences: 1 },
    config: { sampling: { temperature: 0 } }
  }).pipe(Layer.provide(Native.layer))
  const runtime = ManagedRuntime.make(layer)

  // The tokens as text. Detokenized random tokens can tokenize back to more tokens than they were (up to a tenth
  // more here); `tokenCount` drops tokens from the end until the text tokenizes back to at most that many.
  const asText = (tokens: ReadonlyArray<number>, tokenCount = tokens.length) =>
    Effect.gen(function*() {
      const model = yield* LlamaModel
      for (let k = Math.min(tokens.length, tokenCount); ; k--) {
        const text = yield* model.detokenize(Int32Array.from(tokens.slice(0, k)))
        if (k === 0 || (yield* model.tokenize(text, { addSpecial: false })).length <= tokenCount) return text
      }
    })
  // The tokens the chat template puts after the user's text. The part before it (Qwen's default system prompt)
  // is the same in every request, so the KV cache holds it after the warm-up: ttft leaves the suffix's count out
  // of its prompt, and the model evaluates as many new tokens as the other contenders do (checked below).
  const suffixTokens = await runtime.runPromise(Effect.gen(function*() {
    const model = yield* LlamaModel
    const render = (content: string) =>
      Effect.flatMap(model.applyChat({ messages: JSON.stringify([{ role: "user", content }]) }), (a) => model.tokenize(a.prompt, { parseSpecial: true }))
    const empty = yield* render("")
    const marked = yield* render("x")
    let common = 0
    while (common < empty.length && empty[common] === marked[common]) common++
    return empty.length - common
  }))

  // A random-weight model rarely ends its turn within the count; the rate is taken over the tokens it generated.
  const stream = (tokens: ReadonlyArray<number>, maxTokens: number, tokenCount = tokens.length) =>
    Effect.gen(function*() {
      const prompt = yield* asText(tokens, tokenCount)
      const startAt = now()
      let firstDeltaAt = 0
      let outputTokens = 0
      let uncachedTokens = 0
      yield* LanguageModel.streamText({ prompt }).pipe(
        Stream.runForEach((part) =>
          Effect.sync(() => {
            if (part.type === "text-delta" && firstDeltaAt === 0) firstDeltaAt = now()
            if (part.type === "finish") {
              outputTokens = part.usage.outputTokens.total ?? 0
              uncachedTokens = part.usage.inputTokens.uncached ?? 0
            }
          })
        ),
        LlamaLanguageModel.withConfigOverride({ maxTokens })
      )
      return { startAt, firstDeltaAt, endAt: now(), outputTokens, uncachedTokens } satisfies Run
    })

  // Puts the template's fixed prefix into the KV cache, as any earlier chat request would have.
  await runtime.runPromise(stream(randomTokens(0xcafe, 8), 1))

  const handle = async (request: Request) => {
    switch (request.kind) {
      case "tg": {
        const run = await runtime.runPromise(stream(request.tokens, request.count))
        if (run.outputTokens < request.count / 2) {
          throw new Error(`tg: the model ended its turn after ${run.outputTokens} of ${request.count} tokens`)
        }
        return { tokensPerSecond: (run.outputTokens - 1) / ((run.endAt - run.firstDeltaAt) / 1000) }
      }
      case "ttft": {
        const n = request.tokens.length
        const run = await runtime.runPromise(stream(request.tokens, 1, n - suffixTokens))
        // The text fits n - suffix tokens; it may tokenize to a few fewer, and the template's tokens may merge.
        if (Math.abs(run.uncachedTokens - n) > n / 16) {
          throw new Error(`ttft: ${run.uncachedTokens} prompt tokens evaluated instead of about ${n}`)
        }
        return { milliseconds: run.firstDeltaAt - run.startAt }
      }
      default:
        return undefined
    }
  }

  return {
    info: {
      path: "LanguageModel.streamText over LlamaLanguageModel.layerModel (src/ai)",
      prompt: "the request's tokens, detokenized, as one user message in the model's chat template; ttft leaves " +
        `out as many tokens as the template adds after the message (${suffixTokens}), and its cached prefix is reused`
    },
    handle,
    dispose: () => runtime.dispose()
  }
}

await runWorker(create)
