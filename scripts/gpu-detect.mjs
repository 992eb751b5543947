// Which GPU backend this machine can build and run, for EFFECT_LLAMA_GPU=auto. Shared by build-native.mjs (the
// build) and the GPU test and bench scripts. Detection is cheap: files and `--version`-style commands only.
//   CUDA:   nvcc (PATH, CUDA_PATH or /usr/local/cuda), cuBLAS (the toolkit's or a pip wheel's), and an NVIDIA GPU
//           (`nvidia-smi -L` lists one, or /dev/nvidia0 exists)
//   Vulkan: the loader's headers, glslc, SPIRV-Headers, a GPU render node (/dev/dri/renderD*) and a Vulkan driver
//           (ICD) other than Mesa's lavapipe; a software device does not count: auto never picks Vulkan where only
//           the CPU would run it (lavapipe is slower than the CPU backend)
//   Metal:  macOS on Apple silicon or with a Metal GPU (every Mac that runs current macOS)
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { delimiter, join } from "node:path"

const run = (command, args) => {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20_000 })
  } catch {
    return undefined
  }
}

const onPath = (name) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => dir !== "" && existsSync(join(dir, name)))

/** The CUDA toolkit's root (holding bin/nvcc), or undefined. */
export const cudaRoot = () => {
  const candidates = [process.env.CUDA_PATH, process.env.CUDA_HOME, "/usr/local/cuda", "/opt/cuda"]
  const found = candidates.find((dir) => dir !== undefined && dir !== "" && existsSync(join(dir, "bin", "nvcc")))
  if (found !== undefined) return found
  const nvcc = run("which", ["nvcc"])?.trim()
  return nvcc ? join(nvcc, "..", "..") : undefined
}

/** NVIDIA GPUs visible here: `nvidia-smi -L` lines, or one per /dev/nvidiaN. */
export const nvidiaGpus = () => {
  const listed = run("nvidia-smi", ["-L"])
  if (listed !== undefined) return listed.split("\n").filter((line) => line.startsWith("GPU "))
  try {
    return readdirSync("/dev").filter((f) => /^nvidia\d+$/.test(f))
  } catch {
    return []
  }
}

/** Debian/Ubuntu (or SDK) Vulkan build prerequisites that are missing. */
export const vulkanBuildMissing = () => {
  const sdk = process.env.VULKAN_SDK
  const has = (paths) => paths.some((p) => existsSync(p))
  const missing = []
  if (!has([sdk && join(sdk, "include", "vulkan", "vulkan.h"), "/usr/include/vulkan/vulkan.h"].filter(Boolean))) missing.push("libvulkan-dev")
  if (!onPath("glslc") && !has([sdk && join(sdk, "bin", "glslc")].filter(Boolean))) missing.push("glslc")
  if (!has([sdk && join(sdk, "share", "cmake", "SPIRV-Headers"), "/usr/share/cmake/SPIRV-Headers", "/usr/lib/cmake/SPIRV-Headers"].filter(Boolean))) missing.push("spirv-headers")
  return missing
}

/** GPU render nodes (a kernel GPU driver); lavapipe needs none, so it never makes auto pick Vulkan. */
export const renderNodes = () => {
  try {
    return readdirSync("/dev/dri").filter((f) => f.startsWith("renderD"))
  } catch {
    return []
  }
}

/** The Vulkan drivers (ICD manifests) installed, by file name: `lvp_icd.x86_64.json` is Mesa's lavapipe. */
export const vulkanIcds = () => {
  const dirs = [
    ...(process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? "").split(delimiter).filter((f) => f !== "").map((f) => join(f, "..")),
    "/usr/share/vulkan/icd.d", "/usr/local/share/vulkan/icd.d", "/etc/vulkan/icd.d"
  ]
  const found = new Set()
  for (const dir of dirs) {
    try {
      for (const f of readdirSync(dir)) if (f.endsWith(".json")) found.add(f)
    } catch {}
  }
  return [...found]
}

/** A software Vulkan driver: Mesa's lavapipe (or swiftshader), which computes on the CPU. */
export const isSoftwareIcd = (file) => /^(lvp|lavapipe|swiftshader|vk_swiftshader)_/.test(file)

/** What this machine has, for detectGpu (probed lazily, each at most once). */
export const probeMachine = () => ({
  platform: process.platform,
  cudaRoot,
  nvidiaGpus,
  vulkanBuildMissing,
  renderNodes,
  vulkanIcds
})

/**
 * What EFFECT_LLAMA_GPU=auto picks here, and why (one line, printed at install).
 * `cublasFound` says whether cuBLAS is available to a CUDA build (see cuda-deps.mjs); `machine` is what is probed
 * (default: this machine), replaceable to test the rules.
 */
export const detectGpu = ({ cublasFound, machine = probeMachine() }) => {
  if (machine.platform === "darwin") {
    return { gpu: "metal", why: "macOS: Metal" }
  }
  const nvcc = machine.cudaRoot()
  const gpus = nvcc === undefined ? [] : machine.nvidiaGpus()
  const cublas = nvcc !== undefined && gpus.length > 0 && cublasFound(nvcc)
  if (cublas) return { gpu: "cuda", why: `nvcc in ${nvcc} and ${gpus.length} NVIDIA GPU(s)` }
  const vulkanMissing = machine.vulkanBuildMissing()
  const nodes = vulkanMissing.length === 0 ? machine.renderNodes() : []
  const drivers = nodes.length > 0 ? machine.vulkanIcds().filter((f) => !isSoftwareIcd(f)) : []
  if (drivers.length > 0) {
    return { gpu: "vulkan", why: `Vulkan headers, glslc, a GPU render node (/dev/dri/${nodes[0]}) and a Vulkan driver (${drivers.join(", ")})` }
  }
  const reasons = [
    nvcc === undefined ? "no nvcc" : gpus.length === 0 ? "nvcc but no NVIDIA GPU" : "nvcc and a GPU but no cuBLAS",
    vulkanMissing.length > 0
      ? `no Vulkan build tools (${vulkanMissing.join(", ")})`
      : nodes.length === 0
      ? "Vulkan build tools but no GPU render node (a software Vulkan device such as lavapipe does not count)"
      : "a GPU render node but no Vulkan driver other than a software one"
  ]
  return { gpu: "cpu", why: reasons.join(", ") }
}
