/**
 * Local embeddings as an effect/ai `EmbeddingModel`. Concurrent `embed` calls are batched by effect/ai into one
 * `embedMany`, which is one native job packing several texts per decode.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { EmbeddingModel } from "effect/ai"
import * as LlamaContext from "../llama/LlamaContext.ts"
import type { LlamaError } from "../llama/LlamaError.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import type { Native } from "../native/Native.ts"
import { toAiError } from "./internal/errors.ts"

/**
 * Builds the `EmbeddingModel` over the `LlamaContext` in context, which must be created with `embeddings: true`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: { readonly normalize?: boolean } = {}): Effect.Effect<
  EmbeddingModel.EmbeddingModel,
  never,
  LlamaContext.LlamaContext
> =>
  Effect.gen(function*() {
    const context = yield* LlamaContext.LlamaContext
    return yield* EmbeddingModel.make({
      embedMany: ({ inputs }) =>
        context.embed(inputs, { normalize: options.normalize ?? true }).pipe(
          Effect.map((vectors) => ({ results: vectors.map((v) => Array.from(v)), usage: { inputTokens: undefined } })),
          Effect.mapError(toAiError("embedMany"))
        )
    })
  })

/**
 * The `EmbeddingModel` over a `LlamaContext` you provide (created with `embeddings: true`).
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: { readonly normalize?: boolean } = {}): Layer.Layer<
  EmbeddingModel.EmbeddingModel,
  never,
  LlamaContext.LlamaContext
> => Layer.effect(EmbeddingModel.EmbeddingModel, make(options))

/**
 * Everything in one layer: loads the GGUF at `path`, creates its own embedding context (mean pooling unless the
 * model declares one) and provides `EmbeddingModel`. Its context stays private, so it can sit beside a
 * `LlamaLanguageModel` layer on the same or another model.
 *
 * @category layers
 * @since 0.1.0
 */
export const layerModel = (options: {
  readonly path: string
  readonly model?: Omit<LlamaModel.Options, "path">
  readonly context?: Omit<LlamaContext.Options, "embeddings">
  readonly normalize?: boolean
}): Layer.Layer<EmbeddingModel.EmbeddingModel, LlamaError, Native> =>
  layer(options.normalize === undefined ? {} : { normalize: options.normalize }).pipe(
    Layer.provide(LlamaContext.layer({ sequences: 4, ...options.context, embeddings: true })),
    Layer.provide(LlamaModel.layer({ ...options.model, path: options.path }))
  )
