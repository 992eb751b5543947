import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const script = new URL("../../scripts/vendor-llama.mjs", import.meta.url).pathname
const pin = JSON.parse(readFileSync(new URL("../../vendor/llama.cpp.pin.json", import.meta.url), "utf8")) as Record<
  string,
  string
>

// Runs the vendor script against a altered copy of the pin; the real vendor/llama.cpp is left alone on failure.
const runWithPin = (changes: Record<string, string>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-pin-"))),
    (dir) =>
      Effect.sync(() => {
        const path = join(dir, "pin.json")
        writeFileSync(path, JSON.stringify({ ...pin, ...changes }))
        return spawnSync(process.execPath, [script], { env: { ...process.env, EFFECT_LLAMA_PIN: path }, encoding: "utf8" })
      }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("vendor-llama", () => {
  it.effect("is idempotent: with the pinned tree in place it does no work", () =>
    Effect.gen(function*() {
      const result = yield* runWithPin({})
      assert.strictEqual(result.status, 0, result.stderr)
      assert.include(result.stdout, "already in vendor/llama.cpp")
    }))

  it.effect("a bad checksum in the pin stops with a message naming the mismatch", () =>
    Effect.gen(function*() {
      const bad = "0".repeat(64)
      const result = yield* runWithPin({ bundleSha256: bad })
      assert.notStrictEqual(result.status, 0)
      assert.include(result.stderr, "checksum mismatch")
      assert.include(result.stderr, `expected sha256 ${bad}`)
      assert.include(result.stderr, `actual   sha256 ${pin.bundleSha256}`)
    }))

  it.effect("a commit the bundle does not hold stops the install", () =>
    Effect.gen(function*() {
      const result = yield* runWithPin({ commit: "1".repeat(40) })
      assert.notStrictEqual(result.status, 0)
      assert.include(result.stderr, "1".repeat(40))
    }))

  it.effect("a malformed pin is rejected before any work", () =>
    Effect.gen(function*() {
      const result = yield* runWithPin({ bundleSha256: "not-a-digest" })
      assert.notStrictEqual(result.status, 0)
      assert.include(result.stderr, "bundleSha256")
    }))
})
