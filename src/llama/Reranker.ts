/**
 * `Reranker`: scores documents against a query with a local reranking model (a GGUF with a rank head, pooling
 * type `rank`, such as Qwen3-Reranker or a BERT cross-encoder) and sorts them. Pairs from concurrent calls are
 * batched into one native job, which packs several pairs to a decode as embeddings do; a pair's score does not
 * depend on what it was batched with.
 *
 * @since 0.2.0
 */
import { Config, Context, Effect, Exit, Layer, Request, RequestResolver } from "effect"
import type { Native } from "../native/Native.ts"
import * as LlamaContext from "./LlamaContext.ts"
import type { LlamaError } from "./LlamaError.ts"
import * as LlamaModel from "./LlamaModel.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * A document with its score; `index` is its position in the input.
 *
 * @category models
 * @since 0.2.0
 */
export interface Ranked {
  readonly index: number
  readonly document: string
  /** The model's relevance score (for Qwen3-Reranker, the probability of "yes"); higher is more relevant. */
  readonly score: number
}

// ============================================================================
// Service Interface
// ============================================================================

/**
 * @category models
 * @since 0.2.0
 */
export interface Service {
  /** The documents by score, highest first; equal scores keep their input order (a stable sort). */
  readonly rank: (query: string, documents: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<Ranked>, LlamaError>
  /** Each document's score, in input order. */
  readonly score: (query: string, documents: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<number>, LlamaError>
}

// ============================================================================
// Service Identifier
// ============================================================================

/**
 * A local reranker.
 *
 * @category services
 * @since 0.2.0
 */
export class Reranker extends Context.Service<Reranker, Service>()("effect-llama/Reranker") {}

// ============================================================================
// Constructor
// ============================================================================

class RankRequest extends Request.TaggedClass("RankRequest")<{ readonly query: string; readonly document: string }, number, LlamaError> {}

/**
 * Sorts scored documents, highest score first, keeping the input order of equal scores.
 *
 * @category constructors
 * @since 0.2.0
 */
export const sortRanked = (documents: ReadonlyArray<string>, scores: ReadonlyArray<number>): ReadonlyArray<Ranked> =>
  documents
    .map((document, index) => ({ index, document, score: scores[index]! }))
    .sort((a, b) => b.score - a.score || a.index - b.index)

/**
 * Builds the `Reranker` over the `LlamaContext` in context, which must be an embedding context on a rank model.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make: Effect.Effect<Service, never, LlamaContext.LlamaContext> = Effect.gen(function*() {
  const context = yield* LlamaContext.LlamaContext
  const resolver = RequestResolver.makeGrouped<RankRequest, undefined>({
    key: () => undefined,
    resolver: (entries) =>
      context.rank(entries.map((e) => ({ query: e.request.query, document: e.request.document }))).pipe(
        Effect.map((scores) => entries.forEach((entry, i) => entry.completeUnsafe(Exit.succeed(scores[i]!)))),
        Effect.catch((error) => Effect.sync(() => entries.forEach((entry) => entry.completeUnsafe(Exit.fail(error)))))
      )
  })
  const score: Service["score"] = (query, documents) =>
    Effect.forEach(documents, (document) => Effect.request(new RankRequest({ query, document }), resolver), {
      concurrency: "unbounded"
    }).pipe(Effect.withSpan("Reranker.score", { attributes: { documents: documents.length } }))
  const rank: Service["rank"] = (query, documents) => Effect.map(score(query, documents), (scores) => sortRanked(documents, scores))
  return Reranker.of({ rank, score })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * The `Reranker` over a `LlamaContext` you provide (created with `embeddings: true` on a rank model).
 *
 * @category layers
 * @since 0.2.0
 */
export const layer: Layer.Layer<Reranker, never, LlamaContext.LlamaContext> = Layer.effect(Reranker, make)

/**
 * Everything in one layer: loads the reranking GGUF at `path`, creates its own embedding context (rank pooling
 * comes from the model) and provides `Reranker`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerModel = (options: {
  readonly path: string
  readonly model?: Omit<LlamaModel.Options, "path">
  readonly context?: Omit<LlamaContext.Options, "embeddings">
}): Layer.Layer<Reranker, LlamaError, Native> =>
  layer.pipe(
    Layer.provide(LlamaContext.layer({ sequences: 4, ...options.context, embeddings: true })),
    Layer.provide(LlamaModel.layer({ ...options.model, path: options.path }))
  )

/**
 * Like `layerModel`, reading the path from Config (default: the `LLAMA_RERANKER_PATH` environment variable).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerConfig = (options?: {
  readonly path?: Config.Config<string>
}): Layer.Layer<Reranker, LlamaError | Config.ConfigError, Native> =>
  Layer.unwrap(Effect.map(options?.path ?? Config.String("LLAMA_RERANKER_PATH"), (path) => layerModel({ path })))
