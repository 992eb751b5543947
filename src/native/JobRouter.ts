/**
 * A context delivers the events of all its jobs through one callback; the router hands each event to the
 * listener registered for its job and forgets the listener when the job ends.
 *
 * @since 0.1.0
 */
import type { JobEvent } from "./NativeBinding.ts"

/**
 * Routes a context's event batches to per-job listeners. JS thread only.
 *
 * @category models
 * @since 0.1.0
 */
export class JobRouter {
  private readonly listeners = new Map<number, (event: JobEvent) => void>()

  /** Pass this to `context.init`. */
  readonly dispatch = (events: ReadonlyArray<JobEvent>): void => {
    for (const event of events) {
      const listener = this.listeners.get(event.job)
      if (event.type === "done" || event.type === "error") this.listeners.delete(event.job)
      listener?.(event)
    }
  }

  /** Registers the listener of a job just queued (events arrive on a later turn of the event loop). */
  listen(job: number, listener: (event: JobEvent) => void): void {
    this.listeners.set(job, listener)
  }

  /** Drops a job's listener: its remaining events are ignored. */
  forget(job: number): void {
    this.listeners.delete(job)
  }

  get size(): number {
    return this.listeners.size
  }
}
