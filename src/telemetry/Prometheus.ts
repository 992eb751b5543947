/**
 * The metrics in Prometheus' text exposition format (effect/observability's `PrometheusMetrics`), reusable by any
 * server: `text` for a handler of your own, `route` for an `HttpRouter` (the OpenAI-compatible server's
 * `GET /metrics` can mount it), `layerServer` for a standalone loopback endpoint.
 *
 * @since 0.2.0
 */
import { NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { HttpRouter, type HttpServer, type HttpServerError, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { createServer } from "node:http"

/**
 * Options of the exposition.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** A prefix added to every metric name. Default none (effect-llama's names already start `effect_llama_`). */
  readonly prefix?: string
}

/**
 * The content type of the exposition.
 *
 * @category constants
 * @since 0.2.0
 */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * Every metric of the registry in context, as exposition text.
 *
 * @category constructors
 * @since 0.2.0
 */
export const text = (options: Options = {}): Effect.Effect<string> =>
  PrometheusMetrics.format(options.prefix === undefined ? undefined : { prefix: options.prefix })

/**
 * The exposition as an HTTP response.
 *
 * @category constructors
 * @since 0.2.0
 */
export const response = (options: Options = {}): Effect.Effect<HttpServerResponse.HttpServerResponse> =>
  Effect.map(text(options), (body) => HttpServerResponse.text(body, { contentType }))

/**
 * A `GET` route (default `/metrics`) serving the exposition.
 *
 * @category layers
 * @since 0.2.0
 */
export const route = (options: Options & { readonly path?: HttpRouter.PathInput } = {}): Layer.Layer<
  never,
  never,
  HttpRouter.HttpRouter
> => HttpRouter.add("GET", options.path ?? "/metrics", response(options))

/**
 * A standalone HTTP server for the exposition, on `host` (default 127.0.0.1) and `port` (0 picks a free one; the
 * `HttpServer` it provides tells the address).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerServer = (
  options: Options & { readonly port: number; readonly host?: string; readonly path?: HttpRouter.PathInput }
): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError> =>
  HttpRouter.serve(route(options), { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: options.port, host: options.host ?? "127.0.0.1" }))
  )
