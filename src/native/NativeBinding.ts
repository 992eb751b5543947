/**
 * The TypeScript mirror of the native addon's surface (`addon/*.cpp`). Every function and object the `.node`
 * exports is typed here, and only here; the rest of the library talks to the addon through the `Native` service.
 *
 * @since 0.1.0
 */

/**
 * What this build of the addon holds: the pinned llama.cpp, the backends and devices compiled in, CPU features.
 *
 * @category models
 * @since 0.1.0
 */
export interface SystemInfo {
  readonly llamaCpp: {
    /** Full commit id of the pinned llama.cpp (vendor/llama.cpp.pin.json). */
    readonly commit: string
    /** Release tag of the pinned llama.cpp. */
    readonly tag: string
    /** llama.cpp's own build info, read from git at build time. */
    readonly buildNumber: number
    readonly buildCommit: string
    readonly compiler: string
    readonly buildTarget: string
  }
  /** The GPU backend selected at build time (`EFFECT_LLAMA_GPU`). */
  readonly gpu: "cpu" | "cuda" | "metal" | "vulkan"
  /** The addon file that is loaded: a source build under `build/`, or a prebuilt package's. */
  readonly binary: string
  /**
   * How the CPU backend was built: `native` (`-march=native`: the build machine's CPU), `portable` (any CPU of the
   * architecture), or, for a prebuilt addon, the variant ggml picked for this CPU at load (`haswell`, `icelake`,
   * `zen4`, `sapphirerapids`, ...).
   */
  readonly cpuVariant: string
  /** Registered ggml backends, e.g. `["CPU"]` or `["CUDA", "CPU"]`. */
  readonly backends: ReadonlyArray<string>
  readonly devices: ReadonlyArray<DeviceInfo>
  /**
   * Problems with the compiled-in GPU backend, e.g. a CUDA or Vulkan build that found no device of its kind (models
   * then run on the CPU). Empty when there are none, and always on a CPU build.
   */
  readonly warnings: ReadonlyArray<string>
  /** CPU features the CPU backend was compiled with, e.g. `{ AVX2: "1", FMA: "1" }`. */
  readonly cpuFeatures: Readonly<Record<string, string>>
  readonly cpuBackend: CpuBackendInfo
  /**
   * The process-wide compute budget that contexts share: each decode takes its thread count from it and waits its
   * turn when it is spent, so busy contexts take turns instead of overloading the cores.
   */
  readonly computeBudget: ComputeBudgetInfo
  /** The thread count llama.cpp's common library picks for math (physical cores, roughly). */
  readonly defaultThreads: number
  readonly hardwareThreads: number
  readonly supportsGpuOffload: boolean
  readonly supportsMmap: boolean
  readonly supportsMlock: boolean
  readonly maxDevices: number
  /** llama.cpp's one-line system summary (`llama_print_system_info`). */
  readonly summary: string
}

/**
 * What the CPU backend adds beyond plain kernels.
 *
 * @category models
 * @since 0.2.0
 */
export interface CpuBackendInfo {
  /** ggml's AMX kernels are compiled in (an `-march=native` build on a CPU with AMX-INT8). */
  readonly amx: boolean
  /**
   * The CPU device's extra buffer types, e.g. `["AMX", "CPU_REPACK"]`: weights of the types they support are moved
   * there at load (AMX tiles, repacked blocks) for faster matrix multiplication.
   */
  readonly extraBufferTypes: ReadonlyArray<string>
  /** False when `EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0` turned them off for every model in the process. */
  readonly extraBufferTypesEnabled: boolean
}

/**
 * The compute budget and what it has seen since the process started.
 *
 * @category models
 * @since 0.2.0
 */
export interface ComputeBudgetInfo {
  /** Threads decodes may use at once: `EFFECT_LLAMA_COMPUTE_THREADS`, else the physical cores; 0 means no limit. */
  readonly threads: number
  readonly inUse: number
  /** The most threads ever in use at once. */
  readonly peak: number
  /** Decodes run, and how many of them waited for their turn. */
  readonly turns: number
  readonly waits: number
}

/**
 * One compute device as ggml reports it.
 *
 * @category models
 * @since 0.1.0
 */
export interface DeviceInfo {
  readonly name: string
  readonly description: string
  readonly type: "cpu" | "gpu" | "igpu" | "accel"
  readonly backend: string
  readonly memoryFree: number
  readonly memoryTotal: number
}

/**
 * Options of `new Model(path, options)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ModelOptions {
  /**
   * Layers to offload to the GPU: `"auto"` (default) as many as fit the free device memory with the context in
   * `gpuFit` (llama.cpp common's fit), `"max"` (or -1) all, or a number. A CPU build, or a GPU build without a
   * device, runs every layer on the CPU.
   */
  readonly gpuLayers?: GpuLayers
  /** What `gpuLayers: "auto"` fits the model for. */
  readonly gpuFit?: GpuFit
  readonly useMmap?: boolean
  readonly useMlock?: boolean
  /** Load the tokenizer only: tokenize, detokenize and chat templates work, generation does not. */
  readonly vocabOnly?: boolean
  /** Validate tensor data while loading (slower). */
  readonly checkTensors?: boolean
  /**
   * Use the CPU backend's extra buffer types (AMX, weight repacking; see `SystemInfo.cpuBackend`). Default true;
   * `EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0` forces false for every model.
   */
  readonly extraBufferTypes?: boolean
  /** A multimodal projector (mmproj GGUF) loaded with the model, so it reads images (libmtmd). */
  readonly projector?: string
}

/**
 * How many layers to offload: `"auto"`, `"max"` or a count (-1 also means all).
 *
 * @category models
 * @since 0.2.0
 */
export type GpuLayers = "auto" | "max" | number

/**
 * The context that `gpuLayers: "auto"` fits a model for, next to its weights: the KV cache and compute buffers of
 * a context of this shape must fit the free device memory too, less a margin.
 *
 * @category models
 * @since 0.2.0
 */
export interface GpuFit {
  /** Context size the model will be used with. Default 4096 (the Context default, for models trained longer). */
  readonly contextSize?: number
  readonly sequences?: number
  readonly batchSize?: number
  readonly ubatchSize?: number
  /** Device memory to leave free, in bytes. Default: llama.cpp's, 1 GiB per device. */
  readonly marginBytes?: number
}

/**
 * What `gpuLayers: "auto"` decided.
 *
 * @category models
 * @since 0.2.0
 */
export interface GpuFitInfo {
  /**
   * `fits`: every layer fits; `reduced`: fewer layers fit; `failed`: none fit (loaded on the CPU); `error`: the
   * fit could not measure the model (loaded on the CPU; see the log).
   */
  readonly status: "fits" | "reduced" | "failed" | "error"
  /** The layer count it chose; -1 means all. */
  readonly layers: number
  readonly contextSize: number
  readonly marginBytes: number
}

/**
 * A model's weights on one GPU device.
 *
 * @category models
 * @since 0.2.0
 */
export interface DeviceMemory {
  /** ggml's device name: `Vulkan0`, `CUDA0`, `MTL0`, ... */
  readonly device: string
  readonly description: string
  /** Bytes of this model's weights on the device. */
  readonly modelBytes: number
  /** The device's free and total memory when `info()` was read. */
  readonly memoryFree: number
  readonly memoryTotal: number
}

/**
 * One buffer of model weights.
 *
 * @category models
 * @since 0.2.0
 */
export interface ModelBuffer {
  /** The buffer type: `CPU_Mapped` (the mmapped file), `CPU`, `CPU_REPACK`, `AMX`, `CUDA0`, ... */
  readonly type: string
  readonly bytes: number
}

/**
 * What `model.info()` reports.
 *
 * @category models
 * @since 0.1.0
 */
export interface ModelInfo {
  readonly path: string
  readonly architecture: string
  readonly name: string
  readonly description: string
  readonly size: number
  readonly parameters: number
  readonly trainedContext: number
  readonly embeddingSize: number
  readonly layers: number
  readonly heads: number
  readonly headsKv: number
  readonly vocabSize: number
  readonly vocabType: "none" | "spm" | "bpe" | "wpm" | "ugm" | "rwkv" | "plamo2" | "unknown"
  readonly vocabOnly: boolean
  readonly hasEncoder: boolean
  readonly hasDecoder: boolean
  /** Outputs of a rank (classifier) head; 0 when the model has none. */
  readonly rankOutputs: number
  /** Whether a vision projector was loaded with the model (it reads images). */
  readonly vision: boolean
  readonly specialTokens: {
    readonly bos: number | null
    readonly eos: number | null
    readonly eot: number | null
    readonly sep: number | null
    readonly nl: number | null
    readonly pad: number | null
    readonly addBos: boolean
    readonly addEos: boolean
  }
  readonly chatTemplates: { readonly default?: string; readonly tool_use?: string }
  /** Layers offloaded to a GPU (0 on the CPU), out of `offloadableLayers` (the model's layers plus its output layer). */
  readonly gpuLayers: number
  readonly offloadableLayers: number
  readonly gpuLayersRequested: GpuLayers
  /** What `gpuLayers: "auto"` decided; null when it did not run (a count or "max" was asked, or no GPU is present). */
  readonly gpuFit: GpuFitInfo | null
  /** The GPU devices holding weights of this model. */
  readonly devices: ReadonlyArray<string>
  /** The weights on each GPU device, and that device's memory. */
  readonly deviceMemory: ReadonlyArray<DeviceMemory>
  /** Set when a GPU build found no device and the model runs on the CPU. */
  readonly gpuWarning?: string
  /** Whether the model was loaded with the CPU backend's extra buffer types. */
  readonly extraBufferTypes: boolean
  /** Where the weights went, by buffer type, as llama.cpp reported it while loading. */
  readonly buffers: ReadonlyArray<ModelBuffer>
  /** The text of every control token (`<|im_start|>`, `<|endoftext|>`, ...): what parse-special tokenizing matches. */
  readonly controlTokens: ReadonlyArray<string>
  /** GGUF metadata as strings, without the tokenizer arrays and the chat template. */
  readonly metadata: Readonly<Record<string, string>>
}

/**
 * Inputs of `model.applyChat`: messages and tools in the OpenAI JSON shapes, as JSON strings.
 *
 * @category models
 * @since 0.1.0
 */
export interface ApplyChatOptions {
  /** JSON array of OpenAI-style messages. */
  readonly messages: string
  /** JSON array of OpenAI-style tools (`{ type: "function", function: { name, description, parameters } }`). */
  readonly tools?: string
  readonly toolChoice?: "auto" | "none" | "required"
  readonly parallelToolCalls?: boolean
  /**
   * With `toolChoice: "required"`: make the grammar start with a call (common/chat lets free text come first,
   * which a weak model may never leave). `toolCallForced` in the result says whether it could.
   */
  readonly forceToolCall?: boolean
  /** JSON Schema (as a JSON string) the answer must follow. */
  readonly jsonSchema?: string
  readonly grammar?: string
  readonly addGenerationPrompt?: boolean
  readonly enableThinking?: boolean
  /** A Jinja chat template used instead of the model's own. */
  readonly templateOverride?: string
  readonly reasoningFormat?: "none" | "auto" | "deepseek" | "deepseek-legacy"
  /**
   * Deadline of the template work in milliseconds (default 30,000, at most 600,000). Rendering is also bounded in
   * stack, steps, output size and nesting (docs/hardening.md); past a bound it fails with `TEMPLATE_ERROR`.
   */
  readonly timeoutMs?: number
}

/**
 * A Promise for native work that can be stopped: `cancel()` makes it reject with `ABORTED` soon after.
 *
 * @category models
 * @since 0.2.0
 */
export type CancellablePromise<A> = Promise<A> & {
  /** Present on the real addon; a fake may leave it out. */
  readonly cancel?: () => void
}

/**
 * How to parse what the model generates for a templated chat; opaque, pass it back to `parseChat`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ChatParser {
  readonly format: number
  readonly formatName: string
  readonly generationPrompt: string
  readonly parser: string
  readonly reasoningFormat: string
  readonly parseToolCalls?: boolean
  /** The format's markup strings: text without any of them parses as plain content. */
  readonly markers?: ReadonlyArray<string>
}

/**
 * A grammar trigger: the grammar applies from the first match on (lazy grammars).
 *
 * @category models
 * @since 0.1.0
 */
export interface GrammarTrigger {
  readonly type: "token" | "word" | "pattern" | "pattern_full"
  readonly value: string
}

/**
 * What `model.applyChat` returns: the prompt and the constraints to generate it with.
 *
 * @category models
 * @since 0.1.0
 */
export interface AppliedChat {
  readonly prompt: string
  /**
   * The template's tool-call family (`hermes`, `llama-3.x`, `gpt-oss`, ...; see docs/tool-call-formats.md), whether
   * it can call the given tools at all (false: the tools were not rendered and no call can be parsed), and whether
   * one turn may hold several calls (when not, `parallelToolCalls` is ignored and the grammar allows one).
   */
  readonly toolCalls: { readonly family: string; readonly supported: boolean; readonly parallel: boolean }
  readonly grammar: string
  readonly grammarLazy: boolean
  readonly toolCallForced: boolean
  readonly grammarType: "none" | "tool_calls" | "output_format"
  readonly grammarTriggers: ReadonlyArray<GrammarTrigger>
  readonly preservedTokens: ReadonlyArray<string>
  readonly additionalStops: ReadonlyArray<string>
  readonly generationPrompt: string
  readonly supportsThinking: boolean
  readonly thinkingStartTag: string
  readonly parser: ChatParser
}

/**
 * A message parsed out of generated text.
 *
 * @category models
 * @since 0.1.0
 */
export interface ParsedChat {
  readonly content: string
  readonly reasoningContent: string
  readonly toolCalls: ReadonlyArray<{ readonly id: string; readonly name: string; readonly arguments: string }>
}

/**
 * Sampling options; each is validated before any work starts (`INVALID_SAMPLING`).
 *
 * @category models
 * @since 0.1.0
 */
export interface SamplingOptions {
  /** 0 samples greedily. */
  readonly temperature?: number
  readonly topK?: number
  readonly topP?: number
  readonly minP?: number
  readonly typicalP?: number
  readonly topNSigma?: number
  readonly repeatPenalty?: number
  readonly frequencyPenalty?: number
  readonly presencePenalty?: number
  /** How many recent tokens the penalties look at; -1 means the whole context. */
  readonly penaltyLastN?: number
  readonly dryMultiplier?: number
  readonly dryBase?: number
  readonly dryAllowedLength?: number
  readonly dryPenaltyLastN?: number
  readonly drySequenceBreakers?: ReadonlyArray<string>
  readonly xtcProbability?: number
  readonly xtcThreshold?: number
  readonly mirostat?: 0 | 1 | 2
  readonly mirostatTau?: number
  readonly mirostatEta?: number
  readonly minKeep?: number
  readonly seed?: number
  readonly logitBias?: ReadonlyArray<{ readonly token: number; readonly bias: number }>
  /** GBNF grammar. */
  readonly grammar?: string
  readonly grammarType?: "user" | "output_format" | "tool_calls"
  readonly grammarLazy?: boolean
  readonly grammarTriggers?: ReadonlyArray<GrammarTrigger>
  readonly preservedTokens?: ReadonlyArray<string>
  readonly generationPrompt?: string
}

/**
 * One generation request on a context sequence. Give `text` or `tokens`.
 *
 * @category models
 * @since 0.1.0
 */
export interface GenerateRequest {
  readonly sequence: number
  readonly text?: string
  readonly tokens?: Int32Array | ReadonlyArray<number>
  readonly addSpecial?: boolean
  readonly parseSpecial?: boolean
  readonly sampling?: SamplingOptions
  /** -1 (default): until end of generation or the sequence's context is full. */
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly ignoreEog?: boolean
  /**
   * Backpressure: with a window, generation pauses once this many token events wait for `context.ack`.
   * 0 (default): no window, events flow as fast as they are made.
   */
  readonly window?: number
  /** The LoRA adapters this request decodes with, instead of the context's (an empty array: none). */
  readonly lora?: ReadonlyArray<LoraScale>
  /** Draft ahead when the context has a drafter. Default true. */
  readonly speculative?: boolean
  /**
   * Text and image parts, instead of `text` or `tokens` (a model with a projector). Text parts are tokenized with
   * control tokens parsed unless `parseSpecial: false`; each image becomes its image tokens.
   */
  readonly parts?: ReadonlyArray<PromptPart>
}

/**
 * A part of a multimodal prompt.
 *
 * @category models
 * @since 0.2.0
 */
export type PromptPart =
  | { readonly text: string; readonly parseSpecial?: boolean }
  | { readonly image: Uint8Array }

/**
 * A loaded LoRA adapter and the scale to apply it with (0 leaves the model as it is).
 *
 * @category models
 * @since 0.2.0
 */
export interface LoraScale {
  /** The id `model.loadLora` returned. */
  readonly adapter: number
  /** Default 1. */
  readonly scale?: number
}

/**
 * What `model.loadLora` returns.
 *
 * @category models
 * @since 0.2.0
 */
export interface LoadedLora {
  readonly id: number
  /** `adapter.lora.alpha`: llama.cpp scales the update by alpha / rank. */
  readonly alpha: number
}

/**
 * A drafter for speculative decoding: a draft model of the same vocabulary, or prompt lookup (n-grams of the
 * sequence itself). Kept tokens are the target's own picks, so the output equals decoding without a draft.
 *
 * @category models
 * @since 0.2.0
 */
export type SpeculativeOptions =
  | { readonly type: "draft"; readonly model: NativeModel; readonly draftTokens?: number }
  | { readonly type: "ngram"; readonly draftTokens?: number; readonly ngramMin?: number; readonly ngramMax?: number }

/**
 * A rank request: each document scored against its query on a rank-pooling model.
 *
 * @category models
 * @since 0.2.0
 */
export interface RankRequest {
  /** The query of each document: `queries[i]` scores `documents[i]`. */
  readonly queries: ReadonlyArray<string>
  readonly documents: ReadonlyArray<string>
}

/**
 * An embedding request.
 *
 * @category models
 * @since 0.1.0
 */
export interface EmbedRequest {
  readonly texts: ReadonlyArray<string>
  readonly normalize?: boolean
  readonly addSpecial?: boolean
  /** Parse control-token text (`<|endoftext|>`) in the texts into control tokens. Default false: text is text. */
  readonly parseSpecial?: boolean
}

/**
 * One text of an embed job that could not be embedded; the job's other texts were.
 *
 * @category models
 * @since 0.2.0
 */
export interface EmbedFailure {
  readonly index: number
  readonly code: string
  readonly message: string
}

/**
 * Options of `new Context(model, options)`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ContextOptions {
  readonly contextSize?: number
  /** Tokens one decode step holds (default 512); at least `sequences`, since a step takes a token of each. */
  readonly batchSize?: number
  readonly ubatchSize?: number
  /** Parallel sequences (slots); each gets contextSize / sequences unless kvUnified. */
  readonly sequences?: number
  /**
   * Compute threads for generation, in a thread pool of this context's own (default: the physical cores). An idle
   * context's threads sleep; two contexts busy at once each use their full count, so split the cores between them.
   */
  readonly threads?: number
  /** Compute threads for prompt batches. Default: `threads`. */
  readonly threadsBatch?: number
  readonly flashAttention?: "auto" | "on" | "off"
  readonly embeddings?: boolean
  readonly pooling?: "default" | "none" | "mean" | "cls" | "last" | "rank"
  readonly kvCacheType?: "f32" | "f16" | "bf16" | "q8_0" | "q4_0" | "q4_1" | "iq4_nl" | "q5_0" | "q5_1"
  readonly kvUnified?: boolean
  /** One tiny decode before `init` resolves (as llama.cpp's common_init), so the first request pays no warmup. */
  readonly warmup?: boolean
  /** LoRA adapters every request uses unless it names its own. */
  readonly lora?: ReadonlyArray<LoraScale>
  readonly speculative?: SpeculativeOptions
}

/**
 * What `context.info()` reports.
 *
 * @category models
 * @since 0.1.0
 */
export interface ContextInfo {
  readonly contextSize: number
  readonly sequenceContextSize: number
  readonly batchSize: number
  readonly ubatchSize: number
  readonly sequences: number
  readonly threads: number
  readonly threadsBatch: number
  readonly embeddings: boolean
  readonly kvUnified: boolean
  readonly kvCacheType: string
  readonly pooling: "none" | "mean" | "cls" | "last" | "rank"
  /** The warmup decode that ran before init resolved, or null without one. */
  readonly warmup: { readonly tokens: number; readonly ms: number } | null
  readonly speculative: "none" | "draft" | "ngram"
}

/**
 * A sequence's saved KV state, from `context.saveState`.
 *
 * @category models
 * @since 0.2.0
 */
export interface SavedState {
  readonly size: number
  /** The state's bytes, when no path was given. */
  readonly data?: Uint8Array
}

/**
 * What `context.loadState` restored: the sequence's tokens and the metadata saved with them.
 *
 * @category models
 * @since 0.2.0
 */
export interface LoadedState {
  readonly tokens: Int32Array
  readonly metadata: string
}

/**
 * Why a generation finished.
 *
 * @category models
 * @since 0.1.0
 */
export type FinishReason = "eog" | "stop" | "length" | "abort" | "done"

/**
 * Events a context delivers, in batches, for its jobs.
 *
 * @category models
 * @since 0.1.0
 */
export type JobEvent =
  | { readonly job: number; readonly type: "token"; readonly token: number; readonly text: string }
  | {
    readonly job: number
    readonly type: "done"
    readonly reason: FinishReason
    /** Text held back until the end (a partial stop string or UTF-8 sequence that never completed). */
    readonly text: string
    readonly stop?: string
    readonly usage: {
      readonly promptTokens: number
      readonly cachedTokens: number
      readonly completionTokens: number
      /** Prompt tokens that came from images (included in promptTokens). */
      readonly imageTokens: number
    }
    readonly timings: { readonly prefillMs: number; readonly generateMs: number }
    /** With a drafter: tokens drafted, drafts the model kept, and their ratio. */
    readonly speculative?: { readonly drafted: number; readonly accepted: number; readonly acceptanceRate: number }
  }
  | { readonly job: number; readonly type: "error"; readonly code: string; readonly message: string }
  | {
    readonly job: number
    readonly type: "embeddings"
    /** One per text; null where the text failed (see `failures`). */
    readonly vectors: ReadonlyArray<Float32Array | null>
    readonly failures: ReadonlyArray<EmbedFailure>
  }

/**
 * A loaded (or loading) model. All methods but `abortLoad` and `info` run off the JS thread.
 *
 * @category models
 * @since 0.1.0
 */
export interface NativeModel {
  load(onProgress?: (progress: number) => void): Promise<void>
  abortLoad(): void
  info(): ModelInfo
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Promise<Int32Array>
  detokenize(tokens: Int32Array | ReadonlyArray<number>, removeSpecial: boolean, unparseSpecial: boolean): Promise<string>
  /** The render stops when the returned promise's `cancel()` is called (it then rejects with `ABORTED`). */
  applyChat(options: ApplyChatOptions): CancellablePromise<AppliedChat>
  parseChat(text: string, isPartial: boolean, parser: ChatParser): ParsedChat
  loadLora(path: string): Promise<LoadedLora>
  /** Forgets the adapter; contexts and requests that use it keep it until they are done. */
  unloadLora(id: number): boolean
  dispose(): Promise<void>
  readonly disposed: boolean
}

/**
 * A context: one llama_context and its scheduler thread.
 *
 * @category models
 * @since 0.1.0
 */
export interface NativeContext {
  init(onEvents: (events: ReadonlyArray<JobEvent>) => void): Promise<void>
  /** Queues a generation; returns its job id. Events for it arrive through `onEvents`. */
  generate(request: GenerateRequest): number
  embed(request: EmbedRequest): number
  /** Asks a job to stop within one decode step; false when the job is unknown or already finished. */
  abort(job: number): boolean
  /** Tells a job with a window that its consumer took `events` token events. */
  ack(job: number, events: number): void
  /** Scores documents against a query (a rank-pooling embeddings context); the result is an embeddings event. */
  rank(request: RankRequest): number
  /** Saves an idle sequence's tokens and KV cells, to `path` or as bytes. */
  saveState(options: { readonly sequence: number; readonly path?: string; readonly metadata?: string }): Promise<SavedState>
  /** Restores a saved state into an idle sequence (of a context on the same model and settings). */
  loadState(
    options: { readonly sequence: number; readonly path?: string; readonly data?: Uint8Array }
  ): Promise<LoadedState>
  /** The adapters of requests that start from now on and name none. */
  setLora(adapters: ReadonlyArray<LoraScale>): void
  info(): ContextInfo
  dispose(): Promise<void>
  readonly disposed: boolean
}

/**
 * The module object the addon exports.
 *
 * @category models
 * @since 0.1.0
 */
export interface NativeBinding {
  readonly systemInfo: () => SystemInfo
  /** Forwards llama.cpp logs at or above `minLevel` (1 debug, 2 info, 3 warn, 4 error); null silences them. */
  readonly setLogger: (callback: ((level: number, text: string) => void) | null, minLevel?: number) => void
  readonly jsonSchemaToGrammar: (schemaJson: string) => string
  readonly Model: new(path: string, options?: ModelOptions) => NativeModel
  readonly Context: new(model: NativeModel, options?: ContextOptions) => NativeContext
}
