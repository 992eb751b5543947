// Hugging Face embeddings against a loopback server speaking TEI's /embed and the Inference API's
// feature-extraction route.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

import * as HuggingFaceEmbeddingModel from "../../src/providers/HuggingFaceEmbeddingModel.ts"
import * as F from "./FaultServer.ts"

const Env = Layer.mergeAll(F.layer, NodeHttpClient.layerUndici)

const embedWith = (options: (url: string) => HuggingFaceEmbeddingModel.Options, inputs: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { url } = yield* F.Fault
    const model = yield* HuggingFaceEmbeddingModel.make(options(url))
    return yield* model.embedMany(inputs)
  })

layer(Env, { excludeTestServices: true })("HuggingFaceEmbeddingModel", (it) => {
  it.effect("TEI: POST /embed with inputs, normalize and truncate; batches of maxBatchSize", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script((request, response) =>
        F.json(200, (request.json.inputs as Array<string>).map((s) => [s.length, 0]))(request, response))
      const result = yield* embedWith((url) => ({
        server: { _tag: "TEI", baseUrl: url },
        normalize: false,
        truncate: true,
        maxBatchSize: 2,
        concurrency: 1
      }), ["a", "bb", "ccc"])
      assert.deepStrictEqual(result.embeddings.map((e) => e.vector), [[1, 0], [2, 0], [3, 0]])
      const requests = yield* server.requests
      assert.deepStrictEqual(requests.map((r) => [r.url, r.json]), [
        ["/embed", { inputs: ["a", "bb"], normalize: false, truncate: true }],
        ["/embed", { inputs: ["ccc"], normalize: false, truncate: true }]
      ])
    }))

  it.effect("Inference API: the feature-extraction route with a Bearer token; token vectors are mean-pooled", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      yield* server.script(F.json(200, [[[1, 2], [3, 4]], [[0, 0], [2, 2], [4, 4]]]))
      const result = yield* embedWith((url) => ({
        server: { _tag: "InferenceApi", model: "BAAI/bge-small-en-v1.5", baseUrl: url },
        apiKey: Redacted.make("hf_test")
      }), ["x", "y"])
      assert.deepStrictEqual(result.embeddings.map((e) => e.vector), [[2, 3], [2, 2]])
      const [request] = yield* server.requests
      assert.strictEqual(request!.url, "/hf-inference/models/BAAI/bge-small-en-v1.5/pipeline/feature-extraction")
      assert.strictEqual(request!.headers.authorization, "Bearer hf_test")
    }))

  it.effect("TEI errors: 413 batch too large is an InvalidRequest, 429 overloaded a RateLimit; wrong counts are typed", () =>
    Effect.gen(function*() {
      const server = yield* F.Fault
      const options = (url: string): HuggingFaceEmbeddingModel.Options => ({ server: { _tag: "TEI", baseUrl: url } })
      yield* server.script(F.json(413, { error: "batch size 64 > maximum allowed batch size 32", error_type: "Validation" }))
      assert.strictEqual((yield* Effect.flip(embedWith(options, ["a"]))).reason._tag, "InvalidRequestError")
      yield* server.script(F.json(429, { error: "Model is overloaded", error_type: "Overloaded" }))
      const overloaded = yield* Effect.flip(embedWith(options, ["a"]))
      assert.strictEqual(overloaded.reason._tag, "RateLimitError")
      assert.isTrue(overloaded.isRetryable)
      yield* server.script(F.json(200, [[1, 2]]))
      assert.strictEqual((yield* Effect.flip(embedWith(options, ["a", "b"]))).reason._tag, "InvalidResponseError")
    }))
})

