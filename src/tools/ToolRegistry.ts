/**
 * `ToolRegistry`: the tools of a program in one place, with a category, a version and an enabled flag each.
 * Tools can be listed, enabled and disabled at runtime, executed directly, listed in OpenAI's tool format
 * (`definitions`), and offered to a model as a Toolkit of the enabled ones. Every call, direct or from a model,
 * updates per-tool Effect Metrics and enters the call history (arguments, result, duration).
 *
 * `layer` makes an isolated registry; `layerDefault` provides the one process-wide registry (GraphBit's global
 * registry), the same instance wherever it is provided; `layerTools` registers tools for the life of a Layer.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Metric, Option, Ref, Stream } from "effect"
import { AiError, Tool, Toolkit } from "effect/ai"
import type * as AgentTool from "./AgentTool.ts"
import * as ToolCallError from "./ToolCallError.ts"
import * as ToolDefinition from "./ToolDefinition.ts"
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
 * The outcome of `execute`: the encoded (JSON) result, or the encoded failure (what a model would see) with the
 * typed `failure` (naming the invalid fields of bad arguments), and how long the call took (`durationMs`;
 * `durationMillis` is the same value, kept from 0.1). Bad arguments, handler failures and timeouts are
 * `success: false`, not errors of the Effect.
 *
 * @category models
 * @since 0.1.0
 */
export type ExecuteResult =
  | {
    readonly success: true
    readonly data: unknown
    readonly durationMs: number
    readonly durationMillis: number
  }
  | {
    readonly success: false
    readonly error: unknown
    readonly failure: ToolCallError.ToolCallError
    readonly durationMs: number
    readonly durationMillis: number
  }

/**
 * One call in the history: its arguments, its result or failure, how long it took, and whether it was a direct
 * `execute` or a model's call through the registry's toolkit.
 *
 * @category models
 * @since 0.2.0
 */
export interface CallRecord {
  /** Increasing in the registry. */
  readonly id: number
  readonly tool: string
  readonly source: "execute" | "model"
  readonly arguments: unknown
  readonly success: boolean
  /** The encoded result (success) or the encoded failure. */
  readonly result: unknown
  readonly failure?: ToolCallError.ToolCallError
  /** Milliseconds since the epoch. */
  readonly startedAt: number
  readonly durationMs: number
}

/**
 * Options of `makeWith`.
 *
 * @category models
 * @since 0.2.0
 */
export interface MakeOptions {
  /** Calls kept in the history, the oldest dropped first. Default 1000; 0 keeps none. */
  readonly historyLimit?: number
}

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
  /** Runs a tool on encoded (JSON) params, validating them with its Schema, within `timeout` if given. */
  readonly execute: (
    name: string,
    params: unknown,
    options?: { readonly timeout?: Duration.Input }
  ) => Effect.Effect<ExecuteResult, ToolRegistryError>
  readonly metrics: (name: string) => Effect.Effect<ToolMetrics, ToolRegistryError>
  /** The enabled tools (optionally of one category) in OpenAI's tool format. */
  readonly definitions: (
    filter?: { readonly category?: string; readonly strict?: boolean }
  ) => Effect.Effect<ReadonlyArray<ToolDefinition.OpenAiTool>>
  /** The call history, oldest first (optionally of one tool, the last `limit` calls). */
  readonly history: (
    filter?: { readonly tool?: string; readonly limit?: number }
  ) => Effect.Effect<ReadonlyArray<CallRecord>>
  readonly clearHistory: Effect.Effect<void>
  /** The tool itself (its Schemas), e.g. to serve it over MCP. */
  readonly tool: (name: string) => Effect.Effect<Tool.Any, ToolRegistryError>
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

const classify = ToolCallError.fromResult

/**
 * The error of a toolkit call that failed outside its result: an unknown tool, a defect.
 *
 * @category constructors
 * @since 0.2.0
 */
export const defectOf = (name: string, cause: Cause.Cause<unknown>): ToolCallError.ToolCallError => {
  const error = Cause.findErrorOption(cause)
  if (Option.isSome(error) && AiError.isAiError(error.value) && error.value.reason._tag === "ToolNotFoundError") {
    return new ToolCallError.ToolCallError({ tool: name, reason: "UnknownTool", description: `no tool named "${name}"` })
  }
  return new ToolCallError.ToolCallError({ tool: name, reason: "Defect", description: String(Cause.squash(cause)) })
}

type Recorder = (record: Omit<CallRecord, "id">) => Effect.Effect<void>

// Whether the call being observed came through `execute` (direct) or a model's use of the toolkit.
const Source = Context.Reference<CallRecord["source"]>("effect-llama/ToolRegistry/Source", {
  defaultValue: () => "model"
})

// Counts one call and its outcome (the final, non-preliminary result, or a failure of the stream), and records it.
const observe = (
  name: string,
  tool: Tool.Any | undefined,
  params: unknown,
  recordCall: Recorder,
  run: Effect.Effect<HandlerStream, AiError.AiError, unknown>
) =>
  Effect.gen(function*() {
    const m = metricsFor(name)
    const start = yield* Clock.currentTimeMillis
    const done = (ok: boolean, result: unknown, failure?: ToolCallError.ToolCallError) =>
      Effect.gen(function*() {
        const end = yield* Clock.currentTimeMillis
        yield* Metric.update(ok ? m.successes : m.failures, 1)
        yield* Metric.update(m.duration, Duration.millis(end - start))
        yield* recordCall({
          tool: name,
          source: yield* Source,
          arguments: params,
          success: ok,
          result,
          ...(failure === undefined ? {} : { failure }),
          startedAt: start,
          durationMs: end - start
        })
      })
    const failed = (cause: Cause.Cause<unknown>) =>
      Cause.hasInterruptsOnly(cause) ? Effect.void : done(false, String(Cause.squash(cause)), defectOf(name, cause))
    yield* Metric.update(m.calls, 1)
    const stream = yield* Effect.tapCause(run, failed)
    return stream.pipe(
      Stream.tap((r) =>
        r.preliminary
          ? Effect.void
          : done(!r.isFailure, r.encodedResult, r.isFailure ? classify(tool, name, params, r) : undefined)
      ),
      Stream.onError(failed)
    )
  })

const instrument = (kit: AnyToolkit, recordCall: Recorder): AnyToolkit => ({
  tools: kit.tools,
  // Unknown names pass through (the toolkit reports them) without creating a metric series per bad name.
  handle: ((name: string, params: unknown, toolCallId?: string, options?: never) =>
    Object.hasOwn(kit.tools, name)
      ? observe(name, kit.tools[name], params, recordCall, kit.handle(name, params as never, toolCallId, options) as never)
      : kit.handle(name as never, params as never, toolCallId, options)) as Handle
})

/**
 * Builds an empty registry (history limit 1000; see `makeWith`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make: Effect.Effect<Service> = Effect.suspend(() => makeWith())

/**
 * Builds an empty registry with options.
 *
 * @category constructors
 * @since 0.2.0
 */
export const makeWith = (options: MakeOptions = {}): Effect.Effect<Service> => Effect.gen(function*() {
  const entries = yield* Ref.make<ReadonlyMap<string, Entry>>(new Map())
  const historyLimit = Math.max(0, options.historyLimit ?? 1000)
  const calls: Array<CallRecord> = []
  let callCounter = 0
  const recordCall: Recorder = (record) =>
    Effect.sync(() => {
      if (historyLimit === 0) return
      calls.push({ id: ++callCounter, ...record })
      if (calls.length > historyLimit) calls.splice(0, calls.length - historyLimit)
    })

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
    return Effect.map(Effect.provideContext(kit as never, handlers) as Effect.Effect<AnyToolkit>, (k) => instrument(k, recordCall))
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

  const execute: Service["execute"] = (name, params, executeOptions) =>
    Effect.gen(function*() {
      const entry = yield* lookup(name)
      if (!entry.info.enabled) return yield* new ToolRegistryError({ tool: name, reason: "Disabled" })
      const kit = yield* kitOf([entry])
      const start = yield* Clock.currentTimeMillis
      let run = kit.handle(name, params as never).pipe(
        Effect.flatMap((stream) => Stream.runLast(Stream.filter(stream, (r) => !r.preliminary)))
      )
      const timeout = executeOptions?.timeout === undefined ? undefined : Duration.fromInputUnsafe(executeOptions.timeout)
      if (timeout !== undefined) {
        run = Effect.timeoutOrElse(run, {
          duration: timeout,
          orElse: () => Effect.fail(new ToolCallError.ToolCallError({
            tool: name,
            reason: "Timeout",
            description: `timed out after ${Duration.format(timeout)}`
          }))
        }) as typeof run
      }
      const outcome = yield* Effect.exit(run)
      const durationMs = (yield* Clock.currentTimeMillis) - start
      const failed = (failure: ToolCallError.ToolCallError, error: unknown): ExecuteResult => ({
        success: false,
        error,
        failure,
        durationMs,
        durationMillis: durationMs
      })
      if (Exit.isFailure(outcome)) {
        if (Cause.hasInterruptsOnly(outcome.cause)) return yield* Effect.failCause(outcome.cause as Cause.Cause<never>)
        const error = Cause.findErrorOption(outcome.cause)
        if (Option.isSome(error) && error.value instanceof ToolCallError.ToolCallError) {
          // A timeout: the toolkit's instrumentation saw an interruption, so the metrics and history get it here.
          yield* Metric.update(metricsFor(name).failures, 1)
          yield* Metric.update(metricsFor(name).duration, Duration.millis(durationMs))
          yield* recordCall({
            tool: name,
            source: "execute",
            arguments: params,
            success: false,
            result: ToolCallError.encode(error.value),
            failure: error.value,
            startedAt: start,
            durationMs
          })
          return failed(error.value, ToolCallError.encode(error.value))
        }
        return failed(defectOf(name, outcome.cause), Option.getOrElse(error, () => String(Cause.squash(outcome.cause))))
      }
      return Option.match(outcome.value, {
        onNone: () =>
          failed(
            new ToolCallError.ToolCallError({ tool: name, reason: "Defect", description: "the tool returned no result" }),
            "the tool returned no result"
          ),
        onSome: (r): ExecuteResult =>
          r.isFailure
            ? failed(classify(entry.tool, name, params, r), r.encodedResult)
            : { success: true, data: r.encodedResult, durationMs, durationMillis: durationMs }
      })
    }).pipe(
      // Direct calls are marked as such in the history (the toolkit's instrumentation records them as model calls).
      Effect.provideService(Source, "execute")
    ) as Effect.Effect<ExecuteResult, ToolRegistryError>

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
    definitions: (filter) =>
      Effect.map(Ref.get(entries), (map) =>
        ToolDefinition.definitions(
          Array.from(map.values()).filter((e) =>
            e.info.enabled && (filter?.category === undefined || e.info.category === filter.category)
          ).map((e) => e.tool),
          filter?.strict === undefined ? {} : { strict: filter.strict }
        )),
    history: (filter) =>
      Effect.sync(() => {
        const selected = filter?.tool === undefined ? calls.slice() : calls.filter((c) => c.tool === filter.tool)
        return filter?.limit === undefined ? selected : selected.slice(Math.max(0, selected.length - filter.limit))
      }),
    clearHistory: Effect.sync(() => {
      calls.length = 0
    }),
    tool: (name) => Effect.map(lookup(name), (e) => e.tool),
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
 * An empty, isolated `ToolRegistry` (a new one each time the Layer is built).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<ToolRegistry> = Layer.effect(ToolRegistry, make)

let processRegistry: Service | undefined

/**
 * The process-wide registry: the same instance wherever and however often it is used (tools registered in one
 * part of a program are seen by every other). Prefer `layer` in libraries and tests.
 *
 * @category accessors
 * @since 0.2.0
 */
export const defaultRegistry: Effect.Effect<Service> = Effect.suspend(() =>
  processRegistry === undefined
    ? Effect.map(make, (registry) => (processRegistry ??= registry))
    : Effect.succeed(processRegistry)
)

/**
 * Provides the process-wide registry (`defaultRegistry`).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerDefault: Layer.Layer<ToolRegistry> = Layer.effect(ToolRegistry, defaultRegistry)

/**
 * Registers `tools` in the `ToolRegistry` in context while the Layer lives (unregistered when it is released).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerTools = <const Defs extends ReadonlyArray<AgentTool.Any>>(
  tools: Defs,
  options?: RegisterOptions
): Layer.Layer<never, ToolRegistryError, ToolRegistry | AgentTool.Requirements<Defs>> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const registry = yield* ToolRegistry
    yield* Effect.acquireRelease(
      registry.registerAll(tools, options),
      (infos) => Effect.forEach(infos, (info) => Effect.ignore(registry.unregister(info.name)), { discard: true })
    )
  })) as never
