// ModelPull against a loopback host serving generated GGUFs with Range support: a connection dropped at 40% is
// resumed to the exact bytes, a wrong checksum leaves no file under the final name, a 404 is a clear error, a
// split model arrives whole, an interrupted pull resumes on the next one.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { existsSync } from "node:fs"
import { readFile, stat } from "node:fs/promises"
import { join } from "node:path"
import * as ModelCache from "../../src/cli/ModelCache.ts"
import * as ModelPull from "../../src/cli/ModelPull.ts"
import { fakeHost, sha256, smallGguf, tempDir } from "./support.ts"

const bytesOf = (path: string) => Effect.promise(() => readFile(path).then((b) => new Uint8Array(b)))

describe("ModelPull", () => {
  it.live("hf:<user>/<repo>/<file>: the connection dropped at 40% is resumed with Range; exact bytes, digest checked", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-pull-")
      const host = yield* fakeHost
      const bytes = yield* smallGguf(dir, "src.gguf")
      host.files.set("/test/tiny/resolve/main/tiny-q8_0.gguf", { bytes })
      host.dropOnce.add("/test/tiny/resolve/main/tiny-q8_0.gguf")
      const events = yield* ModelPull.pull("hf:test/tiny/tiny-q8_0.gguf", { directory: join(dir, "cache"), endpoint: host.url }).pipe(
        Stream.runCollect
      )
      const path = join(dir, "cache", "huggingface", "test", "tiny", "tiny-q8_0.gguf")
      assert.deepStrictEqual(yield* bytesOf(path), bytes)
      assert.isFalse(existsSync(`${path}.partial`))
      const resumed = events.find((e) => e.type === "resumed")
      assert.deepStrictEqual(resumed, { type: "resumed", path, offset: Math.floor(bytes.length * 0.4) })
      const ranged = host.requests.filter((r) => r.range !== undefined)
      assert.deepStrictEqual(ranged.map((r) => r.range), [`bytes=${Math.floor(bytes.length * 0.4)}-`])
      assert.deepStrictEqual(events.find((e) => e.type === "verified"), { type: "verified", path, sha256: sha256(bytes), checked: true })
      const done = events[events.length - 1]!
      assert.deepStrictEqual(done, { type: "done", files: [{ path, size: bytes.length, sha256: sha256(bytes) }] })
      const progress = events.filter((e) => e.type === "progress")
      assert.isAtLeast(progress.length, 1)
      const last = progress[progress.length - 1]!
      assert.isTrue(last.type === "progress" && last.received === bytes.length && last.total === bytes.length)
      // Pulled again: found in the cache and verified, not fetched.
      const before = host.requests.length
      yield* ModelPull.pull("hf:test/tiny/tiny-q8_0.gguf", { directory: join(dir, "cache"), endpoint: host.url }).pipe(Stream.runDrain)
      assert.deepStrictEqual(host.requests.slice(before).map((r) => r.path), ["/api/models/test/tiny/tree/main"])
      const listed = yield* ModelCache.list(join(dir, "cache"))
      assert.deepStrictEqual(listed.map((e) => [e.name, e.size]), [[join("huggingface", "test", "tiny", "tiny-q8_0.gguf"), bytes.length]])
    }))

  it.live("a wrong checksum fails the pull and leaves no file under the final name", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-pull-")
      const host = yield* fakeHost
      const bytes = yield* smallGguf(dir, "src.gguf", 64)
      host.files.set("/test/bad/resolve/main/bad.gguf", { bytes, reportedSha256: "0".repeat(64) })
      const error = yield* ModelPull.pull("hf:test/bad/bad.gguf", { directory: dir, endpoint: host.url }).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(error.reason, "ChecksumMismatch")
      assert.include(error.message, "expected 0000")
      const path = join(dir, "huggingface", "test", "bad", "bad.gguf")
      assert.isFalse(existsSync(path))
      assert.isFalse(existsSync(`${path}.partial`))
      // An explicit digest for a URL is checked the same way.
      host.files.set("/files/plain.gguf", { bytes })
      const explicit = yield* ModelPull.pull(`${host.url}/files/plain.gguf`, { directory: dir, sha256: "f".repeat(64) }).pipe(
        Stream.runDrain,
        Effect.flip
      )
      assert.strictEqual(explicit.reason, "ChecksumMismatch")
      assert.isFalse(existsSync(join(dir, "127.0.0.1_" + new URL(host.url).port, "plain.gguf")))
    }))

  it.live("a 404 is a clear NotFound error; so is a repo without the file or the quant", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-pull-")
      const host = yield* fakeHost
      const missing = yield* ModelPull.pull(`${host.url}/files/none.gguf`, { directory: dir }).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(missing.reason, "NotFound")
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.message, `none.gguf not found (HTTP 404): ${host.url}/files/none.gguf`)
      const repo = yield* ModelPull.pull("hf:nobody/nothing/x.gguf", { directory: dir, endpoint: host.url }).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(repo.reason, "NotFound")
      assert.include(repo.message, "repository nobody/nothing not found")
      host.files.set("/test/q/resolve/main/model-Q8_0.gguf", { bytes: new Uint8Array([1, 2, 3]) })
      const quant = yield* ModelPull.pull("hf:test/q:Q4_K_M", { directory: dir, endpoint: host.url }).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(quant.reason, "NotFound")
      assert.include(quant.message, "model-Q8_0.gguf")
      const bad = yield* ModelPull.parseSource("ftp://example/x.gguf").pipe(Effect.flip)
      assert.strictEqual(bad.reason, "InvalidSource")
    }))

  it.live("hf:<user>/<repo>:<quant> of a split model fetches every part, whole", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-pull-")
      const host = yield* fakeHost
      const whole = yield* smallGguf(dir, "src.gguf", 512)
      const third = Math.ceil(whole.length / 3)
      const parts = [0, 1, 2].map((i) => whole.subarray(i * third, (i + 1) * third))
      parts.forEach((bytes, i) => host.files.set(`/test/split/resolve/main/big-Q4_K_M-0000${i + 1}-of-00003.gguf`, { bytes }))
      host.files.set("/test/split/resolve/main/big-Q8_0.gguf", { bytes: new Uint8Array([9]) })
      host.dropOnce.add("/test/split/resolve/main/big-Q4_K_M-00002-of-00003.gguf")
      const cache = join(dir, "cache")
      const events = yield* ModelPull.pull("hf:test/split:q4_k_m", { directory: cache, endpoint: host.url }).pipe(Stream.runCollect)
      const done = events[events.length - 1]!
      assert.strictEqual(done.type, "done")
      if (done.type !== "done") return
      assert.strictEqual(done.files.length, 3)
      for (const [i, file] of done.files.entries()) {
        assert.strictEqual(file.path, join(cache, "huggingface", "test", "split", `big-Q4_K_M-0000${i + 1}-of-00003.gguf`))
        assert.deepStrictEqual(yield* bytesOf(file.path), parts[i])
      }
      const joined = new Uint8Array((yield* Effect.forEach(done.files, (f) => bytesOf(f.path))).flatMap((b) => Array.from(b)))
      assert.strictEqual(sha256(joined), sha256(whole))
      const listed = yield* ModelCache.list(cache)
      assert.deepStrictEqual(listed.map((e) => e.split), [[1, 3], [2, 3], [3, 3]])
    }))

  it.live("a pull interrupted midway resumes from its partial file on the next pull", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-pull-")
      const host = yield* fakeHost
      const bytes = yield* smallGguf(dir, "src.gguf")
      host.files.set("/files/resume.gguf", { bytes })
      host.dropOnce.add("/files/resume.gguf")
      // No retries: the dropped connection ends this pull, leaving 40% in the partial file.
      const first = yield* ModelPull.pull(`${host.url}/files/resume.gguf`, { directory: dir, retries: 0 }).pipe(Stream.runDrain, Effect.flip)
      assert.strictEqual(first.reason, "NetworkError")
      const path = join(dir, `127.0.0.1_${new URL(host.url).port}`, "resume.gguf")
      assert.isFalse(existsSync(path))
      assert.strictEqual((yield* Effect.promise(() => stat(`${path}.partial`))).size, Math.floor(bytes.length * 0.4))
      const events = yield* ModelPull.pull(`${host.url}/files/resume.gguf`, { directory: dir }).pipe(Stream.runCollect)
      assert.deepStrictEqual(events.find((e) => e.type === "resumed"), { type: "resumed", path, offset: Math.floor(bytes.length * 0.4) })
      assert.deepStrictEqual(yield* bytesOf(path), bytes)
      // No digest was known for a plain URL: it is computed and reported.
      assert.deepStrictEqual(events.find((e) => e.type === "verified"), { type: "verified", path, sha256: sha256(bytes), checked: false })
    }))
})
