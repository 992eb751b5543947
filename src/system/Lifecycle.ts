/**
 * `Lifecycle`: how an app built on effect-llama shuts down. Shutdown is the app's Scope closing, and its Layers
 * are released in the reverse order they were built, so with the usual composition
 *
 *   Server.pipe(                                  // released 1st: the listener closes (no new connections)
 *     Layer.provideMerge(Lifecycle.layer()),      // 2nd: stop accepting work, then drain what is in flight
 *     Layer.provideMerge(LlamaLanguageModel.layerModel({ path })), // 3rd: the context is disposed, 4th: the model
 *     Layer.provideMerge(EffectLlama.layer({ logLevel: "Info" }))  // last: exporters flush, llama.cpp logs unhook
 *   )
 *
 * the order is: stop accepting, drain, dispose contexts, then models. Work enters through `admit` (an Effect) or
 * `admitStream` (a Stream): while the app runs it is counted in flight; once shutdown began it fails with a
 * `ShutdownError` (the work in flight is the `effect_llama_in_flight` gauge). Draining waits for the work in
 * flight, up to `drainTimeout` (default 30 seconds), then
 * interrupts what is left, so no generation is still running when its context is disposed.
 *
 * @since 0.2.0
 */
import { Clock, Context, Deferred, Duration, Effect, Fiber, Layer, Metric, Option, Ref, type Scope, Stream } from "effect"
import * as Telemetry from "../telemetry/Telemetry.ts"
import { ShutdownError } from "./ShutdownError.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * Where the app is: `running` (accepting work), `stopping` (no new work), `draining` (waiting for the work in
 * flight), `stopped` (drained; the Layers below are being released).
 *
 * @category models
 * @since 0.2.0
 */
export type Phase = "running" | "stopping" | "draining" | "stopped"

/**
 * Options of `layer`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** How long draining waits for the work in flight before interrupting it. Default 30 seconds. */
  readonly drainTimeout?: Duration.Input
}

/**
 * @category models
 * @since 0.2.0
 */
export interface Service {
  readonly phase: Effect.Effect<Phase>
  /** Work in flight now. */
  readonly inFlight: Effect.Effect<number>
  /** Runs `effect` as work in flight, or fails with `ShutdownError` once shutdown began. */
  readonly admit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | ShutdownError, R>
  /** Runs `stream` as work in flight (from its start to its end), or fails with `ShutdownError`. */
  readonly admitStream: <A, E, R>(stream: Stream.Stream<A, E, R>) => Stream.Stream<A, E | ShutdownError, R>
  /** Stops accepting and drains now (what closing the Scope does); idempotent, waits for a shutdown in progress. */
  readonly shutdown: Effect.Effect<void>
}

/**
 * The app's admission gate and shutdown sequence.
 *
 * @category services
 * @since 0.2.0
 */
export class Lifecycle extends Context.Service<Lifecycle, Service>()("effect-llama/Lifecycle") {}

// ============================================================================
// Constructors
// ============================================================================

/**
 * Builds the gate; closing the Scope runs `shutdown`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const drainTimeout = Duration.fromInputUnsafe(options.drainTimeout ?? "30 seconds")
    const phase = yield* Ref.make<Phase>("running")
    // Work in flight: a token per admission, with the fiber that runs it (interrupted if draining times out).
    const fibers = new Map<object, Fiber.Fiber<unknown, unknown>>()
    let idle = yield* Deferred.make<void>()
    yield* Deferred.succeed(idle, undefined)
    const done = yield* Deferred.make<void>()
    let started = false

    // Counts work in (failing once shutdown began) and out again.
    const enter = Effect.withFiber((fiber) =>
      Effect.flatMap(Ref.get(phase), (now) => {
        if (now !== "running") return Effect.fail(new ShutdownError({ phase: now }))
        return Effect.sync(() => {
          const token = {}
          if (fibers.size === 0) idle = Deferred.makeUnsafe<void>()
          fibers.set(token, fiber)
          return token
        }).pipe(Effect.tap(() => Metric.update(Telemetry.metrics.inFlight, fibers.size)))
      })
    )
    const leave = (token: object) =>
      Effect.suspend(() => {
        fibers.delete(token)
        return Effect.andThen(
          Metric.update(Telemetry.metrics.inFlight, fibers.size),
          fibers.size === 0 ? Deferred.succeed(idle, undefined) : Effect.void
        )
      })

    const admit: Service["admit"] = (effect) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(enter, (token) => restore(effect).pipe(Effect.ensuring(leave(token))))
      )

    // The stream is counted from its first pull to its end, in whatever fiber runs it.
    const admitStream: Service["admitStream"] = (stream) =>
      Stream.unwrap(Effect.map(enter, (token) => stream.pipe(Stream.ensuring(leave(token)))))

    const shutdown: Effect.Effect<void> = Effect.suspend(() => {
      if (started) return Deferred.await(done)
      started = true
      return Effect.gen(function*() {
        yield* Ref.set(phase, "stopping")
        yield* Effect.logInfo("effect-llama: stopped accepting work").pipe(
          Effect.annotateLogs({ phase: "stop", inFlight: fibers.size })
        )
        yield* Ref.set(phase, "draining")
        const start = yield* Clock.currentTimeMillis
        const drained = yield* Effect.timeoutOption(Deferred.await(idle), drainTimeout)
        const left = [...fibers.values()]
        if (Option.isNone(drained) && left.length > 0) {
          yield* Effect.logWarning("effect-llama: drain timed out, interrupting the work left").pipe(
            Effect.annotateLogs({ phase: "drain", interrupted: left.length })
          )
          yield* Fiber.interruptAll(left)
        }
        yield* Ref.set(phase, "stopped")
        yield* Effect.logInfo("effect-llama: drained").pipe(
          Effect.annotateLogs({ phase: "drain", waitedMs: (yield* Clock.currentTimeMillis) - start })
        )
      }).pipe(Effect.ensuring(Deferred.succeed(done, undefined)))
    })

    yield* Effect.addFinalizer(() => shutdown)

    return Lifecycle.of({
      phase: Ref.get(phase),
      inFlight: Effect.sync(() => fibers.size),
      admit,
      admitStream,
      shutdown
    })
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * The gate for the life of the Layer. Provide it above the model layers (see the module docs) so that it is
 * released, and drains, before they are.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options = {}): Layer.Layer<Lifecycle> => Layer.effect(Lifecycle, make(options))
