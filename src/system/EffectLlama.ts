/**
 * `EffectLlama.layer(...)`: the one-line init of an app. It provides the native addon, sets Effect's Logger
 * (level and format) and routes llama.cpp's own logs into it, installs the exporters asked for (OTLP/HTTP spans and
 * metrics, a Prometheus endpoint), the GenAI attributes on model-call spans, a `HealthCheck` with the built-in
 * checks, and the app's `Lifecycle` (stop accepting, drain). Given the app's model layers as `models`, it stacks
 * them in shutdown order and instruments their `LanguageModel` (`Telemetry.languageModel`).
 *
 *   const App = Layer.launch(MyServer.pipe(Layer.provide(EffectLlama.layer({
 *     logLevel: "Info",
 *     tracing: { baseUrl: "http://127.0.0.1:4318" },
 *     metrics: { prometheus: { port: 9464 } },
 *     models: LlamaLanguageModel.layerModel({ path })
 *   }))))
 *
 * **Shutdown** is the app's Scope closing (an interrupt, `ManagedRuntime.dispose`, the end of `Layer.launch`). The
 * Layers are released in reverse order of building, which here is: stop accepting work (`Lifecycle`), drain the
 * work in flight, dispose the contexts, dispose the models, then flush the exporters and unhook llama.cpp's logs.
 *
 * @since 0.2.0
 */
import { Config, Effect, Layer, Logger, type LogLevel, Option, References } from "effect"
import type { Telemetry as AiTelemetry } from "effect/ai"
import type { HttpRouter, HttpServerError } from "effect/http"
import type { OtlpExporter } from "effect/observability"
import * as LlamaLogger from "../llama/LlamaLogger.ts"
import * as Native from "../native/Native.ts"
import * as GenAi from "../telemetry/GenAi.ts"
import * as OtlpExport from "../telemetry/OtlpExport.ts"
import * as Prometheus from "../telemetry/Prometheus.ts"
import * as Telemetry from "../telemetry/Telemetry.ts"
import * as HealthCheck from "./HealthCheck.ts"
import * as HealthChecks from "./HealthChecks.ts"
import * as Lifecycle from "./Lifecycle.ts"

// ============================================================================
// Options
// ============================================================================

/**
 * Where OTLP data goes: options, or `true` for the `OTEL_EXPORTER_OTLP_ENDPOINT` environment variable (nothing is
 * exported when it is unset).
 *
 * @category models
 * @since 0.2.0
 */
export type OtlpTarget = boolean | Omit<OtlpExport.Options, "serviceName">

/**
 * Options of `layer`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** Effect's minimum log level. Default "Info". */
  readonly logLevel?: LogLevel.LogLevel
  /**
   * llama.cpp's lowest level routed into the Logger (`off` for none). Default: "warn", or the stricter of "warn"
   * and `logLevel` (llama.cpp's info and debug output is long; ask for it explicitly).
   */
  readonly llamaLogLevel?: LlamaLogger.Level | "off"
  /** The Logger's format. Default: Effect's default logger. */
  readonly logFormat?: "default" | "pretty" | "json" | "logfmt"
  /** The service name on exported data. Default "effect-llama". */
  readonly serviceName?: string
  /** Spans over OTLP/HTTP. Default off. */
  readonly tracing?: OtlpTarget
  /** Metrics over OTLP/HTTP and/or a Prometheus endpoint. Default off. */
  readonly metrics?: boolean | {
    readonly otlp?: OtlpTarget
    /** A loopback endpoint (host default 127.0.0.1, path default /metrics). */
    readonly prometheus?: { readonly port: number; readonly host?: string; readonly path?: HttpRouter.PathInput }
  }
  /** The health check's run timeout and built-in checks, or false for no `HealthCheck`. */
  readonly health?:
    | false
    | HealthCheck.Options & { readonly memory?: HealthChecks.MemoryOptions | false; readonly addon?: boolean }
  /** How long shutdown waits for the work in flight. Default 30 seconds. */
  readonly drainTimeout?: Lifecycle.Options["drainTimeout"]
}

/**
 * What `layer` provides besides the app's `models`.
 *
 * @category models
 * @since 0.2.0
 */
export type Provided =
  | Native.Native
  | HealthCheck.HealthCheck
  | Lifecycle.Lifecycle
  | AiTelemetry.CurrentSpanTransformer
  | OtlpExporter.Flusher

// ============================================================================
// Layers
// ============================================================================

const severity: Record<LogLevel.LogLevel, number> = { All: 0, Trace: 1, Debug: 2, Info: 3, Warn: 4, Error: 5, Fatal: 6, None: 7 }
const llamaOf: ReadonlyArray<readonly [number, LlamaLogger.Level | "off"]> = [[2, "debug"], [3, "info"], [4, "warn"], [6, "error"]]

/**
 * The llama.cpp level `layer` uses for an Effect level (see `Options.llamaLogLevel`).
 *
 * @category configuration
 * @since 0.2.0
 */
export const llamaLevelFor = (level: LogLevel.LogLevel): LlamaLogger.Level | "off" => {
  if (level === "None") return "off"
  const floor = Math.max(severity[level], severity.Warn)
  return llamaOf.find(([s]) => floor <= s)?.[1] ?? "error"
}

const loggerLayer = (format: Options["logFormat"]): Layer.Layer<never> => {
  switch (format) {
    case "pretty":
      return Logger.layer([Logger.consolePretty()])
    case "json":
      return Logger.layer([Logger.consoleJson])
    case "logfmt":
      return Logger.layer([Logger.consoleLogFmt])
    default:
      return Layer.empty
  }
}

const otlpTarget = (target: OtlpTarget | undefined, serviceName: string) =>
  Effect.gen(function*() {
    if (target === undefined || target === false) return Option.none<OtlpExport.Options>()
    if (target !== true) return Option.some({ ...target, serviceName })
    const endpoint = yield* Config.option(Config.String("OTEL_EXPORTER_OTLP_ENDPOINT")).pipe(
      Effect.orElseSucceed(() => Option.none<string>())
    )
    return Option.map(Option.filter(endpoint, (e) => e !== ""), (baseUrl) => ({ baseUrl, serviceName }))
  })

const exporters = (options: Options): Layer.Layer<OtlpExporter.Flusher, HttpServerError.ServeError> =>
  Layer.unwrap(Effect.gen(function*() {
    const serviceName = options.serviceName ?? "effect-llama"
    const metrics = options.metrics === true ? { otlp: true as const } : options.metrics === false ? {} : options.metrics ?? {}
    const traces = yield* otlpTarget(options.tracing, serviceName)
    const metricTarget = yield* otlpTarget(metrics.otlp, serviceName)
    const parts: Array<Layer.Layer<OtlpExporter.Flusher, HttpServerError.ServeError>> = []
    // One exporter layer per endpoint, so a shared collector gets both signals from one Layer.
    if (Option.isSome(traces) && Option.isSome(metricTarget) && traces.value.baseUrl === metricTarget.value.baseUrl) {
      parts.push(OtlpExport.layer(traces.value))
    } else {
      if (Option.isSome(traces)) parts.push(OtlpExport.layer(traces.value, { metrics: false }))
      if (Option.isSome(metricTarget)) parts.push(OtlpExport.layer(metricTarget.value, { traces: false }))
    }
    const flusher = OtlpExport.layer({ baseUrl: "" }, { traces: false, metrics: false })
    const prometheus = metrics.prometheus === undefined
      ? Layer.empty
      : Layer.effectDiscard(Layer.build(Prometheus.layerServer({
        port: metrics.prometheus.port,
        ...(metrics.prometheus.host === undefined ? {} : { host: metrics.prometheus.host }),
        ...(metrics.prometheus.path === undefined ? {} : { path: metrics.prometheus.path })
      })))
    return Layer.mergeAll(flusher, prometheus, ...parts)
  }))

/**
 * The app's base: addon, logging, exporters, GenAI span attributes, health check, lifecycle; with `models`, those
 * layers too, between the base and the lifecycle (see the module docs for the order they are released in).
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = <ROut = never, E = never, RIn = never>(
  options: Options & { readonly models?: Layer.Layer<ROut, E, RIn> } = {}
): Layer.Layer<
  Provided | ROut,
  E | Native.NativeLoadError | HttpServerError.ServeError,
  Exclude<RIn, Provided>
> => {
  const level = options.logLevel ?? "Info"
  const logging = Layer.mergeAll(Layer.succeed(References.MinimumLogLevel, level), loggerLayer(options.logFormat))
  const llamaLevel = options.llamaLogLevel ?? llamaLevelFor(level)
  const llamaLogs = llamaLevel === "off" ? Layer.empty : LlamaLogger.layer({ minLevel: llamaLevel })
  const health = options.health === false ? Layer.empty : HealthChecks.layerDefaults({
    ...(options.health?.memory === undefined ? {} : { memory: options.health.memory }),
    ...(options.health?.addon === undefined ? {} : { addon: options.health.addon })
  }).pipe(
    Layer.provideMerge(HealthCheck.layer(options.health === undefined ? {} : options.health))
  )
  const base = Layer.mergeAll(llamaLogs, GenAi.layer, health).pipe(
    Layer.provideMerge(Native.layer),
    Layer.provideMerge(exporters(options)),
    Layer.provideMerge(logging)
  )
  const lifecycle = Lifecycle.layer(options.drainTimeout === undefined ? {} : { drainTimeout: options.drainTimeout })
  if (options.models === undefined) return Layer.provideMerge(lifecycle, base) as never
  return lifecycle.pipe(
    Layer.provideMerge(Telemetry.languageModel(options.models)),
    Layer.provideMerge(base)
  ) as never
}
