// The Vulkan build end to end (npm run test:gpu): on a machine without a GPU it runs on Mesa's lavapipe, selected
// with GGML_VK_VISIBLE_DEVICES. Greedy tokens and embeddings are compared with the CPU build's.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import type { NativeModel } from "../../src/native/NativeBinding.ts"
import { binding, type ContextHandle, embed, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"
import { cosine, cpuReference, firstDivergence, tiesWithin } from "./support/gpu.ts"

const prompts = ["The quick brown fox", "def fibonacci(n):", "Once upon a time, in a land", "In 1492, Columbus"]
const maxTokens = 16

/**
 * The tolerance, in logits: two runs may pick different greedy tokens only where the two candidates' logits are
 * within this of each other (random-weight test models produce such near ties). Past the first such point the
 * runs continue from different tokens and are not compared further.
 */
const tieTolerance = 0.05

// One greedy token after `tokens` on sequence `sequence` of `ctx`, with a logit bias.
const nextToken = (ctx: ContextHandle, sequence: number) =>
  (tokens: ReadonlyArray<number>, logitBias: ReadonlyArray<{ token: number; bias: number }>) =>
    Effect.map(generate(ctx, { sequence, tokens, maxTokens: 1, sampling: { temperature: 0, logitBias } }), (g) => g.tokens[0]!)

// Asserts `actual` equals `expected`, or that they part where `ctx` (which produced `actual`) sees a tie.
const assertSameOrTie = (
  ctx: ContextHandle,
  prompt: ReadonlyArray<number>,
  actual: ReadonlyArray<number>,
  expected: ReadonlyArray<number>,
  what: string
) =>
  Effect.gen(function*() {
    assert.strictEqual(actual.length, expected.length, what)
    const at = firstDivergence(actual, expected)
    if (at < 0) return "equal" as const
    const tie = yield* tiesWithin(nextToken(ctx, 0), [...prompt, ...actual.slice(0, at)], actual[at]!, expected[at]!, tieTolerance)
    assert.isTrue(tie, `${what}: token ${at} differs (${actual[at]} vs ${expected[at]}) and the logits do not tie within ${tieTolerance}`)
    return "tie" as const
  })

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

  it.live("gpuLayers -1 offloads every layer; the model generates greedy tokens equal to the CPU build's (or parts at a tie)", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("tiny-qwen2")
      const model = yield* loadModel(path, { gpuLayers: -1 })
      const info = model.info()
      assert.strictEqual(info.gpuLayersRequested, "max")
      assert.strictEqual(info.gpuLayers, info.layers + 1)
      assert.strictEqual(info.offloadableLayers, info.layers + 1)
      assert.deepStrictEqual(info.devices, ["Vulkan0"])
      assert.isAbove(vulkanBytes(model), 0)
      assert.isTrue(info.buffers.some((b) => b.type === "Vulkan0"), JSON.stringify(info.buffers))
      const context = { contextSize: 1024, sequences: 4 }
      const ctx = yield* openContext(model, context)
      const requests = prompts.map((text) => ({ sequence: 0, text, maxTokens, sampling: greedy }))
      const gpu: Array<ReadonlyArray<number>> = []
      for (const request of requests) gpu.push((yield* generate(ctx, request)).tokens)
      const cpu = yield* cpuReference({ model: path, context, generate: requests })
      assert.strictEqual(cpu.gpu, "cpu")
      const outcomes: Array<string> = []
      for (const [i, tokens] of gpu.entries()) {
        const prompt = Array.from(yield* Effect.promise(() => model.tokenize(prompts[i]!, true, true)))
        outcomes.push(yield* assertSameOrTie(ctx, prompt, tokens, cpu.tokens[i]!, `prompt ${i}: Vulkan vs CPU`))
      }
      yield* Effect.logInfo(`greedy ${maxTokens} tokens, Vulkan vs CPU, by prompt: ${outcomes.join(", ")}`)
      assert.include(outcomes, "equal", `no prompt gave the same tokens on both builds: ${outcomes.join(", ")}`)
    }))

  it.live("four sequences batched together give each the tokens it gets alone (or part at a tie)", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"), { gpuLayers: "max" })
      const alone = yield* openContext(model, { contextSize: 1024, sequences: 4 })
      const shared = yield* openContext(model, { contextSize: 1024, sequences: 4 })
      const request = (i: number) => ({ sequence: i, text: prompts[i]!, maxTokens, sampling: greedy })
      const all = yield* Effect.all([0, 1, 2, 3].map((i) => generate(shared, request(i))), { concurrency: "unbounded" })
      const outcomes: Array<string> = []
      for (const [i, out] of all.entries()) {
        const ref = yield* generate(alone, { ...request(i), sequence: 0 })
        const prompt = Array.from(yield* Effect.promise(() => model.tokenize(prompts[i]!, true, true)))
        outcomes.push(yield* assertSameOrTie(alone, prompt, ref.tokens, out.tokens, `sequence ${i}: alone vs batched`))
      }
      yield* Effect.logInfo(`greedy ${maxTokens} tokens, alone vs 4 batched, by sequence: ${outcomes.join(", ")}`)
      assert.include(outcomes, "equal", `no sequence gave the same tokens alone and batched: ${outcomes.join(", ")}`)
    }))

  it.live("abort during a long prefill returns within a few prefill chunks, and the context serves the next request", () =>
    Effect.gen(function*() {
      const model = yield* loadModel(yield* modelFile("small-llama"), { gpuLayers: "max" })
      // The abort is checked between prefill chunks (a Vulkan graph is not interrupted mid-way): small chunks.
      const ctx = yield* openContext(model, { contextSize: 4096, batchSize: 64, ubatchSize: 64 })
      const text = "The history of the world is long and full of detail. ".repeat(400)
      const prompt = (yield* Effect.promise(() => model.tokenize(text, true, false))).slice(0, 3000)
      const job = ctx.context.generate({ sequence: 0, tokens: prompt, maxTokens: 8, sampling: greedy })
      const done = yield* Effect.forkChild(doneAt(ctx, job))
      yield* Effect.sleep("500 millis") // inside the prefill: 3,000 tokens take many seconds on lavapipe
      const abortedAt = performance.now()
      assert.isTrue(ctx.context.abort(job))
      const { reason, completed, at } = yield* Fiber.join(done)
      assert.strictEqual(reason, "abort")
      assert.strictEqual(completed, 0)
      const next = yield* generate(ctx, { sequence: 0, tokens: prompt.slice(0, 64), maxTokens: 4, sampling: greedy })
      assert.strictEqual(next.tokens.length, 4)
      assert.strictEqual(next.done.usage.cachedTokens, 0)
      // One 64-token chunk, timed on this machine now (it is busy): the abort waits for at most the one running.
      const chunkMs = next.done.timings.prefillMs
      const took = at - abortedAt
      yield* Effect.logInfo(`abort returned after ${took.toFixed(0)} ms; one 64-token chunk takes ${chunkMs.toFixed(0)} ms`)
      assert.isBelow(took, Math.max(1000, 3 * chunkMs), `abort took ${took.toFixed(0)} ms, a chunk ${chunkMs.toFixed(0)} ms`)
    }))

  it.live("embeddings match the CPU build's within 1e-3 cosine", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("tiny-qwen2")
      const model = yield* loadModel(path, { gpuLayers: "max" })
      const texts = ["The cat sat on the mat.", "Quantum chromodynamics", "hello", "A longer sentence about embeddings."]
      const context = { contextSize: 1024, sequences: 4, embeddings: true }
      const ctx = yield* openContext(model, context)
      const gpu = yield* embed(ctx, { texts })
      const cpu = yield* cpuReference({ model: path, context, embed: { texts } })
      assert.strictEqual(cpu.vectors.length, texts.length)
      const cosines = gpu.map((v, i) => cosine(v, cpu.vectors[i]!))
      yield* Effect.logInfo(`embedding cosine, Vulkan vs CPU: min ${Math.min(...cosines).toFixed(7)}`)
      for (const [i, c] of cosines.entries()) assert.isAbove(c, 1 - 1e-3, texts[i])
    }))

  it.effect("gpuLayers auto fits every layer when memory allows, fewer as the margin grows, none past the device", () =>
    Effect.gen(function*() {
      const path = yield* modelFile("small-llama")
      // A small batch keeps the compute buffer (logits of 32,000 tokens per batch row) below the weights.
      const fit = { contextSize: 512, batchSize: 32, ubatchSize: 32 }
      const all = yield* loadModel(path, { gpuFit: fit })
      const info = all.info()
      assert.strictEqual(info.gpuLayersRequested, "auto")
      assert.strictEqual(info.gpuFit?.status, "fits")
      assert.strictEqual(info.gpuFit?.contextSize, 512)
      assert.strictEqual(info.gpuLayers, info.offloadableLayers)
      const full = vulkanBytes(all)
      const device = info.deviceMemory[0]!
      assert.strictEqual(device.device, "Vulkan0")
      // Margins that leave less and less room: the layer count never grows, and some margin offloads only part.
      const layers: Array<number> = []
      for (const room of [1.5, 0.9, 0.75, 0.6, 0.4]) {
        const model = yield* loadModel(path, { gpuFit: { ...fit, marginBytes: device.memoryFree - Math.round(full * room) } })
        const fitted = model.info()
        layers.push(fitted.gpuLayers)
        assert.isAtMost(vulkanBytes(model), full)
        if (fitted.gpuLayers > 0 && fitted.gpuLayers < fitted.offloadableLayers) {
          assert.strictEqual(fitted.gpuFit?.status, "reduced")
          const ctx = yield* openContext(model, { contextSize: 512, batchSize: 32, ubatchSize: 32 })
          const out = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 4, sampling: greedy })
          assert.strictEqual(out.tokens.length, 4)
        }
      }
      for (let i = 1; i < layers.length; i++) assert.isAtMost(layers[i]!, layers[i - 1]!, `layers by margin: ${layers.join(", ")}`)
      assert.isTrue(layers.some((n) => n > 0 && n < info.offloadableLayers), `layers by margin: ${layers.join(", ")}`)
      // A margin larger than the whole device: nothing fits, the model loads on the CPU.
      const none = yield* loadModel(path, { gpuFit: { ...fit, marginBytes: device.memoryTotal * 2 } })
      assert.strictEqual(none.info().gpuFit?.status, "failed")
      assert.strictEqual(none.info().gpuLayers, 0)
      assert.deepStrictEqual(none.info().deviceMemory, [])
    }))

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
    }))

  it.live("with no Vulkan device visible, the Vulkan addon runs on the CPU with a warning and gives the CPU build's tokens", () =>
    Effect.gen(function*() {
      // Without GGML_VK_VISIBLE_DEVICES ggml ignores lavapipe (a CPU-type device): a machine without a GPU. The
      // same fallback serves a CUDA build without a CUDA device (test/gpu/Cuda.test.ts).
      const path = yield* modelFile("tiny-qwen2")
      const reference = {
        model: path,
        context: { contextSize: 512 },
        generate: [{ sequence: 0, text: prompts[0]!, maxTokens, sampling: greedy }]
      }
      const addon = process.env.EFFECT_LLAMA_ADDON!
      const fallback = yield* cpuReference(reference, addon, { GGML_VK_VISIBLE_DEVICES: undefined })
      assert.strictEqual(fallback.gpu, "vulkan")
      assert.strictEqual(fallback.warnings.length, 1)
      assert.match(fallback.warnings[0]!, /built with vulkan, but no vulkan device was found.*models run on the CPU/)
      assert.strictEqual(fallback.gpuWarning, fallback.warnings[0])
      assert.strictEqual(fallback.gpuLayers, 0)
      const cpu = yield* cpuReference(reference)
      assert.deepStrictEqual(fallback.tokens, cpu.tokens)
    }))
})
