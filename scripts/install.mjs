#!/usr/bin/env node
// npm's install hook. Uses the prebuilt platform package (`@effect-llama/<platform>-<arch>`, an optional
// dependency) when one is installed and loads here; else vendors the pinned llama.cpp and builds the addon.
// Environment: EFFECT_LLAMA_BUILD=auto (default) | source (always build) | prebuilt (fail without a prebuilt);
// EFFECT_LLAMA_SKIP_NATIVE=1 does neither.
import { execFileSync } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { installedPrebuilt, platformPackage, probeAddon } from "./prebuilt.mjs"

const scripts = dirname(fileURLToPath(import.meta.url))
const root = dirname(scripts)
const say = (line) => console.log(`effect-llama: ${line}`)

if (process.env.EFFECT_LLAMA_SKIP_NATIVE === "1") {
  say("EFFECT_LLAMA_SKIP_NATIVE=1, not building the native addon")
  process.exit(0)
}
const mode = process.env.EFFECT_LLAMA_BUILD ?? "auto"
if (!["auto", "source", "prebuilt"].includes(mode)) {
  console.error(`effect-llama: EFFECT_LLAMA_BUILD must be auto, source or prebuilt, not "${mode}"`)
  process.exit(1)
}

if (mode !== "source") {
  const prebuilt = installedPrebuilt(root)
  const probe = prebuilt === undefined ? undefined : probeAddon(prebuilt.addon)
  if (prebuilt !== undefined && probe?.ok === true) {
    say(`using the prebuilt binary from ${platformPackage()} (llama.cpp ${probe.info.tag}, CPU variant ` +
      `${probe.info.cpuVariant}, backends ${probe.info.backends.join(", ")}); nothing to compile`)
    process.exit(0)
  }
  const why = prebuilt === undefined ? `${platformPackage()} is not installed` : `its binary does not load here: ${probe.reason}`
  if (mode === "prebuilt") {
    console.error(`effect-llama: EFFECT_LLAMA_BUILD=prebuilt, but ${why}`)
    process.exit(1)
  }
  say(`no usable prebuilt binary (${why}); building from source (a few minutes)`)
} else {
  say("EFFECT_LLAMA_BUILD=source: building from source")
}

for (const script of ["vendor-llama.mjs", "build-native.mjs"]) {
  try {
    execFileSync(process.execPath, [join(scripts, script)], { stdio: "inherit" })
  } catch {
    process.exit(1)
  }
}
