/**
 * Builds llama.cpp's own benchmark tools (llama-bench, llama-batched-bench) from vendor/llama.cpp into
 * bench/.build, with the flags the addon is built with (CMakeLists.txt at the root): Release, GGML_NATIVE ON,
 * static libraries, PIC, CPU only, no OpenMP (ggml's own thread pool). Only those two targets are built; ccache
 * is used when present.
 * Incremental: a second run reconfigures only when the options changed and recompiles only what changed.
 *
 * Usage: node bench/build-llama-tools.ts
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const source = join(root, "vendor", "llama.cpp")
export const buildDir = join(root, "bench", ".build")
export const tools = ["llama-bench", "llama-batched-bench"] as const

export const toolPath = (tool: (typeof tools)[number]): string => join(buildDir, "bin", tool)

const has = (program: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const cmakeOptions = (): Array<string> => {
  const off = [
    "LLAMA_BUILD_TESTS", "LLAMA_BUILD_EXAMPLES", "LLAMA_BUILD_SERVER", "LLAMA_BUILD_APP", "LLAMA_BUILD_UI",
    "LLAMA_OPENSSL", "LLAMA_SUBPROCESS", "LLAMA_ALL_WARNINGS", "GGML_BUILD_TESTS", "GGML_BUILD_EXAMPLES",
    "BUILD_SHARED_LIBS", "GGML_METAL", "GGML_CUDA", "GGML_VULKAN", "GGML_OPENMP"
  ]
  const options = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",
    "-DCMAKE_POSITION_INDEPENDENT_CODE=ON",
    "-DLLAMA_BUILD_COMMON=ON",
    "-DLLAMA_BUILD_TOOLS=ON",
    ...off.map((name) => `-D${name}=OFF`)
  ]
  if (has("ccache")) {
    options.push("-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
  }
  if (has("ninja")) options.push("-G", "Ninja")
  return options
}

/** Configures (when needed) and builds the tools; returns their paths. */
export const buildLlamaTools = (): Record<(typeof tools)[number], string> => {
  if (!existsSync(join(source, "CMakeLists.txt"))) {
    throw new Error("vendor/llama.cpp is missing: run `npm run vendor` first")
  }
  mkdirSync(buildDir, { recursive: true })
  const options = cmakeOptions()
  const stamp = join(buildDir, "effect-llama-bench-options.json")
  const current = JSON.stringify(options)
  const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : ""
  const run = (args: Array<string>) => execFileSync("cmake", args, { cwd: root, stdio: "inherit" })
  if (previous !== current || !existsSync(join(buildDir, "CMakeCache.txt"))) {
    console.log(`build-llama-tools: configuring ${buildDir}`)
    run(["-S", source, "-B", buildDir, ...options])
    writeFileSync(stamp, current)
  }
  const jobs = String(Math.max(1, availableParallelism()))
  run(["--build", buildDir, "--config", "Release", "--parallel", jobs, "--target", ...tools])
  const paths = { "llama-bench": toolPath("llama-bench"), "llama-batched-bench": toolPath("llama-batched-bench") }
  for (const path of Object.values(paths)) {
    if (!existsSync(path)) throw new Error(`build-llama-tools: ${path} was not produced`)
  }
  return paths
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const paths = buildLlamaTools()
  for (const [tool, path] of Object.entries(paths)) console.log(`build-llama-tools: ${tool} -> ${path}`)
}
