/**
 * The built-in checks of `HealthCheck`, and Layers that contribute them:
 * - `addon`: the native addon loads;
 * - `llama`: every model and context alive in the process with its state (one freed out from under its Scope fails);
 * - `model` / `context` / `layerLlama`: the model and context an app uses are still loaded;
 * - `provider` / `layerProvider`: a provider's circuit (open fails, half-open warns) and a cheap reachability
 *   probe of its URL with a time limit (any HTTP answer counts as reachable);
 * - `memory`: free memory against a threshold.
 *
 * @since 0.2.0
 */
import * as Os from "node:os"
import { Duration, Effect, Layer, Option } from "effect"
import { LlamaContext } from "../llama/LlamaContext.ts"
import type * as LlamaContextModule from "../llama/LlamaContext.ts"
import { LlamaModel } from "../llama/LlamaModel.ts"
import type * as LlamaModelModule from "../llama/LlamaModel.ts"
import * as LlamaResources from "../llama/LlamaResources.ts"
import * as Native from "../native/Native.ts"
import { Resilience } from "../resilience/Resilience.ts"
import type * as ResilienceModule from "../resilience/Resilience.ts"
import * as HealthCheck from "./HealthCheck.ts"

// ============================================================================
// Checks
// ============================================================================

/**
 * The native addon loads (the `Native` in context, else a fresh load; Node caches it).
 *
 * @category constructors
 * @since 0.2.0
 */
export const addon: HealthCheck.Check = {
  name: "addon",
  run: Effect.gen(function*() {
    const provided = yield* Effect.serviceOption(Native.Native)
    const loaded = yield* Effect.result(Option.isSome(provided) ? Effect.succeed(provided.value) : Native.load)
    if (loaded._tag === "Failure") return HealthCheck.fail(loaded.failure.message)
    const info = loaded.success.systemInfo()
    return HealthCheck.pass({ binary: info.binary, backends: info.backends, llamaCpp: info.llamaCpp.tag })
  })
}

const describe = (r: LlamaResources.Resource) => `${r.kind} ${r.name} (#${r.id})`

/**
 * Every model and context alive in the process: a handle freed while its Scope is still open (its service can no
 * longer work) fails the check; one being freed by its Scope warns (the app is shutting down).
 *
 * @category constructors
 * @since 0.2.0
 */
export const llama: HealthCheck.Check = {
  name: "llama",
  run: Effect.map(LlamaResources.list, (resources) => {
    const details = {
      models: resources.filter((r) => r.kind === "model").map((r) => ({ id: r.id, name: r.name, state: r.state })),
      contexts: resources.filter((r) => r.kind === "context").map((r) => ({
        id: r.id,
        name: r.name,
        state: r.state,
        ...(r.sequences === undefined ? {} : { sequences: r.sequences })
      }))
    }
    const disposed = resources.filter((r) => r.state === "disposed")
    if (disposed.length > 0) return HealthCheck.fail(`${disposed.map(describe).join(", ")} disposed while in use`, details)
    const disposing = resources.filter((r) => r.state === "disposing")
    if (disposing.length > 0) return HealthCheck.warn(`${disposing.map(describe).join(", ")} being disposed`, details)
    return HealthCheck.pass(details)
  })
}

/**
 * The model an app uses is still loaded.
 *
 * @category constructors
 * @since 0.2.0
 */
export const model = (service: LlamaModelModule.Service, name = "model"): HealthCheck.Check => ({
  name,
  run: Effect.map(service.state, (state) => {
    const label = service.info.name !== "" ? service.info.name : service.info.path
    return state === "loaded"
      ? HealthCheck.pass({ model: label })
      : HealthCheck.fail(`model ${label} is ${state}`, { model: label, state })
  })
})

/**
 * The context an app uses is still loaded; its busy and waiting sequences are in the details.
 *
 * @category constructors
 * @since 0.2.0
 */
export const context = (service: LlamaContextModule.Service, name = "context"): HealthCheck.Check => ({
  name,
  run: Effect.gen(function*() {
    const state = yield* service.state
    const sequences = yield* service.sequences
    return state === "loaded"
      ? HealthCheck.pass({ sequences })
      : HealthCheck.fail(`context is ${state}`, { state, sequences })
  })
})

/**
 * Options of `provider`.
 *
 * @category models
 * @since 0.2.0
 */
export interface ProviderOptions {
  /** The check's name is `provider:<name>`. */
  readonly name: string
  /** The provider's resilience wrapper: an open circuit fails the check, a half-open one warns. */
  readonly resilience?: ResilienceModule.Service
  /** Probed with a GET; any HTTP answer (even 404) counts as reachable. E.g. `${baseUrl}/models`. */
  readonly url?: string
  /** The probe's limit. Default 2 seconds. */
  readonly probeTimeout?: Duration.Input
  /** Default true. */
  readonly critical?: boolean
}

const causeText = (error: unknown): string => {
  const cause = (error as { readonly cause?: { readonly code?: unknown; readonly message?: unknown } }).cause
  if (typeof cause?.code === "string") return cause.code
  if (typeof cause?.message === "string") return cause.message
  return error instanceof Error ? error.message : String(error)
}

const probe = (url: string, limit: Duration.Duration) =>
  Effect.tryPromise({
    try: (signal) => fetch(url, { method: "GET", signal, redirect: "manual" }).then(async (res) => {
      await res.body?.cancel()
      return res.status
    }),
    catch: causeText
  }).pipe(
    Effect.timeoutOption(limit),
    Effect.map(Option.match({
      onNone: () => ({ reachable: false, why: `no answer within ${Duration.format(limit)}` }) as const,
      onSome: (status) => ({ reachable: true, status }) as const
    })),
    Effect.catch((why) => Effect.succeed({ reachable: false, why } as const))
  )

/**
 * A provider: its circuit state, then a reachability probe of `url`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const provider = (options: ProviderOptions): HealthCheck.Check => {
  const limit = Duration.fromInputUnsafe(options.probeTimeout ?? "2 seconds")
  return {
    name: `provider:${options.name}`,
    critical: options.critical ?? true,
    run: Effect.gen(function*() {
      const circuit = options.resilience === undefined ? undefined : yield* options.resilience.circuitState
      const details: Record<string, unknown> = { ...(circuit === undefined ? {} : { circuit }) }
      if (circuit === "Open") return HealthCheck.fail(`circuit ${options.resilience!.key} is open`, details)
      if (options.url !== undefined) {
        const probed = yield* probe(options.url, limit)
        details.url = options.url
        if (!probed.reachable) return HealthCheck.fail(`${options.url} unreachable: ${probed.why}`, details)
        details.status = probed.status
      }
      if (circuit === "HalfOpen") return HealthCheck.warn(`circuit ${options.resilience!.key} is half-open`, details)
      return HealthCheck.pass(details)
    })
  }
}

/**
 * Options of `memory`.
 *
 * @category models
 * @since 0.2.0
 */
export interface MemoryOptions {
  /** Bytes that must stay free. Default 256 MiB. */
  readonly minFreeBytes?: number
  /** Or a share of the total, in [0, 1]; both apply when both are given. */
  readonly minFreeRatio?: number
}

/**
 * Free memory (the OS's available memory) against a threshold.
 *
 * @category constructors
 * @since 0.2.0
 */
export const memory = (options: MemoryOptions = {}): HealthCheck.Check => ({
  name: "memory",
  run: Effect.sync(() => {
    const total = Os.totalmem()
    const free = Os.freemem()
    const threshold = Math.max(options.minFreeBytes ?? 256 * 1024 * 1024, (options.minFreeRatio ?? 0) * total)
    const details = { free, total, threshold, processRss: process.memoryUsage.rss() }
    const mib = (n: number) => `${Math.round(n / 1024 / 1024)} MiB`
    return free < threshold
      ? HealthCheck.fail(`${mib(free)} free, below the threshold of ${mib(threshold)}`, details)
      : HealthCheck.pass(details)
  })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * Contributes `addon`, `llama` and `memory` (unless turned off) to the `HealthCheck` in context.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerDefaults = (options: {
  readonly addon?: boolean
  readonly llama?: boolean
  readonly memory?: MemoryOptions | false
} = {}): Layer.Layer<never, never, HealthCheck.HealthCheck> =>
  Layer.mergeAll(
    options.addon === false ? Layer.empty : HealthCheck.contribute(addon),
    options.llama === false ? Layer.empty : HealthCheck.contribute(llama),
    options.memory === false ? Layer.empty : HealthCheck.contribute(memory(options.memory ?? {}))
  )

/**
 * Contributes `model` and, where one is in context, `context` checks for the services this Layer is given.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerLlama = (names: { readonly model?: string; readonly context?: string } = {}): Layer.Layer<
  never,
  never,
  HealthCheck.HealthCheck | LlamaModel
> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const health = yield* HealthCheck.HealthCheck
    yield* health.register(model(yield* LlamaModel, names.model))
    const ctx = yield* Effect.serviceOption(LlamaContext)
    if (Option.isSome(ctx)) yield* health.register(context(ctx.value, names.context))
  }))

/**
 * Contributes a `provider` check; the `Resilience` in context (from `Resilience.languageModel`), if any, is the
 * circuit it watches.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerProvider = (options: Omit<ProviderOptions, "resilience">): Layer.Layer<never, never, HealthCheck.HealthCheck> =>
  HealthCheck.contribute(Effect.map(Effect.serviceOption(Resilience), (resilience) =>
    provider({ ...options, ...(Option.isSome(resilience) ? { resilience: resilience.value } : {}) })))
