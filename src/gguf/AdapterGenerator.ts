/**
 * Generates the companion files llama.cpp loads beside a model, with random weights, for tests: a LoRA adapter
 * (`general.type = adapter`, `adapter.type = lora`, `<tensor>.lora_a` / `.lora_b` pairs, as
 * `convert_lora_to_gguf.py` writes them and `llama_adapter_lora_init` reads them) and a vision projector
 * (`mmproj`: a CLIP ViT with a LLaVA MLP projector, `clip.projector_type = mlp`, as libmtmd's `clip.cpp` loads it).
 *
 * Like `ModelGenerator`, the output is deterministic: each tensor's values come from the seed and its name.
 *
 * @since 0.2.0
 */
import * as Effect from "effect/Effect"
import { GgufError } from "./GgufError.ts"
import * as Format from "./GgufFormat.ts"
import type { GgufValue } from "./GgufFormat.ts"
import * as GgufWriter from "./GgufWriter.ts"
import type { Architecture, ModelPlan } from "./ModelGenerator.ts"
import { encodeF32, fillUniform, hash32, seedState } from "./internal/tensorData.ts"

/**
 * A random LoRA adapter for a model of `architecture` with the given sizes.
 *
 * @category models
 * @since 0.2.0
 */
export interface LoraOptions {
  readonly architecture: Architecture
  readonly embeddingLength: number
  readonly blockCount: number
  readonly headCount: number
  readonly headCountKv: number
  readonly feedForwardLength: number
  /** The adapter's rank r. Default 8. */
  readonly rank?: number
  /** `adapter.lora.alpha`; llama.cpp scales the update by alpha / r. Default: the rank (a factor of 1). */
  readonly alpha?: number
  /** Half-width of the uniform weights of A and B. Default 0.3: enough to change a tiny model's output. */
  readonly magnitude?: number
  /** Which weights of each block get an adapter pair. Default: attention q, v and output, and the FFN's three. */
  readonly targets?: ReadonlyArray<LoraTarget>
  readonly seed?: number
}

/**
 * A block weight a LoRA adapter can target.
 *
 * @category models
 * @since 0.2.0
 */
export type LoraTarget = "attn_q" | "attn_k" | "attn_v" | "attn_output" | "ffn_gate" | "ffn_up" | "ffn_down"

/**
 * A random vision projector (mmproj) for a text model whose embedding length is `textEmbeddingLength`.
 *
 * @category models
 * @since 0.2.0
 */
export interface ProjectorOptions {
  /** The text model's embedding length: the projector's output size. */
  readonly textEmbeddingLength: number
  /** The square size images are resized to. Default 32. */
  readonly imageSize?: number
  /** Default 8: a 32x32 image is (32/8)^2 = 16 image tokens. */
  readonly patchSize?: number
  /** The ViT's width, depth and heads. Defaults 64, 2, 4. */
  readonly embeddingLength?: number
  readonly blockCount?: number
  readonly headCount?: number
  readonly seed?: number
}

const random = (seed: number, name: string, shape: ReadonlyArray<number>, halfWidth: number): GgufWriter.TensorInput => {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1))
  fillUniform(values, seedState(hash32(`${seed}:${name}`)), halfWidth)
  return { name, shape, type: Format.GgmlType.F32, data: encodeF32(values) }
}

const filled = (name: string, shape: ReadonlyArray<number>, value: number): GgufWriter.TensorInput => {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value)
  return { name, shape, type: Format.GgmlType.F32, data: encodeF32(values) }
}

const invalid = (message: string) => new GgufError({ path: "", reason: "InvalidInput", message })

const positive = (values: ReadonlyArray<number>) => values.every((n) => Number.isSafeInteger(n) && n > 0)

/**
 * The metadata and tensors of a random LoRA adapter.
 *
 * @category constructors
 * @since 0.2.0
 */
export const planLora = (options: LoraOptions): Effect.Effect<ModelPlan, GgufError> =>
  Effect.suspend(() => {
    const rank = options.rank ?? 8
    const { embeddingLength: nEmbd, headCount, headCountKv, blockCount } = options
    if (!positive([rank, nEmbd, headCount, headCountKv, blockCount, options.feedForwardLength]) || nEmbd % headCount !== 0) {
      return Effect.fail(invalid(`LoRA sizes must be positive integers and divide: ${[rank, nEmbd, headCount, headCountKv].join(", ")}`))
    }
    const seed = options.seed ?? 0
    const magnitude = options.magnitude ?? 0.3
    const nEmbdKv = (nEmbd / headCount) * headCountKv
    const nFf = options.feedForwardLength
    // [in, out] of each target, in ggml order
    const dims: Record<LoraTarget, readonly [number, number]> = {
      attn_q: [nEmbd, nEmbd],
      attn_k: [nEmbd, nEmbdKv],
      attn_v: [nEmbd, nEmbdKv],
      attn_output: [nEmbd, nEmbd],
      ffn_gate: [nEmbd, nFf],
      ffn_up: [nEmbd, nFf],
      ffn_down: [nFf, nEmbd]
    }
    const metadata = new Map<string, GgufValue>([
      ["general.architecture", Format.string(options.architecture)],
      ["general.type", Format.string("adapter")],
      ["general.name", Format.string(`random-lora-${options.architecture}`)],
      ["adapter.type", Format.string("lora")],
      ["adapter.lora.alpha", Format.float32(options.alpha ?? rank)]
    ])
    const tensors: Array<GgufWriter.TensorInput> = []
    for (let i = 0; i < blockCount; i++) {
      for (const target of options.targets ?? ["attn_q", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]) {
        const name = `blk.${i}.${target}.weight`
        const [nIn, nOut] = dims[target]
        // A is [n_in, r] and B is [r, n_out] in ggml order: the update B(Ax) has the base weight's shape.
        tensors.push(random(seed, `${name}.lora_a`, [nIn, rank], magnitude))
        tensors.push(random(seed, `${name}.lora_b`, [rank, nOut], magnitude))
      }
    }
    return Effect.succeed({ metadata, tensors })
  })

/**
 * Writes a random LoRA adapter to `path`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const generateLora = (path: string, options: LoraOptions): Effect.Effect<GgufWriter.WriteResult, GgufError> =>
  Effect.flatMap(planLora(options), (plan) => GgufWriter.write(path, plan))

/**
 * The metadata and tensors of a random vision projector: patch embedding, class and position embeddings, a
 * pre-norm ViT and a two-layer MLP into the text model's embedding space.
 *
 * @category constructors
 * @since 0.2.0
 */
export const planProjector = (options: ProjectorOptions): Effect.Effect<ModelPlan, GgufError> =>
  Effect.suspend(() => {
    const imageSize = options.imageSize ?? 32
    const patch = options.patchSize ?? 8
    const nEmbd = options.embeddingLength ?? 64
    const nLayer = options.blockCount ?? 2
    const nHead = options.headCount ?? 4
    const nText = options.textEmbeddingLength
    const nFf = nEmbd * 2
    if (!positive([imageSize, patch, nEmbd, nLayer, nHead, nText]) || imageSize % patch !== 0 || nEmbd % nHead !== 0) {
      return Effect.fail(invalid(`projector sizes must be positive and divide: image ${imageSize}, patch ${patch}, width ${nEmbd}, heads ${nHead}`))
    }
    const seed = options.seed ?? 0
    const w = 0.02 * Math.sqrt(3)
    const nPos = (imageSize / patch) ** 2 + 1 // the patches and the class embedding
    const metadata = new Map<string, GgufValue>([
      ["general.architecture", Format.string("clip")],
      ["general.name", Format.string("random-mmproj")],
      ["general.file_type", Format.uint32(0)],
      ["clip.has_vision_encoder", Format.bool(true)],
      ["clip.projector_type", Format.string("mlp")],
      ["clip.use_gelu", Format.bool(true)],
      ["clip.vision.image_size", Format.uint32(imageSize)],
      ["clip.vision.patch_size", Format.uint32(patch)],
      ["clip.vision.embedding_length", Format.uint32(nEmbd)],
      ["clip.vision.feed_forward_length", Format.uint32(nFf)],
      ["clip.vision.block_count", Format.uint32(nLayer)],
      ["clip.vision.projection_dim", Format.uint32(nText)],
      ["clip.vision.attention.head_count", Format.uint32(nHead)],
      ["clip.vision.attention.layer_norm_epsilon", Format.float32(1e-5)],
      ["clip.vision.image_mean", Format.array("float32", [0.5, 0.5, 0.5])],
      ["clip.vision.image_std", Format.array("float32", [0.5, 0.5, 0.5])]
    ])
    const tensors: Array<GgufWriter.TensorInput> = [
      random(seed, "v.patch_embd.weight", [patch, patch, 3, nEmbd], w),
      random(seed, "v.class_embd", [nEmbd], w),
      random(seed, "v.position_embd.weight", [nEmbd, nPos], w),
      filled("v.pre_ln.weight", [nEmbd], 1),
      filled("v.pre_ln.bias", [nEmbd], 0)
    ]
    for (let i = 0; i < nLayer; i++) {
      const blk = `v.blk.${i}`
      for (const name of ["attn_q", "attn_k", "attn_v", "attn_out"]) {
        tensors.push(random(seed, `${blk}.${name}.weight`, [nEmbd, nEmbd], w), filled(`${blk}.${name}.bias`, [nEmbd], 0))
      }
      tensors.push(
        filled(`${blk}.ln1.weight`, [nEmbd], 1),
        filled(`${blk}.ln1.bias`, [nEmbd], 0),
        filled(`${blk}.ln2.weight`, [nEmbd], 1),
        filled(`${blk}.ln2.bias`, [nEmbd], 0),
        random(seed, `${blk}.ffn_up.weight`, [nEmbd, nFf], w),
        filled(`${blk}.ffn_up.bias`, [nFf], 0),
        random(seed, `${blk}.ffn_down.weight`, [nFf, nEmbd], w),
        filled(`${blk}.ffn_down.bias`, [nEmbd], 0)
      )
    }
    tensors.push(
      random(seed, "mm.0.weight", [nEmbd, nText], w),
      filled("mm.0.bias", [nText], 0),
      random(seed, "mm.2.weight", [nText, nText], w),
      filled("mm.2.bias", [nText], 0)
    )
    return Effect.succeed({ metadata, tensors })
  })

/**
 * Writes a random vision projector to `path`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const generateProjector = (path: string, options: ProjectorOptions): Effect.Effect<GgufWriter.WriteResult, GgufError> =>
  Effect.flatMap(planProjector(options), (plan) => GgufWriter.write(path, plan))
