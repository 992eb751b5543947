/**
 * Slots and the wait queue in front of the model: a request takes a slot for the life of its answer; when every
 * slot is busy it waits, as in llama-server, unless `maxQueued` requests already wait, in which case it is refused
 * (503 with Retry-After). A waiting request whose client goes away leaves the queue.
 *
 * @internal
 */
import { Deferred, Effect, Exit, Metric, Scope, Semaphore } from "effect"
import { Overloaded, ServerError } from "../ServerError.ts"
import { serverMetrics } from "./metrics.ts"

/** @internal */
export interface AdmissionStats {
  readonly slots: number
  readonly busy: number
  readonly queued: number
  readonly peakQueued: number
  readonly rejected: number
}

/** @internal */
export interface Admission {
  /** Takes a slot until the Scope closes, waiting in the queue if need be. */
  readonly acquire: Effect.Effect<void, ServerError, Scope.Scope>
  readonly stats: () => AdmissionStats
  /** Waits until no request holds or waits for a slot. */
  readonly awaitIdle: Effect.Effect<void>
}

/** @internal */
export const make = (slots: number, maxQueued: number, retryAfterSeconds: number): Effect.Effect<Admission> =>
  Effect.gen(function*() {
    const semaphore = yield* Semaphore.make(slots)
    let busy = 0
    let queued = 0
    let peakQueued = 0
    let rejected = 0
    let idle = yield* Deferred.make<void>()
    yield* Deferred.succeed(idle, undefined)
    yield* Metric.update(serverMetrics.slots, slots)
    // Every change of the counts passes here: the gauges follow, and so does the idle signal.
    const gauges = Effect.suspend(() => {
      if (busy === 0 && queued === 0) Deferred.doneUnsafe(idle, Effect.void)
      else if (Deferred.isDoneUnsafe(idle)) idle = Deferred.makeUnsafe<void>()
      return Effect.andThen(Metric.update(serverMetrics.queueDepth, queued), Metric.update(serverMetrics.slotsBusy, busy))
    })
    const refuse = Effect.suspend(() => {
      rejected++
      return Effect.andThen(
        Metric.update(serverMetrics.rejected, 1),
        Effect.fail(new ServerError({
          reason: new Overloaded({
            message: `the server is busy: ${slots} slots generating and ${queued} requests waiting (the most it queues)`,
            retryAfterSeconds
          })
        }))
      )
    })
    const acquire: Admission["acquire"] = Effect.suspend(() => {
      if (busy + queued >= slots + maxQueued) return refuse
      queued++
      peakQueued = Math.max(peakQueued, Math.max(0, busy + queued - slots))
      return Effect.uninterruptibleMask((restore) =>
        restore(Effect.andThen(gauges, Semaphore.takeScoped(semaphore, 1))).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              queued--
              if (Exit.isSuccess(exit)) busy++
              return gauges
            })
          ),
          Effect.andThen(Effect.addFinalizer(() =>
            Effect.suspend(() => {
              busy--
              return gauges
            })
          ))
        )
      )
    })
    return {
      acquire,
      stats: () => ({ slots, busy, queued, peakQueued, rejected }),
      awaitIdle: Effect.suspend(() => Deferred.await(idle))
    }
  })
