/**
 * `LlamaContext`: a llama.cpp context over a `LlamaModel`, with its sequences (parallel slots) as a pool.
 * `generate` is a `Stream` of token events with real backpressure: the native job pauses while the consumer lags,
 * nothing is dropped, and interrupting the consumer (an early `take`, a timeout, a fiber interrupt) aborts the
 * native job and returns its sequence to the pool once it has stopped.
 *
 * @since 0.1.0
 */
import { Array as Arr, Context, Deferred, Effect, Exit, Layer, Queue, Scope, Stream } from "effect"
import { JobRouter } from "../native/JobRouter.ts"
import { Native } from "../native/Native.ts"
import type {
  ContextInfo,
  ContextOptions,
  FinishReason,
  GrammarTrigger,
  JobEvent,
  NativeContext
} from "../native/NativeBinding.ts"
import { fromUnknown, NativeError } from "../native/NativeError.ts"
import { fromNative } from "./internal/errors.ts"
import * as SequencePool from "./internal/SequencePool.ts"
import type { LlamaError } from "./LlamaError.ts"
import { LlamaModel } from "./LlamaModel.ts"
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
 * One generation.
 *
 * @category models
 * @since 0.1.0
 */
export interface GenerateRequest {
  /** Prompt text (special tokens parsed) or token ids. */
  readonly prompt: string | Int32Array | ReadonlyArray<number>
  /** Add BOS etc. when tokenizing a text prompt. Default true. */
  readonly addSpecial?: boolean
  readonly sampling?: Sampling.Sampling
  readonly grammar?: Grammar
  /** Default: until end of generation or until the sequence's share of the context is full. */
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly ignoreEog?: boolean
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
    readonly usage: { readonly promptTokens: number; readonly cachedTokens: number; readonly completionTokens: number }
    readonly timings: { readonly prefillMs: number; readonly generateMs: number }
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
  /** Embeds texts in one or a few batches (the context must be created with `embeddings: true`). */
  readonly embed: (
    texts: ReadonlyArray<string>,
    options?: { readonly normalize?: boolean }
  ) => Effect.Effect<ReadonlyArray<Float32Array>, LlamaError>
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
export interface Options extends ContextOptions {
  /** Token events in flight per generation before it pauses (backpressure). Default 32. */
  readonly window?: number
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

const promptKey = (prompt: GenerateRequest["prompt"]): string =>
  typeof prompt === "string" ? prompt : `\u0000tokens:${Array.from(prompt).join(",")}`

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
  const context: NativeContext = yield* Effect.acquireRelease(
    Effect.flatMap(callSync("make", () => new native.Context(model.native, options)), (ctx) =>
      Effect.as(Effect.tryPromise({ try: () => ctx.init(router.dispatch), catch: (e) => e }).pipe(Effect.catch(failWith("make"))), ctx)),
    (ctx) => Effect.promise(() => ctx.dispose())
  )
  const info = context.info()
  const pool = SequencePool.make(info.sequences)
  const window = options.window ?? 32

  const generate = (request: GenerateRequest): Stream.Stream<GenerationEvent, LlamaError> =>
    Stream.suspend(() => {
      let job = 0
      const events = Stream.callback<JobEvent, LlamaError>(Effect.fnUntraced(function*(queue) {
        const sampling = yield* Sampling.validate("LlamaContext", "generate")(request.sampling ?? {})
        const key = promptKey(request.prompt)
        const sequence = yield* pool.acquire(key)
        const ended = yield* Deferred.make<void>()
        const grammar = request.grammar
        job = yield* callSync("generate", () =>
          context.generate({
            sequence,
            ...(typeof request.prompt === "string" ? { text: request.prompt } : { tokens: request.prompt }),
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
            maxTokens: request.maxTokens ?? -1,
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
            pool.remember(sequence, event.reason === "abort" ? "" : key + text + event.text)
          } else if (event.type === "error") {
            pool.remember(sequence, "")
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

  const embed: Service["embed"] = (texts, embedOptions) =>
    texts.length === 0 ? Effect.succeed([]) : Effect.callback<ReadonlyArray<Float32Array>, LlamaError>((resume) => {
      let job: number
      try {
        job = context.embed({ texts, normalize: embedOptions?.normalize ?? true })
      } catch (cause) {
        resume(failWith("embed")(cause))
        return
      }
      let vectors: ReadonlyArray<Float32Array> = []
      router.listen(job, (event) => {
        if (event.type === "embeddings") vectors = event.vectors
        else if (event.type === "done") resume(event.reason === "abort" ? Effect.interrupt : Effect.succeed(vectors))
        else if (event.type === "error") resume(fromNative("LlamaContext", "embed")(nativeError(event)))
      })
      return Effect.sync(() => {
        context.abort(job)
      })
    })

  return LlamaContext.of({ info, generate, generateText, embed })
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
