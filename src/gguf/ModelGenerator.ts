/**
 * Generates random-weight GGUF models that llama.cpp loads, for tests and
 * benchmarks: a real tokenizer and chat template (copied from a
 * `ggml-vocab-*.gguf` file) on top of random weights of a chosen shape.
 *
 * Output is deterministic: the same options and seed give a byte-identical
 * file. Each tensor's PRNG is seeded from the seed and the tensor's name, so
 * the order of tensors does not change their values.
 *
 * Tensor names and shapes follow llama.cpp `src/llama-arch.cpp` and
 * `src/models/{qwen2,llama}.cpp` (`load_arch_tensors`).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { GgufError } from "./GgufError.ts"
import * as Format from "./GgufFormat.ts"
import type { GgufValue } from "./GgufFormat.ts"
import * as GgufReader from "./GgufReader.ts"
import * as GgufWriter from "./GgufWriter.ts"
import { encodeF16, encodeF32, encodeQ4_0, encodeQ8_0, fillUniform, hash32, seedState } from "./internal/tensorData.ts"

/**
 * Bumped whenever the bytes a given set of options produces change, so
 * caches keyed on it regenerate.
 *
 * @category constants
 * @since 0.1.0
 */
export const GENERATOR_VERSION = 1

/**
 * Supported llama.cpp architectures. `qwen2` has q/k/v biases, `llama` does not, `qwen3` has q/k norms instead.
 *
 * @category models
 * @since 0.1.0
 */
export type Architecture = "qwen2" | "llama" | "qwen3"

/**
 * Storage type of the 2-D weights. Norms and biases always stay f32, as in real files.
 *
 * @category models
 * @since 0.1.0
 */
export type WeightType = "f32" | "f16" | "q8_0" | "q4_0"

/**
 * Model hyper-parameters.
 *
 * @category models
 * @since 0.1.0
 */
export interface Shape {
  readonly contextLength: number
  readonly embeddingLength: number
  readonly blockCount: number
  readonly feedForwardLength: number
  readonly headCount: number
  readonly headCountKv: number
  readonly ropeFreqBase: number
  readonly rmsNormEps: number
  /** No `output.weight`: the output projection reuses `token_embd.weight`. */
  readonly tieEmbeddings: boolean
}

/**
 * Built-in shapes. `tiny` is for tests (a few MB besides the vocabulary);
 * `small` is for tests that need work to take a while (a 4,000-token prefill
 * takes seconds on 2 cores); `bench-0.5b` is the Qwen2-0.5B shape.
 *
 * @category constants
 * @since 0.1.0
 */
export const presets = {
  tiny: {
    contextLength: 4096,
    embeddingLength: 64,
    blockCount: 2,
    feedForwardLength: 128,
    headCount: 4,
    headCountKv: 2,
    ropeFreqBase: 10000,
    rmsNormEps: 1e-6,
    tieEmbeddings: true
  },
  small: {
    contextLength: 8192,
    embeddingLength: 512,
    blockCount: 4,
    feedForwardLength: 1536,
    headCount: 8,
    headCountKv: 4,
    ropeFreqBase: 10000,
    rmsNormEps: 1e-6,
    tieEmbeddings: true
  },
  "bench-0.5b": {
    contextLength: 32768,
    embeddingLength: 896,
    blockCount: 24,
    feedForwardLength: 4864,
    headCount: 14,
    headCountKv: 2,
    ropeFreqBase: 1e6,
    rmsNormEps: 1e-6,
    tieEmbeddings: true
  }
} as const satisfies Record<string, Shape>

/**
 * Name of a built-in shape.
 *
 * @category models
 * @since 0.1.0
 */
export type PresetName = keyof typeof presets

/**
 * What to generate.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options {
  readonly architecture: Architecture
  /** A GGUF file whose `tokenizer.*` keys are copied (e.g. `vendor/llama.cpp/models/ggml-vocab-qwen2.gguf`). */
  readonly vocab: string
  /** Default `"tiny"`. */
  readonly shape?: PresetName | Shape
  /** Default `"q8_0"`. */
  readonly weightType?: WeightType
  /** Default 0. */
  readonly seed?: number
  /** `general.name`; default `random-<architecture>`. */
  readonly name?: string
  /** Replaces (or adds) `tokenizer.chat_template`. */
  readonly chatTemplate?: string
  /** Overrides the shape's `tieEmbeddings`. */
  readonly tieEmbeddings?: boolean
  /**
   * Tokens written over the copied vocabulary at the given ids (e.g. the `[PAD...]` slots a model family later
   * filled with `<tool_call>` and friends), with their llama.cpp token type.
   */
  readonly addedTokens?: ReadonlyArray<AddedToken>
  /**
   * A reranker: rank pooling and a classifier head (`cls.output.weight`) with these labels, as llama.cpp's
   * converter writes Qwen3-Reranker (`qwen3` only; labels `["yes", "no"]`, the score is the first's probability).
   * `template` becomes `tokenizer.chat_template.rerank`, with `{query}` and `{document}` in it.
   */
  readonly rank?: { readonly labels: ReadonlyArray<string>; readonly template?: string }
}

/**
 * A token placed into the vocabulary at a fixed id.
 *
 * @category models
 * @since 0.1.0
 */
export interface AddedToken {
  readonly id: number
  readonly text: string
  /** `control` tokens render only when asked (special); `user_defined` ones always render as text. */
  readonly type: "control" | "user_defined"
}

// llama.cpp's llama_token_type values.
const TOKEN_TYPE = { control: 3, user_defined: 4 } as const

/**
 * A model ready to write: metadata plus tensors whose data is produced lazily.
 *
 * @category models
 * @since 0.1.0
 */
export interface ModelPlan {
  readonly metadata: Format.GgufMetadata
  readonly tensors: ReadonlyArray<GgufWriter.TensorInput>
}

const FILE_TYPE: Record<WeightType, number> = { f32: 0, f16: 1, q8_0: 7, q4_0: 2 }
const GGML_TYPE: Record<WeightType, number> = {
  f32: Format.GgmlType.F32,
  f16: Format.GgmlType.F16,
  q8_0: Format.GgmlType.Q8_0,
  q4_0: Format.GgmlType.Q4_0
}
const ENCODE: Record<WeightType, (values: Float32Array) => Uint8Array> = {
  f32: encodeF32,
  f16: encodeF16,
  q8_0: encodeQ8_0,
  q4_0: encodeQ4_0
}
const quantized = (type: WeightType): boolean => type === "q8_0" || type === "q4_0"
// Uniform on [-a, a] has standard deviation a / sqrt(3): this gives about 0.02.
const HALF_WIDTH = 0.02 * Math.sqrt(3)
const CHUNK_ELEMENTS = 1 << 20

type Fill = "random" | "ones"

// Lazily produces a tensor's bytes in chunks of about 1M elements.
const tensorStream = (seed: number, name: string, count: number, type: WeightType, fill: Fill): Stream.Stream<Uint8Array> =>
  Stream.suspend(() => {
    const state = seedState(hash32(`${seed}:${name}`))
    const encode = ENCODE[type]
    function* chunks() {
      for (let done = 0; done < count; done += CHUNK_ELEMENTS) {
        const values = new Float32Array(Math.min(CHUNK_ELEMENTS, count - done))
        if (fill === "ones") values.fill(1)
        else fillUniform(values, state, HALF_WIDTH)
        yield encode(values)
      }
    }
    return Stream.fromIterable(chunks(), { chunkSize: 1 })
  })

const invalid = (path: string, message: string) => new GgufError({ path, reason: "InvalidInput", message })

/**
 * Builds the metadata and tensor list of a model without writing it.
 *
 * **Details** Reads the vocabulary file, copies every `tokenizer.*` key in
 * file order, then applies `chatTemplate`. Fails with `InvalidInput` when the
 * shape does not divide (heads, KV heads) or a quantized (q8_0, q4_0) row length is not a
 * multiple of 32, and with `MissingKey` when the vocabulary has no token list.
 *
 * @category constructors
 * @since 0.1.0
 */
export const plan = (options: Options): Effect.Effect<ModelPlan, GgufError> =>
  Effect.gen(function*() {
    const arch = options.architecture
    const shape: Shape = typeof options.shape === "object" ? options.shape : presets[options.shape ?? "tiny"]
    const weightType = options.weightType ?? "q8_0"
    const seed = options.seed ?? 0
    const tied = options.tieEmbeddings ?? shape.tieEmbeddings
    const { embeddingLength: nEmbd, feedForwardLength: nFf, headCount, headCountKv } = shape
    const dims = [shape.contextLength, nEmbd, shape.blockCount, nFf, headCount, headCountKv]
    if (dims.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
      return yield* invalid(options.vocab, `shape sizes must be positive integers: ${dims.join(", ")}`)
    }
    if (nEmbd % headCount !== 0 || headCount % headCountKv !== 0) {
      return yield* invalid(options.vocab, `embedding ${nEmbd}, heads ${headCount} and KV heads ${headCountKv} do not divide evenly`)
    }
    if (quantized(weightType) && (nEmbd % 32 !== 0 || nFf % 32 !== 0)) {
      return yield* invalid(options.vocab, `${weightType} needs embedding (${nEmbd}) and FFN (${nFf}) lengths that are multiples of 32`)
    }

    const vocab = yield* GgufReader.read(options.vocab)
    const tokens = vocab.metadata.get("tokenizer.ggml.tokens")
    if (tokens?.type !== "array" || tokens.itemType !== "string") {
      const message = `${options.vocab}: no tokenizer.ggml.tokens string array`
      return yield* new GgufError({ path: options.vocab, reason: "MissingKey", message })
    }
    const nVocab = tokens.value.length
    const headDim = nEmbd / headCount
    const nEmbdKv = headDim * headCountKv

    const metadata = new Map<string, GgufValue>([
      ["general.architecture", Format.string(arch)],
      ["general.name", Format.string(options.name ?? `random-${arch}`)],
      ["general.file_type", Format.uint32(FILE_TYPE[weightType])],
      ...(quantized(weightType) ? [["general.quantization_version", Format.uint32(2)] as const] : []),
      ["general.alignment", Format.uint32(Format.DEFAULT_ALIGNMENT)],
      [`${arch}.context_length`, Format.uint32(shape.contextLength)],
      [`${arch}.embedding_length`, Format.uint32(nEmbd)],
      [`${arch}.block_count`, Format.uint32(shape.blockCount)],
      [`${arch}.feed_forward_length`, Format.uint32(nFf)],
      [`${arch}.attention.head_count`, Format.uint32(headCount)],
      [`${arch}.attention.head_count_kv`, Format.uint32(headCountKv)],
      [`${arch}.rope.freq_base`, Format.float32(shape.ropeFreqBase)],
      [`${arch}.attention.layer_norm_rms_epsilon`, Format.float32(shape.rmsNormEps)],
      ...(arch === "llama" ? [[`${arch}.rope.dimension_count`, Format.uint32(headDim)] as const] : [])
    ])
    for (const [key, value] of vocab.metadata) if (key.startsWith("tokenizer.")) metadata.set(key, value)
    if (options.addedTokens !== undefined && options.addedTokens.length > 0) {
      const types = vocab.metadata.get("tokenizer.ggml.token_type")
      if (types?.type !== "array" || types.itemType !== "int32" || types.value.length !== nVocab) {
        return yield* invalid(options.vocab, "addedTokens needs a tokenizer.ggml.token_type int32 array")
      }
      const texts = [...tokens.value]
      const kinds = [...types.value]
      for (const token of options.addedTokens) {
        if (!Number.isSafeInteger(token.id) || token.id < 0 || token.id >= nVocab) {
          return yield* invalid(options.vocab, `added token ${token.text} has id ${token.id}, outside 0..${nVocab - 1}`)
        }
        texts[token.id] = token.text
        kinds[token.id] = TOKEN_TYPE[token.type]
      }
      metadata.set("tokenizer.ggml.tokens", Format.array("string", texts))
      metadata.set("tokenizer.ggml.token_type", Format.array("int32", kinds))
    }
    if (options.chatTemplate !== undefined) metadata.set("tokenizer.chat_template", Format.string(options.chatTemplate))
    if (options.rank !== undefined) {
      if (arch !== "qwen3" || options.rank.labels.length === 0) {
        return yield* invalid(options.vocab, "rank needs the qwen3 architecture and at least one label")
      }
      metadata.set(`${arch}.pooling_type`, Format.uint32(4)) // LLAMA_POOLING_TYPE_RANK
      metadata.set(`${arch}.classifier.output_labels`, Format.array("string", options.rank.labels))
      if (options.rank.template !== undefined) metadata.set("tokenizer.chat_template.rerank", Format.string(options.rank.template))
    }

    const tensors: Array<GgufWriter.TensorInput> = []
    const add = (name: string, shape: ReadonlyArray<number>, kind: "weight" | "norm" | "bias") => {
      const type: WeightType = kind === "weight" ? weightType : "f32"
      const count = shape.reduce((a, b) => a * b, 1)
      tensors.push({ name, shape, type: GGML_TYPE[type], data: tensorStream(seed, name, count, type, kind === "norm" ? "ones" : "random") })
    }
    add("token_embd.weight", [nEmbd, nVocab], "weight")
    for (let i = 0; i < shape.blockCount; i++) {
      const blk = `blk.${i}`
      add(`${blk}.attn_norm.weight`, [nEmbd], "norm")
      add(`${blk}.attn_q.weight`, [nEmbd, nEmbd], "weight")
      add(`${blk}.attn_k.weight`, [nEmbd, nEmbdKv], "weight")
      add(`${blk}.attn_v.weight`, [nEmbd, nEmbdKv], "weight")
      if (arch === "qwen2") {
        add(`${blk}.attn_q.bias`, [nEmbd], "bias")
        add(`${blk}.attn_k.bias`, [nEmbdKv], "bias")
        add(`${blk}.attn_v.bias`, [nEmbdKv], "bias")
      }
      if (arch === "qwen3") {
        add(`${blk}.attn_q_norm.weight`, [headDim], "norm")
        add(`${blk}.attn_k_norm.weight`, [headDim], "norm")
      }
      add(`${blk}.attn_output.weight`, [nEmbd, nEmbd], "weight")
      add(`${blk}.ffn_norm.weight`, [nEmbd], "norm")
      add(`${blk}.ffn_gate.weight`, [nEmbd, nFf], "weight")
      add(`${blk}.ffn_down.weight`, [nFf, nEmbd], "weight")
      add(`${blk}.ffn_up.weight`, [nEmbd, nFf], "weight")
    }
    add("output_norm.weight", [nEmbd], "norm")
    if (!tied) add("output.weight", [nEmbd, nVocab], "weight")
    if (options.rank !== undefined) add("cls.output.weight", [nEmbd, options.rank.labels.length], "bias")
    return { metadata, tensors }
  })

/**
 * Generates a model and writes it atomically to `path`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const generate = (path: string, options: Options): Effect.Effect<GgufWriter.WriteResult, GgufError> =>
  Effect.flatMap(plan(options), (model) => GgufWriter.write(path, model))
