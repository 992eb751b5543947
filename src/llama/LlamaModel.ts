/**
 * `LlamaModel`: one GGUF model loaded into llama.cpp for the life of a Scope. Metadata, tokenizer and chat
 * templates as Effects with typed `LlamaError`s; the weights are freed when the Scope closes.
 *
 * @since 0.1.0
 */
import { Config, Context, Effect, Layer, Scope } from "effect"
import { Native } from "../native/Native.ts"
import type {
  AppliedChat,
  ApplyChatOptions,
  ChatParser,
  GpuFit,
  GpuLayers,
  ModelInfo,
  NativeModel,
  ParsedChat
} from "../native/NativeBinding.ts"
import { fromUnknown } from "../native/NativeError.ts"
import { fromNative } from "./internal/errors.ts"
import { exceedsDepth, MAX_JSON_DEPTH } from "./internal/jsonDepth.ts"
import { GrammarError, LlamaError } from "./LlamaError.ts"
import * as LlamaResources from "./LlamaResources.ts"

// ============================================================================
// Service Interface
// ============================================================================

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  /** What llama.cpp reports about the model: architecture, sizes, vocabulary, special tokens, templates. */
  readonly info: ModelInfo
  /**
   * Text to token ids. Defaults: `addSpecial: true` (BOS/EOS where the model adds them) and `parseSpecial: false`
   * (control-token text such as `<|im_end|>` stays text; pass true to tokenize template markup). With the
   * defaults of both, `detokenize(tokenize(text))` gives `text` back.
   */
  readonly tokenize: (
    text: string,
    options?: { readonly addSpecial?: boolean; readonly parseSpecial?: boolean }
  ) => Effect.Effect<Int32Array, LlamaError>
  /**
   * Token ids to text. Defaults: `removeSpecial: true` (drops the BOS/EOS that tokenizing added) and
   * `unparseSpecial: false` (control tokens render as nothing; pass true to see them).
   */
  readonly detokenize: (
    tokens: Int32Array | ReadonlyArray<number>,
    options?: { readonly removeSpecial?: boolean; readonly unparseSpecial?: boolean }
  ) => Effect.Effect<string, LlamaError>
  /** Renders OpenAI-style messages and tools with the model's chat template (llama.cpp common/chat). */
  readonly applyChat: (options: ApplyChatOptions) => Effect.Effect<AppliedChat, LlamaError>
  /** A GBNF grammar for a JSON Schema (llama.cpp common's json-schema-to-grammar). */
  readonly jsonSchemaToGrammar: (schema: object) => Effect.Effect<string, LlamaError>
  /** Parses generated text (complete or partial) into content, reasoning and tool calls. */
  readonly parseChat: (text: string, isPartial: boolean, parser: ChatParser) => Effect.Effect<ParsedChat, LlamaError>
  /**
   * `loaded` while usable; `disposing` once its Scope began freeing it; `disposed` after (a service kept past its
   * Scope, or a handle freed out from under it, reports `disposed`).
   */
  readonly state: Effect.Effect<LlamaResources.State>
  /**
   * Touches the weights once (a tiny decode in a throwaway context, as llama.cpp's common_init does), so the first
   * request of any context on this model does not pay for their page faults. See also the context's `warmup`.
   */
  readonly warmup: Effect.Effect<void, LlamaError>
  /**
   * Loads a GGUF LoRA adapter made for this model; it is unloaded when the Scope closes (contexts and requests
   * that still use it keep it until they are done). Apply it per context (`LlamaContext` `lora`) or per request.
   */
  readonly loadLora: (path: string) => Effect.Effect<LoraAdapter, LlamaError, Scope.Scope>
  /** @internal The native handle, for LlamaContext. */
  readonly native: NativeModel
}

/**
 * A LoRA adapter loaded for a model.
 *
 * @category models
 * @since 0.2.0
 */
export interface LoraAdapter {
  readonly id: number
  readonly path: string
  /** `adapter.lora.alpha`: llama.cpp scales the update by alpha / rank. */
  readonly alpha: number
}

// ============================================================================
// Service Identifier
// ============================================================================

/**
 * A loaded model.
 *
 * @category services
 * @since 0.1.0
 */
export class LlamaModel extends Context.Service<LlamaModel, Service>()("effect-llama/LlamaModel") {}

// ============================================================================
// Options
// ============================================================================

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** Path of a GGUF file. */
  readonly path: string
  /**
   * Layers to offload to the GPU (GPU builds): `"auto"` (default) as many as fit the free device memory with the
   * context described by `gpuFit`, `"max"` (or -1) all of them, or a count. `info.gpuLayers` and
   * `info.deviceMemory` say what was offloaded.
   */
  readonly gpuLayers?: GpuLayers
  /** The context `gpuLayers: "auto"` fits the model for (size, sequences, batch) and the memory to leave free. */
  readonly gpuFit?: GpuFit
  readonly useMmap?: boolean
  readonly useMlock?: boolean
  /** Tokenizer and templates only; such a model cannot make a context. */
  readonly vocabOnly?: boolean
  /** Validate tensor data while loading (slower). */
  readonly checkTensors?: boolean
  /**
   * Let the CPU backend move weights into its extra buffer types (AMX tiles, repacked blocks); default true.
   * `false`, or `EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0` in the environment for every model, loads plain CPU buffers: the
   * escape hatch should those kernels misbehave on a CPU. `info.buffers` shows where the weights went.
   */
  readonly extraBufferTypes?: boolean
  /** Called with load progress in [0, 1]. */
  readonly onProgress?: (progress: number) => void
  /** A vision projector (mmproj GGUF) for the model: prompts may then hold images (libmtmd). */
  readonly projector?: string
}

// ============================================================================
// Constructor
// ============================================================================

const call = <A>(method: string, f: () => Promise<A>): Effect.Effect<A, LlamaError> =>
  Effect.tryPromise({ try: f, catch: fromUnknown }).pipe(Effect.catch(fromNative("LlamaModel", method)))

const callSync = <A>(method: string, f: () => A): Effect.Effect<A, LlamaError> =>
  Effect.try({ try: f, catch: fromUnknown }).pipe(Effect.catch(fromNative("LlamaModel", method)))

// Interrupting a render cancels it and waits until the native work has stopped (within about a thousand template
// steps), so a timeout frees the worker thread and a Scope closes at once.
const applyChat = (model: NativeModel, options: ApplyChatOptions): Effect.Effect<AppliedChat, LlamaError> =>
  Effect.callback<AppliedChat, LlamaError>((resume) => {
    let pending: ReturnType<NativeModel["applyChat"]>
    try {
      pending = model.applyChat(options)
    } catch (cause) {
      resume(fromNative("LlamaModel", "applyChat")(fromUnknown(cause)))
      return
    }
    pending.then(
      (applied) => resume(Effect.succeed(applied)),
      (cause) => resume(fromNative("LlamaModel", "applyChat")(fromUnknown(cause)))
    )
    return Effect.promise(async () => {
      pending.cancel?.()
      await pending.catch(() => undefined)
    })
  })

const grammarError = (message: string) =>
  new LlamaError({ module: "LlamaModel", method: "jsonSchemaToGrammar", reason: new GrammarError({ message }) })

// A schema too deep (or cyclic) for JSON.stringify and the native converter is a GrammarError, checked first.
const schemaText = (schema: object): Effect.Effect<string, LlamaError> =>
  exceedsDepth(schema)
    ? Effect.fail(grammarError(`the schema is nested more than ${MAX_JSON_DEPTH} levels deep (or is cyclic)`))
    : Effect.try({
      try: () => JSON.stringify(schema),
      catch: (cause) => grammarError(`the schema is not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
    })

// Interrupting the load aborts it (llama.cpp stops at its next progress callback) and frees what was loaded.
const load = (native: Native["Service"], options: Options): Effect.Effect<NativeModel, LlamaError> =>
  Effect.flatMap(
    callSync("load", () =>
      new native.Model(options.path, {
        ...(options.gpuLayers === undefined ? {} : { gpuLayers: options.gpuLayers }),
        ...(options.gpuFit === undefined ? {} : { gpuFit: options.gpuFit }),
        ...(options.useMmap === undefined ? {} : { useMmap: options.useMmap }),
        ...(options.useMlock === undefined ? {} : { useMlock: options.useMlock }),
        ...(options.vocabOnly === undefined ? {} : { vocabOnly: options.vocabOnly }),
        ...(options.checkTensors === undefined ? {} : { checkTensors: options.checkTensors }),
        ...(options.extraBufferTypes === undefined ? {} : { extraBufferTypes: options.extraBufferTypes }),
        ...(options.projector === undefined ? {} : { projector: options.projector })
      })
    ),
    (model) =>
      Effect.callback<NativeModel, LlamaError>((resume) => {
        const loading = model.load(options.onProgress)
        loading.then(
          () => resume(Effect.succeed(model)),
          (cause) => resume(fromNative("LlamaModel", "load")(fromUnknown(cause)))
        )
        return Effect.promise(async () => {
          model.abortLoad()
          await loading.catch(() => undefined)
          await model.dispose()
        })
      })
  )

/**
 * Loads the model; it is disposed when the Scope closes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(options: Options): Effect.fn.Return<Service, LlamaError, Native | Scope.Scope> {
  const native = yield* Native
  let disposing = false
  const model = yield* Effect.uninterruptibleMask((restore) =>
    Effect.tap(restore(load(native, options)), (m) => {
      const info = m.info()
      const name = info.name !== "" ? info.name : options.path
      const tracked = LlamaResources.track({ kind: "model", name, path: options.path, disposed: () => m.disposed })
      return Effect.addFinalizer(() =>
        Effect.suspend(() => {
          disposing = true
          tracked.disposing()
          return Effect.promise(() => m.dispose())
        }).pipe(
          Effect.andThen(Effect.sync(() => tracked.disposed())),
          Effect.andThen(Effect.logDebug("LlamaModel disposed")),
          Effect.annotateLogs({ model: name })
        )
      )
    })
  )
  const info = model.info()
  const warmup = Effect.acquireUseRelease(
    callSync("warmup", () => new native.Context(model, {
      contextSize: 64,
      batchSize: 8,
      warmup: true,
      embeddings: info.hasEncoder && !info.hasDecoder // an encoder-only model runs in an embedding context
    })),
    (ctx) => call("warmup", () => ctx.init(() => {})),
    (ctx) => Effect.promise(() => ctx.dispose())
  )
  const loadLora = (path: string) =>
    Effect.acquireRelease(
      Effect.map(call("loadLora", () => model.loadLora(path)), (loaded): LoraAdapter => ({ ...loaded, path })),
      (adapter) => Effect.sync(() => model.unloadLora(adapter.id))
    )
  return LlamaModel.of({
    info,
    state: Effect.sync(() => (model.disposed ? "disposed" : disposing ? "disposing" : "loaded")),
    warmup: info.vocabOnly ? Effect.void : warmup,
    loadLora,
    tokenize: (text, o) => call("tokenize", () => model.tokenize(text, o?.addSpecial ?? true, o?.parseSpecial ?? false)),
    detokenize: (tokens, o) =>
      call("detokenize", () => model.detokenize(tokens, o?.removeSpecial ?? true, o?.unparseSpecial ?? false)),
    applyChat: (o) => applyChat(model, o),
    parseChat: (text, isPartial, parser) => callSync("parseChat", () => model.parseChat(text, isPartial, parser)),
    jsonSchemaToGrammar: (schema) =>
      Effect.flatMap(schemaText(schema), (text) => callSync("jsonSchemaToGrammar", () => native.jsonSchemaToGrammar(text))),
    native: model
  })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * A layer holding the model for its lifetime.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options): Layer.Layer<LlamaModel, LlamaError, Native> => Layer.effect(LlamaModel, make(options))

/**
 * `gpuLayers` as Config: `auto`, `max` or an integer.
 *
 * @category configuration
 * @since 0.2.0
 */
export const gpuLayersConfig = (name: string): Config.Config<GpuLayers> =>
  Config.Literals(["auto", "max"], name).pipe(Config.orElse(() => Config.Int(name)))

/**
 * Like `layer`, reading the path from Config (default: the `LLAMA_MODEL_PATH` environment variable) and the GPU
 * layers from `LLAMA_GPU_LAYERS` (`auto`, the default, `max` or a count).
 *
 * @category layers
 * @since 0.1.0
 */
export const layerConfig = (options?: {
  readonly path?: Config.Config<string>
  readonly gpuLayers?: Config.Config<GpuLayers>
}): Layer.Layer<LlamaModel, LlamaError | Config.ConfigError, Native> =>
  Layer.effect(
    LlamaModel,
    Effect.gen(function*() {
      const path = yield* (options?.path ?? Config.String("LLAMA_MODEL_PATH"))
      const gpuLayers = yield* (options?.gpuLayers ?? gpuLayersConfig("LLAMA_GPU_LAYERS").pipe(Config.withDefault("auto" as const)))
      return yield* make({ path, gpuLayers })
    })
  )
