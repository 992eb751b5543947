// EFFECT_LLAMA_GPU=auto (the install default): the backend it picks by what a machine has. The rules are tested on
// described machines; on this one (no GPU) it must pick the CPU, whatever Vulkan packages are installed, and the
// addon that the install built (build/) must be the CPU build.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { detectGpu, isSoftwareIcd, type Machine, probeMachine } from "../../scripts/gpu-detect.mjs"
import { binding } from "../support/native.ts"

// A Linux machine with a Vulkan SDK and Mesa's drivers (lavapipe among them), no nvcc, no GPU.
const lavapipeOnly: Machine = {
  platform: "linux",
  cudaRoot: () => undefined,
  nvidiaGpus: () => [],
  vulkanBuildMissing: () => [],
  renderNodes: () => [],
  vulkanIcds: () => ["intel_icd.x86_64.json", "lvp_icd.x86_64.json", "radeon_icd.x86_64.json"]
}
const cublas = () => true

describe("gpu-detect (EFFECT_LLAMA_GPU=auto)", () => {
  it.effect("a Vulkan SDK with only lavapipe (no GPU render node) picks the CPU", () =>
    Effect.sync(() => {
      const choice = detectGpu({ cublasFound: cublas, machine: lavapipeOnly })
      assert.strictEqual(choice.gpu, "cpu")
      assert.match(choice.why, /no GPU render node/)
    }))

  it.effect("a render node whose only Vulkan driver is a software one picks the CPU", () =>
    Effect.sync(() => {
      const machine = { ...lavapipeOnly, renderNodes: () => ["renderD128"], vulkanIcds: () => ["lvp_icd.x86_64.json"] }
      assert.strictEqual(detectGpu({ cublasFound: cublas, machine }).gpu, "cpu")
      assert.isTrue(isSoftwareIcd("lvp_icd.x86_64.json"))
      assert.isFalse(isSoftwareIcd("radeon_icd.x86_64.json"))
    }))

  it.effect("a render node and a hardware Vulkan driver pick Vulkan; missing build tools pick the CPU", () =>
    Effect.sync(() => {
      const machine = { ...lavapipeOnly, renderNodes: () => ["renderD128"] }
      const choice = detectGpu({ cublasFound: cublas, machine })
      assert.strictEqual(choice.gpu, "vulkan")
      assert.include(choice.why, "renderD128")
      const noTools = { ...machine, vulkanBuildMissing: () => ["glslc"] }
      assert.deepStrictEqual(detectGpu({ cublasFound: cublas, machine: noTools }).gpu, "cpu")
    }))

  it.effect("CUDA needs nvcc, an NVIDIA GPU and cuBLAS; it wins over Vulkan", () =>
    Effect.sync(() => {
      const nvccOnly = { ...lavapipeOnly, cudaRoot: () => "/usr/local/cuda" }
      assert.strictEqual(detectGpu({ cublasFound: cublas, machine: nvccOnly }).gpu, "cpu")
      const withGpu = { ...nvccOnly, nvidiaGpus: () => ["GPU 0: NVIDIA H200"], renderNodes: () => ["renderD128"] }
      assert.strictEqual(detectGpu({ cublasFound: cublas, machine: withGpu }).gpu, "cuda")
      assert.strictEqual(detectGpu({ cublasFound: () => false, machine: withGpu }).gpu, "vulkan")
      assert.strictEqual(detectGpu({ cublasFound: cublas, machine: { ...lavapipeOnly, platform: "darwin" } }).gpu, "metal")
    }))

  it.effect("on this machine (no GPU) auto picks the CPU, and the installed addon is the CPU build", () =>
    Effect.gen(function*() {
      const machine = probeMachine()
      if (machine.nvidiaGpus().length === 0 && machine.renderNodes().length === 0 && machine.platform === "linux") {
        assert.strictEqual(detectGpu({ cublasFound: cublas }).gpu, "cpu")
        const native = yield* Effect.orDie(binding)
        assert.strictEqual(native.systemInfo().gpu, "cpu")
      } else {
        // A machine with a GPU: auto picks a GPU backend (which one depends on its tools).
        assert.notStrictEqual(detectGpu({ cublasFound: cublas }).gpu, "")
      }
    }))
})
