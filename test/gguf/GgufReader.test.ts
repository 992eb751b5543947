import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { mkdir } from "node:fs/promises"
import { join } from "node:path"
import * as F from "../../src/gguf/GgufFormat.ts"
import type { GgufValue } from "../../src/gguf/GgufFormat.ts"
import * as GgufReader from "../../src/gguf/GgufReader.ts"
import { GgufError } from "../../src/gguf/GgufError.ts"
import * as GgufWriter from "../../src/gguf/GgufWriter.ts"
import { readBytes, tempDir, vocabPath, writeBytes } from "./helpers.ts"

// A small valid file: a few keys (one string array) and two tensors.
const sample = Effect.gen(function*() {
  const dir = yield* tempDir
  const path = join(dir, "sample.gguf")
  yield* GgufWriter.write(path, {
    metadata: new Map<string, GgufValue>([
      ["general.architecture", F.string("test")],
      ["tokens", F.array("string", Array.from({ length: 200 }, (_, i) => `token-${i}`))],
      ["count", F.uint32(7)]
    ]),
    tensors: [
      { name: "first.weight", shape: [32, 4], type: F.GgmlType.F16, data: new Uint8Array(256) },
      { name: "second.weight", shape: [64], type: F.GgmlType.F32, data: new Uint8Array(256) }
    ]
  })
  const bytes = yield* readBytes(path)
  const file = yield* GgufReader.read(path)
  return { dir, path, bytes, file }
})

// Writes a modified copy of `bytes` and returns the reader's failure.
const readVariant = (dir: string, name: string, bytes: Uint8Array) =>
  Effect.gen(function*() {
    const path = join(dir, name)
    yield* writeBytes(path, bytes)
    return yield* Effect.flip(GgufReader.read(path))
  })

const patched = (bytes: Buffer, at: number, write: (b: Buffer) => void) => {
  const copy = Buffer.from(bytes)
  write(copy.subarray(at))
  return copy
}

describe("GgufReader", () => {
  it.effect("reads a real vocabulary file from vendor/llama.cpp", () =>
    Effect.gen(function*() {
      const file = yield* GgufReader.read(vocabPath("qwen2"))
      assert.strictEqual(file.version, 3)
      assert.strictEqual(file.tensors.length, 0)
      assert.strictEqual(file.alignment, 32)
      assert.deepStrictEqual(GgufReader.getString(file, "general.architecture"), Option.some("qwen2"))
      assert.deepStrictEqual(GgufReader.getString(file, "tokenizer.ggml.model"), Option.some("gpt2"))
      assert.deepStrictEqual(GgufReader.getNumber(file, "tokenizer.ggml.eos_token_id"), Option.some(151643))
      assert.deepStrictEqual(GgufReader.getNumber(file, "qwen2.rope.freq_base"), Option.some(1000000))
      const tokens = Option.getOrThrow(GgufReader.getArray(file, "tokenizer.ggml.tokens"))
      assert.strictEqual(tokens.itemType, "string")
      assert.strictEqual(tokens.value.length, 151936)
      assert.strictEqual(tokens.value[0], "!")
      const types = Option.getOrThrow(GgufReader.getArray(file, "tokenizer.ggml.token_type"))
      assert.strictEqual(types.itemType, "int32")
      assert.strictEqual(Option.getOrThrow(GgufReader.getArray(file, "tokenizer.ggml.merges")).value.length, 151387)
      assert.isTrue(Option.isNone(GgufReader.getString(file, "no.such.key")))
      const missing = yield* Effect.flip(GgufReader.requireValue(file, "no.such.key"))
      assert.strictEqual(missing.reason, "MissingKey")
    }))

  it.effect("steps over long arrays with maxArrayLength", () =>
    Effect.gen(function*() {
      const file = yield* GgufReader.read(vocabPath("qwen2"), { maxArrayLength: 1000, chunkSize: 4096 })
      assert.deepStrictEqual(file.metadata.get("tokenizer.ggml.tokens"), { type: "skipped-array", itemType: "string", length: 151936 })
      assert.deepStrictEqual(file.metadata.get("tokenizer.ggml.token_type"), { type: "skipped-array", itemType: "int32", length: 151936 })
      // Keys after the skipped arrays are still read.
      assert.deepStrictEqual(GgufReader.getNumber(file, "tokenizer.ggml.bos_token_id"), Option.some(151643))
    }))

  it.effect("reads tensor infos without reading tensor data", () =>
    Effect.gen(function*() {
      const { file } = yield* sample
      assert.deepStrictEqual(file.tensors.map((t) => [t.name, t.shape, t.type, t.offset, t.byteSize, t.elementCount]), [
        ["first.weight", [32, 4], F.GgmlType.F16, 0, 256, 128],
        ["second.weight", [64], F.GgmlType.F32, 256, 256, 64]
      ])
      assert.strictEqual(file.fileSize, file.dataOffset + 512)
    }))

  it.effect("fails with Truncated wherever the file is cut", () =>
    Effect.gen(function*() {
      const { dir, bytes, file } = yield* sample
      const kvStart = 24
      const infosStart = bytes.indexOf("first.weight") - 8
      const cuts = {
        "in the header": 10,
        "at the first key": kvStart + 3,
        "in the string array": bytes.indexOf("token-100"),
        "in the tensor infos": infosStart + 20,
        "before the data": file.dataOffset - 4,
        "in the first tensor's data": file.dataOffset + 100,
        "in the last tensor's data": bytes.length - 1
      }
      for (const [where, cut] of Object.entries(cuts)) {
        const err = yield* readVariant(dir, "cut.gguf", bytes.subarray(0, cut))
        assert.strictEqual(err.reason, "Truncated", `${where}: ${err.message}`)
        assert.strictEqual(err._tag, "GgufError")
      }
    }))

  it.effect("fails with NotGguf on garbage, a wrong magic or an empty file", () =>
    Effect.gen(function*() {
      const { dir, bytes } = yield* sample
      const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff)
      const variants = [
        ["garbage", garbage],
        ["magic", patched(bytes, 0, (b) => b.write("GGML"))],
        ["empty", new Uint8Array(0)],
        ["short", Buffer.from("GG")]
      ] as const
      for (const [name, data] of variants) {
        const err = yield* readVariant(dir, `${name}.gguf`, data)
        assert.strictEqual(err.reason, "NotGguf", name)
      }
    }))

  it.effect("fails with NotFound for a missing path and NotAFile for a directory", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      assert.strictEqual((yield* Effect.flip(GgufReader.read(join(dir, "missing.gguf")))).reason, "NotFound")
      yield* Effect.promise(() => mkdir(join(dir, "sub")))
      assert.strictEqual((yield* Effect.flip(GgufReader.read(join(dir, "sub")))).reason, "NotAFile")
    }))

  it.effect("fails with UnsupportedVersion for versions other than 2 and 3", () =>
    Effect.gen(function*() {
      const { dir, bytes } = yield* sample
      for (const version of [0, 1, 4, 0x03000000]) {
        const err = yield* readVariant(dir, "v.gguf", patched(bytes, 4, (b) => b.writeUInt32LE(version)))
        assert.strictEqual(err.reason, "UnsupportedVersion", String(version))
      }
      const v2 = join(dir, "v2.gguf")
      yield* writeBytes(v2, patched(bytes, 4, (b) => b.writeUInt32LE(2)))
      assert.strictEqual((yield* GgufReader.read(v2)).version, 2)
    }))

  it.effect("fails with Corrupt on impossible counts, lengths, types and layouts", () =>
    Effect.gen(function*() {
      const { dir, bytes, file } = yield* sample
      const infos = bytes.indexOf("first.weight") - 8
      const firstType = infos + 8 + 12 + 4 + 16 // name, n_dims, 2 dims
      const secondOffset = bytes.indexOf("second.weight") + 13 + 4 + 8 + 4
      const cases: ReadonlyArray<[string, Buffer, string]> = [
        ["huge tensor count", patched(bytes, 8, (b) => b.writeBigUInt64LE(2n ** 40n)), "tensor count"],
        ["huge key count", patched(bytes, 16, (b) => b.writeBigUInt64LE(2n ** 60n)), "impossibly large"],
        ["huge key length", patched(bytes, 24, (b) => b.writeBigUInt64LE(2n ** 40n)), "is impossible"],
        ["unknown value type", patched(bytes, 24 + 8 + 20, (b) => b.writeUInt32LE(13)), "type 13"],
        ["nested array", patched(bytes, bytes.indexOf("tokens") + 6 + 4, (b) => b.writeUInt32LE(9)), "array element type 9"],
        ["unknown ggml type", patched(bytes, firstType, (b) => b.writeUInt32LE(77)), "unknown ggml type 77"],
        ["too many dims", patched(bytes, infos + 8 + 12, (b) => b.writeUInt32LE(5)), "5 dimensions"],
        ["zero dim", patched(bytes, infos + 8 + 12 + 4, (b) => b.writeBigUInt64LE(0n)), "empty dimension"],
        ["misaligned data", patched(bytes, secondOffset, (b) => b.writeBigUInt64LE(100n)), "not aligned"],
        ["overlapping data", patched(bytes, secondOffset, (b) => b.writeBigUInt64LE(128n)), "overlaps"]
      ]
      for (const [name, data, expected] of cases) {
        const err = yield* readVariant(dir, "corrupt.gguf", data)
        assert.strictEqual(err.reason, "Corrupt", `${name}: ${err.message}`)
        assert.include(err.message, expected, name)
      }
      assert.strictEqual(file.tensors.length, 2)
    }))

  it.effect("checks general.alignment", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "a.gguf")
      yield* GgufWriter.write(path, { metadata: new Map([["general.alignment", F.uint32(16)]]) })
      const bytes = yield* readBytes(path)
      const valueAt = 24 + 8 + "general.alignment".length + 4
      assert.strictEqual(bytes.readUInt32LE(valueAt), 16)
      const err = yield* readVariant(dir, "b.gguf", patched(bytes, valueAt, (b) => b.writeUInt32LE(24)))
      assert.strictEqual(err.reason, "Corrupt")
      assert.include(err.message, "power of two")
    }))

  it.effect("fails only with GgufError on randomly damaged files (no defects, no hangs)", () =>
    Effect.gen(function*() {
      const { dir, bytes } = yield* sample
      let seed = 12345
      const random = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
        return seed / 2 ** 32
      }
      const reasons = new Set<string>()
      for (let i = 0; i < 300; i++) {
        const copy = Buffer.from(bytes.subarray(0, i % 3 === 0 ? Math.floor(random() * bytes.length) : bytes.length))
        // Damage the header region mostly: that is where the parser has to be careful.
        const region = Math.min(copy.length, 200 + (i % 2) * 4000)
        for (let k = 0; k < 1 + (i % 4); k++) copy[Math.floor(random() * region)] = Math.floor(random() * 256)
        const path = join(dir, "fuzz.gguf")
        yield* writeBytes(path, copy)
        const exit = yield* Effect.exit(GgufReader.read(path))
        if (Exit.isFailure(exit)) {
          for (const reason of exit.cause.reasons) {
            assert.strictEqual(reason._tag, "Fail", `variant ${i}`)
            if (reason._tag === "Fail") {
              assert.instanceOf(reason.error, GgufError)
              reasons.add(reason.error.reason)
            }
          }
        }
      }
      assert.isTrue(reasons.has("Truncated") && reasons.has("Corrupt"), [...reasons].join(","))
    }))
})
