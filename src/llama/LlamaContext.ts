/**
 * `LlamaContext`: a llama.cpp context over a `LlamaModel`, with its sequences (parallel slots) as a pool.
 * `generate` is a `Stream` of token events with real backpressure: the native job pauses while the consumer lags,
 * nothing is dropped, and interrupting the consumer (an early `take`, a timeout, a fiber interrupt) aborts the
 * native job and returns its sequence to the pool once it has stopped.
 *
 * @since 0.1.0
 */
import { Array as Arr, Context, Deferred, Effect, Exit, Layer, Metric, Queue, Result, Scope, Stream } from "effect"
import { JobRouter } from "../native/JobRouter.ts"
import { Native } from "../native/Native.ts"
import type {
  ContextInfo,
  ContextOptions,
  FinishReason,
  GrammarTrigger,
  JobEvent,
  LoraScale,
  NativeContext,
  PromptPart
} from "../native/NativeBinding.ts"
import { fromUnknown, NativeError } from "../native/NativeError.ts"
import { fromNative } from "./internal/errors.ts"
import * as SequencePool from "./internal/SequencePool.ts"
import { InvalidRequest, LlamaError } from "./LlamaError.ts"
import { LlamaModel, type LoraAdapter, type Service as ModelService } from "./LlamaModel.ts"
import * as LlamaResources from "./LlamaResources.ts"
import * as Sampling from "./Sampling.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * A grammar that constrains generation (GBNF), e.g. from `jsonSchemaToGrammar` or a chat template.
 *
 * @category models
 * @since 0.1.0
 */
export interface Grammar {
  readonly gbnf: string
  /** `tool_calls` and `output_format` grammars are advanced past `generationPrompt` first, as llama-server does. */
  readonly type?: "user" | "output_format" | "tool_calls"
  /** Apply only from the first trigger on. */
  readonly lazy?: boolean
  readonly triggers?: ReadonlyArray<GrammarTrigger>
  /** Tokens rendered as text and matched as single tokens (e.g. `<tool_call>`). */
  readonly preservedTokens?: ReadonlyArray<string>
  readonly generationPrompt?: string
}

/**
 * A prompt of text and image parts, for a model loaded with a projector. Text parts are tokenized with control
 * tokens parsed unless `parseSpecial: false`; each image (PNG, JPEG, ... bytes) becomes its image tokens.
 *
 * @category models
 * @since 0.2.0
 */
export interface MultimodalPrompt {
  readonly parts: ReadonlyArray<PromptPart>
}

/**
 * A LoRA adapter and the scale to apply it with (0 leaves the model as it is; default 1).
 *
 * @category models
 * @since 0.2.0
 */
export interface LoraUse {
  readonly adapter: LoraAdapter
  readonly scale?: number
}

/**
 * One generation.
 *
 * @category models
 * @since 0.1.0
 */
export interface GenerateRequest {
  /** Prompt text (special tokens parsed), token ids, or text and image parts. */
  readonly prompt: string | Int32Array | ReadonlyArray<number> | MultimodalPrompt
  /** Add BOS etc. when tokenizing a text prompt. Default true. */
  readonly addSpecial?: boolean
  readonly sampling?: Sampling.Sampling
  readonly grammar?: Grammar
  /** Default: until end of generation or until the sequence's share of the context is full. */
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly ignoreEog?: boolean
  /** The LoRA adapters of this request, instead of the context's (an empty array: none). */
  readonly lora?: ReadonlyArray<LoraUse>
  /** Draft ahead when the context has a drafter. Default true. */
  readonly speculative?: boolean
}

/**
 * What `generate` streams: a token with the text now safe to show, then one `done`.
 *
 * @category models
 * @since 0.1.0
 */
export type GenerationEvent =
  | { readonly type: "token"; readonly token: number; readonly text: string }
  | {
    readonly type: "done"
    readonly reason: FinishReason
    /** Text held back until the end (an unfinished stop string or UTF-8 sequence). */
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

/**
 * A whole generation, collected.
 *
 * @category models
 * @since 0.1.0
 */
export interface Generation {
  readonly text: string
  readonly tokens: ReadonlyArray<number>
  readonly done: Extract<GenerationEvent, { type: "done" }>
}

// ============================================================================
// Service Interface
// ============================================================================

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly info: ContextInfo
  /** Streams a generation on a free sequence (waiting for one if all are busy). */
  readonly generate: (request: GenerateRequest) => Stream.Stream<GenerationEvent, LlamaError>
  /** Runs `generate` to the end and collects it. */
  readonly generateText: (request: GenerateRequest) => Effect.Effect<Generation, LlamaError>
  /**
   * Embeds texts in one or a few batches (the context must be created with `embeddings: true`). Fails when any
   * text cannot be embedded (empty, longer than a batch), naming its index; see `embedEach` to keep the others.
   */
  readonly embed: (texts: ReadonlyArray<string>, options?: EmbedOptions) => Effect.Effect<ReadonlyArray<Float32Array>, LlamaError>
  /**
   * Like `embed`, with one result per text: a text that cannot be embedded fails alone. The effect itself fails
   * only when the job does (the context is disposed, a decode fails).
   */
  readonly embedEach: (
    texts: ReadonlyArray<string>,
    options?: EmbedOptions
  ) => Effect.Effect<ReadonlyArray<Result.Result<Float32Array, LlamaError>>, LlamaError>
  /** `loaded` while usable; `disposing` once its Scope began freeing it; `disposed` after. */
  readonly state: Effect.Effect<LlamaResources.State>
  /** Generations running on a sequence and waiting for one. */
  readonly sequences: Effect.Effect<{ readonly total: number; readonly busy: number; readonly waiting: number }>
  /**
   * Scores each document against its query, in input order (a context created with `embeddings: true` on a model
   * with a rank head). The pairs are packed several to a batch. See `Reranker` for sorted results.
   */
  readonly rank: (
    pairs: ReadonlyArray<{ readonly query: string; readonly document: string }>
  ) => Effect.Effect<ReadonlyArray<number>, LlamaError>
  /**
   * Saves the KV state of the idle sequence whose cache holds the longest prefix of `prefix` (a prompt, or a
   * prompt and its output): its tokens and KV cells, to `path` or as bytes. Fails when no sequence holds any of it.
   */
  readonly saveState: (options: SaveStateOptions) => Effect.Effect<Uint8Array | undefined, LlamaError>
  /**
   * Restores a saved state into a free sequence, so the next request that starts with its tokens reuses them
   * (`cachedTokens`). The state must come from the same model and KV cache settings: else `StateMismatch`; a
   * damaged one is `InvalidState`.
   */
  readonly restoreState: (source: { readonly path: string } | { readonly data: Uint8Array }) => Effect.Effect<RestoredState, LlamaError>
  /** The LoRA adapters that requests starting from now on use unless they name their own (empty: none). */
  readonly setLora: (adapters: ReadonlyArray<LoraUse>) => Effect.Effect<void, LlamaError>
}

/**
 * Options of `saveState`.
 *
 * @category models
 * @since 0.2.0
 */
export interface SaveStateOptions {
  /** Selects the sequence: the one whose cache holds the longest prefix of this. */
  readonly prefix: string | Int32Array | ReadonlyArray<number>
  /** Write the state here (atomically); without a path the state's bytes are returned. */
  readonly path?: string
  /** Text saved with the state and given back by `restoreState`. */
  readonly metadata?: string
}

/**
 * What `restoreState` restored.
 *
 * @category models
 * @since 0.2.0
 */
export interface RestoredState {
  readonly tokens: Int32Array
  readonly metadata: string
}

/**
 * Options of `embed` and `embedEach`.
 *
 * @category models
 * @since 0.2.0
 */
export interface EmbedOptions {
  /** L2-normalize the vectors. Default true. */
  readonly normalize?: boolean
  /** Parse control-token text in the texts into control tokens. Default false: text is text. */
  readonly parseSpecial?: boolean
}

// ============================================================================
// Service Identifier
// ============================================================================

/**
 * A context to generate or embed with.
 *
 * @category services
 * @since 0.1.0
 */
export class LlamaContext extends Context.Service<LlamaContext, Service>()("effect-llama/LlamaContext") {}

// ============================================================================
// Options
// ============================================================================

/**
 * Context options (see `ContextOptions`) plus how far a consumer may lag before generation pauses.
 *
 * @category models
 * @since 0.1.0
 */
export interface Options extends Omit<ContextOptions, "lora" | "speculative"> {
  /** Token events in flight per generation before it pauses (backpressure). Default 32. */
  readonly window?: number
  /** LoRA adapters every request uses unless it names its own. */
  readonly lora?: ReadonlyArray<LoraUse>
  /** A drafter for speculative decoding; the output stays what decoding without one gives. */
  readonly speculative?: Speculative
}

/**
 * Speculative decoding: a draft model of the same vocabulary (a small `LlamaModel`), or prompt lookup (drafts
 * copied from earlier n-grams of the sequence, good for output that repeats its input). `draftTokens` (default 8)
 * bounds a draft; the `done` event reports how many drafted tokens were kept.
 *
 * @category models
 * @since 0.2.0
 */
export type Speculative =
  | { readonly type: "draft"; readonly model: ModelService; readonly draftTokens?: number }
  | { readonly type: "ngram"; readonly draftTokens?: number; readonly ngramMin?: number; readonly ngramMax?: number }

// ============================================================================
// Metrics
// ============================================================================

/**
 * Context metrics: generations waiting for a free sequence (the queue depth), attribute `model`.
 *
 * @category metrics
 * @since 0.2.0
 */
export const metrics = {
  queueDepth: Metric.gauge("effect_llama_queue_depth", {
    description: "generations and embeddings waiting for a free sequence of a context"
  })
}

// ============================================================================
// Constructor
// ============================================================================

const failWith = (method: string) => (cause: unknown) => fromNative("LlamaContext", method)(fromUnknown(cause))

const callSync = <A>(method: string, f: () => A): Effect.Effect<A, LlamaError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f())
    } catch (cause) {
      return failWith(method)(cause)
    }
  })

const isMultimodal = (prompt: GenerateRequest["prompt"]): prompt is MultimodalPrompt =>
  typeof prompt === "object" && "parts" in prompt

// A sequence holding images is never reused for a prefix: its key matches nothing.
const promptKey = (prompt: GenerateRequest["prompt"]): string =>
  typeof prompt === "string" ? prompt : isMultimodal(prompt) ? "" : `\u0000tokens:${Array.from(prompt).join(",")}`

const loraScales = (uses: ReadonlyArray<LoraUse>): Array<LoraScale> =>
  uses.map((use) => ({ adapter: use.adapter.id, ...(use.scale === undefined ? {} : { scale: use.scale }) }))

const nativeOptions = (options: Options): ContextOptions => {
  const { lora, speculative, window: _, ...rest } = options
  return {
    ...rest,
    ...(lora === undefined ? {} : { lora: loraScales(lora) }),
    ...(speculative === undefined ? {} : {
      speculative: speculative.type === "draft"
        ? { type: "draft", model: speculative.model.native, ...(speculative.draftTokens === undefined ? {} : { draftTokens: speculative.draftTokens }) }
        : speculative
    })
  }
}

// What saveState wrote beside the KV cells: the pool's text of the sequence and the caller's metadata.
const parseMetadata = (text: string): { readonly held: string; readonly user: string } => {
  try {
    const parsed = JSON.parse(text) as { readonly held?: unknown; readonly user?: unknown }
    return { held: typeof parsed.held === "string" ? parsed.held : "", user: typeof parsed.user === "string" ? parsed.user : "" }
  } catch {
    return { held: "", user: text }
  }
}

const nativeError = (event: Extract<JobEvent, { type: "error" }>) => new NativeError({ code: event.code, message: event.message })

/**
 * Creates the context over the `LlamaModel` in scope; it is disposed when the Scope closes.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = Effect.fnUntraced(function*(
  options: Options = {}
): Effect.fn.Return<Service, LlamaError, LlamaModel | Native | Scope.Scope> {
  const native = yield* Native
  const model = yield* LlamaModel
  const router = new JobRouter()
  const modelInfo = model.native.info()
  const name = modelInfo.name !== "" ? modelInfo.name : modelInfo.path
  const queueDepth = Metric.withAttributes(metrics.queueDepth, { model: name })
  let pool: SequencePool.SequencePool | undefined
  let disposing = false
  const context: NativeContext = yield* Effect.acquireRelease(
    Effect.flatMap(callSync("make", () => new native.Context(model.native, nativeOptions(options))), (ctx) =>
      Effect.as(Effect.tryPromise({ try: () => ctx.init(router.dispatch), catch: (e) => e }).pipe(Effect.catch(failWith("make"))), ctx)).pipe(
        Effect.map((ctx) => ({
          ctx,
          tracked: LlamaResources.track({
            kind: "context",
            name,
            path: modelInfo.path,
            disposed: () => ctx.disposed,
            sequences: () => pool?.stats() ?? { total: 0, busy: 0, waiting: 0 }
          })
        }))
      ),
    ({ ctx, tracked }) =>
      Effect.suspend(() => {
        disposing = true
        tracked.disposing()
        return Effect.promise(() => ctx.dispose())
      }).pipe(
        Effect.andThen(Effect.sync(() => tracked.disposed())),
        Effect.andThen(Effect.logDebug("LlamaContext disposed")),
        Effect.annotateLogs({ model: name })
      )
  ).pipe(Effect.map(({ ctx }) => ctx))
  const info = context.info()
  pool = SequencePool.make(info.sequences, (delta) => Metric.modify(queueDepth, delta))
  const slots = pool
  const window = options.window ?? 32

  const generate = (request: GenerateRequest): Stream.Stream<GenerationEvent, LlamaError> =>
    Stream.suspend(() => {
      let job = 0
      const events = Stream.callback<JobEvent, LlamaError>(Effect.fnUntraced(function*(queue) {
        const sampling = yield* Sampling.validate("LlamaContext", "generate")(request.sampling ?? {})
        const key = promptKey(request.prompt)
        const sequence = yield* slots.acquire(key)
        const ended = yield* Deferred.make<void>()
        const grammar = request.grammar
        job = yield* callSync("generate", () =>
          context.generate({
            sequence,
            ...(typeof request.prompt === "string"
              ? { text: request.prompt }
              : isMultimodal(request.prompt)
              ? { parts: request.prompt.parts }
              : { tokens: request.prompt }),
            ...(request.lora === undefined ? {} : { lora: loraScales(request.lora) }),
            ...(request.speculative === undefined ? {} : { speculative: request.speculative }),
            ...(request.addSpecial === undefined ? {} : { addSpecial: request.addSpecial }),
            sampling: grammar === undefined ? sampling : {
              ...sampling,
              grammar: grammar.gbnf,
              grammarType: grammar.type ?? "user",
              grammarLazy: grammar.lazy ?? false,
              grammarTriggers: grammar.triggers ?? [],
              preservedTokens: grammar.preservedTokens ?? [],
              generationPrompt: grammar.generationPrompt ?? ""
            },
            ...(request.maxTokens === undefined ? {} : { maxTokens: request.maxTokens }),
            stop: request.stop ?? [],
            ignoreEog: request.ignoreEog ?? false,
            window
          })
        )
        // Events go straight into the stream's queue, which needs no bound of its own: the native job stops
        // after `window` token events that the consumer has not taken (acked below, as it takes them).
        let text = ""
        router.listen(job, (event) => {
          if (event.type === "token") {
            text += event.text
          } else if (event.type === "done") {
            slots.remember(sequence, event.reason === "abort" ? "" : key + text + event.text)
          } else if (event.type === "error") {
            slots.remember(sequence, "")
          }
          Queue.offerUnsafe(queue, event)
          if (event.type === "done" || event.type === "error") {
            Queue.endUnsafe(queue)
            Deferred.doneUnsafe(ended, Exit.void)
          }
        })
        // However the stream ends, the job is stopped and has ended before its sequence goes back to the pool.
        yield* Effect.addFinalizer(() =>
          Effect.suspend(() => {
            context.abort(job)
            return Deferred.await(ended)
          })
        )
      }), { bufferSize: Number.POSITIVE_INFINITY })
      return Stream.mapArrayEffect(events, (chunk) => {
        let tokens = 0
        const out: Array<GenerationEvent> = []
        for (const event of chunk) {
          if (event.type === "token") {
            tokens++
            out.push({ type: "token", token: event.token, text: event.text })
          } else if (event.type === "done") {
            const { job: _, ...done } = event
            out.push(done)
          } else if (event.type === "error") {
            return fromNative("LlamaContext", "generate")(nativeError(event))
          }
        }
        if (tokens > 0) context.ack(job, tokens) // the consumer took them: the native job may make as many more
        return Arr.isArrayNonEmpty(out)
          ? Effect.succeed(out)
          : Effect.die(new Error("LlamaContext.generate: a chunk of events without a token or an end"))
      })
    })

  const generateText = (request: GenerateRequest): Effect.Effect<Generation, LlamaError> =>
    Stream.runFold(
      generate(request),
      () => ({ text: "", tokens: [] as Array<number>, done: undefined as Generation["done"] | undefined }),
      (acc, event) => {
        if (event.type === "token") {
          acc.text += event.text
          acc.tokens.push(event.token)
        } else {
          acc.text += event.text
          acc.done = event
        }
        return acc
      }
    ).pipe(Effect.flatMap((acc) =>
      acc.done === undefined
        ? Effect.die(new Error("LlamaContext.generate ended without a done event"))
        : Effect.succeed({ text: acc.text, tokens: acc.tokens, done: acc.done })
    ))

  type EmbedEvent = Extract<JobEvent, { type: "embeddings" }>
  const runEmbed = (method: string, texts: ReadonlyArray<string>, embedOptions: EmbedOptions | undefined) =>
    Effect.callback<EmbedEvent, LlamaError>((resume) => {
      let job: number
      try {
        job = context.embed({
          texts,
          normalize: embedOptions?.normalize ?? true,
          parseSpecial: embedOptions?.parseSpecial ?? false
        })
      } catch (cause) {
        resume(failWith(method)(cause))
        return
      }
      let result: EmbedEvent | undefined
      router.listen(job, (event) => {
        if (event.type === "embeddings") result = event
        else if (event.type === "done") {
          resume(event.reason === "abort" || result === undefined ? Effect.interrupt : Effect.succeed(result))
        } else if (event.type === "error") resume(fromNative("LlamaContext", method)(nativeError(event)))
      })
      return Effect.sync(() => {
        context.abort(job)
      })
    })

  const failureError = (method: string, failure: EmbedEvent["failures"][number]) =>
    Effect.flip(fromNative("LlamaContext", method)(new NativeError({ code: failure.code, message: failure.message })))

  const embedEach: Service["embedEach"] = (texts, embedOptions) =>
    texts.length === 0 ? Effect.succeed([]) : Effect.flatMap(runEmbed("embedEach", texts, embedOptions), (event) =>
      Effect.forEach(event.vectors, (vector, index): Effect.Effect<Result.Result<Float32Array, LlamaError>> => {
        const failure = event.failures.find((f) => f.index === index)
        return vector !== null && failure === undefined
          ? Effect.succeed(Result.succeed(vector))
          : Effect.map(failureError("embedEach", failure ?? { index, code: "INTERNAL", message: `text ${index}: no vector` }), Result.fail)
      }))

  const embed: Service["embed"] = (texts, embedOptions) =>
    texts.length === 0 ? Effect.succeed([]) : Effect.flatMap(runEmbed("embed", texts, embedOptions), (event) => {
      const first = event.failures[0]
      if (first === undefined) return Effect.succeed(event.vectors as ReadonlyArray<Float32Array>)
      const more = event.failures.length > 1 ? ` (and ${event.failures.length - 1} more of ${texts.length} texts)` : ""
      return Effect.flatMap(failureError("embed", { ...first, message: first.message + more }), Effect.fail)
    })

  const rank: Service["rank"] = (pairs) =>
    pairs.length === 0 ? Effect.succeed([]) : Effect.callback<ReadonlyArray<number>, LlamaError>((resume) => {
      let job: number
      try {
        job = context.rank({ queries: pairs.map((p) => p.query), documents: pairs.map((p) => p.document) })
      } catch (cause) {
        resume(failWith("rank")(cause))
        return
      }
      let result: EmbedEvent | undefined
      router.listen(job, (event) => {
        if (event.type === "embeddings") result = event
        else if (event.type === "error") resume(fromNative("LlamaContext", "rank")(nativeError(event)))
        else if (event.type === "done") {
          if (event.reason === "abort" || result === undefined) return resume(Effect.interrupt)
          const failure = result.failures[0]
          resume(failure === undefined
            ? Effect.succeed(result.vectors.map((v) => v![0]!))
            : fromNative("LlamaContext", "rank")(new NativeError({ code: failure.code, message: failure.message })))
        }
      })
      return Effect.sync(() => {
        context.abort(job)
      })
    })

  const saveState: Service["saveState"] = (o) =>
    Effect.scoped(Effect.gen(function*() {
      const key = promptKey(o.prefix)
      const sequence = yield* pool.acquire(key)
      const held = pool.text(sequence)
      if (SequencePool.sharedPrefix(held, key) === 0) {
        return yield* new LlamaError({
          module: "LlamaContext",
          method: "saveState",
          reason: new InvalidRequest({ message: "no idle sequence holds any of this prefix" })
        })
      }
      const metadata = JSON.stringify({ held, user: o.metadata ?? "" })
      const saved = yield* Effect.tryPromise({
        try: () => context.saveState({ sequence, metadata, ...(o.path === undefined ? {} : { path: o.path }) }),
        catch: fromUnknown
      }).pipe(Effect.catch(fromNative("LlamaContext", "saveState")))
      return saved.data
    }))

  const restoreState: Service["restoreState"] = (source) =>
    Effect.scoped(Effect.gen(function*() {
      const sequence = yield* pool.acquire("") // the least recently used free sequence
      const loaded = yield* Effect.tryPromise({ try: () => context.loadState({ sequence, ...source }), catch: fromUnknown }).pipe(
        Effect.tapError(() => Effect.sync(() => pool.remember(sequence, ""))),
        Effect.catch(fromNative("LlamaContext", "restoreState"))
      )
      const saved = parseMetadata(loaded.metadata)
      pool.remember(sequence, saved.held)
      return { tokens: loaded.tokens, metadata: saved.user }
    }))

  const setLora: Service["setLora"] = (adapters) => callSync("setLora", () => context.setLora(loraScales(adapters)))

  return LlamaContext.of({
    info,
    generate,
    generateText,
    embed,
    embedEach,
    rank,
    saveState,
    restoreState,
    setLora,
    state: Effect.sync(() => (context.disposed ? "disposed" : disposing ? "disposing" : "loaded")),
    sequences: Effect.sync(() => slots.stats())
  })
})

// ============================================================================
// Layers
// ============================================================================

/**
 * A layer holding a context over the `LlamaModel` it is given.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: Options = {}): Layer.Layer<LlamaContext, LlamaError, LlamaModel | Native> =>
  Layer.effect(LlamaContext, make(options))
