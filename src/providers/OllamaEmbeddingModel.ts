/**
 * Ollama's `/api/embed` as effect/ai's `EmbeddingModel` (batched `input` arrays, `dimensions`, `truncate`).
 *
 * @since 0.2.0
 */
import { Array as Arr, Effect, Layer } from "effect"
import { EmbeddingModel } from "effect/ai"
import { HttpClient } from "effect/http"
import { malformed, type Site } from "./internal/errors.ts"
import { countOf, isObject } from "./internal/json.ts"
import * as Transport from "./internal/transport.ts"
import { endpointOf } from "./Ollama.ts"

/**
 * The server, the model and how to batch.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  readonly model: string
  /** Default `http://localhost:11434`. */
  readonly baseUrl?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly dimensions?: number | undefined
  /** Cut inputs longer than the context instead of failing. Ollama's default is true. */
  readonly truncate?: boolean | undefined
  readonly keepAlive?: string | undefined
  /** Most inputs per request. Default 256. */
  readonly maxBatchSize?: number | undefined
}

/**
 * Builds the `EmbeddingModel`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options): Effect.Effect<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const endpoint = endpointOf(options, yield* HttpClient.HttpClient)
    const site: Site = { module: "Ollama", method: "embedMany", model: options.model }
    const one = (inputs: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const body = {
          model: options.model,
          input: inputs,
          ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
          ...(options.truncate === undefined ? {} : { truncate: options.truncate }),
          ...(options.keepAlive === undefined ? {} : { keep_alive: options.keepAlive })
        }
        const json = yield* Transport.json(endpoint, site, Transport.post(endpoint, "/api/embed", body))
        if (!isObject(json) || !Array.isArray(json.embeddings) || json.embeddings.length !== inputs.length) {
          return yield* Effect.fail(malformed(site, `expected ${inputs.length} embeddings`, JSON.stringify(json).slice(0, 500)))
        }
        return { results: json.embeddings as Array<Array<number>>, tokens: countOf(json.prompt_eval_count) }
      })
    return yield* EmbeddingModel.make({
      embedMany: ({ inputs }) =>
        Effect.map(Effect.forEach(Arr.chunksOf(inputs, Math.max(1, options.maxBatchSize ?? 256)), one), (batches) => ({
          results: batches.flatMap((b) => b.results),
          usage: {
            inputTokens: batches.every((b) => b.tokens !== undefined)
              ? batches.reduce((n, b) => n + (b.tokens ?? 0), 0)
              : undefined
          }
        }))
    })
  })

/**
 * The `EmbeddingModel` for `options`. Needs an `HttpClient`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options): Layer.Layer<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, make(options))
