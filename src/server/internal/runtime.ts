/**
 * What every handler shares: the resolved options, the served models (loaded in the background, so the server
 * answers `/health` with 503 while they load), the slots and queue, the API keys.
 *
 * @internal
 */
import { Cause, Context, Deferred, Effect, Exit, Layer, Option, Redacted, Scope, Stream } from "effect"
import { EmbeddingModel, LanguageModel } from "effect/ai"
import { timingSafeEqual } from "node:crypto"
import { basename } from "node:path"
import { LlamaContext } from "../../llama/LlamaContext.ts"
import { LlamaModel } from "../../llama/LlamaModel.ts"
import { ModelNotFound, ServerError, Unavailable } from "../ServerError.ts"
import * as Admission from "./admission.ts"
import type { Settings } from "./chatRequest.ts"
import { localSettings } from "./localSettings.ts"

/** @internal */
export interface SettingsApplier {
  readonly effect: <A, E, R>(self: Effect.Effect<A, E, R>, settings: Settings) => Effect.Effect<A, E, R>
  readonly stream: <A, E, R>(self: Stream.Stream<A, E, R>, settings: Settings) => Stream.Stream<A, E, R>
}

/** @internal */
export interface ResolvedOptions {
  readonly modelId: string | undefined
  readonly apiKeys: ReadonlyArray<Redacted.Redacted<string>>
  readonly cors: false | { readonly origins: ReadonlyArray<string> }
  readonly maxBodyBytes: number
  readonly maxQueued: number
  readonly parallel: number | undefined
  readonly retryAfterSeconds: number
  readonly defaultMaxTokens: number | undefined
  readonly settings: SettingsApplier
  readonly chatPage: boolean
}

// A loose view of the services: handlers build their options at run time from JSON, which the overloaded
// effect/ai signatures cannot type.
/** @internal */
export interface AnyLanguageModel {
  readonly generateText: (options: object) => Effect.Effect<LanguageModel.GenerateTextResponse<any, any>, unknown>
  readonly generateObject: (options: object) => Effect.Effect<LanguageModel.GenerateObjectResponse<any, any, any>, unknown>
  readonly streamText: (options: object) => Stream.Stream<any, unknown>
}

/** @internal */
export interface Served {
  readonly modelId: string
  readonly languageModel: AnyLanguageModel
  readonly embeddingModel: Option.Option<EmbeddingModel.EmbeddingModel>
  readonly llamaModel: Option.Option<LlamaModel["Service"]>
  readonly llamaContext: Option.Option<LlamaContext["Service"]>
  readonly admission: Admission.Admission
}

/** @internal */
export interface Runtime {
  readonly options: ResolvedOptions
  /** The served models, or 503 while they load (or after their load failed). */
  readonly served: Effect.Effect<Served, ServerError>
  /** Waits for the load; fails with the models layer's error. */
  readonly ready: Effect.Effect<Served, unknown>
  readonly loaded: () => boolean
  /** The served models if they are loaded. */
  readonly current: () => Served | undefined
  readonly authorized: (header: string | undefined) => boolean
  readonly checkModel: (served: Served, model: string | null | undefined) => Effect.Effect<void, ServerError>
}

const servedFrom = (context: Context.Context<never>, options: ResolvedOptions) =>
  Effect.gen(function*() {
    const languageModel = Context.get(context as Context.Context<LanguageModel.LanguageModel>, LanguageModel.LanguageModel)
    const llamaModel = Context.getOption(context as Context.Context<LlamaModel>, LlamaModel)
    const llamaContext = Context.getOption(context as Context.Context<LlamaContext>, LlamaContext)
    const modelId = options.modelId ??
      Option.match(llamaModel, {
        onNone: () => "effect-llama",
        onSome: (m) => (m.info.name !== "" ? m.info.name : basename(m.info.path).replace(/\.gguf$/i, ""))
      })
    const slots = options.parallel ?? Option.match(llamaContext, { onNone: () => 4, onSome: (c) => c.info.sequences })
    const admission = yield* Admission.make(slots, options.maxQueued, options.retryAfterSeconds)
    return {
      modelId,
      languageModel: languageModel as unknown as AnyLanguageModel,
      embeddingModel: Context.getOption(context as Context.Context<EmbeddingModel.EmbeddingModel>, EmbeddingModel.EmbeddingModel),
      llamaModel,
      llamaContext,
      admission
    } satisfies Served
  })

// Constant-time on equal lengths; the length itself is not a secret worth hiding.
const sameKey = (given: Buffer, key: Buffer) => given.length === key.length && timingSafeEqual(given, key)

/** Builds the models layer in the background, in the current Scope. @internal */
export const make = <E, R>(
  models: Layer.Layer<LanguageModel.LanguageModel, E, R>,
  options: ResolvedOptions
): Effect.Effect<Runtime, never, R | Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const done = yield* Deferred.make<Served, E>()
    let state: Exit.Exit<Served, E> | undefined
    yield* Layer.buildWithScope(models, scope).pipe(
      Effect.flatMap((context) => servedFrom(context, options)),
      Effect.exit,
      Effect.flatMap((exit) => {
        state = exit
        return Deferred.done(done, exit)
      }),
      Effect.forkIn(scope)
    )
    const keys = options.apiKeys.map((key) => Buffer.from(Redacted.value(key)))
    const loadingError = (message: string) =>
      new ServerError({ reason: new Unavailable({ message, retryAfterSeconds: options.retryAfterSeconds }) })
    const served: Runtime["served"] = Effect.suspend(() => {
      const exit = state
      if (exit === undefined) return Effect.fail(loadingError("Loading model"))
      if (Exit.isSuccess(exit)) return Effect.succeed(exit.value)
      return Effect.fail(loadingError(`the model failed to load: ${Cause.pretty(exit.cause).split("\n")[0]}`))
    })
    return {
      options,
      served,
      ready: Deferred.await(done),
      loaded: () => state !== undefined && Exit.isSuccess(state),
      current: () => (state !== undefined && Exit.isSuccess(state) ? state.value : undefined),
      authorized: (header) => {
        if (keys.length === 0) return true
        const match = header === undefined ? null : /^Bearer\s+(.+)$/i.exec(header.trim())
        if (match === null) return false
        const given = Buffer.from(match[1]!)
        let ok = false
        for (const key of keys) ok = sameKey(given, key) || ok // every key is compared
        return ok
      },
      checkModel: (served, model) =>
        model === undefined || model === null || model === "" || model === served.modelId
          ? Effect.void
          : Effect.fail(new ServerError({
            reason: new ModelNotFound({
              message: `The model \`${model}\` does not exist; this server serves \`${served.modelId}\``,
              model
            })
          }))
    } satisfies Runtime
  })

/** The defaults of every option. @internal */
export const defaults = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxQueued: 256,
  retryAfterSeconds: 1,
  settings: localSettings
} as const
