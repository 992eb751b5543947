import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Native from "../../src/native/Native.ts"

const pin = JSON.parse(readFileSync(new URL("../../vendor/llama.cpp.pin.json", import.meta.url), "utf8")) as {
  readonly commit: string
  readonly tag: string
}

describe("Native", () => {
  it.effect("loads the addon and reports the pinned llama.cpp", () =>
    Effect.gen(function*() {
      const native = yield* Native.Native
      const info = native.systemInfo()
      assert.strictEqual(info.llamaCpp.commit, pin.commit)
      assert.strictEqual(info.llamaCpp.tag, pin.tag)
      // llama.cpp's own build info comes from git at build time: it must name the same commit.
      assert.isTrue(pin.commit.startsWith(info.llamaCpp.buildCommit), `${info.llamaCpp.buildCommit} vs ${pin.commit}`)
      assert.include(info.backends, "CPU")
      assert.isTrue(info.devices.some((d) => d.type === "cpu"))
      assert.isAbove(info.defaultThreads, 0)
      assert.include(info.summary, "CPU")
    }).pipe(Effect.provide(Native.layer)))

  it.effect("fails with a message that says how to build when the binary is missing", () =>
    Effect.gen(function*() {
      const err = yield* Effect.flip(Native.loadFrom(["/nonexistent/effect_llama.node"]))
      assert.strictEqual(err._tag, "NativeLoadError")
      assert.include(err.message, "/nonexistent/effect_llama.node")
      assert.include(err.message, "npm run build:native")
    }))

  it.effect("fails with a typed error when the file is not an addon", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "effect-llama-"))
      const notAnAddon = join(dir, "effect_llama.node")
      writeFileSync(notAnAddon, "not a shared object")
      const err = yield* Effect.flip(Native.loadFrom([notAnAddon]))
      rmSync(dir, { recursive: true })
      assert.include(err.message, "failed to load")
    }))

  it.effect("EFFECT_LLAMA_ADDON overrides where the addon is looked for", () =>
    Effect.sync(() => {
      const previous = process.env.EFFECT_LLAMA_ADDON
      process.env.EFFECT_LLAMA_ADDON = "/opt/custom/effect_llama.node"
      const paths = Native.candidatePaths()
      if (previous === undefined) delete process.env.EFFECT_LLAMA_ADDON
      else process.env.EFFECT_LLAMA_ADDON = previous
      assert.deepStrictEqual(paths, ["/opt/custom/effect_llama.node"])
    }))
})
