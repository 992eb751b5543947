/**
 * Embeddings: concurrent embed calls are batched into one native job; rank texts by cosine similarity.
 * Run: node examples/embeddings.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { EmbeddingModel } from "effect/ai"
import { LlamaEmbeddingModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

const texts = ["The cat sleeps on the sofa.", "Stock markets fell today.", "A kitten naps on the couch."]

const dot = (a: ReadonlyArray<number>, b: ReadonlyArray<number>) => a.reduce((s, x, i) => s + x * b[i]!, 0)

const program = Effect.gen(function*() {
  const model = yield* EmbeddingModel.EmbeddingModel
  const [query, ...docs] = yield* Effect.forEach(["Where is the cat?", ...texts], (t) => model.embed(t), {
    concurrency: "unbounded"
  })
  const ranked = docs.map((d, i) => ({ text: texts[i]!, score: dot(query!.vector, d.vector) })).sort((a, b) => b.score - a.score)
  for (const { text, score } of ranked) yield* Console.log(`${score.toFixed(3)}  ${text}`)
})

const Local = LlamaEmbeddingModel.layerModel({ path: modelPath }).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
