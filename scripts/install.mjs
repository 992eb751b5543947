#!/usr/bin/env node
// npm's install hook: vendor the pinned llama.cpp, then build the addon. EFFECT_LLAMA_SKIP_NATIVE=1 skips both.
import { execFileSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const scripts = dirname(fileURLToPath(import.meta.url))
if (process.env.EFFECT_LLAMA_SKIP_NATIVE === "1") {
  console.log("effect-llama: EFFECT_LLAMA_SKIP_NATIVE=1, not building the native addon")
  process.exit(0)
}
for (const script of ["vendor-llama.mjs", "build-native.mjs"]) {
  try {
    execFileSync(process.execPath, [join(scripts, script)], { stdio: "inherit" })
  } catch {
    process.exit(1)
  }
}
