#!/usr/bin/env node
// Builds build/Release/effect_llama.node with cmake-js. Incremental: a second run recompiles only what changed.
// Environment: EFFECT_LLAMA_GPU=cpu|cuda|metal|vulkan (default cpu), EFFECT_LLAMA_PORTABLE=1 (no -march=native),
// EFFECT_LLAMA_DEBUG=1 (Debug build with type-checked napi casts), EFFECT_LLAMA_PREBUILT=1 (the portable build
// of a prebuilt package, with ggml's CPU backend as runtime-selected variants, in build-prebuilt/),
// EFFECT_LLAMA_SANITIZE=address,undefined (ASan and UBSan, in build-sanitize/ so it never replaces build/Release;
// `npm run test:sanitize` uses it).
import { execFileSync } from "node:child_process"
import { createHash } from "node:crypto"
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const gpu = process.env.EFFECT_LLAMA_GPU ?? "cpu"
if (!["cpu", "cuda", "metal", "vulkan"].includes(gpu)) {
  console.error(`build-native: EFFECT_LLAMA_GPU must be cpu, cuda, metal or vulkan, not "${gpu}"`)
  process.exit(1)
}
const sanitize = process.env.EFFECT_LLAMA_SANITIZE ?? ""
if (!/^[a-z,]*$/.test(sanitize)) {
  console.error(`build-native: EFFECT_LLAMA_SANITIZE must be a list like address,undefined, not "${sanitize}"`)
  process.exit(1)
}
const prebuilt = process.env.EFFECT_LLAMA_PREBUILT === "1"
const portable = prebuilt || process.env.EFFECT_LLAMA_PORTABLE === "1"
const outDir = sanitize !== "" ? "build-sanitize" : prebuilt ? "build-prebuilt" : "build"

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

const options = {
  gpu,
  portable,
  prebuilt,
  config: process.env.EFFECT_LLAMA_DEBUG === "1" ? "Debug" : "Release",
  cpu: nativeCpu(),
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
  `--CDEFFECT_LLAMA_SANITIZE=${sanitize}`
]

// cmake-js only configures a fresh build folder; re-configure when the options changed since the last build.
const stamp = join(root, outDir, "effect-llama-options.json")
const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : ""
const current = JSON.stringify(options)
if (previous !== "" && JSON.parse(previous).cpu !== options.cpu) {
  console.log(`build-native: ${outDir}/ was compiled for another CPU; rebuilding from scratch`)
  rmSync(join(root, outDir), { recursive: true, force: true })
}
const step = (command) => execFileSync(process.execPath, [cmakeJs, command, ...args], { cwd: root, stdio: "inherit" })

try {
  if (previous !== current) step("configure")
  step("build")
} catch {
  console.error("build-native: the native build failed (see the output above)")
  process.exit(1)
}
writeFileSync(stamp, current)
const kind = (options.prebuilt ? ", prebuilt: CPU variants" : options.portable ? ", portable" : "") +
  (sanitize === "" ? "" : `, ${sanitize}`)
console.log(`build-native: ${outDir}/${options.config}/effect_llama.node (${options.gpu}${kind})`)
