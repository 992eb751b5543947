/**
 * Export over OTLP/HTTP (JSON) with effect/observability: spans (`OtlpTracer`), metrics (`OtlpMetrics`) and,
 * if asked, logs (`OtlpLogger`) to a collector at `baseUrl` (`/v1/traces`, `/v1/metrics`, `/v1/logs` are added).
 * Buffered data is flushed when the Layer is released (at the end of shutdown, see `Lifecycle`), or on demand
 * with effect/observability's `OtlpExporter.Flusher`, which the Layer also provides.
 *
 * @since 0.2.0
 */
import { type Duration, Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpExporter, OtlpLogger, OtlpMetrics, OtlpSerialization, OtlpTracer } from "effect/observability"

/**
 * Where and how to export.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** The collector, e.g. `http://127.0.0.1:4318`. */
  readonly baseUrl: string
  readonly serviceName?: string
  readonly serviceVersion?: string
  /** Resource attributes added to everything exported. */
  readonly attributes?: Record<string, unknown>
  readonly headers?: Record<string, string>
  /** How often buffered spans and metrics are sent. Default 5 seconds. */
  readonly exportInterval?: Duration.Input
  /** How long the final flush may take when the Layer is released. Default 3 seconds. */
  readonly shutdownTimeout?: Duration.Input
  /** Export Effect's logs too. Default false. */
  readonly logs?: boolean
}

/**
 * Which signals `layer` exports. Default: traces and metrics.
 *
 * @category models
 * @since 0.2.0
 */
export interface Signals {
  readonly traces?: boolean
  readonly metrics?: boolean
}

const join = (base: string, path: string) => `${base.replace(/\/+$/, "")}${path}`

/**
 * The exporters, on the global `fetch`. The Tracer it installs replaces the default one for the app.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options, signals: Signals = {}): Layer.Layer<OtlpExporter.Flusher> => {
  const resource = {
    serviceName: options.serviceName ?? "effect-llama",
    ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion }),
    ...(options.attributes === undefined ? {} : { attributes: options.attributes })
  }
  const common = {
    resource,
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    exportInterval: options.exportInterval ?? "5 seconds",
    shutdownTimeout: options.shutdownTimeout ?? "3 seconds"
  }
  const parts: Array<Layer.Layer<OtlpExporter.Flusher, never, never>> = []
  const deps = Layer.mergeAll(FetchHttpClient.layer, OtlpSerialization.layerJson)
  if (signals.traces ?? true) {
    parts.push(OtlpTracer.layer({ ...common, url: join(options.baseUrl, "/v1/traces") }).pipe(Layer.provide(deps)))
  }
  if (signals.metrics ?? true) {
    parts.push(OtlpMetrics.layer({ ...common, url: join(options.baseUrl, "/v1/metrics") }).pipe(Layer.provide(deps)))
  }
  if (options.logs === true) {
    parts.push(
      OtlpLogger.layer({ ...common, url: join(options.baseUrl, "/v1/logs"), mergeWithExisting: true }).pipe(Layer.provide(deps))
    )
  }
  return parts.length === 0 ? OtlpExporter.layerFlusher : Layer.mergeAll(OtlpExporter.layerFlusher, ...parts)
}
