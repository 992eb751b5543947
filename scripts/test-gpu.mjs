#!/usr/bin/env node
// `npm run test:gpu [-- vulkan|cuda]`: the GPU suite (test/gpu/<Backend>.test.ts) against a GPU build of the addon,
// built first when missing or stale (build-<backend>/, beside the CPU build in build/, which the suite compares
// with). Default backend: vulkan.
//   vulkan: installs the Debian packages when missing (scripts/install-vulkan-deps.sh, as root); without a GPU the
//           tests run on Mesa's lavapipe, selected with GGML_VK_VISIBLE_DEVICES (set here when no GPU render node
//           is present and it is not set already).
//   cuda:   builds for EFFECT_LLAMA_CUDA_ARCHS (default native with a GPU, else 90); long on a small machine.
// EFFECT_LLAMA_ADDON names an addon to test instead of building one; EFFECT_LLAMA_CPU_ADDON the CPU build.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { renderNodes } from "./gpu-detect.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const backend = process.argv[2] ?? "vulkan"
const files = { vulkan: "test/gpu/Vulkan.test.ts", cuda: "test/gpu/Cuda.test.ts" }
if (!(backend in files)) {
  console.error(`test:gpu: the backend must be vulkan or cuda, not "${backend}"`)
  process.exit(1)
}
const say = (line) => console.log(`test:gpu: ${line}`)
const node = (script, env = {}) =>
  execFileSync(process.execPath, [join(root, "scripts", script)], { cwd: root, stdio: "inherit", env: { ...process.env, ...env } })

const env = { ...process.env }
try {
  if (backend === "vulkan") execFileSync("bash", [join(root, "scripts", "install-vulkan-deps.sh")], { stdio: "inherit" })
  if (env.EFFECT_LLAMA_ADDON === undefined) {
    const started = Date.now()
    node("build-native.mjs", { EFFECT_LLAMA_GPU: backend, EFFECT_LLAMA_BUILD_DIR: `build-${backend}` })
    say(`build-${backend}/ up to date in ${Math.round((Date.now() - started) / 1000)} s`)
    env.EFFECT_LLAMA_ADDON = join(root, `build-${backend}`, "Release", "effect_llama.node")
  }
  env.EFFECT_LLAMA_CPU_ADDON ??= join(root, "build", "Release", "effect_llama.node")
  if (!existsSync(env.EFFECT_LLAMA_CPU_ADDON)) node("build-native.mjs", { EFFECT_LLAMA_GPU: "cpu", EFFECT_LLAMA_BUILD_DIR: "build" })
} catch {
  console.error("test:gpu: the build failed (see the output above)")
  process.exit(1)
}
if (backend === "vulkan" && env.GGML_VK_VISIBLE_DEVICES === undefined && renderNodes().length === 0) {
  env.GGML_VK_VISIBLE_DEVICES = "0" // no GPU: the first Vulkan device, Mesa's lavapipe
  say("no GPU render node: running on the software Vulkan device (GGML_VK_VISIBLE_DEVICES=0, lavapipe)")
}
say(`testing ${env.EFFECT_LLAMA_ADDON} against the CPU build ${env.EFFECT_LLAMA_CPU_ADDON}`)
const vitest = join(root, "node_modules", "vitest", "vitest.mjs")
const result = spawnSync(process.execPath, [vitest, "run", "--config", "vitest.gpu.config.ts", files[backend], ...process.argv.slice(3)], {
  cwd: root,
  stdio: "inherit",
  env
})
process.exit(result.status ?? 1)
