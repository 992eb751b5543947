/**
 * `ToolRegistry`: the tools of a program in one place, with a category, a version and an enabled flag each.
 * Tools can be listed, enabled and disabled at runtime, executed directly, and offered to a model as a Toolkit of
 * the enabled ones. Every call, direct or from a model, updates per-tool Effect Metrics.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Context, Duration, Effect, Layer, Metric, Option, Ref, Stream } from "effect"
import { type AiError, type Tool, Toolkit } from "effect/ai"
import type * as AgentTool from "./AgentTool.ts"
import { ToolRegistryError } from "./ToolRegistryError.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * What the registry knows about a tool.
 *
 * @category models
 * @since 0.1.0
 */
export interface ToolInfo {
  readonly name: string
  readonly description: string
  readonly category: string
  readonly version: string
  readonly enabled: boolean
}

/**
 * The outcome of `execute`: the encoded (JSON) result, or the encoded failure, and how long the call took.
 * Bad arguments and handler failures are `success: false`, not errors of the Effect.
 *
 * @category models
 * @since 0.1.0
 */
export type ExecuteResult =
  | { readonly success: true; readonly data: unknown; readonly durationMillis: number }
  | { readonly success: false; readonly error: unknown; readonly durationMillis: number }

/**
 * The metric values of one tool.
 *
 * @category models
 * @since 0.1.0
 */
export interface ToolMetrics {
  readonly calls: number
  readonly successes: number
  readonly failures: number
  readonly duration: Metric.HistogramState
}

/**
 * Registration options. Defaults: category "general", version "1.0.0", enabled.
 *
 * @category models
 * @since 0.1.0
 */
export interface RegisterOptions {
  readonly category?: string
  readonly version?: string
  readonly enabled?: boolean
}

// ============================================================================
// Metrics
// ============================================================================

/**
 * The per-tool metrics; each series carries a `tool` attribute with the tool's name.
 *
 * @category metrics
 * @since 0.1.0
 */
export const metrics = {
  calls: Metric.counter("effect_llama_tool_calls_total", { description: "tool calls, direct or from a model" }),
  successes: Metric.counter("effect_llama_tool_successes_total", { description: "tool calls that succeeded" }),
  failures: Metric.counter("effect_llama_tool_failures_total", {
    description: "tool calls that failed: bad arguments, handler failures, defects"
  }),
  duration: Metric.timer("effect_llama_tool_duration", { description: "time per tool call" })
}

const metricsFor = (tool: string) => ({
  calls: Metric.withAttributes(metrics.calls, { tool }),
  successes: Metric.withAttributes(metrics.successes, { tool }),
  failures: Metric.withAttributes(metrics.failures, { tool }),
  duration: Metric.withAttributes(metrics.duration, { tool })
})

// ============================================================================
// Service
// ============================================================================

/**
 * A toolkit with handlers over tools known only at runtime.
 *
 * @category models
 * @since 0.1.0
 */
export type AnyToolkit = Toolkit.WithHandler<Record<string, Tool.Any>>

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** Adds a tool; its handler's services are captured now. */
  readonly register: <A extends AgentTool.Any>(
    tool: A,
    options?: RegisterOptions
  ) => Effect.Effect<ToolInfo, ToolRegistryError, AgentTool.Requirements<[A]>>
  /** Adds several tools with the same options (e.g. a category), stopping at the first error. */
  readonly registerAll: <const Defs extends ReadonlyArray<AgentTool.Any>>(
    tools: Defs,
    options?: RegisterOptions
  ) => Effect.Effect<ReadonlyArray<ToolInfo>, ToolRegistryError, AgentTool.Requirements<Defs>>
  readonly unregister: (name: string) => Effect.Effect<void, ToolRegistryError>
  readonly get: (name: string) => Effect.Effect<ToolInfo, ToolRegistryError>
  /** All tools, or those of one category and/or enabled state, in registration order. */
  readonly list: (
    filter?: { readonly category?: string; readonly enabled?: boolean }
  ) => Effect.Effect<ReadonlyArray<ToolInfo>>
  readonly categories: Effect.Effect<ReadonlyArray<string>>
  readonly enable: (name: string) => Effect.Effect<void, ToolRegistryError>
  readonly disable: (name: string) => Effect.Effect<void, ToolRegistryError>
  /** Runs a tool on encoded (JSON) params, validating them with its Schema. */
  readonly execute: (name: string, params: unknown) => Effect.Effect<ExecuteResult, ToolRegistryError>
  readonly metrics: (name: string) => Effect.Effect<ToolMetrics, ToolRegistryError>
  /**
   * A Toolkit with handlers of the tools enabled now (optionally of one category). Give the Effect itself to an
   * `Agent` so each step sees the current enabled set.
   */
  readonly toolkit: (filter?: { readonly category?: string }) => Effect.Effect<AnyToolkit>
}

/**
 * The registry service.
 *
 * @category services
 * @since 0.1.0
 */
export class ToolRegistry extends Context.Service<ToolRegistry, Service>()("effect-llama/ToolRegistry") {}

// ============================================================================
// Constructors
// ============================================================================

interface Entry {
  readonly info: ToolInfo
  readonly tool: Tool.Any
  readonly handlers: Context.Context<never>
}

type Handle = AnyToolkit["handle"]
type HandlerStream = Stream.Stream<Tool.HandlerResult<Tool.Any>, unknown, unknown>

// Counts one call and its outcome (the final, non-preliminary result, or a failure of the stream).
const observe = (name: string, run: Effect.Effect<HandlerStream, AiError.AiError, unknown>) =>
  Effect.gen(function*() {
    const m = metricsFor(name)
    const start = yield* Clock.currentTimeMillis
    const done = (ok: boolean) =>
      Effect.gen(function*() {
        const end = yield* Clock.currentTimeMillis
        yield* Metric.update(ok ? m.successes : m.failures, 1)
        yield* Metric.update(m.duration, Duration.millis(end - start))
      })
    yield* Metric.update(m.calls, 1)
    const stream = yield* Effect.tapCause(run, (cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : done(false))
    return stream.pipe(
      Stream.tap((r) => (r.preliminary ? Effect.void : done(!r.isFailure))),
      Stream.onError((cause) => Cause.hasInterruptsOnly(cause) ? Effect.void : done(false))
    )
  })

const instrument = (kit: AnyToolkit): AnyToolkit => ({
  tools: kit.tools,
  // Unknown names pass through (the toolkit reports them) without creating a metric series per bad name.
  handle: ((name: string, params: unknown, toolCallId?: string, options?: never) =>
    Object.hasOwn(kit.tools, name)
      ? observe(name, kit.handle(name, params as never, toolCallId, options) as never)
      : kit.handle(name as never, params as never, toolCallId, options)) as Handle
})

/**
 * Builds an empty registry.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<Service> = Effect.gen(function*() {
  const entries = yield* Ref.make<ReadonlyMap<string, Entry>>(new Map())

  const lookup = (name: string) =>
    Effect.flatMap(Ref.get(entries), (map) => {
      const entry = map.get(name)
      return entry === undefined
        ? Effect.fail(new ToolRegistryError({ tool: name, reason: "NotFound" }))
        : Effect.succeed(entry)
    })

  const setEnabled = (name: string, enabled: boolean) =>
    Effect.flatMap(lookup(name), (entry) =>
      Ref.update(entries, (map) => new Map(map).set(name, { ...entry, info: { ...entry.info, enabled } })))

  const kitOf = (selected: ReadonlyArray<Entry>) => {
    const kit = Toolkit.make(...selected.map((e) => e.tool))
    const handlers = selected.reduce((ctx, e) => Context.merge(ctx, e.handlers), Context.empty())
    return Effect.map(Effect.provideContext(kit as never, handlers) as Effect.Effect<AnyToolkit>, instrument)
  }

  const register: Service["register"] = (def, options) =>
    Effect.gen(function*() {
      const handlers = yield* Toolkit.make(def.tool).toHandlers({ [def.name]: def.handler } as never)
      const info: ToolInfo = {
        name: def.name,
        description: def.tool.description ?? "",
        category: options?.category ?? "general",
        version: options?.version ?? "1.0.0",
        enabled: options?.enabled ?? true
      }
      const entry: Entry = { info, tool: def.tool, handlers: handlers as Context.Context<never> }
      const added = yield* Ref.modify(entries, (map) =>
        map.has(def.name) ? [false, map] as const : [true, new Map(map).set(def.name, entry)] as const)
      if (!added) return yield* new ToolRegistryError({ tool: def.name, reason: "AlreadyRegistered" })
      return info
    }) as never

  const list: Service["list"] = (filter) =>
    Effect.map(Ref.get(entries), (map) =>
      Array.from(map.values(), (e) => e.info).filter((info) =>
        (filter?.category === undefined || info.category === filter.category) &&
        (filter?.enabled === undefined || info.enabled === filter.enabled)
      ))

  const execute: Service["execute"] = (name, params) =>
    Effect.gen(function*() {
      const entry = yield* lookup(name)
      if (!entry.info.enabled) return yield* new ToolRegistryError({ tool: name, reason: "Disabled" })
      const kit = yield* kitOf([entry])
      const start = yield* Clock.currentTimeMillis
      const outcome = yield* kit.handle(name, params as never).pipe(
        Effect.flatMap((stream) => Stream.runLast(Stream.filter(stream, (r) => !r.preliminary))),
        Effect.result
      )
      const durationMillis = (yield* Clock.currentTimeMillis) - start
      if (outcome._tag === "Failure") return { success: false, error: outcome.failure, durationMillis } as const
      return Option.match(outcome.success, {
        onNone: () => ({ success: false, error: "the tool returned no result", durationMillis }) as const,
        onSome: (r) =>
          r.isFailure
            ? ({ success: false, error: r.encodedResult, durationMillis }) as const
            : ({ success: true, data: r.encodedResult, durationMillis }) as const
      })
    }) as Effect.Effect<ExecuteResult, ToolRegistryError>

  const metricsOf: Service["metrics"] = (name) =>
    Effect.gen(function*() {
      yield* lookup(name)
      const m = metricsFor(name)
      return {
        calls: (yield* Metric.value(m.calls)).count,
        successes: (yield* Metric.value(m.successes)).count,
        failures: (yield* Metric.value(m.failures)).count,
        duration: yield* Metric.value(m.duration)
      }
    })

  return ToolRegistry.of({
    register,
    registerAll: (tools, options) => Effect.forEach(tools, (tool) => register(tool, options)) as never,
    unregister: (name) =>
      Effect.flatMap(lookup(name), () =>
        Ref.update(entries, (map) => {
          const next = new Map(map)
          next.delete(name)
          return next
        })),
    get: (name) => Effect.map(lookup(name), (e) => e.info),
    list,
    categories: Effect.map(list(), (infos) => Array.from(new Set(infos.map((i) => i.category)))),
    enable: (name) => setEnabled(name, true),
    disable: (name) => setEnabled(name, false),
    execute,
    metrics: metricsOf,
    toolkit: (filter) =>
      Effect.flatMap(Ref.get(entries), (map) =>
        kitOf(Array.from(map.values()).filter((e) =>
          e.info.enabled && (filter?.category === undefined || e.info.category === filter.category)
        )))
  })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * An empty `ToolRegistry`.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<ToolRegistry> = Layer.effect(ToolRegistry, make)
