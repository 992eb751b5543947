/**
 * Embedding helpers over any `EmbeddingModel` (local, OpenAI-compatible, Ollama, Hugging Face), in the shape of
 * GraphBit's `EmbeddingClient`: `embedDocument(content, metadata)` returns the vector with its metadata,
 * `embedDocuments` does many in one batch, `similarity` is the cosine of two vectors and `rank` orders documents
 * by it.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import { type AiError, EmbeddingModel } from "effect/ai"

/**
 * A text, its metadata and its vector.
 *
 * @category models
 * @since 0.2.0
 */
export interface EmbeddedDocument<M> {
  readonly content: string
  readonly metadata: M
  readonly vector: ReadonlyArray<number>
}

/**
 * Embeds one text and keeps its metadata with the vector.
 *
 * @category constructors
 * @since 0.2.0
 */
export const embedDocument = <M>(
  content: string,
  metadata: M
): Effect.Effect<EmbeddedDocument<M>, AiError.AiError, EmbeddingModel.EmbeddingModel> =>
  Effect.gen(function*() {
    const model = yield* EmbeddingModel.EmbeddingModel
    const { vector } = yield* model.embed(content)
    return { content, metadata, vector }
  })

/**
 * Embeds many texts in one `embedMany` call (the provider batches them); the result keeps the input order.
 *
 * @category constructors
 * @since 0.2.0
 */
export const embedDocuments = <M>(
  documents: ReadonlyArray<{ readonly content: string; readonly metadata: M }>
): Effect.Effect<Array<EmbeddedDocument<M>>, AiError.AiError, EmbeddingModel.EmbeddingModel> =>
  Effect.gen(function*() {
    if (documents.length === 0) return []
    const model = yield* EmbeddingModel.EmbeddingModel
    const { embeddings } = yield* model.embedMany(documents.map((d) => d.content))
    return documents.map((d, i) => ({ content: d.content, metadata: d.metadata, vector: embeddings[i]!.vector }))
  })

/**
 * The cosine similarity of two vectors of the same length: 1 for the same direction, 0 for orthogonal ones, -1
 * for opposite ones; 0 when either is all zeros.
 *
 * @category getters
 * @since 0.2.0
 */
export const similarity = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  if (a.length !== b.length) throw new RangeError(`similarity: vectors of ${a.length} and ${b.length} dimensions`)
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb)
}

/**
 * `documents` ordered by their similarity to `query`, most similar first, at most `top` of them.
 *
 * @category getters
 * @since 0.2.0
 */
export const rank = <M>(
  query: ReadonlyArray<number>,
  documents: ReadonlyArray<EmbeddedDocument<M>>,
  top = documents.length
): Array<EmbeddedDocument<M> & { readonly score: number }> =>
  documents
    .map((d) => ({ ...d, score: similarity(query, d.vector) }))
    .sort((x, y) => y.score - x.score)
    .slice(0, top)
