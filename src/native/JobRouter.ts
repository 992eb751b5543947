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
  // Events of a job whose listener is not registered yet: a fiber may yield to the event loop between queueing a
  // job and listening to it, and a lost "done" would leave its caller waiting forever.
  private readonly early = new Map<number, Array<JobEvent>>()

  /** Pass this to `context.init`. */
  readonly dispatch = (events: ReadonlyArray<JobEvent>): void => {
    for (const event of events) {
      const listener = this.listeners.get(event.job)
      if (listener === undefined) {
        const held = this.early.get(event.job)
        if (held === undefined) this.early.set(event.job, [event])
        else held.push(event)
        continue
      }
      if (event.type === "done" || event.type === "error") this.listeners.delete(event.job)
      listener(event)
    }
  }

  /** Registers the listener of a job just queued; events that came before it are delivered first. */
  listen(job: number, listener: (event: JobEvent) => void): void {
    const held = this.early.get(job)
    this.early.delete(job)
    for (const event of held ?? []) {
      listener(event)
      if (event.type === "done" || event.type === "error") return
    }
    this.listeners.set(job, listener)
  }

  /** Drops a job's listener: its remaining events are ignored. */
  forget(job: number): void {
    this.listeners.delete(job)
    this.early.delete(job)
  }

  get size(): number {
    return this.listeners.size
  }
}
