/**
 * Local embeddings as an effect/ai `EmbeddingModel`. Concurrent `embed` calls are batched into one native job that
 * packs several texts per decode; a text that cannot be embedded (empty, longer than a batch) fails its own caller
 * only, and `embedMany` names the index of the input that failed.
 *
 * @since 0.1.0
 */
import { Effect, Exit, Layer, RequestResolver, Result } from "effect"
import { EmbeddingModel } from "effect/ai"
import * as LlamaContext from "../llama/LlamaContext.ts"
import type { LlamaError } from "../llama/LlamaError.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import type { Native } from "../native/Native.ts"
import { toAiError } from "./internal/errors.ts"

const usage = (inputTokens: number | undefined) => new EmbeddingModel.EmbeddingUsage({ inputTokens })

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
    const embedOptions = { normalize: options.normalize ?? true }
    // effect/ai's own resolver fails every caller of a batch when one input fails; this one completes each alone.
    const resolver = RequestResolver.makeGrouped<EmbeddingModel.EmbeddingRequest, undefined>({
      key: () => undefined,
      resolver: (entries) =>
        context.embedEach(entries.map((e) => e.request.input), embedOptions).pipe(
          Effect.mapError(toAiError("LlamaEmbeddingModel", "embed")),
          Effect.map((results) => {
            results.forEach((result, i) =>
              entries[i]!.completeUnsafe(Result.isSuccess(result)
                ? Exit.succeed(new EmbeddingModel.EmbedResponse({ vector: Array.from(result.success) }))
                : Exit.fail(toAiError("LlamaEmbeddingModel", "embed")(result.failure)))
            )
          })
        )
    }).pipe(RequestResolver.withSpan("LlamaEmbeddingModel.resolver"))

    const embedMany: EmbeddingModel.EmbeddingModel["embedMany"] = (inputs) =>
      inputs.length === 0
        ? Effect.succeed(new EmbeddingModel.EmbedManyResponse({ embeddings: [], usage: usage(undefined) }))
        : context.embed(inputs, embedOptions).pipe(
          Effect.map((vectors) =>
            new EmbeddingModel.EmbedManyResponse({
              embeddings: vectors.map((v) => new EmbeddingModel.EmbedResponse({ vector: Array.from(v) })),
              usage: usage(undefined)
            })
          ),
          Effect.mapError((error: LlamaError) => toAiError("LlamaEmbeddingModel", "embedMany")(error)),
          Effect.withSpan("LlamaEmbeddingModel.embedMany")
        )

    return EmbeddingModel.EmbeddingModel.of({
      [EmbeddingModel.TypeId]: EmbeddingModel.TypeId,
      resolver,
      embed: (input) =>
        Effect.request(new EmbeddingModel.EmbeddingRequest({ input }), resolver).pipe(Effect.withSpan("LlamaEmbeddingModel.embed")),
      embedMany
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
