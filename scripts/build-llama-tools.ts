/**
 * Builds llama.cpp's own programs (llama-bench, llama-batched-bench, llama-server) from vendor/llama.cpp into one
 * shared folder, `.cache/llama-tools/` (bin/ holds the programs), with the flags the addon is built with
 * (CMakeLists.txt at the root): Release, GGML_NATIVE ON, static libraries, PIC, CPU only, no OpenMP (ggml's own
 * thread pool); ccache and ninja when present. With a GPU backend (`gpu: "vulkan"` or `"cuda"`, the command line's
 * `--gpu vulkan`) they go to `.cache/llama-tools-<gpu>/`, built with that backend as the addon's GPU build is
 * (for CUDA: the same architectures, cuBLAS and VMM setting, see scripts/build-native.mjs).
 *
 * - Only the targets asked for are built; a second run reconfigures only when the options or the pinned llama.cpp
 *   changed, and recompiles only what changed.
 * - Offline: llama-server's web UI is neither built (npm) nor downloaded (Hugging Face bucket); the server is built
 *   without an embedded UI (its HTTP API is complete without it). HTTPS support (OpenSSL) is off: everything it
 *   talks to is on 127.0.0.1.
 * - Safe to call from parallel processes: one build at a time per folder (a lock file), the others wait.
 *
 * From code (tests, benches):
 *   `await ensureLlamaTools(["llama-server"])`  the paths, building the missing (or outdated) ones first
 *   `await buildLlamaTools(["llama-bench"])`    always runs the (incremental) build
 *   `toolPath("llama-server")`                  where a program lives, built or not
 *
 * Usage: node scripts/build-llama-tools.ts [--gpu vulkan|cuda] [llama-server|llama-bench|llama-batched-bench ...]
 *        (default: all, CPU only)
 *
 * @since 0.2.0
 */
import { execFileSync, spawn } from "node:child_process"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureCublas } from "./cuda-deps.mjs"
import { cudaRoot, nvidiaGpus } from "./gpu-detect.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const source = join(root, "vendor", "llama.cpp")

/**
 * The programs this script builds.
 *
 * @category constants
 * @since 0.2.0
 */
export const llamaTools = ["llama-bench", "llama-batched-bench", "llama-server"] as const

/**
 * One of `llamaTools`.
 *
 * @category models
 * @since 0.2.0
 */
export type LlamaTool = (typeof llamaTools)[number]

/**
 * A GPU backend the tools can be built with, besides the CPU.
 *
 * @category models
 * @since 0.2.0
 */
export type ToolsGpu = "cpu" | "vulkan" | "cuda"

/**
 * The build folder (`EFFECT_LLAMA_TOOLS_DIR`, else `<repo>/.cache/llama-tools`) of the CPU build.
 *
 * @category constants
 * @since 0.2.0
 */
export const toolsDir: string = process.env.EFFECT_LLAMA_TOOLS_DIR !== undefined && process.env.EFFECT_LLAMA_TOOLS_DIR !== ""
  ? resolve(process.env.EFFECT_LLAMA_TOOLS_DIR)
  : join(root, ".cache", "llama-tools")

/**
 * The build folder for a backend: `toolsDir` for the CPU, `<toolsDir>-<gpu>` for a GPU backend.
 *
 * @category getters
 * @since 0.2.0
 */
export const toolsDirFor = (gpu: ToolsGpu = "cpu"): string => (gpu === "cpu" ? toolsDir : `${toolsDir}-${gpu}`)

/**
 * Where a program lives once built.
 *
 * @category getters
 * @since 0.2.0
 */
export const toolPath = (tool: LlamaTool, gpu: ToolsGpu = "cpu"): string => join(toolsDirFor(gpu), "bin", tool)

/**
 * Build settings.
 *
 * @category models
 * @since 0.2.0
 */
export interface BuildOptions {
  /**
   * Where the compiler output goes: `"inherit"` (the terminal, the default for the command line) or `"log"`
   * (`<toolsDir>/build.log`, with one line on stderr per step; the default from code).
   */
  readonly output?: "inherit" | "log"
  /** The GPU backend compiled in (default `"cpu"`: none). */
  readonly gpu?: ToolsGpu
}

const has = (program: string): boolean => {
  try {
    execFileSync("sh", ["-c", `command -v ${program}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

// The GPU backend's options, as scripts/build-native.mjs sets them for the addon.
const gpuOptions = (gpu: ToolsGpu): Array<string> => {
  if (gpu === "vulkan") return ["-DGGML_VULKAN=ON"]
  if (gpu === "cpu") return []
  const cuda = cudaRoot()
  if (cuda === undefined) throw new Error("build-llama-tools: --gpu cuda, but no nvcc was found")
  const cublas = ensureCublas(cuda, root)
  const archs = process.env.EFFECT_LLAMA_CUDA_ARCHS ?? (nvidiaGpus().length > 0 ? "native" : "90")
  let driver = false
  try {
    driver = /libcuda\.so\.1\b/.test(execFileSync("ldconfig", ["-p"], { encoding: "utf8" }))
  } catch {
    driver = false
  }
  return [
    "-DGGML_CUDA=ON",
    `-DCMAKE_CUDA_ARCHITECTURES=${archs}`,
    `-DCMAKE_CUDA_COMPILER=${join(cuda, "bin", "nvcc")}`,
    `-DCUDAToolkit_ROOT=${cuda}`,
    `-DGGML_CUDA_NO_VMM=${driver ? "OFF" : "ON"}`,
    `-DCMAKE_CUDA_FLAGS=-I${cublas.include}`,
    `-DCMAKE_CXX_FLAGS=-I${cublas.include}`,
    `-DCUDA_cublas_LIBRARY=${join(cublas.lib, "libcublas.so.13")}`,
    `-DCUDA_cublasLt_LIBRARY=${join(cublas.lib, "libcublasLt.so.13")}`
  ]
}

const cmakeOptions = (gpu: ToolsGpu = "cpu"): Array<string> => {
  const backends = { vulkan: "GGML_VULKAN", cuda: "GGML_CUDA" } as const
  const off = [
    "LLAMA_BUILD_TESTS", "LLAMA_BUILD_EXAMPLES", "LLAMA_BUILD_APP", "LLAMA_BUILD_UI", "LLAMA_USE_PREBUILT_UI",
    "LLAMA_OPENSSL", "LLAMA_SUBPROCESS", "LLAMA_ALL_WARNINGS", "GGML_BUILD_TESTS", "GGML_BUILD_EXAMPLES",
    "BUILD_SHARED_LIBS", "GGML_METAL", "GGML_CUDA", "GGML_VULKAN", "GGML_OPENMP"
  ].filter((name) => gpu === "cpu" || name !== backends[gpu])
  const options = [
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",
    "-DCMAKE_POSITION_INDEPENDENT_CODE=ON",
    "-DLLAMA_BUILD_COMMON=ON",
    "-DLLAMA_BUILD_TOOLS=ON",
    "-DLLAMA_BUILD_SERVER=ON",
    ...off.map((name) => `-D${name}=OFF`),
    ...gpuOptions(gpu)
  ]
  if (has("ccache")) {
    options.push("-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
  }
  if (has("ninja")) options.push("-G", "Ninja")
  return options
}

// What a build depends on besides the sources: the options and the pinned llama.cpp (with its patches).
const fingerprint = (options: ReadonlyArray<string>): string =>
  JSON.stringify({ options, pin: readFileSync(join(root, "vendor", "llama.cpp.pin.json"), "utf8") })

// Each program records the fingerprint it was built with, so that a program built before a change is rebuilt.
const toolStamp = (tool: LlamaTool, gpu: ToolsGpu): string => join(toolsDirFor(gpu), `${tool}.built.json`)

const isCurrent = (tool: LlamaTool, current: string, gpu: ToolsGpu): boolean =>
  existsSync(toolPath(tool, gpu)) && existsSync(toolStamp(tool, gpu)) && readFileSync(toolStamp(tool, gpu), "utf8") === current

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

// One build per folder at a time; a lock left by a dead process is taken over.
const withLock = async <A>(dir: string, body: () => Promise<A>): Promise<A> => {
  mkdirSync(dir, { recursive: true })
  const lock = join(dir, "build.lock")
  let announced = false
  for (;;) {
    try {
      const fd = openSync(lock, "wx")
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error
      const owner = Number.parseInt(existsSync(lock) ? readFileSync(lock, "utf8") : "", 10)
      if (!Number.isFinite(owner) || !isAlive(owner)) {
        rmSync(lock, { force: true })
        continue
      }
      if (!announced) console.error(`build-llama-tools: waiting for the build of process ${owner}`)
      announced = true
      await sleep(500)
    }
  }
  try {
    return await body()
  } finally {
    rmSync(lock, { force: true })
  }
}

const run = (args: ReadonlyArray<string>, output: "inherit" | "log", log: string): Promise<void> =>
  new Promise((done, fail) => {
    const out = output === "log" ? openSync(log, "a") : "inherit"
    const child = spawn("cmake", args, { cwd: root, stdio: ["ignore", out, out] })
    const close = () => {
      if (typeof out === "number") closeSync(out)
    }
    child.on("error", (error) => {
      close()
      fail(error)
    })
    child.on("close", (code, signal) => {
      close()
      if (code === 0) return done()
      const tail = output === "log" ? `\n${readFileSync(log, "utf8").split("\n").slice(-40).join("\n")}` : ""
      fail(new Error(`build-llama-tools: cmake ${args[0]} failed (${signal ?? code}); log: ${log}${tail}`))
    })
  })

/**
 * Configures the build folder when needed and builds `targets` (default: all); returns their paths.
 * Rejects with the tail of the build log when the build fails.
 *
 * @category constructors
 * @since 0.2.0
 */
export const buildLlamaTools = (
  targets: ReadonlyArray<LlamaTool> = llamaTools,
  options: BuildOptions = {}
): Promise<Record<LlamaTool, string>> =>
  withLock(toolsDirFor(options.gpu), async () => {
    if (!existsSync(join(source, "CMakeLists.txt"))) {
      throw new Error("build-llama-tools: vendor/llama.cpp is missing: run `npm run vendor` first")
    }
    const gpu = options.gpu ?? "cpu"
    const dir = toolsDirFor(gpu)
    const output = options.output ?? "log"
    const log = join(dir, "build.log")
    const cmake = cmakeOptions(gpu)
    const stamp = join(dir, "options.json")
    const current = fingerprint(cmake)
    const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : ""
    if (output === "log") writeFileSync(log, "")
    const started = performance.now()
    if (previous !== current || !existsSync(join(dir, "CMakeCache.txt"))) {
      console.error(`build-llama-tools: configuring ${dir}`)
      rmSync(stamp, { force: true })
      await run(["-S", source, "-B", dir, ...cmake], output, log)
    }
    console.error(`build-llama-tools: building ${targets.join(", ")}${output === "log" ? ` (log: ${log})` : ""}`)
    const jobs = String(Math.max(1, availableParallelism()))
    await run(["--build", dir, "--config", "Release", "--parallel", jobs, "--target", ...targets], output, log)
    writeFileSync(stamp, current)
    for (const tool of targets) {
      if (!existsSync(toolPath(tool, gpu))) throw new Error(`build-llama-tools: ${toolPath(tool, gpu)} was not produced`)
      writeFileSync(toolStamp(tool, gpu), current)
    }
    console.error(`build-llama-tools: done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return Object.fromEntries(llamaTools.map((tool) => [tool, toolPath(tool, gpu)])) as Record<LlamaTool, string>
  })

/**
 * The paths of `targets`, building first those that are missing or were built from other options or another
 * pinned llama.cpp. Fast when everything is there (no cmake run). A process that waited for another's build finds
 * the programs built and returns.
 *
 * @category constructors
 * @since 0.2.0
 */
export const ensureLlamaTools = async (
  targets: ReadonlyArray<LlamaTool>,
  options: BuildOptions = {}
): Promise<Record<LlamaTool, string>> => {
  const gpu = options.gpu ?? "cpu"
  const current = fingerprint(cmakeOptions(gpu))
  const outdated = targets.filter((tool) => !isCurrent(tool, current, gpu))
  if (outdated.length === 0) {
    return Object.fromEntries(llamaTools.map((tool) => [tool, toolPath(tool, gpu)])) as Record<LlamaTool, string>
  }
  return buildLlamaTools(outdated, options)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2)
  const at = argv.indexOf("--gpu")
  const gpu = (at >= 0 ? argv[at + 1] : "cpu") as ToolsGpu
  if (!["cpu", "vulkan", "cuda"].includes(gpu)) {
    console.error(`build-llama-tools: --gpu must be cpu, vulkan or cuda, not ${gpu}`)
    process.exit(1)
  }
  const asked = at >= 0 ? argv.filter((_, i) => i !== at && i !== at + 1) : argv
  const unknown = asked.filter((name) => !(llamaTools as ReadonlyArray<string>).includes(name))
  if (unknown.length > 0) {
    console.error(`build-llama-tools: unknown target(s) ${unknown.join(", ")} (known: ${llamaTools.join(", ")})`)
    process.exit(1)
  }
  const targets = asked.length > 0 ? (asked as Array<LlamaTool>) : llamaTools
  buildLlamaTools(targets, { output: "inherit", gpu }).then(
    (paths) => {
      for (const tool of targets) console.log(`build-llama-tools: ${tool} -> ${paths[tool]}`)
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    }
  )
}
