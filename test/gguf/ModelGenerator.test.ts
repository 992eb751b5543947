import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFile } from "node:fs/promises"
import { join } from "node:path"
import * as F from "../../src/gguf/GgufFormat.ts"
import * as GgufReader from "../../src/gguf/GgufReader.ts"
import * as GgufWriter from "../../src/gguf/GgufWriter.ts"
import * as ModelGenerator from "../../src/gguf/ModelGenerator.ts"
import { sha256, tempDir, vocabPath } from "./helpers.ts"

// Small enough to generate in milliseconds: 32-wide, one block, llama SPM vocabulary (32000 tokens).
const small: ModelGenerator.Shape = {
  contextLength: 256,
  embeddingLength: 32,
  blockCount: 1,
  feedForwardLength: 64,
  headCount: 2,
  headCountKv: 1,
  ropeFreqBase: 10000,
  rmsNormEps: 1e-5,
  tieEmbeddings: true
}
const smallOptions = (seed: number, weightType: ModelGenerator.WeightType = "q8_0"): ModelGenerator.Options => ({
  architecture: "llama",
  vocab: vocabPath("llama-spm"),
  shape: small,
  weightType,
  seed
})

describe("ModelGenerator", () => {
  it.effect("is deterministic: same seed, same bytes; another seed, other bytes", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const hashes: Array<string> = []
      for (const [name, seed, type] of [["a", 1, "q8_0"], ["b", 1, "q8_0"], ["c", 2, "q8_0"], ["d", 1, "f16"], ["e", 1, "f16"]] as const) {
        const path = join(dir, `${name}.gguf`)
        yield* ModelGenerator.generate(path, smallOptions(seed, type))
        hashes.push(yield* sha256(path))
      }
      assert.strictEqual(hashes[0], hashes[1])
      assert.notStrictEqual(hashes[0], hashes[2])
      assert.strictEqual(hashes[3], hashes[4])
      assert.notStrictEqual(hashes[0], hashes[3])
    }))

  it.effect("seeds each tensor from its name, so tensor order does not change the data", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const model = yield* ModelGenerator.plan(smallOptions(5, "f32"))
      const forward = join(dir, "forward.gguf")
      const backward = join(dir, "backward.gguf")
      yield* GgufWriter.write(forward, model)
      yield* GgufWriter.write(backward, { metadata: model.metadata, tensors: [...model.tensors].reverse() })
      const [a, b] = [yield* GgufReader.read(forward), yield* GgufReader.read(backward)]
      const [bytesA, bytesB] = yield* Effect.promise(() => Promise.all([readFile(forward), readFile(backward)]))
      for (const t of a.tensors) {
        const u = Option.getOrThrow(GgufReader.getTensor(b, t.name))
        const x = bytesA.subarray(a.dataOffset + t.offset, a.dataOffset + t.offset + t.byteSize)
        const y = bytesB.subarray(b.dataOffset + u.offset, b.dataOffset + u.offset + u.byteSize)
        assert.isTrue(x.equals(y), t.name)
      }
    }))

  it.effect("writes a tiny qwen2 model: shapes, types, metadata and the copied tokenizer", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = join(dir, "tiny-qwen2.gguf")
      const template = yield* Effect.promise(() =>
        readFile(new URL("../../vendor/llama.cpp/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja", import.meta.url), "utf8")
      )
      yield* ModelGenerator.generate(path, {
        architecture: "qwen2",
        vocab: vocabPath("qwen2"),
        shape: "tiny",
        weightType: "q8_0",
        chatTemplate: template
      })
      const file = yield* GgufReader.read(path)
      const vocab = yield* GgufReader.read(vocabPath("qwen2"))
      const tiny = ModelGenerator.presets.tiny
      const get = (key: string) => file.metadata.get(key)
      assert.deepStrictEqual(get("general.architecture"), F.string("qwen2"))
      assert.deepStrictEqual(get("general.file_type"), F.uint32(7))
      assert.deepStrictEqual(get("general.quantization_version"), F.uint32(2))
      assert.deepStrictEqual(get("general.alignment"), F.uint32(32))
      assert.deepStrictEqual(get("qwen2.embedding_length"), F.uint32(tiny.embeddingLength))
      assert.deepStrictEqual(get("qwen2.block_count"), F.uint32(tiny.blockCount))
      assert.deepStrictEqual(get("qwen2.context_length"), F.uint32(tiny.contextLength))
      assert.deepStrictEqual(get("qwen2.feed_forward_length"), F.uint32(tiny.feedForwardLength))
      assert.deepStrictEqual(get("qwen2.attention.head_count"), F.uint32(tiny.headCount))
      assert.deepStrictEqual(get("qwen2.attention.head_count_kv"), F.uint32(tiny.headCountKv))
      assert.deepStrictEqual(get("qwen2.attention.layer_norm_rms_epsilon"), F.float32(Math.fround(tiny.rmsNormEps)))
      assert.isUndefined(get("qwen2.rope.dimension_count"))
      // Every tokenizer key is copied as is; only the chat template is replaced.
      const tokenizerKeys = [...vocab.metadata.keys()].filter((k) => k.startsWith("tokenizer."))
      assert.deepStrictEqual([...file.metadata.keys()].filter((k) => k.startsWith("tokenizer.")), tokenizerKeys)
      for (const key of tokenizerKeys) {
        if (key !== "tokenizer.chat_template") assert.deepStrictEqual(get(key), vocab.metadata.get(key), key)
      }
      assert.deepStrictEqual(get("tokenizer.chat_template"), F.string(template))

      // 2 per model (token_embd, output_norm) + 12 per block; tied embeddings: no output.weight.
      assert.strictEqual(file.tensors.length, 2 + 12 * tiny.blockCount)
      assert.isTrue(Option.isNone(GgufReader.getTensor(file, "output.weight")))
      const info = (name: string) => {
        const t = Option.getOrThrow(GgufReader.getTensor(file, name))
        return [t.shape, t.typeName]
      }
      const kv = (tiny.embeddingLength / tiny.headCount) * tiny.headCountKv
      assert.deepStrictEqual(info("token_embd.weight"), [[64, 151936], "Q8_0"])
      assert.deepStrictEqual(info("output_norm.weight"), [[64], "F32"])
      assert.deepStrictEqual(info("blk.1.attn_q.weight"), [[64, 64], "Q8_0"])
      assert.deepStrictEqual(info("blk.1.attn_k.weight"), [[64, kv], "Q8_0"])
      assert.deepStrictEqual(info("blk.1.attn_v.bias"), [[kv], "F32"])
      assert.deepStrictEqual(info("blk.0.ffn_down.weight"), [[128, 64], "Q8_0"])
      assert.deepStrictEqual(info("blk.0.ffn_up.weight"), [[64, 128], "Q8_0"])
      assert.deepStrictEqual(info("blk.0.ffn_norm.weight"), [[64], "F32"])
    }))

  it.effect("writes a llama model without biases, with rope.dimension_count and an untied output", () =>
    Effect.gen(function*() {
      const path = join(yield* tempDir, "llama.gguf")
      yield* ModelGenerator.generate(path, { ...smallOptions(3, "f16"), tieEmbeddings: false, name: "tiny llama" })
      const file = yield* GgufReader.read(path)
      assert.deepStrictEqual(file.metadata.get("general.name"), F.string("tiny llama"))
      assert.deepStrictEqual(file.metadata.get("general.file_type"), F.uint32(1))
      assert.isUndefined(file.metadata.get("general.quantization_version"))
      assert.deepStrictEqual(file.metadata.get("llama.rope.dimension_count"), F.uint32(16))
      assert.isFalse(file.tensors.some((t) => t.name.endsWith(".bias")))
      assert.strictEqual(file.tensors.length, 3 + 9 * small.blockCount)
      assert.deepStrictEqual(Option.getOrThrow(GgufReader.getTensor(file, "output.weight")).shape, [32, 32000])
      assert.deepStrictEqual(Option.getOrThrow(GgufReader.getTensor(file, "output.weight")).typeName, "F16")
    }))

  it.effect("fails with typed errors on bad shapes and vocabularies", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const odd = { ...small, embeddingLength: 48, headCount: 3, headCountKv: 1 }
      const rows = yield* Effect.flip(ModelGenerator.plan({ ...smallOptions(1), shape: odd }))
      assert.strictEqual(rows.reason, "InvalidInput")
      assert.include(rows.message, "multiples of 32")
      const heads = yield* Effect.flip(ModelGenerator.plan({ ...smallOptions(1), shape: { ...small, headCount: 3 } }))
      assert.strictEqual(heads.reason, "InvalidInput")
      const noTokens = join(dir, "empty.gguf")
      yield* GgufWriter.write(noTokens, { metadata: new Map([["general.name", F.string("x")]]) })
      const vocab = yield* Effect.flip(ModelGenerator.plan({ ...smallOptions(1), vocab: noTokens }))
      assert.strictEqual(vocab.reason, "MissingKey")
      const missing = yield* Effect.flip(ModelGenerator.plan({ ...smallOptions(1), vocab: join(dir, "nope.gguf") }))
      assert.strictEqual(missing.reason, "NotFound")
    }))
})
