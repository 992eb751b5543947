// The Vulkan build end to end (npm run test:gpu): on a machine without a GPU it runs on Mesa's lavapipe, selected
// with GGML_VK_VISIBLE_DEVICES. Greedy tokens and embeddings are compared with the CPU build's.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { NativeModel } from "../../src/native/NativeBinding.ts"
import { binding, type ContextHandle, embed, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"
import { cosine, cpuReference } from "./support/gpu.ts"

const prompts = ["The quick brown fox", "def fibonacci(n):", "Once upon a time, in a land", "In 1492, Columbus"]

const vulkanBytes = (model: NativeModel) => model.info().deviceMemory.reduce((sum, d) => sum + d.modelBytes, 0)

const doneAt = (ctx: ContextHandle, job: number) =>
  Effect.callback<{ readonly reason: string; readonly completed: number; readonly at: number }>((resume) => {
    ctx.router.listen(job, (event) => {
      if (event.type === "done") {
        resume(Effect.succeed({ reason: event.reason, completed: event.usage.completionTokens, at: performance.now() }))
      }
    })
  })

describe("vulkan", () => {
  it.effect("systemInfo lists the Vulkan backend and its device, with no warning", () =>
    Effect.gen(function*() {
      const info = (yield* Effect.orDie(binding)).systemInfo()
      assert.strictEqual(info.gpu, "vulkan")
      assert.include(info.backends, "Vulkan")
      const device = info.devices.find((d) => d.backend === "Vulkan")
      assert.isDefined(device, JSON.stringify(info.devices))
      assert.oneOf(device!.type, ["gpu", "igpu"])
      assert.isAbove(device!.memoryTotal, 0)
      assert.isTrue(info.supportsGpuOffload)
      assert.deepStrictEqual(info.warnings, [])
    }))

  it.effect("gpuLayers -1 offloads every layer; the model generates, and greedy tokens equal the CPU build's", () =>
    Effect.gen(function*() {
      for (const name of ["tiny-llama", "tiny-qwen2"] as const) {
        const path = yield* modelFile(name)
        const model = yield* loadModel(path, { gpuLayers: -1 })
        const info = model.info()
        assert.strictEqual(info.gpuLayersRequested, "max")
        assert.strictEqual(info.gpuLayers, info.layers + 1, name)
        assert.strictEqual(info.offloadableLayers, info.layers + 1)
        assert.deepStrictEqual(info.devices, ["Vulkan0"])
        assert.isAbove(vulkanBytes(model), 0)
        assert.isTrue(info.buffers.some((b) => b.type === "Vulkan0"), JSON.stringify(info.buffers))
        const ctx = yield* openContext(model, { contextSize: 1024, sequences: 4 })
        const requests = prompts.map((text, i) => ({ sequence: i, text, maxTokens: 24, sampling: greedy }))
        const gpu: Array<ReadonlyArray<number>> = []
        for (const request of requests) gpu.push((yield* generate(ctx, request)).tokens)
        const cpu = yield* cpuReference({ model: path, context: { contextSize: 1024, sequences: 4 }, generate: requests })
        assert.strictEqual(cpu.gpu, "cpu")
        for (const [i, tokens] of gpu.entries()) {
          assert.strictEqual(tokens.length, 24)
          assert.deepStrictEqual(tokens, cpu.tokens[i], `${name}, prompt ${i}: Vulkan vs CPU`)
        }
      }
    }), 300_000)

  it.effect("four sequences batched together give each the tokens it gets alone", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"), { gpuLayers: "max" })
      const alone = yield* openContext(model, { contextSize: 2048, sequences: 4 })
      const shared = yield* openContext(model, { contextSize: 2048, sequences: 4 })
      const request = (i: number) => ({ sequence: i, text: prompts[i]!, maxTokens: 24, sampling: greedy })
      const all = yield* Effect.all([0, 1, 2, 3].map((i) => generate(shared, request(i))), { concurrency: "unbounded" })
      for (const [i, out] of all.entries()) {
        const ref = yield* generate(alone, request(i))
        assert.strictEqual(out.tokens.length, 24)
        assert.deepStrictEqual(out.tokens, ref.tokens, `sequence ${i}`)
      }
    }), 300_000)

  it.live("abort during a long prefill returns quickly, and the context serves the next request", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("small-llama"), { gpuLayers: "max" })
      const ctx = yield* openContext(model, { contextSize: 4096, batchSize: 256, ubatchSize: 256 })
      const text = "The history of the world is long and full of detail. ".repeat(400)
      const prompt = (yield* Effect.promise(() => model.tokenize(text, true, false))).slice(0, 3000)
      const job = ctx.context.generate({ sequence: 0, tokens: prompt, maxTokens: 8, sampling: greedy })
      const done = yield* Effect.forkChild(doneAt(ctx, job))
      yield* Effect.sleep("300 millis") // inside the prefill: 3,000 tokens take seconds on lavapipe
      const abortedAt = performance.now()
      assert.isTrue(ctx.context.abort(job))
      const { reason, completed, at } = yield* Fiber.join(done)
      assert.strictEqual(reason, "abort")
      assert.strictEqual(completed, 0)
      // The abort is checked between prefill chunks (a Vulkan graph is not interrupted mid-way): one 256-token chunk.
      assert.isBelow(at - abortedAt, 2000, `abort took ${(at - abortedAt).toFixed(0)} ms`)
      const next = yield* generate(ctx, { sequence: 0, tokens: prompt.slice(0, 64), maxTokens: 4, sampling: greedy })
      assert.strictEqual(next.tokens.length, 4)
      assert.strictEqual(next.done.usage.cachedTokens, 0)
    }), 300_000)

  it.effect("embeddings match the CPU build's within 1e-3 cosine", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("tiny-qwen2")
      const model = yield* loadModel(path, { gpuLayers: "max" })
      const texts = ["The cat sat on the mat.", "Quantum chromodynamics", "hello", "A longer sentence about embeddings."]
      const context = { contextSize: 1024, sequences: 4, embeddings: true }
      const ctx = yield* openContext(model, context)
      const gpu = yield* embed(ctx, { texts })
      const cpu = yield* cpuReference({ model: path, context, embed: { texts } })
      assert.strictEqual(cpu.vectors.length, texts.length)
      for (const [i, v] of gpu.entries()) {
        assert.isAbove(cosine(v, cpu.vectors[i]!), 1 - 1e-3, texts[i])
      }
    }), 300_000)

  it.effect("gpuLayers auto fits every layer when memory allows, fewer with a margin that leaves room for some", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("small-llama")
      const all = yield* loadModel(path, { gpuFit: { contextSize: 1024 } })
      const info = all.info()
      assert.strictEqual(info.gpuLayersRequested, "auto")
      assert.strictEqual(info.gpuFit?.status, "fits")
      assert.strictEqual(info.gpuFit?.contextSize, 1024)
      assert.strictEqual(info.gpuLayers, info.offloadableLayers)
      const full = vulkanBytes(all)
      const device = info.deviceMemory[0]!
      // Leave free all but about half the weights: the fit must offload some layers, not all.
      const marginBytes = device.memoryFree - Math.round(full / 2)
      const part = yield* loadModel(path, { gpuFit: { contextSize: 1024, marginBytes } })
      const partInfo = part.info()
      assert.strictEqual(partInfo.gpuFit?.status, "reduced", JSON.stringify(partInfo.gpuFit))
      assert.isAbove(partInfo.gpuLayers, 0)
      assert.isBelow(partInfo.gpuLayers, partInfo.offloadableLayers)
      assert.isBelow(vulkanBytes(part), full)
      const ctx = yield* openContext(part, { contextSize: 1024 })
      const out = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 4, sampling: greedy })
      assert.strictEqual(out.tokens.length, 4)
      // A margin larger than the whole device: nothing fits, the model loads on the CPU.
      const none = yield* loadModel(path, { gpuFit: { contextSize: 1024, marginBytes: device.memoryTotal * 2 } })
      assert.strictEqual(none.info().gpuFit?.status, "failed")
      assert.strictEqual(none.info().gpuLayers, 0)
      assert.deepStrictEqual(none.info().deviceMemory, [])
    }), 300_000)

  it.effect("a layer count offloads that many layers", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("small-llama")
      const one = yield* loadModel(path, { gpuLayers: 1 })
      const max = yield* loadModel(path, { gpuLayers: "max" })
      const zero = yield* loadModel(path, { gpuLayers: 0 })
      assert.strictEqual(one.info().gpuLayers, 1)
      assert.strictEqual(one.info().gpuLayersRequested, 1)
      assert.strictEqual(one.info().gpuFit, null)
      assert.isAbove(vulkanBytes(one), 0)
      assert.isBelow(vulkanBytes(one), vulkanBytes(max))
      assert.strictEqual(zero.info().gpuLayers, 0)
      assert.deepStrictEqual(zero.info().devices, [])
    }), 300_000)
})
