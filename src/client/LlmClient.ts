/**
 * A client over any `LanguageModel` (local, remote, wrapped in resilience policies, a fallback chain), in the
 * shape of GraphBit's `LlmClient`: `complete`, `completeFull`, `completeStream`, `completeBatch` (results in
 * input order, one `Exit` each), `chat`, `warmup`, and `stats` / `resetStats` (requests, successes, failures,
 * retries, circuit state, latency average and percentiles, tokens in and out). The counts are Effect metrics
 * (attribute `client`), so they also reach a metrics exporter; `resetStats` restarts what `stats` reports.
 *
 * @since 0.2.0
 */
import { Context, Duration, Effect, Exit, Layer, Metric, Option, Stream } from "effect"
import { type AiError, LanguageModel, type Prompt, type Response, type Toolkit } from "effect/ai"
import type { CircuitState } from "../resilience/Policy.ts"
import { Resilience } from "../resilience/Resilience.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * One tool call the model asked for (not run: `completeFull` returns calls, it does not execute them).
 *
 * @category models
 * @since 0.2.0
 */
export interface ToolCall {
  readonly id: string
  readonly name: string
  readonly params: unknown
}

/**
 * A whole completion.
 *
 * @category models
 * @since 0.2.0
 */
export interface Completion {
  readonly text: string
  readonly reasoning: string | undefined
  readonly toolCalls: ReadonlyArray<ToolCall>
  readonly finishReason: Response.FinishReason
  readonly usage: Response.Usage
}

/**
 * A chat message.
 *
 * @category models
 * @since 0.2.0
 */
export interface Message {
  readonly role: "system" | "user" | "assistant"
  readonly content: string
}

/**
 * What the client has seen since it was made or last reset.
 *
 * @category models
 * @since 0.2.0
 */
export interface Stats {
  readonly requests: number
  readonly successes: number
  readonly failures: number
  /** Retries by the resilience wrapper, when the model has one. */
  readonly retries: number
  /** The wrapper's circuit, `Disabled` without one. */
  readonly circuit: CircuitState
  readonly averageLatencyMs: number
  readonly p50LatencyMs: number
  readonly p95LatencyMs: number
  readonly inputTokens: number
  readonly outputTokens: number
}

/**
 * Per-call options: a toolkit whose tools the model may call (the calls are returned, not run), and how it may
 * choose among them.
 *
 * @category models
 * @since 0.2.0
 */
export interface CallOptions {
  readonly toolkit?: Toolkit.Any | undefined
  readonly toolChoice?: LanguageModel.ToolChoice<string> | undefined
}

// ============================================================================
// Service
// ============================================================================

/**
 * The client.
 *
 * @category models
 * @since 0.2.0
 */
export interface Service {
  /** The text of a completion. */
  readonly complete: (prompt: Prompt.RawInput, options?: CallOptions) => Effect.Effect<string, AiError.AiError>
  /** Text, tool calls, usage and finish reason. */
  readonly completeFull: (prompt: Prompt.RawInput, options?: CallOptions) => Effect.Effect<Completion, AiError.AiError>
  /** The text as it is generated. */
  readonly completeStream: (prompt: Prompt.RawInput) => Stream.Stream<string, AiError.AiError>
  /** Every prompt, `concurrency` at a time (default 4); each result is an `Exit`, in input order. */
  readonly completeBatch: (
    prompts: ReadonlyArray<Prompt.RawInput>,
    options?: { readonly concurrency?: number | undefined }
  ) => Effect.Effect<Array<Exit.Exit<Completion, AiError.AiError>>>
  /** A completion of a conversation. */
  readonly chat: (messages: ReadonlyArray<Message>, options?: CallOptions) => Effect.Effect<Completion, AiError.AiError>
  /** One short request, so that the first real one does not pay for connection setup or a model load. */
  readonly warmup: Effect.Effect<void, AiError.AiError>
  readonly stats: Effect.Effect<Stats>
  readonly resetStats: Effect.Effect<void>
}

/**
 * The client service.
 *
 * @category services
 * @since 0.2.0
 */
export class LlmClient extends Context.Service<LlmClient, Service>()("effect-llama/LlmClient") {}

// ============================================================================
// Metrics
// ============================================================================

/**
 * The client's metrics (attribute `client`).
 *
 * @category metrics
 * @since 0.2.0
 */
export const metrics = {
  requests: Metric.counter("effect_llama_llm_client_requests_total", { description: "calls made by LlmClient" }),
  successes: Metric.counter("effect_llama_llm_client_successes_total", { description: "calls that succeeded" }),
  failures: Metric.counter("effect_llama_llm_client_failures_total", { description: "calls that failed" }),
  inputTokens: Metric.counter("effect_llama_llm_client_input_tokens_total", { description: "prompt tokens reported" }),
  outputTokens: Metric.counter("effect_llama_llm_client_output_tokens_total", { description: "generated tokens reported" }),
  latency: Metric.timer("effect_llama_llm_client_latency", { description: "time per call" })
}

const completionOf = (response: LanguageModel.GenerateTextResponse<any, any>): Completion => ({
  text: response.text,
  reasoning: response.reasoningText,
  toolCalls: response.toolCalls.map((call) => ({ id: call.id, name: call.name, params: call.params })),
  finishReason: response.finishReason,
  usage: response.usage
})

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!

// ============================================================================
// Constructor
// ============================================================================

/**
 * Builds a client over the `LanguageModel` in context. `name` is the metrics attribute (default `"default"`);
 * `latencySamples` bounds the window the percentiles are computed over (default 1000 calls).
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = Effect.fnUntraced(function*(options: {
  readonly name?: string | undefined
  readonly latencySamples?: number | undefined
} = {}): Effect.fn.Return<Service, never, LanguageModel.LanguageModel> {
  const model = yield* LanguageModel.LanguageModel
  const resilience = yield* Effect.serviceOption(Resilience)
  const attributes = { client: options.name ?? "default" }
  const m = {
    requests: Metric.withAttributes(metrics.requests, attributes),
    successes: Metric.withAttributes(metrics.successes, attributes),
    failures: Metric.withAttributes(metrics.failures, attributes),
    inputTokens: Metric.withAttributes(metrics.inputTokens, attributes),
    outputTokens: Metric.withAttributes(metrics.outputTokens, attributes),
    latency: Metric.withAttributes(metrics.latency, attributes)
  }
  const maxSamples = Math.max(1, options.latencySamples ?? 1000)
  const counters = [m.requests, m.successes, m.failures, m.inputTokens, m.outputTokens] as const
  const read = Effect.gen(function*() {
    const values = yield* Effect.forEach(counters, (counter) => Effect.map(Metric.value(counter), (s) => s.count))
    const retries = Option.isSome(resilience) ? yield* resilience.value.retries : 0
    return { values, retries }
  })
  let baseline = yield* read
  let samples: Array<number> = []

  const record = (started: number, usage: Response.Usage | undefined, ok: boolean) =>
    Effect.gen(function*() {
      const ms = performance.now() - started
      samples.push(ms)
      if (samples.length > maxSamples) samples = samples.slice(-maxSamples)
      yield* Metric.update(m.latency, Duration.millis(ms))
      yield* Metric.update(ok ? m.successes : m.failures, 1)
      if (usage !== undefined) {
        yield* Metric.update(m.inputTokens, usage.inputTokens.total ?? 0)
        yield* Metric.update(m.outputTokens, usage.outputTokens.total ?? 0)
      }
    })

  const measured = <A>(effect: Effect.Effect<A, AiError.AiError>, usage: (a: A) => Response.Usage) =>
    Effect.suspend(() => {
      const started = performance.now()
      return Metric.update(m.requests, 1).pipe(
        Effect.andThen(effect),
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? record(started, usage(exit.value), true)
            : Exit.hasInterrupts(exit) ? Effect.void : record(started, undefined, false)
        )
      )
    })

  const completeFull = (prompt: Prompt.RawInput, callOptions: CallOptions = {}) =>
    measured(
      Effect.map(
        (callOptions.toolkit === undefined
          ? model.generateText({ prompt })
          : model.generateText({
            prompt,
            toolkit: callOptions.toolkit as never,
            disableToolCallResolution: true,
            ...(callOptions.toolChoice === undefined ? {} : { toolChoice: callOptions.toolChoice as never })
          })) as Effect.Effect<LanguageModel.GenerateTextResponse<any, any>, AiError.AiError>,
        completionOf
      ),
      (completion) => completion.usage
    )

  const completeStream = (prompt: Prompt.RawInput): Stream.Stream<string, AiError.AiError> =>
    Stream.suspend(() => {
      const started = performance.now()
      let usage: Response.Usage | undefined
      return Stream.unwrap(Effect.as(Metric.update(m.requests, 1), model.streamText({ prompt }))).pipe(
        Stream.filter((part): part is Response.TextDeltaPart => {
          if (part.type === "finish") usage = part.usage
          return part.type === "text-delta"
        }),
        Stream.map((part) => part.delta),
        Stream.onExit((exit) =>
          Exit.isSuccess(exit)
            ? record(started, usage, true)
            : Exit.hasInterrupts(exit) ? Effect.void : record(started, undefined, false)
        )
      )
    })

  const stats: Effect.Effect<Stats> = Effect.gen(function*() {
    const now = yield* read
    const [requests, successes, failures, inputTokens, outputTokens] = now.values.map((v, i) => v - baseline.values[i]!)
    const sorted = [...samples].sort((a, b) => a - b)
    return {
      requests: requests!,
      successes: successes!,
      failures: failures!,
      retries: now.retries - baseline.retries,
      circuit: Option.isSome(resilience) ? yield* resilience.value.circuitState : "Disabled",
      averageLatencyMs: sorted.length === 0 ? 0 : sorted.reduce((a, b) => a + b, 0) / sorted.length,
      p50LatencyMs: percentile(sorted, 0.5),
      p95LatencyMs: percentile(sorted, 0.95),
      inputTokens: inputTokens!,
      outputTokens: outputTokens!
    }
  })

  return LlmClient.of({
    complete: (prompt, callOptions) => Effect.map(completeFull(prompt, callOptions), (c) => c.text),
    completeFull,
    completeStream,
    completeBatch: (prompts, batchOptions) =>
      Effect.forEach(prompts, (prompt) => Effect.exit(completeFull(prompt)), { concurrency: batchOptions?.concurrency ?? 4 }),
    chat: (messages, callOptions) => completeFull(messages as ReadonlyArray<Prompt.MessageEncoded>, callOptions),
    warmup: Effect.asVoid(model.generateText({ prompt: "Hi" })),
    stats,
    resetStats: Effect.gen(function*() {
      baseline = yield* read
      samples = []
    })
  })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * The client over the `LanguageModel` in context.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Parameters<typeof make>[0] = {}): Layer.Layer<LlmClient, never, LanguageModel.LanguageModel> =>
  Layer.effect(LlmClient, make(options))
