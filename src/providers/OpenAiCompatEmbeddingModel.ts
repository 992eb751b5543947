/**
 * OpenAI-compatible `/v1/embeddings` as effect/ai's `EmbeddingModel`: concurrent `embed` calls are batched into
 * `input` arrays (split at `maxBatchSize`), with `dimensions` for models that can shorten their vectors.
 * Works with OpenAI, llama-server (`--embeddings`), Ollama's `/v1`, vLLM, TEI's OpenAI route and the others.
 *
 * @since 0.2.0
 */
import { Array as Arr, Config as EffectConfig, Effect, Layer, type Redacted } from "effect"
import { type AiError, EmbeddingModel } from "effect/ai"
import { HttpClient } from "effect/http"
import { endpointOf } from "./internal/connection.ts"
import { malformed, type Site } from "./internal/errors.ts"
import { countOf, isObject } from "./internal/json.ts"
import * as Transport from "./internal/transport.ts"
import { type Connection, resolveConnection } from "./OpenAiCompat.ts"
import type { Preset } from "./OpenAiPresets.ts"

/**
 * The server, the model and how to batch.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options extends Connection {
  readonly model: string
  /** Shorter vectors, for models that support it (OpenAI's text-embedding-3-*). */
  readonly dimensions?: number | undefined
  /** Most inputs per request (OpenAI allows 2048). Default 256. */
  readonly maxBatchSize?: number | undefined
  /** Requests of one batch in flight at once. Default 2. */
  readonly concurrency?: number | undefined
  readonly name?: string | undefined
}

/**
 * Embeds `inputs` in as few requests as `maxBatchSize` allows; the vectors come back in input order.
 *
 * @category constructors
 * @since 0.2.0
 */
export const embedMany = (
  options: Options
): Effect.Effect<(inputs: ReadonlyArray<string>) => Effect.Effect<EmbeddingModel.ProviderResponse, AiError.AiError>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const endpoint = endpointOf(options, yield* HttpClient.HttpClient)
    const site: Site = { module: options.name ?? "OpenAiCompat", method: "embedMany", model: options.model }
    const one = (inputs: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const body = {
          model: options.model,
          input: inputs,
          encoding_format: "float",
          ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions })
        }
        const json = yield* Transport.json(endpoint, site, Transport.post(endpoint, "/embeddings", body))
        if (!isObject(json) || !Array.isArray(json.data)) return yield* Effect.fail(malformed(site, "the response has no `data`", JSON.stringify(json)))
        const vectors: Array<Array<number> | undefined> = new Array(inputs.length)
        for (const [position, entry] of json.data.entries()) {
          if (!isObject(entry) || !Array.isArray(entry.embedding)) continue
          const index = countOf(entry.index) ?? position
          if (index < inputs.length) vectors[index] = entry.embedding as Array<number>
        }
        if (vectors.some((v) => v === undefined) || vectors.length !== inputs.length) {
          return yield* Effect.fail(malformed(site, `expected ${inputs.length} embeddings, got ${json.data.length}`))
        }
        const usage = isObject(json.usage) ? countOf(json.usage.prompt_tokens) : undefined
        return { results: vectors as Array<Array<number>>, usage: { inputTokens: usage } }
      })
    const size = Math.max(1, options.maxBatchSize ?? 256)
    return (inputs: ReadonlyArray<string>) =>
      Effect.map(
        Effect.forEach(Arr.chunksOf(inputs, size), one, { concurrency: options.concurrency ?? 2 }),
        (batches): EmbeddingModel.ProviderResponse => {
          const counts = batches.map((b) => b.usage.inputTokens)
          return {
            results: batches.flatMap((b) => b.results),
            usage: { inputTokens: counts.every((c) => c !== undefined) ? counts.reduce((a, b) => a + b, 0) : undefined }
          }
        }
      )
  })

/**
 * Builds the `EmbeddingModel`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options): Effect.Effect<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Effect.flatMap(embedMany(options), (embed) => EmbeddingModel.make({ embedMany: ({ inputs }) => embed(inputs) }))

/**
 * The `EmbeddingModel` for `options`. Needs an `HttpClient`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options): Layer.Layer<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Layer.effect(EmbeddingModel.EmbeddingModel, make(options))

/**
 * Like `layer`, reading the API key and base URL from `Config` as `OpenAiCompat.layerConfig` does.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey" | "baseUrl"> & {
    readonly preset?: Preset | undefined
    readonly apiKey?: EffectConfig.Config<Redacted.Redacted<string>> | undefined
    readonly baseUrl?: EffectConfig.Config<string> | undefined
  }
): Layer.Layer<EmbeddingModel.EmbeddingModel, EffectConfig.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    EmbeddingModel.EmbeddingModel,
    Effect.gen(function*() {
      const resolved = yield* resolveConnection(options)
      return yield* make({ ...options.preset, ...options, ...resolved })
    })
  )
