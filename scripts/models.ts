/**
 * The project's test and benchmark models: a small catalog of random-weight
 * GGUF files generated on demand under `<repo>/.cache/models/`.
 *
 * Usage:
 *   node scripts/models.ts            the test models: tiny-qwen2, tiny-qwen2-q4_0, tiny-llama, small-llama and the
 *                                     companions of tiny-qwen2 (draft, LoRA, projector) and the tiny reranker
 *   node scripts/models.ts --all      also bench-0.5b (~530 MB)
 *   node scripts/models.ts NAME...    the named models
 *
 * From code (tests, benches): `await ensureModel("tiny-qwen2")` returns the path.
 * File names carry a hash of the options, the template, the vocabulary size and
 * the generator version, so changing any of them makes a new file.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { mkdir } from "node:fs/promises"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as AdapterGenerator from "../src/gguf/AdapterGenerator.ts"
import * as ModelGenerator from "../src/gguf/ModelGenerator.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const models = join(root, "vendor", "llama.cpp", "models")
const qwen25Template = join(models, "templates", "Qwen-Qwen2.5-7B-Instruct.jinja")

interface CatalogEntry {
  readonly description: string
  readonly architecture: ModelGenerator.Architecture
  readonly vocab: string
  readonly shape: ModelGenerator.PresetName
  readonly weightType: ModelGenerator.WeightType
  readonly templateFile?: string
  readonly tieEmbeddings?: boolean
  readonly addedTokens?: ReadonlyArray<ModelGenerator.AddedToken>
  readonly rank?: { readonly labels: ReadonlyArray<string>; readonly template?: string }
  readonly seed: number
}

// Files that go with a catalog model: a LoRA adapter or a vision projector for it.
interface CompanionEntry {
  readonly description: string
  readonly kind: "lora" | "projector"
  readonly base: BaseName
  readonly seed: number
}

// The prompt llama.cpp's converter gives Qwen3-Reranker (tokenizer.chat_template.rerank).
const qwen3RerankTemplate = "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and " +
  "the Instruct provided. Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n<Instruct>: " +
  "Given a web search query, retrieve relevant passages that answer the query\n<Query>: {query}\n<Document>: " +
  "{document}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"

// Qwen2.5 filled Qwen2's [PAD151646..] slots with these; its chat template's <tool_call> tags are single tokens.
const qwen25AddedTokens: ReadonlyArray<ModelGenerator.AddedToken> = [
  ...["<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>",
    "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
    .map((text, i) => ({ id: 151646 + i, text, type: "control" as const })),
  ...["<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
    "<|file_sep|>"].map((text, i) => ({ id: 151657 + i, text, type: "user_defined" as const }))
]

/**
 * The models this project uses.
 *
 * @category constants
 * @since 0.1.0
 */
const modelEntries = {
  "tiny-qwen2": {
    description: "qwen2, tiny, q8_0, Qwen2.5 vocabulary and tool-capable chat template",
    architecture: "qwen2",
    vocab: "ggml-vocab-qwen2.gguf",
    shape: "tiny",
    weightType: "q8_0",
    templateFile: qwen25Template,
    addedTokens: qwen25AddedTokens,
    seed: 1
  },
  "tiny-llama": {
    description: "llama, tiny, f16, llama SPM vocabulary, untied output",
    architecture: "llama",
    vocab: "ggml-vocab-llama-spm.gguf",
    shape: "tiny",
    weightType: "f16",
    tieEmbeddings: false,
    seed: 2
  },
  "bench-0.5b": {
    description: "qwen2, Qwen2-0.5B shape, q8_0, Qwen2.5 vocabulary and chat template",
    architecture: "qwen2",
    vocab: "ggml-vocab-qwen2.gguf",
    shape: "bench-0.5b",
    weightType: "q8_0",
    templateFile: qwen25Template,
    addedTokens: qwen25AddedTokens,
    seed: 3
  },
  "tiny-qwen2-q4_0": {
    description: "tiny-qwen2 with q4_0 weights: on x86 the CPU backend repacks them into an extra buffer type",
    architecture: "qwen2",
    vocab: "ggml-vocab-qwen2.gguf",
    shape: "tiny",
    weightType: "q4_0",
    templateFile: qwen25Template,
    addedTokens: qwen25AddedTokens,
    seed: 1
  },
  "small-llama": {
    description: "llama, small (29M parameters), q8_0, llama SPM vocabulary: for tests where work must take a while",
    architecture: "llama",
    vocab: "ggml-vocab-llama-spm.gguf",
    shape: "small",
    weightType: "q8_0",
    seed: 4
  },
  "tiny-qwen2-draft": {
    description: "tiny-qwen2's shape and vocabulary with other random weights: a draft model for speculative decoding",
    architecture: "qwen2",
    vocab: "ggml-vocab-qwen2.gguf",
    shape: "tiny",
    weightType: "q8_0",
    templateFile: qwen25Template,
    addedTokens: qwen25AddedTokens,
    seed: 6
  },
  "tiny-qwen3-reranker": {
    description: "qwen3, tiny, q8_0, Qwen2 vocabulary, rank pooling with a yes/no classifier head (Qwen3-Reranker layout)",
    architecture: "qwen3",
    vocab: "ggml-vocab-qwen2.gguf",
    shape: "tiny",
    weightType: "q8_0",
    rank: { labels: ["yes", "no"], template: qwen3RerankTemplate },
    seed: 5
  }
} as const satisfies Record<string, CatalogEntry>

type BaseName = keyof typeof modelEntries

const companions = {
  "tiny-qwen2-lora": {
    description: "a random rank-8 LoRA adapter (attention q, v, output and the FFN of every block) for tiny-qwen2",
    kind: "lora",
    base: "tiny-qwen2",
    seed: 7
  },
  "tiny-qwen2-mmproj": {
    description: "a random vision projector (CLIP ViT + LLaVA MLP, 32x32 images, 16 image tokens) for tiny-qwen2",
    kind: "projector",
    base: "tiny-qwen2",
    seed: 8
  }
} as const satisfies Record<string, CompanionEntry>

/**
 * The models this project uses, and the files that go with them (LoRA adapters, vision projectors).
 *
 * @category constants
 * @since 0.1.0
 */
export const catalog = { ...modelEntries, ...companions }

/**
 * A catalog name.
 *
 * @category models
 * @since 0.1.0
 */
export type ModelName = keyof typeof catalog

const isModelName = (name: string): name is ModelName => Object.hasOwn(catalog, name)

const isCompanion = (name: ModelName): name is keyof typeof companions => Object.hasOwn(companions, name)

const resolveCompanion = (name: keyof typeof companions) => {
  const entry: CompanionEntry = companions[name]
  const base = modelEntries[entry.base]
  const shape = ModelGenerator.presets[base.shape]
  const generate = (path: string) =>
    entry.kind === "lora"
      ? AdapterGenerator.generateLora(path, { architecture: base.architecture, ...shape, seed: entry.seed })
      : AdapterGenerator.generateProjector(path, { textEmbeddingLength: shape.embeddingLength, seed: entry.seed })
  // Bump companionVersion when AdapterGenerator writes other bytes for the same options.
  const key = JSON.stringify({
    version: ModelGenerator.GENERATOR_VERSION,
    companionVersion: 1,
    ...entry,
    base: basename(resolveModel(entry.base).path)
  })
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 12)
  return { generate, path: join(root, ".cache", "models", `${name}-${hash}.gguf`) }
}

const resolveEntry = (name: ModelName) => {
  if (isCompanion(name)) return resolveCompanion(name)
  const { options, path } = resolveModel(name)
  return { generate: (to: string) => ModelGenerator.generate(to, options), path }
}

const resolveModel = (name: BaseName) => {
  const entry: CatalogEntry = modelEntries[name]
  const vocab = join(models, entry.vocab)
  const chatTemplate = entry.templateFile === undefined ? undefined : readFileSync(entry.templateFile, "utf8")
  const options: ModelGenerator.Options = {
    architecture: entry.architecture,
    vocab,
    shape: entry.shape,
    weightType: entry.weightType,
    seed: entry.seed,
    name: `effect-llama-${name}`,
    ...(chatTemplate === undefined ? {} : { chatTemplate }),
    ...(entry.tieEmbeddings === undefined ? {} : { tieEmbeddings: entry.tieEmbeddings }),
    ...(entry.addedTokens === undefined ? {} : { addedTokens: entry.addedTokens }),
    ...(entry.rank === undefined ? {} : { rank: entry.rank })
  }
  const key = JSON.stringify({
    version: ModelGenerator.GENERATOR_VERSION,
    ...entry,
    templateFile: undefined,
    shape: ModelGenerator.presets[entry.shape],
    template: chatTemplate ?? null,
    vocabBytes: statSync(vocab).size
  })
  const hash = createHash("sha256").update(key).digest("hex").slice(0, 12)
  return { options, path: join(root, ".cache", "models", `${name}-${hash}.gguf`) }
}

/**
 * Where a catalog model lives (whether or not it has been generated yet).
 *
 * @category getters
 * @since 0.1.0
 */
export const modelPath = (name: ModelName): string => resolveEntry(name).path

/**
 * The path of a catalog model, generating it first when the file is missing.
 * Safe to call from parallel processes: each writes a temporary file and renames it.
 *
 * @category constructors
 * @since 0.1.0
 */
export const ensureModel = async (name: string): Promise<string> => {
  if (!isModelName(name)) throw new Error(`unknown model '${name}' (known: ${Object.keys(catalog).join(", ")})`)
  const { generate, path } = resolveEntry(name)
  if (existsSync(path)) return path
  await mkdir(dirname(path), { recursive: true })
  await Effect.runPromise(generate(path))
  return path
}

const main = async (args: ReadonlyArray<string>) => {
  const names = args.includes("--all")
    ? Object.keys(catalog)
    : args.length > 0
    ? [...args]
    : ["tiny-qwen2", "tiny-qwen2-q4_0", "tiny-llama", "small-llama", "tiny-qwen2-draft", "tiny-qwen3-reranker",
      "tiny-qwen2-lora", "tiny-qwen2-mmproj"]
  for (const name of names) {
    const cached = isModelName(name) && existsSync(modelPath(name))
    const started = performance.now()
    const path = await ensureModel(name)
    const seconds = ((performance.now() - started) / 1000).toFixed(2)
    const mb = (statSync(path).size / 1e6).toFixed(1)
    console.log(`${name}  ${path}  ${mb} MB  ${cached ? "cached" : `generated in ${seconds} s`}`)
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
