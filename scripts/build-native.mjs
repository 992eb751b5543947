#!/usr/bin/env node
// Builds build/Release/effect_llama.node with cmake-js. Incremental: a second run recompiles only what changed.
// Environment: EFFECT_LLAMA_GPU=cpu|cuda|metal|vulkan (default cpu), EFFECT_LLAMA_PORTABLE=1 (no -march=native),
// EFFECT_LLAMA_DEBUG=1 (Debug build with type-checked napi casts), EFFECT_LLAMA_SANITIZE=address,undefined (ASan and
// UBSan, in build-sanitize/ so it never replaces build/Release; `npm run test:sanitize` uses it).
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
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
const options = {
  gpu,
  portable: process.env.EFFECT_LLAMA_PORTABLE === "1",
  config: process.env.EFFECT_LLAMA_DEBUG === "1" ? "Debug" : "Release",
  ...(sanitize === "" ? {} : { sanitize })
}
const out = sanitize === "" ? "build" : "build-sanitize"

const cmakeJs = join(root, "node_modules", "cmake-js", "bin", "cmake-js")
const args = [
  "--out", out,
  "--config", options.config,
  "--parallel", String(availableParallelism()),
  `--CDEFFECT_LLAMA_GPU=${options.gpu}`,
  `--CDEFFECT_LLAMA_PORTABLE=${options.portable ? "ON" : "OFF"}`,
  `--CDEFFECT_LLAMA_SANITIZE=${sanitize}`
]

// cmake-js only configures a fresh build folder; re-configure when the options changed since the last build.
const stamp = join(root, out, "effect-llama-options.json")
const previous = existsSync(stamp) ? readFileSync(stamp, "utf8") : ""
const current = JSON.stringify(options)
const step = (command) => execFileSync(process.execPath, [cmakeJs, command, ...args], { cwd: root, stdio: "inherit" })

try {
  if (previous !== current) step("configure")
  step("build")
} catch {
  console.error("build-native: the native build failed (see the output above)")
  process.exit(1)
}
writeFileSync(stamp, current)
console.log(`build-native: ${out}/${options.config}/effect_llama.node (${options.gpu}${options.portable ? ", portable" : ""}${sanitize === "" ? "" : `, ${sanitize}`})`)
