/**
 * Metrics and model-call instrumentation. `metrics` holds every series effect-llama records (model requests,
 * tokens, latency, time to first token, agent runs and steps, tool calls, workflow nodes, work in flight; the
 * context's queue depth is `LlamaContext.metrics.queueDepth`). `languageModel` wraps any `LanguageModel` layer so
 * each call counts a request by outcome, its tokens and its latency, and its span gets the GenAI attributes
 * (`GenAi.spanTransformer`). Export them with `OtlpExport` and `Prometheus`, or all at once with `EffectLlama.layer`.
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Exit, Function, Layer, Metric, Option, Stream } from "effect"
import { LanguageModel, Model, type Response, Telemetry as AiTelemetry } from "effect/ai"
import { LlamaModel } from "../llama/LlamaModel.ts"
import * as GenAi from "./GenAi.ts"

// ============================================================================
// Metrics
// ============================================================================

const latencyBoundaries = Metric.exponentialBoundaries({ start: 5, factor: 2, count: 14 }) // 5 ms .. ~41 s

/**
 * The series effect-llama records. Attributes: `provider`, `model`, `operation`, `outcome` on model calls;
 * `type` (`input` / `output`) on tokens; `agent`, `reason` on agent runs; `tool`, `outcome` on tool calls;
 * `workflow`, `kind`, `status` on workflow nodes.
 *
 * @category metrics
 * @since 0.2.0
 */
export const metrics = {
  modelRequests: Metric.counter("effect_llama_model_requests_total", {
    description: "model calls (generateText, generateObject, streamText) by outcome"
  }),
  modelTokens: Metric.counter("effect_llama_model_tokens_total", { description: "tokens in and out of model calls" }),
  modelDuration: Metric.histogram("effect_llama_model_duration_ms", {
    description: "time per model call, in milliseconds",
    boundaries: latencyBoundaries
  }),
  timeToFirstToken: Metric.histogram("effect_llama_model_time_to_first_token_ms", {
    description: "time from a streamed call to its first text, in milliseconds",
    boundaries: latencyBoundaries
  }),
  agentRuns: Metric.counter("effect_llama_agent_runs_total", { description: "agent runs finished, by reason" }),
  agentSteps: Metric.counter("effect_llama_agent_steps_total", { description: "agent steps (model calls of a run)" }),
  toolCalls: Metric.counter("effect_llama_agent_tool_calls_total", {
    description: "tool calls made by agents, by tool and outcome"
  }),
  toolDuration: Metric.histogram("effect_llama_agent_tool_duration_ms", {
    description: "time per agent tool call, in milliseconds",
    boundaries: latencyBoundaries
  }),
  workflowNodes: Metric.counter("effect_llama_workflow_nodes_total", {
    description: "workflow nodes finished, by kind and status"
  }),
  inFlight: Metric.gauge("effect_llama_in_flight", { description: "work admitted by the Lifecycle and not finished" })
}

// ============================================================================
// Model calls
// ============================================================================

/**
 * The names a wrapped model's series and spans carry.
 *
 * @category models
 * @since 0.2.0
 */
export interface Labels {
  readonly provider: string
  readonly model: string
}

type Operation = "generateText" | "generateObject" | "streamText"

const outcomeOf = (exit: Exit.Exit<unknown, unknown>) =>
  Exit.isSuccess(exit) ? "success" : Exit.hasInterrupts(exit) ? "interrupted" : "failure"

const record = (labels: Labels, operation: Operation, outcome: string, startedAt: number, usage: {
  readonly inputTokens: number
  readonly outputTokens: number
} | undefined) =>
  Effect.gen(function*() {
    const base = { provider: labels.provider, model: labels.model }
    yield* Metric.update(Metric.withAttributes(metrics.modelRequests, { ...base, operation, outcome }), 1)
    yield* Metric.update(
      Metric.withAttributes(metrics.modelDuration, { ...base, operation }),
      (yield* Clock.currentTimeMillis) - startedAt
    )
    if (usage !== undefined) {
      yield* Metric.update(Metric.withAttributes(metrics.modelTokens, { ...base, type: "input" }), usage.inputTokens)
      yield* Metric.update(Metric.withAttributes(metrics.modelTokens, { ...base, type: "output" }), usage.outputTokens)
    }
  })

// The model's names also go on its spans (before the call, so a failed call carries them too).
const transformerFor = (labels: Labels): AiTelemetry.SpanTransformer => (options) => {
  options.span.attribute(GenAi.attributes.providerName, labels.provider)
  if (!options.span.attributes.has(GenAi.attributes.requestModel)) {
    options.span.attribute(GenAi.attributes.requestModel, labels.model)
  }
  GenAi.spanTransformer(options)
}

const usageOfResponse = (response: { readonly usage: Response.Usage }) => ({
  inputTokens: response.usage.inputTokens.total ?? 0,
  outputTokens: response.usage.outputTokens.total ?? 0
})

/**
 * `inner` with every call counted (requests by outcome, tokens, latency, time to first token) and its span
 * annotated with the GenAI attributes.
 *
 * @category constructors
 * @since 0.2.0
 */
export const wrapLanguageModel = (inner: LanguageModel.LanguageModel, labels: Labels): LanguageModel.LanguageModel => {
  const model = inner as unknown as {
    readonly generateText: (options: unknown) => Effect.Effect<LanguageModel.GenerateTextResponse<any>, unknown, unknown>
    readonly generateObject: (options: unknown) => Effect.Effect<LanguageModel.GenerateTextResponse<any>, unknown, unknown>
    readonly streamText: (options: unknown) => Stream.Stream<Response.StreamPart<any>, unknown, unknown>
  }
  const transformer = transformerFor(labels)
  const call = (operation: "generateText" | "generateObject") => (options: unknown) =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const exit = yield* Effect.exit(
        model[operation](options).pipe(Effect.provideService(AiTelemetry.CurrentSpanTransformer, transformer))
      )
      yield* record(labels, operation, outcomeOf(exit), start, Exit.isSuccess(exit) ? usageOfResponse(exit.value) : undefined)
      return yield* exit
    })
  const streamText = (options: unknown) =>
    Stream.unwrap(Effect.map(Clock.currentTimeMillis, (start) => {
      let first = true
      let usage: { inputTokens: number; outputTokens: number } | undefined
      return model.streamText(options).pipe(
        Stream.tap((part) =>
          Effect.gen(function*() {
            if (first && (part.type === "text-delta" || part.type === "tool-call" || part.type === "reasoning-delta")) {
              first = false
              const now = yield* Clock.currentTimeMillis
              yield* Metric.update(
                Metric.withAttributes(metrics.timeToFirstToken, { provider: labels.provider, model: labels.model }),
                now - start
              )
            }
            if (part.type === "finish") {
              usage = {
                inputTokens: (usage?.inputTokens ?? 0) + (part.usage.inputTokens.total ?? 0),
                outputTokens: (usage?.outputTokens ?? 0) + (part.usage.outputTokens.total ?? 0)
              }
            }
          })
        ),
        Stream.onExit((exit) => record(labels, "streamText", outcomeOf(exit), start, usage)),
        Stream.provideService(AiTelemetry.CurrentSpanTransformer, transformer)
      )
    }))
  return {
    ...inner,
    generateText: call("generateText"),
    generateObject: call("generateObject"),
    streamText
  } as unknown as LanguageModel.LanguageModel
}

/**
 * The labels of the model a layer provides: its effect/ai `Model` names, or the local model's name, or `fallback`.
 *
 * @category accessors
 * @since 0.2.0
 */
export const labelsOf = (context: Context.Context<never>, fallback: Partial<Labels> = {}): Labels => {
  const provider = Context.getOption(context, Model.ProviderName)
  const name = Context.getOption(context, Model.ModelName)
  const local = Context.getOption(context, LlamaModel)
  const localName = Option.map(local, (m) => (m.info.name !== "" ? m.info.name : m.info.path))
  return {
    provider: fallback.provider ?? Option.getOrElse(provider, () => (Option.isSome(local) ? "llama.cpp" : "unknown")),
    model: fallback.model ?? Option.getOrElse(name, () => Option.getOrElse(localName, () => "unknown"))
  }
}

/**
 * Wraps the `LanguageModel` of `self` (see `wrapLanguageModel`). The labels default to the layer's effect/ai
 * `Model` names, or the local model's (`provider: "llama.cpp"`).
 *
 * @category layers
 * @since 0.2.0
 */
export const languageModel: {
  (labels?: Partial<Labels>): <A, E, R>(self: Layer.Layer<A, E, R>) => Layer.Layer<A, E, R>
  <A, E, R>(self: Layer.Layer<A, E, R>, labels?: Partial<Labels>): Layer.Layer<A, E, R>
} = Function.dual(
  (args) => Layer.isLayer(args[0]),
  <A, E, R>(self: Layer.Layer<A, E, R>, labels: Partial<Labels> = {}): Layer.Layer<A, E, R> =>
    Layer.flatMap(self, (context) => {
      const ctx = context as Context.Context<never>
      const inner = Context.getOption(ctx, LanguageModel.LanguageModel)
      if (Option.isNone(inner)) return Layer.succeedContext(context)
      return Layer.succeedContext(
        Context.add(ctx, LanguageModel.LanguageModel, wrapLanguageModel(inner.value, labelsOf(ctx, labels)))
      ) as unknown as Layer.Layer<A>
    })
)
