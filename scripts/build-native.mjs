#!/usr/bin/env node
// Builds the addon with cmake-js. Incremental: a second run recompiles only what changed.
// Environment:
//   EFFECT_LLAMA_GPU=auto (default) | cpu | vulkan | cuda | metal: the GPU backend compiled in. auto picks CUDA
//     where nvcc, cuBLAS and an NVIDIA GPU are, Vulkan where its build tools and a GPU render node are, Metal on
//     macOS, else the CPU (scripts/gpu-detect.mjs), prints its choice, and falls back to a CPU build when the GPU
//     build fails.
//   EFFECT_LLAMA_CUDA_ARCHS: CUDA architectures (CMAKE_CUDA_ARCHITECTURES), default `native` where a GPU is
//     present, else `90` (H100/H200).
//   EFFECT_LLAMA_BUILD_DIR: the build folder. Default: build/ for the CPU and for auto's choice (the addon the
//     library loads), build-<gpu>/ when EFFECT_LLAMA_GPU names a GPU backend (side by side with the CPU build;
//     point EFFECT_LLAMA_ADDON at build-<gpu>/Release/effect_llama.node to use it), build-prebuilt/ with
//     EFFECT_LLAMA_PREBUILT=1.
//   EFFECT_LLAMA_PORTABLE=1 (no -march=native), EFFECT_LLAMA_DEBUG=1 (Debug build with type-checked napi casts),
//   EFFECT_LLAMA_SANITIZE=address,undefined (ASan and UBSan, in build-sanitize/ so it never replaces build/Release;
//     `npm run test:sanitize` uses it),
//   EFFECT_LLAMA_PREBUILT=1 (the portable build of a prebuilt package, with ggml's CPU backend, and a GPU backend
//     when one is selected, as libraries loaded at run time).
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureCublas, findCublas } from "./cuda-deps.mjs"
import { cudaRoot, detectGpu, nvidiaGpus } from "./gpu-detect.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const say = (line) => console.log(`build-native: ${line}`)
const requested = process.env.EFFECT_LLAMA_GPU === undefined || process.env.EFFECT_LLAMA_GPU === "" ? "auto" : process.env.EFFECT_LLAMA_GPU
if (!["auto", "cpu", "cuda", "metal", "vulkan"].includes(requested)) {
  console.error(`build-native: EFFECT_LLAMA_GPU must be auto, cpu, cuda, metal or vulkan, not "${requested}"`)
  process.exit(1)
}
const sanitize = process.env.EFFECT_LLAMA_SANITIZE ?? ""
if (!/^[a-z,]*$/.test(sanitize)) {
  console.error(`build-native: EFFECT_LLAMA_SANITIZE must be a list like address,undefined, not "${sanitize}"`)
  process.exit(1)
}
const prebuilt = process.env.EFFECT_LLAMA_PREBUILT === "1"
const portable = prebuilt || process.env.EFFECT_LLAMA_PORTABLE === "1"

let gpu = requested
if (requested === "auto") {
  const choice = detectGpu({ cublasFound: (cuda) => findCublas(cuda, root) !== undefined || process.env.EFFECT_LLAMA_CUDA_PIP !== "0" })
  gpu = choice.gpu
  say(`EFFECT_LLAMA_GPU=auto chose ${gpu} (${choice.why}); set EFFECT_LLAMA_GPU=cpu|vulkan|cuda|metal to choose yourself`)
}
const outDir = process.env.EFFECT_LLAMA_BUILD_DIR ??
  (sanitize !== "" ? "build-sanitize" : prebuilt ? "build-prebuilt" : requested !== "auto" && requested !== "cpu" ? `build-${requested}` : "build")

// What -march=native means on this machine (the compiler's predefined macros), so a build folder made on another
// CPU (a copied checkout, a shared cache) is rebuilt from scratch: its objects may use instructions this CPU lacks.
const nativeCpu = () => {
  if (portable || process.arch !== "x64") return "portable"
  try {
    const macros = execFileSync(process.env.CC ?? "cc", ["-march=native", "-dM", "-E", "-x", "c", "/dev/null"], { encoding: "utf8" })
    return createHash("sha256").update(macros.split("\n").sort().join("\n")).digest("hex").slice(0, 16)
  } catch {
    return "unknown"
  }
}

// CUDA: the toolkit, cuBLAS (pip's wheel when the toolkit lacks it), the architectures, and whether the driver
// library is here (without it ggml's VMM pool, which links libcuda, is left out so the addon loads without a GPU).
const cudaOptions = () => {
  const cuda = cudaRoot()
  if (cuda === undefined) throw new Error("EFFECT_LLAMA_GPU=cuda, but no nvcc was found (PATH, CUDA_PATH, /usr/local/cuda)")
  const cublas = ensureCublas(cuda, root)
  const gpus = nvidiaGpus()
  const archs = process.env.EFFECT_LLAMA_CUDA_ARCHS ?? (gpus.length > 0 ? "native" : "90")
  let driver = false
  try {
    driver = /libcuda\.so\.1\b/.test(execFileSync("ldconfig", ["-p"], { encoding: "utf8" }))
  } catch {}
  say(`CUDA ${cuda}, architectures ${archs}${gpus.length > 0 ? "" : " (no GPU here: EFFECT_LLAMA_CUDA_ARCHS picks others)"}, ` +
    `cuBLAS ${cublas.lib}${driver ? "" : ", no CUDA driver library: VMM pool off"}`)
  return { cuda, archs, cublasInclude: cublas.include, cublasLib: cublas.lib, vmm: driver }
}

const build = (gpu) => {
  const cuda = gpu === "cuda" ? cudaOptions() : undefined
  const options = {
    gpu,
    portable,
    prebuilt,
    config: process.env.EFFECT_LLAMA_DEBUG === "1" ? "Debug" : "Release",
    cpu: nativeCpu(),
    ...(cuda === undefined ? {} : { cuda }),
    ...(sanitize === "" ? {} : { sanitize })
  }
  const cmakeJs = join(root, "node_modules", "cmake-js", "bin", "cmake-js")
  const args = [
    "--out", outDir,
    "--config", options.config,
    "--parallel", String(availableParallelism()),
    `--CDEFFECT_LLAMA_GPU=${options.gpu}`,
    `--CDEFFECT_LLAMA_PORTABLE=${options.portable ? "ON" : "OFF"}`,
    `--CDEFFECT_LLAMA_PREBUILT=${options.prebuilt ? "ON" : "OFF"}`,
    `--CDEFFECT_LLAMA_SANITIZE=${sanitize}`,
    ...(cuda === undefined ? [] : [
      `--CDEFFECT_LLAMA_CUDA_ARCHS=${cuda.archs}`,
      `--CDCUDAToolkit_ROOT=${cuda.cuda}`,
      `--CDCMAKE_CUDA_COMPILER=${join(cuda.cuda, "bin", "nvcc")}`,
      `--CDEFFECT_LLAMA_CUBLAS_INCLUDE=${cuda.cublasInclude}`,
      `--CDEFFECT_LLAMA_CUBLAS_LIB=${cuda.cublasLib}`,
      `--CDGGML_CUDA_NO_VMM=${cuda.vmm ? "OFF" : "ON"}`
    ])
  ]
  // cmake-js only configures a fresh build folder; re-configure when the options changed since the last build.
  const stamp = join(root, outDir, "effect-llama-options.json")
  const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : ""
  const current = JSON.stringify(options)
  if (previous !== "" && (JSON.parse(previous).cpu !== options.cpu || JSON.parse(previous).gpu !== options.gpu)) {
    say(`${outDir}/ was compiled for another CPU or GPU backend; rebuilding from scratch`)
    rmSync(join(root, outDir), { recursive: true, force: true })
  }
  const step = (command) => execFileSync(process.execPath, [cmakeJs, command, ...args], { cwd: root, stdio: "inherit" })
  const started = Date.now()
  if (previous !== current) step("configure")
  step("build")
  writeFileSync(stamp, current)
  const kind = (options.prebuilt ? ", prebuilt: CPU variants" : options.portable ? ", portable" : "") +
    (sanitize === "" ? "" : `, ${sanitize}`)
  say(`${outDir}/${options.config}/effect_llama.node (${options.gpu}${kind}) in ${Math.round((Date.now() - started) / 1000)} s`)
}

try {
  build(gpu)
} catch (error) {
  if (requested === "auto" && gpu !== "cpu") {
    say(`the ${gpu} build failed (${error instanceof Error ? error.message.split("\n")[0] : error}); building for the CPU instead`)
    rmSync(join(root, outDir), { recursive: true, force: true })
    try {
      build("cpu")
    } catch {
      console.error("build-native: the native build failed (see the output above)")
      process.exit(1)
    }
  } else {
    if (error instanceof Error && !("status" in error)) console.error(`build-native: ${error.message}`)
    console.error("build-native: the native build failed (see the output above)")
    process.exit(1)
  }
}
