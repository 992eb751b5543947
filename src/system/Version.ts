/**
 * `version`: the versions this program runs on: effect-llama itself, the pinned llama.cpp (tag and commit), effect
 * and Node. Read from the package's own files; the native addon need not load.
 *
 * @since 0.2.0
 */
import { readFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import * as EffectVersion from "effect/Version"

/**
 * The versions of the stack.
 *
 * @category models
 * @since 0.2.0
 */
export interface Version {
  /** effect-llama's version (its package.json). */
  readonly library: string
  /** The llama.cpp release the addon is built from (`vendor/llama.cpp.pin.json`). */
  readonly llamaCpp: { readonly tag: string; readonly commit: string }
  readonly effect: string
  readonly node: string
}

// src/system and dist/system both sit two levels below the package root.
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

const readJson = (file: string): Record<string, unknown> => {
  try {
    return JSON.parse(readFileSync(join(packageRoot, file), "utf8")) as Record<string, unknown>
  } catch {
    return {}
  }
}

const text = (value: unknown): string => (typeof value === "string" ? value : "unknown")

/**
 * The versions, read once per call (cheap: two small files).
 *
 * @category constructors
 * @since 0.2.0
 */
export const version: Effect.Effect<Version> = Effect.sync(() => {
  const pkg = readJson("package.json")
  const pin = readJson(join("vendor", "llama.cpp.pin.json"))
  return {
    library: text(pkg.version),
    llamaCpp: { tag: text(pin.tag), commit: text(pin.commit) },
    effect: EffectVersion.getCurrentVersion(),
    node: process.versions.node
  }
})
