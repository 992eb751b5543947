/**
 * Loads the native addon (`build/Release/effect_llama.node`) and provides it as the `Native` service, so the
 * Effect services above it can be tested against a fake binding.
 *
 * @since 0.1.0
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { Context, Effect, Layer, Schema } from "effect"
import type { NativeBinding } from "./NativeBinding.ts"
import { cpuMismatch } from "./NativeCpu.ts"

/**
 * The addon could not be loaded: not built, built for another platform, or broken.
 *
 * @category errors
 * @since 0.1.0
 */
export class NativeLoadError extends Schema.TaggedError<NativeLoadError>()("NativeLoadError", {
  message: Schema.String,
  cause: Schema.optionalKey(Schema.Defect())
}) {}

/**
 * The native binding as a service.
 *
 * @category services
 * @since 0.1.0
 */
export class Native extends Context.Service<Native, NativeBinding>()("effect-llama/Native") {}

// src/native and dist/native both sit two levels below the package root.
const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")

/**
 * The platform package this machine would use (`@effect-llama/linux-x64`, ...): a prebuilt addon that effect-llama
 * lists as an optional dependency.
 *
 * @category constants
 * @since 0.2.0
 */
export const platformPackage = `@effect-llama/${process.platform}-${process.arch}`

// The installed platform package's addon (scripts/prebuilt.mjs finds it the same way at install).
const prebuiltAddon = (): ReadonlyArray<string> => {
  try {
    const manifest = createRequire(join(packageRoot, "package.json")).resolve(`${platformPackage}/package.json`)
    return [join(dirname(manifest), "bin", "effect_llama.node")]
  } catch {
    return []
  }
}

/**
 * Where the addon is looked for: `EFFECT_LLAMA_ADDON` if set, else a source build (Release, then Debug), else the
 * prebuilt platform package.
 *
 * @category constructors
 * @since 0.1.0
 */
export const candidatePaths = (): ReadonlyArray<string> => {
  const override = process.env.EFFECT_LLAMA_ADDON
  if (override !== undefined && override !== "") return [resolve(override)]
  return [...["Release", "Debug"].map((config) => join(packageRoot, "build", config, "effect_llama.node")), ...prebuiltAddon()]
}

const howToBuild = `Install the prebuilt binary (\`npm install ${platformPackage}\`, where one is published for ` +
  "this platform), or build from source: `npm rebuild effect-llama` (in a checkout: `npm run build:native`), which " +
  "needs CMake >= 3.19, a C++17 compiler and git."

/**
 * Loads the addon from the first of `paths` that exists.
 *
 * @category constructors
 * @since 0.1.0
 */
export const loadFrom = (paths: ReadonlyArray<string>): Effect.Effect<NativeBinding, NativeLoadError> =>
  Effect.suspend(() => {
    const path = paths.find((p) => existsSync(p))
    if (path === undefined) {
      return Effect.fail(
        new NativeLoadError({ message: `the native addon is not built: none of ${paths.join(", ")} exists. ${howToBuild}` })
      )
    }
    const mismatch = cpuMismatch(path)
    if (mismatch !== undefined) {
      return Effect.fail(new NativeLoadError({ message: `the native addon at ${path} cannot run on this CPU: ${mismatch}` }))
    }
    return Effect.try({
      try: () => createRequire(import.meta.url)(path) as NativeBinding,
      catch: (cause) =>
        new NativeLoadError({
          message: `the native addon at ${path} failed to load: ${
            cause instanceof Error ? cause.message : String(cause)
          }. ${howToBuild}`,
          cause
        })
    })
  })

/**
 * Loads the addon from `candidatePaths()`. Node caches native modules, so loading twice is cheap.
 *
 * @category constructors
 * @since 0.1.0
 */
export const load: Effect.Effect<NativeBinding, NativeLoadError> = Effect.suspend(() => loadFrom(candidatePaths()))

/**
 * The real binding.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer: Layer.Layer<Native, NativeLoadError> = Layer.effect(Native, load)
