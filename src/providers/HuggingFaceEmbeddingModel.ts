/**
 * Hugging Face embeddings as effect/ai's `EmbeddingModel`: a text-embeddings-inference server (`POST /embed`) or
 * the Inference Providers feature-extraction route (`/hf-inference/models/{model}/pipeline/feature-extraction`,
 * Bearer `hf_...` token). Both take `{ inputs: string[] }` and return one vector per input; a model that returns
 * one vector per token is mean-pooled.
 *
 * @since 0.2.0
 */
import { Array as Arr, Config as EffectConfig, Effect, Layer, Option, Redacted } from "effect"
import { EmbeddingModel } from "effect/ai"
import { HttpClient } from "effect/http"
import { malformed, type Site } from "./internal/errors.ts"
import * as Transport from "./internal/transport.ts"

/**
 * The server and how to embed.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /**
   * `{ _tag: "TEI", baseUrl }` for a text-embeddings-inference server, or `{ _tag: "InferenceApi", model }` for
   * Hugging Face's hosted route (`baseUrl` defaults to `https://router.huggingface.co`).
   */
  readonly server:
    | { readonly _tag: "TEI"; readonly baseUrl: string }
    | { readonly _tag: "InferenceApi"; readonly model: string; readonly baseUrl?: string | undefined }
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Unit-length vectors (TEI's default: true). */
  readonly normalize?: boolean | undefined
  /** Cut inputs longer than the model's limit instead of failing. */
  readonly truncate?: boolean | undefined
  /** A prompt name from the model's sentence-transformers config (TEI). */
  readonly promptName?: string | undefined
  /** Most inputs per request (TEI's `--max-client-batch-size` defaults to 32). Default 32. */
  readonly maxBatchSize?: number | undefined
  /** Requests in flight at once. Default 2. */
  readonly concurrency?: number | undefined
}

const meanPool = (tokens: ReadonlyArray<ReadonlyArray<number>>): Array<number> => {
  const out = new Array<number>(tokens[0]?.length ?? 0).fill(0)
  for (const token of tokens) token.forEach((x, i) => (out[i]! += x / tokens.length))
  return out
}

const isVector = (value: unknown): value is Array<number> => Array.isArray(value) && value.every((x) => typeof x === "number")

/**
 * Builds the `EmbeddingModel`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options): Effect.Effect<EmbeddingModel.EmbeddingModel, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const server = options.server
    const headers: Record<string, string> = {}
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${Redacted.value(options.apiKey)}`
    for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value
    const endpoint: Transport.Endpoint = {
      client,
      baseUrl: Transport.trimBaseUrl(server._tag === "TEI" ? server.baseUrl : server.baseUrl ?? "https://router.huggingface.co"),
      headers
    }
    const path = server._tag === "TEI"
      ? "/embed"
      : `/hf-inference/models/${server.model.split("/").map(encodeURIComponent).join("/")}/pipeline/feature-extraction`
    const site: Site = { module: "HuggingFace", method: "embedMany", model: server._tag === "TEI" ? undefined : server.model }
    const one = (inputs: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const body = {
          inputs,
          ...(options.normalize === undefined ? {} : { normalize: options.normalize }),
          ...(options.truncate === undefined ? {} : { truncate: options.truncate }),
          ...(options.promptName === undefined ? {} : { prompt_name: options.promptName })
        }
        const json = yield* Transport.json(endpoint, site, Transport.post(endpoint, path, body))
        const rows = Array.isArray(json) ? json : []
        const vectors = rows.map((row: unknown) =>
          isVector(row) ? row : Array.isArray(row) && row.every(isVector) && row.length > 0 ? meanPool(row) : undefined
        )
        if (vectors.length !== inputs.length || vectors.some((v) => v === undefined)) {
          return yield* Effect.fail(malformed(site, `expected ${inputs.length} vectors`, JSON.stringify(json).slice(0, 500)))
        }
        return vectors as Array<Array<number>>
      })
    return yield* EmbeddingModel.make({
      embedMany: ({ inputs }) =>
        Effect.map(
          Effect.forEach(Arr.chunksOf(inputs, Math.max(1, options.maxBatchSize ?? 32)), one, { concurrency: options.concurrency ?? 2 }),
          (batches) => ({ results: batches.flat(), usage: { inputTokens: undefined } })
        )
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

/**
 * Like `layer`, with the token from `HF_TOKEN` when set.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (
  options: Omit<Options, "apiKey"> & { readonly apiKey?: EffectConfig.Config<Redacted.Redacted<string>> | undefined }
): Layer.Layer<EmbeddingModel.EmbeddingModel, EffectConfig.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    EmbeddingModel.EmbeddingModel,
    Effect.gen(function*() {
      const apiKey = yield* EffectConfig.option(options.apiKey ?? EffectConfig.Redacted("HF_TOKEN"))
      return yield* make({ ...options, apiKey: Option.getOrUndefined(apiKey) })
    })
  )
