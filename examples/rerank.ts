/**
 * Rerank documents against a query with a reranking GGUF (rank pooling, e.g. Qwen3-Reranker); concurrent pairs
 * are batched. Run: node examples/rerank.ts   (LLAMA_RERANKER_PATH=/path/to/reranker.gguf for a real one)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Native, Reranker } from "../src/index.ts"
import { companionPath } from "./model.ts"

const documents = ["A cat sleeps on the sofa.", "Paris is the capital of France.", "Kittens are young cats."]

const program = Effect.gen(function*() {
  const reranker = yield* Reranker.Reranker
  for (const { score, document } of yield* reranker.rank("What are cats?", documents)) {
    yield* Console.log(`${score.toFixed(4)}  ${document}`)
  }
})

const path = await companionPath("LLAMA_RERANKER_PATH", "tiny-qwen3-reranker")

NodeRuntime.runMain(program.pipe(Effect.provide(Reranker.layerModel({ path }).pipe(Layer.provide(Native.layer)))))
