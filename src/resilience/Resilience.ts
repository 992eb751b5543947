/**
 * One wrapper for any `LanguageModel` or `EmbeddingModel` layer, local or remote: the policies of `Policy`
 * (deadline, bulkhead, retries with backoff on retryable reasons only, per-attempt timeout, circuit breaker per
 * provider and model, rate limit) around every call, with their defaults from the execution profile in context.
 * And `fallback`: a chain of model layers tried in order (remote, then local), on effect's `ExecutionPlan`.
 *
 *   const Remote = OpenAiCompat.layer({ ... }).pipe(Resilience.languageModel({ rateLimit: { requests: { limit: 60, window: "1 minute" } } }))
 *   const Model = Resilience.fallback([Remote, Local])
 *
 * Retrying happens around the whole `generateText` call, tool-call resolution included: a retry asks the model
 * again (which a failed provider call or an undecodable tool call needs); a tool handler's own failure is never
 * retried, since only `AiError`s are.
 *
 * @since 0.2.0
 */
import { Context, Effect, ExecutionPlan, Function, Layer, Option, Stream } from "effect"
import { type AiError, EmbeddingModel, LanguageModel, Model, type Response } from "effect/ai"
import type { CircuitBreaker } from "effect/persistence"
import * as ExecutionProfile from "./ExecutionProfile.ts"
import * as Policy from "./Policy.ts"

// ============================================================================
// Service
// ============================================================================

/**
 * What a wrapped language model exposes about its policies: the key, the circuit's state and transitions,
 * the retries made.
 *
 * @category models
 * @since 0.2.0
 */
export interface Service {
  readonly key: string
  readonly settings: Policy.Settings
  readonly circuitState: Effect.Effect<Policy.CircuitState>
  readonly transitions: Stream.Stream<CircuitBreaker.Transition>
  readonly retries: Effect.Effect<number>
}

/**
 * Provided next to the `LanguageModel` by `languageModel`, for `LlmClient` statistics and health checks.
 *
 * @category services
 * @since 0.2.0
 */
export class Resilience extends Context.Service<Resilience, Service>()("effect-llama/Resilience") {}

// ============================================================================
// Wrappers
// ============================================================================

const estimateTokens = (prompt: unknown): number => {
  const text = typeof prompt === "string" ? prompt : JSON.stringify(prompt) ?? ""
  return Math.ceil(text.length / 4)
}

const usedTokens = (usage: Response.Usage | typeof Response.Usage.Encoded): number | undefined => {
  const input = usage.inputTokens.total
  const output = usage.outputTokens.total
  return input === undefined && output === undefined ? undefined : (input ?? 0) + (output ?? 0)
}

const keyOf = (context: Context.Context<never>, fallbackKey: string): string => {
  const provider = Context.getOption(context, Model.ProviderName)
  const name = Context.getOption(context, Model.ModelName)
  return Option.isSome(provider) && Option.isSome(name) ? `${provider.value}/${name.value}` : fallbackKey
}

/**
 * `inner` with `policy` around each of its calls.
 *
 * @category constructors
 * @since 0.2.0
 */
export const wrapLanguageModel = (inner: LanguageModel.LanguageModel, policy: Policy.Policy): LanguageModel.LanguageModel => {
  const model = inner as unknown as {
    readonly generateText: (options: { readonly prompt: unknown }) => Effect.Effect<LanguageModel.GenerateTextResponse<any>, unknown, unknown>
    readonly generateObject: (options: { readonly prompt: unknown }) => Effect.Effect<LanguageModel.GenerateTextResponse<any>, unknown, unknown>
    readonly streamText: (options: { readonly prompt: unknown }) => Stream.Stream<Response.StreamPart<any>, unknown, unknown>
  }
  const wrapped = {
    ...inner,
    generateText: (options: { readonly prompt: unknown }) =>
      policy.run(model.generateText(options), {
        method: "generateText",
        tokens: estimateTokens(options.prompt),
        usage: (response) => usedTokens(response.usage)
      }),
    generateObject: (options: { readonly prompt: unknown }) =>
      policy.run(model.generateObject(options), {
        method: "generateObject",
        tokens: estimateTokens(options.prompt),
        usage: (response) => usedTokens(response.usage)
      }),
    streamText: (options: { readonly prompt: unknown }) =>
      policy.stream(model.streamText(options), {
        method: "streamText",
        tokens: estimateTokens(options.prompt),
        usage: (part) => (part.type === "finish" ? usedTokens(part.usage) : undefined)
      })
  }
  return wrapped as unknown as LanguageModel.LanguageModel
}

/**
 * `inner` with `policy` around each `embedMany` batch (concurrent `embed` calls still batch first).
 *
 * @category constructors
 * @since 0.2.0
 */
export const wrapEmbeddingModel = (
  inner: EmbeddingModel.EmbeddingModel,
  policy: Policy.Policy
): Effect.Effect<EmbeddingModel.EmbeddingModel> =>
  EmbeddingModel.make({
    embedMany: ({ inputs }) =>
      policy.run(
        Effect.map(inner.embedMany(inputs), (response) => ({
          results: response.embeddings.map((e) => [...e.vector]),
          usage: { inputTokens: response.usage.inputTokens }
        })),
        { method: "embedMany", tokens: estimateTokens(inputs), usage: (r) => r.usage.inputTokens }
      )
  })

const policyFor = (context: Context.Context<never>, options: Policy.Options, fallbackKey: string) =>
  Effect.gen(function*() {
    const profile = options.profile ?? (yield* ExecutionProfile.CurrentExecutionProfile)
    return yield* Policy.make(Policy.resolve(options, profile, keyOf(context, fallbackKey)))
  })

/**
 * Wraps the `LanguageModel` of `self` in the policies; also provides `Resilience` (circuit state, retries).
 * Defaults come from the execution profile in the layer's context (`ExecutionProfile.layer(...)`).
 *
 * @category layers
 * @since 0.2.0
 */
export const languageModel: {
  (options?: Policy.Options): <E, R>(self: Layer.Layer<LanguageModel.LanguageModel, E, R>) => Layer.Layer<LanguageModel.LanguageModel | Resilience, E, R>
  <E, R>(self: Layer.Layer<LanguageModel.LanguageModel, E, R>, options?: Policy.Options): Layer.Layer<LanguageModel.LanguageModel | Resilience, E, R>
} = Function.dual(
  (args) => Layer.isLayer(args[0]),
  <E, R>(self: Layer.Layer<LanguageModel.LanguageModel, E, R>, options: Policy.Options = {}) =>
    Layer.flatMap(self, (context) =>
      Layer.effectContext(Effect.gen(function*() {
        const policy = yield* policyFor(context as Context.Context<never>, options, "language-model")
        const resilience: Service = {
          key: policy.settings.key,
          settings: policy.settings,
          circuitState: policy.circuitState,
          transitions: policy.transitions,
          retries: policy.retries
        }
        const inner = Context.get(context, LanguageModel.LanguageModel)
        return context.pipe(
          Context.add(LanguageModel.LanguageModel, wrapLanguageModel(inner, policy)),
          Context.add(Resilience, resilience)
        )
      })))
)

/**
 * Wraps the `EmbeddingModel` of `self` in the policies.
 *
 * @category layers
 * @since 0.2.0
 */
export const embeddingModel: {
  (options?: Policy.Options): <E, R>(self: Layer.Layer<EmbeddingModel.EmbeddingModel, E, R>) => Layer.Layer<EmbeddingModel.EmbeddingModel, E, R>
  <E, R>(self: Layer.Layer<EmbeddingModel.EmbeddingModel, E, R>, options?: Policy.Options): Layer.Layer<EmbeddingModel.EmbeddingModel, E, R>
} = Function.dual(
  (args) => Layer.isLayer(args[0]),
  <E, R>(self: Layer.Layer<EmbeddingModel.EmbeddingModel, E, R>, options: Policy.Options = {}) =>
    Layer.flatMap(self, (context) =>
      Layer.effectContext(Effect.gen(function*() {
        const policy = yield* policyFor(context as Context.Context<never>, options, "embedding-model")
        const wrapped = yield* wrapEmbeddingModel(Context.get(context, EmbeddingModel.EmbeddingModel), policy)
        return Context.add(context, EmbeddingModel.EmbeddingModel, wrapped)
      })))
)

// ============================================================================
// Fallback
// ============================================================================

/**
 * Options of `fallback`.
 *
 * @category models
 * @since 0.2.0
 */
export interface FallbackOptions {
  /** Whether a failure moves on to the next model. Default: any `AiError` (a tool handler's failure does not). */
  readonly when?: ((error: unknown) => boolean) | undefined
}

let fallbacks = 0

/**
 * A `LanguageModel` that tries `layers` in order: a call that fails on one (after that layer's own policies)
 * runs on the next. A stream moves on only when it failed before its first part, so text is never mixed.
 *
 * @category layers
 * @since 0.2.0
 */
export const fallback = <E, R>(
  layers: readonly [Layer.Layer<LanguageModel.LanguageModel, E, R>, ...Array<Layer.Layer<LanguageModel.LanguageModel, E, R>>],
  options: FallbackOptions = {}
): Layer.Layer<LanguageModel.LanguageModel, E, R> => {
  const id = ++fallbacks
  const steps = layers.map((layer, i) => {
    const tag = Context.Service<LanguageModel.LanguageModel>(`effect-llama/Resilience/fallback/${id}/${i}`)
    return { tag, layer: Layer.flatMap(layer, (context) => Layer.succeed(tag, Context.get(context, LanguageModel.LanguageModel))) }
  })
  const when = options.when ?? ((error: unknown) => typeof error === "object" && error !== null && (error as AiError.AiError)._tag === "AiError")
  const build = Effect.gen(function*() {
    const models = yield* Effect.forEach(steps, (step) => Effect.service(step.tag))
    const [first, ...rest] = models.map((model, i) => ({
      provide: Context.make(LanguageModel.LanguageModel, model),
      ...(i === 0 ? {} : { while: when })
    }))
    const plan = ExecutionPlan.make(first!, ...rest)
    const fallbackModel = {
      ...models[0]!,
      generateText: (o: never) => Effect.withExecutionPlan(LanguageModel.generateText(o), plan),
      generateObject: (o: never) => Effect.withExecutionPlan(LanguageModel.generateObject(o), plan),
      streamText: (o: never) =>
        Stream.withExecutionPlan(LanguageModel.streamText(o), plan, { preventFallbackOnPartialStream: true })
    }
    return fallbackModel as unknown as LanguageModel.LanguageModel
  })
  const merged = Layer.mergeAll(...(steps.map((s) => s.layer) as unknown as [Layer.Layer<never, E, R>]))
  return Layer.effect(LanguageModel.LanguageModel, build).pipe(Layer.provide(merged)) as Layer.Layer<
    LanguageModel.LanguageModel,
    E,
    R
  >
}
