// Test helpers over the raw native binding: scoped models and contexts, and a job runner that collects events.
import { Effect, Scope } from "effect"
import { ensureModel, type ModelName } from "../../scripts/models.ts"
import { JobRouter } from "../../src/native/JobRouter.ts"
import * as Native from "../../src/native/Native.ts"
import type {
  ContextOptions,
  EmbedRequest,
  GenerateRequest,
  JobEvent,
  ModelOptions,
  NativeBinding,
  NativeContext,
  NativeModel
} from "../../src/native/NativeBinding.ts"
import { fromUnknown, type NativeError } from "../../src/native/NativeError.ts"

export const binding: Effect.Effect<NativeBinding, Native.NativeLoadError> = Native.load

export const modelFile = (name: ModelName): Effect.Effect<string> => Effect.promise(() => ensureModel(name))

export const loadModel = (path: string, options: ModelOptions = {}): Effect.Effect<NativeModel, NativeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const model = yield* Effect.try({ try: () => new native.Model(path, options), catch: fromUnknown })
      yield* Effect.tryPromise({ try: () => model.load(), catch: fromUnknown })
      return model
    }),
    (model) => Effect.promise(() => model.dispose())
  )

export interface ContextHandle {
  readonly context: NativeContext
  readonly router: JobRouter
}

export const openContext = (
  model: NativeModel,
  options: ContextOptions = {}
): Effect.Effect<ContextHandle, NativeError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const native = yield* Effect.orDie(binding)
      const context = yield* Effect.try({ try: () => new native.Context(model, options), catch: fromUnknown })
      const router = new JobRouter()
      yield* Effect.tryPromise({ try: () => context.init(router.dispatch), catch: fromUnknown })
      return { context, router }
    }),
    ({ context }) => Effect.promise(() => context.dispose())
  )

export type Done = Extract<JobEvent, { type: "done" }>

export interface Generation {
  readonly job: number
  readonly tokens: ReadonlyArray<number>
  readonly text: string
  readonly done: Done
}

// Queues a job and waits for its end; interruption aborts the job.
const runJob = <A>(
  handle: ContextHandle,
  queue: (context: NativeContext) => number,
  collect: (events: ReadonlyArray<JobEvent>, done: Done) => A
): Effect.Effect<A, NativeError> =>
  Effect.callback<A, NativeError>((resume) => {
    let job: number
    try {
      job = queue(handle.context)
    } catch (cause) {
      resume(Effect.fail(fromUnknown(cause)))
      return
    }
    const events: Array<JobEvent> = []
    handle.router.listen(job, (event) => {
      if (event.type === "error") resume(Effect.fail(fromUnknown(Object.assign(new Error(event.message), { code: event.code }))))
      else if (event.type === "done") resume(Effect.succeed(collect(events, event)))
      else events.push(event)
    })
    return Effect.sync(() => {
      handle.context.abort(job)
    })
  })

export const generate = (handle: ContextHandle, request: GenerateRequest): Effect.Effect<Generation, NativeError> => {
  let job = 0
  return runJob(handle, (context) => (job = context.generate(request)), (events, done) => {
    const tokens = events.flatMap((e) => (e.type === "token" ? [e.token] : []))
    const text = events.map((e) => (e.type === "token" ? e.text : "")).join("") + done.text
    return { job, tokens, text, done }
  })
}

export type Embeddings = Extract<JobEvent, { type: "embeddings" }>

/** The embed job's result event: a vector per text (null where it failed) and the failures. */
export const embedResult = (handle: ContextHandle, request: EmbedRequest): Effect.Effect<Embeddings, NativeError> =>
  Effect.flatMap(
    runJob(handle, (context) => context.embed(request), (events) => events.find((e): e is Embeddings => e.type === "embeddings")),
    (result) => result === undefined ? Effect.die(new Error("embed: no embeddings event")) : Effect.succeed(result)
  )

/** The vectors, or the first failing text's error. */
export const embed = (handle: ContextHandle, request: EmbedRequest): Effect.Effect<ReadonlyArray<Float32Array>, NativeError> =>
  request.texts.length === 0 ? Effect.succeed([]) : Effect.flatMap(embedResult(handle, request), (result) => {
    const failure = result.failures[0]
    return failure === undefined
      ? Effect.succeed(result.vectors as ReadonlyArray<Float32Array>)
      : Effect.fail(fromUnknown(Object.assign(new Error(failure.message), { code: failure.code })))
  })

export const greedy = { temperature: 0 } as const
