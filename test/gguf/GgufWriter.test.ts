import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { readdir } from "node:fs/promises"
import { join } from "node:path"
import * as F from "../../src/gguf/GgufFormat.ts"
import type { GgufValue } from "../../src/gguf/GgufFormat.ts"
import * as GgufReader from "../../src/gguf/GgufReader.ts"
import * as GgufWriter from "../../src/gguf/GgufWriter.ts"
import { readBytes, tempDir } from "./helpers.ts"

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff)

const metadata = new Map<string, GgufValue>([
  ["general.architecture", F.string("test")],
  ["general.alignment", F.uint32(64)],
  ["v.uint8", F.uint8(255)],
  ["v.int8", F.int8(-128)],
  ["v.uint16", F.uint16(65535)],
  ["v.int16", F.int16(-32768)],
  ["v.uint32", F.uint32(4294967295)],
  ["v.int32", F.int32(-2147483648)],
  ["v.float32", F.float32(Math.fround(0.1))],
  ["v.float64", F.float64(0.1)],
  ["v.uint64", F.uint64(2n ** 64n - 1n)],
  ["v.int64", F.int64(-(2n ** 63n))],
  ["v.true", F.bool(true)],
  ["v.false", F.bool(false)],
  ["v.string", F.string("héllo ✓ 🦙")],
  ["v.empty", F.string("")],
  ["a.strings", F.array("string", ["", "a", "ü", "<|im_start|>", "🦙🦙"])],
  ["a.int32", F.array("int32", [0, -1, 2147483647, -2147483648])],
  ["a.uint8", F.array("uint8", [0, 1, 255])],
  ["a.float32", F.array("float32", [0, -1.5, Math.fround(3.14159), Infinity])],
  ["a.float64", F.array("float64", [Math.PI, -0.000001])],
  ["a.uint64", F.array("uint64", [0n, 2n ** 64n - 1n])],
  ["a.int64", F.array("int64", [-1n, 2n ** 63n - 1n])],
  ["a.bool", F.array("bool", [true, false, true])],
  ["a.empty", F.array("int32", [])]
])

// Q8_0 [32, 2]: 2 blocks of 34 bytes; F16 [8]: 16 bytes; F32 [4, 3]: 48 bytes.
const tensors: ReadonlyArray<GgufWriter.TensorInput> = [
  { name: "t.f32", shape: [4, 3], type: F.GgmlType.F32, data: bytes(48, 1) },
  { name: "t.f16", shape: [8], type: F.GgmlType.F16, data: Stream.make(bytes(10, 2), bytes(6, 3)) },
  { name: "t.q8_0", shape: [32, 2], type: F.GgmlType.Q8_0, data: Stream.fromIterable([bytes(34, 4), bytes(34, 5)]) }
]

describe("GgufWriter", () => {
  it.effect("round-trips metadata of every value type, tensor infos and data", () =>
    Effect.gen(function*() {
      const path = join(yield* tempDir, "model.gguf")
      const result = yield* GgufWriter.write(path, { metadata, tensors })
      const file = yield* GgufReader.read(path)
      assert.strictEqual(file.version, 3)
      assert.strictEqual(file.alignment, 64)
      assert.deepStrictEqual([...file.metadata.keys()], [...metadata.keys()])
      assert.deepStrictEqual(file.metadata, metadata)
      assert.strictEqual(file.dataOffset % 64, 0)
      assert.strictEqual(file.dataOffset, result.dataOffset)
      assert.deepStrictEqual(
        file.tensors.map((t) => [t.name, t.shape, t.typeName, t.offset, t.byteSize]),
        [["t.f32", [4, 3], "F32", 0, 48], ["t.f16", [8], "F16", 64, 16], ["t.q8_0", [32, 2], "Q8_0", 128, 68]]
      )
      const raw = yield* readBytes(path)
      assert.strictEqual(raw.length, file.dataOffset + 128 + 128)
      assert.strictEqual(result.fileSize, raw.length)
      const at = (name: string) => file.dataOffset + file.tensors.find((t) => t.name === name)!.offset
      assert.deepStrictEqual(raw.subarray(at("t.f32"), at("t.f32") + 48), Buffer.from(bytes(48, 1)))
      assert.deepStrictEqual(raw.subarray(at("t.f16"), at("t.f16") + 16), Buffer.concat([bytes(10, 2), bytes(6, 3)]))
      assert.deepStrictEqual(raw.subarray(at("t.q8_0"), at("t.q8_0") + 68), Buffer.concat([bytes(34, 4), bytes(34, 5)]))
      // Padding is zeros.
      assert.isTrue(raw.subarray(at("t.f32") + 48, at("t.f16")).every((b) => b === 0))
    }))

  it.effect("rewrites a real vocabulary file byte for byte", () =>
    Effect.gen(function*() {
      const source = new URL("../../vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf", import.meta.url).pathname
      const path = join(yield* tempDir, "copy.gguf")
      const file = yield* GgufReader.read(source)
      yield* GgufWriter.write(path, { metadata: file.metadata })
      const original = yield* readBytes(source)
      const copy = yield* readBytes(path)
      // The copy only adds the zero padding that ends the header.
      assert.isTrue(copy.subarray(0, original.length).equals(original))
      assert.strictEqual(copy.length, F.alignTo(original.length, 32))
    }))

  it.effect("fails with InvalidInput and leaves no file when a tensor yields the wrong byte count", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const short = { name: "t", shape: [8], type: F.GgmlType.F32, data: Stream.make(bytes(16, 0)) }
      const err = yield* Effect.flip(GgufWriter.write(join(dir, "a.gguf"), { metadata, tensors: [short] }))
      assert.strictEqual(err.reason, "InvalidInput")
      assert.include(err.message, "produced 16 bytes, expected 32")
      const long = { name: "t", shape: [2], type: F.GgmlType.F32, data: Stream.make(bytes(4, 0), bytes(8, 0)) }
      const err2 = yield* Effect.flip(GgufWriter.write(join(dir, "b.gguf"), { metadata, tensors: [long] }))
      assert.strictEqual(err2.reason, "InvalidInput")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }))

  it.effect("removes the temporary file when the data stream fails midway", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const failing = {
        name: "t",
        shape: [1 << 20],
        type: F.GgmlType.F32,
        data: Stream.concat(Stream.make(new Uint8Array(1 << 20)), Stream.fail("producer broke" as const))
      }
      const err = yield* Effect.flip(GgufWriter.write(join(dir, "m.gguf"), { metadata, tensors: [failing] }))
      assert.strictEqual(err, "producer broke")
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }))

  it.effect("removes the temporary file when the write is interrupted", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const started = yield* Deferred.make<void>()
      // One chunk, then signal and stall forever: the write is in progress when interrupted.
      const data = Stream.make(new Uint8Array(1 << 20)).pipe(
        Stream.concat(Stream.fromEffect(Deferred.succeed(started, undefined)).pipe(Stream.drain)),
        Stream.concat(Stream.never)
      )
      const fiber = yield* Effect.forkChild(
        GgufWriter.write(join(dir, "m.gguf"), { metadata, tensors: [{ name: "t", shape: [1 << 20], type: F.GgmlType.F32, data }] })
      )
      yield* Deferred.await(started)
      const during = yield* Effect.promise(() => readdir(dir))
      assert.strictEqual(during.length, 1)
      assert.match(during[0]!, /^m\.gguf\..*\.tmp$/)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* Effect.promise(() => readdir(dir)), [])
    }))

  it.effect("rejects values that do not fit their type, and bad tensor declarations", () =>
    Effect.gen(function*() {
      const path = join(yield* tempDir, "bad.gguf")
      const cases: ReadonlyArray<[GgufWriter.WriteInput, string]> = [
        [{ metadata: new Map([["x", F.uint8(256)]]) }, "'x' value 256"],
        [{ metadata: new Map([["x", F.int32(1.5)]]) }, "expected an integer"],
        [{ metadata: new Map([["x", F.uint64(-1n)]]) }, "expected a bigint"],
        [{ metadata: new Map([["x", F.array("string", ["ok", 3 as unknown as string])]]) }, "expected a string"],
        [{ metadata: new Map([["general.alignment", F.uint32(48)]]) }, "power of two"],
        [{ metadata: new Map([["x", { type: "skipped-array", itemType: "string", length: 3 }]]) }, "skipped array"],
        [{ metadata: [["", F.bool(true)]] }, "key is empty"],
        [{ metadata: [["k", F.bool(true)], ["k", F.bool(false)]] }, "duplicate metadata key"],
        [{ metadata, tensors: [{ name: "q", shape: [16], type: F.GgmlType.Q8_0, data: new Uint8Array(0) }] }, "block size 32"],
        [{ metadata, tensors: [{ name: "u", shape: [4], type: 99, data: new Uint8Array(0) }] }, "unknown ggml type 99"],
        [{ metadata, tensors: [{ name: "z", shape: [0], type: 0, data: new Uint8Array(0) }] }, "positive dimensions"],
        [{ metadata, tensors: [{ name: "n".repeat(64), shape: [1], type: 0, data: new Uint8Array(4) }] }, "1 to 63 bytes"]
      ]
      for (const [input, expected] of cases) {
        const err = yield* Effect.flip(GgufWriter.write(path, input))
        assert.strictEqual(err.reason, "InvalidInput", expected)
        assert.include(err.message, expected)
      }
    }))
})
