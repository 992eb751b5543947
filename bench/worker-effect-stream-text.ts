/**
 * Contender "effect-llama streamText": effect-llama through the Effect `LanguageModel.streamText` path, what an
 * application written against effect/ai runs. Same context settings as worker-effect-llama.ts (one sequence);
 * the prompt tokens become the text of one user message, which the model's chat template wraps. Greedy sampling. One ManagedRuntime for the whole worker: no layer is built inside
 * a timing.
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
import type { Settings } from "./settings.ts"
import { type Contender, now, runWorker } from "./worker-harness.ts"
import type { Request } from "./workloads.ts"

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
    context: {
      contextSize: settings.contextSize,
      batchSize: settings.batchSize,
      ubatchSize: settings.ubatchSize,
      threads: settings.threads,
      threadsBatch: settings.threads,
      flashAttention: settings.flashAttention,
      sequences: 1
    },
    config: { sampling: { temperature: 0 } }
  }).pipe(Layer.provide(Native.layer))
  const runtime = ManagedRuntime.make(layer)

  const detokenize = (tokens: ReadonlyArray<number>) =>
    Effect.gen(function*() {
      const model = yield* LlamaModel
      return yield* model.detokenize(Int32Array.from(tokens))
    })
  // The tokens the chat template puts after the user's text. The part before it (Qwen's default system prompt)
  // is the same in every request, so the KV cache holds it after the warm-up: ttft leaves the suffix's count out
  // of its prompt, and the model evaluates as many new tokens as the other contenders do (checked below).
  const suffixTokens = await runtime.runPromise(Effect.gen(function*() {
    const model = yield* LlamaModel
    const render = (content: string) =>
      Effect.flatMap(model.applyChat({ messages: JSON.stringify([{ role: "user", content }]) }), (a) => model.tokenize(a.prompt))
    const empty = yield* render("")
    const marked = yield* render("x")
    let common = 0
    while (common < empty.length && empty[common] === marked[common]) common++
    return empty.length - common
  }))

  // A random-weight model rarely ends its turn within the count; the rate is taken over the tokens it generated.
  const stream = (tokens: ReadonlyArray<number>, maxTokens: number) =>
    Effect.gen(function*() {
      const prompt = yield* detokenize(tokens)
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
  await runtime.runPromise(stream([], 1))

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
        const run = await runtime.runPromise(stream(request.tokens.slice(0, n - suffixTokens), 1))
        // Detokenized random tokens tokenize back to about as many; far off, the comparison would not hold.
        if (Math.abs(run.uncachedTokens - n) > n / 16) {
          throw new Error(`ttft: ${run.uncachedTokens} prompt tokens evaluated instead of about ${n}`)
        }
        return { milliseconds: run.firstDeltaAt - run.startAt, promptTokens: run.uncachedTokens }
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
