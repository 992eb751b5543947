// The CUDA build (npm run test:gpu -- cuda). Where no CUDA device is found (no GPU, or no driver) the addon still
// loads: systemInfo() carries a warning, models load on the CPU with the warning in the log and in info().gpuWarning,
// and they generate. Where a device is found, layers are offloaded to it.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { binding, generate, greedy, loadModel, modelFile, openContext } from "../support/native.ts"

describe("cuda", () => {
  // it.live: the log is awaited on the real clock (it.effect's TestClock never lets the sleep end).
  it.live("the CUDA addon loads; without a CUDA device models run on the CPU with a warning, with one they offload", () =>
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const system = native.systemInfo()
      assert.strictEqual(system.gpu, "cuda")
      assert.include(system.backends, "CUDA")
      const cudaDevices = system.devices.filter((d) => d.backend === "CUDA")
      const logged: Array<string> = []
      native.setLogger((level, text) => {
        if (level === 3) logged.push(text)
      }, 3)
      const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
      const info = model.info()
      if (cudaDevices.length === 0) {
        assert.strictEqual(system.warnings.length, 1)
        assert.match(system.warnings[0]!, /built with cuda, but no cuda device was found.*models run on the CPU/)
        assert.strictEqual(info.gpuLayers, 0)
        assert.deepStrictEqual(info.deviceMemory, [])
        assert.strictEqual(info.gpuWarning, system.warnings[0])
        assert.strictEqual(info.gpuFit, null) // nothing to fit: no device
        yield* Effect.sleep("50 millis") // the log reaches JS through a thread-safe function
        assert.isTrue(logged.some((line) => line.includes("no cuda device was found")), logged.join(""))
      } else {
        assert.deepStrictEqual(system.warnings, [])
        assert.strictEqual(info.gpuLayers, info.offloadableLayers)
        assert.isAbove(info.deviceMemory[0]!.modelBytes, 0)
      }
      native.setLogger(null)
      const ctx = yield* openContext(model, { contextSize: 512 })
      const out = yield* generate(ctx, { sequence: 0, text: "Hello", maxTokens: 8, sampling: greedy })
      assert.strictEqual(out.tokens.length, 8)
    }))
})
