/**
 * Shared fixtures for the GGUF tests: scoped temp dirs and byte helpers.
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A fresh directory under os.tmpdir(), removed when the test's scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.promise(() => mkdtemp(join(tmpdir(), "effect-llama-gguf-"))),
  (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
)

export const readBytes = (path: string) => Effect.promise(() => readFile(path))

export const writeBytes = (path: string, bytes: Uint8Array) => Effect.promise(() => writeFile(path, bytes))

export const sha256 = (path: string) =>
  Effect.map(readBytes(path), (bytes) => createHash("sha256").update(bytes).digest("hex"))

export const vocabPath = (name: string) => new URL(`../../vendor/llama.cpp/models/ggml-vocab-${name}.gguf`, import.meta.url).pathname
