/**
 * The models and contexts alive in this process, with their state, and a feed of their disposals: what a health
 * check reports and what a shutdown test watches. `LlamaModel` and `LlamaContext` enter here when they are
 * created and leave when their Scope has disposed them; a handle disposed while its Scope is still open (its
 * service outlived its native handle) stays, as `disposed`.
 *
 * @since 0.2.0
 */
import { Effect, Queue, Stream } from "effect"

// ============================================================================
// Models
// ============================================================================

/**
 * A native handle's state: `loaded` (usable), `disposing` (its Scope is freeing it), `disposed`.
 *
 * @category models
 * @since 0.2.0
 */
export type State = "loaded" | "disposing" | "disposed"

/**
 * A model or context as the process knows it.
 *
 * @category models
 * @since 0.2.0
 */
export interface Resource {
  /** Unique in the process. */
  readonly id: number
  readonly kind: "model" | "context"
  /** The model's name (GGUF `general.name`, else its path); a context carries its model's. */
  readonly name: string
  readonly path: string
  readonly state: State
  /** Busy and waiting generations (contexts only). */
  readonly sequences?: { readonly total: number; readonly busy: number; readonly waiting: number }
}

/**
 * What `events` reports: a handle entered, its Scope began freeing it, or it is freed.
 *
 * @category models
 * @since 0.2.0
 */
export interface Event {
  readonly type: "created" | "disposing" | "disposed"
  readonly resource: Resource
  /** Milliseconds since the epoch. */
  readonly at: number
}

// ============================================================================
// Registry (process-wide: native handles are process resources)
// ============================================================================

interface Entry {
  readonly id: number
  readonly kind: Resource["kind"]
  readonly name: string
  readonly path: string
  disposing: boolean
  readonly disposed: () => boolean
  readonly sequences: (() => NonNullable<Resource["sequences"]>) | undefined
}

const entries = new Map<number, Entry>()
const listeners = new Set<(event: Event) => void>()
let nextId = 0

const snapshot = (entry: Entry): Resource => ({
  id: entry.id,
  kind: entry.kind,
  name: entry.name,
  path: entry.path,
  state: entry.disposed() ? "disposed" : entry.disposing ? "disposing" : "loaded",
  ...(entry.sequences === undefined ? {} : { sequences: entry.sequences() })
})

const publish = (type: Event["type"], entry: Entry) => {
  if (listeners.size === 0) return
  const event: Event = { type, resource: snapshot(entry), at: Date.now() }
  for (const listener of listeners) listener(event)
}

/**
 * What `track` returns to the owner of a handle.
 *
 * @category models
 * @since 0.2.0
 */
export interface Tracked {
  readonly id: number
  /** The Scope has begun freeing the handle. */
  readonly disposing: () => void
  /** The handle is freed: it leaves the registry. */
  readonly disposed: () => void
}

/**
 * Enters a handle (for `LlamaModel` and `LlamaContext`; not for application code).
 *
 * @category constructors
 * @since 0.2.0
 */
export const track = (options: {
  readonly kind: Resource["kind"]
  readonly name: string
  readonly path: string
  readonly disposed: () => boolean
  readonly sequences?: () => NonNullable<Resource["sequences"]>
}): Tracked => {
  const entry: Entry = {
    id: ++nextId,
    kind: options.kind,
    name: options.name,
    path: options.path,
    disposing: false,
    disposed: options.disposed,
    sequences: options.sequences
  }
  entries.set(entry.id, entry)
  publish("created", entry)
  return {
    id: entry.id,
    disposing: () => {
      entry.disposing = true
      publish("disposing", entry)
    },
    disposed: () => {
      if (!entries.delete(entry.id)) return
      publish("disposed", { ...entry, disposed: () => true })
    }
  }
}

// ============================================================================
// Accessors
// ============================================================================

/**
 * The models and contexts alive now (and those disposed out from under their Scope), oldest first.
 *
 * @category accessors
 * @since 0.2.0
 */
export const list: Effect.Effect<ReadonlyArray<Resource>> = Effect.sync(() => Array.from(entries.values(), snapshot))

/**
 * Handle events from now on, as long as the stream is consumed.
 *
 * @category accessors
 * @since 0.2.0
 */
export const events: Stream.Stream<Event> = Stream.callback<Event>((queue) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const listener = (event: Event) => {
        Queue.offerUnsafe(queue, event)
      }
      listeners.add(listener)
      return listener
    }),
    (listener) => Effect.sync(() => listeners.delete(listener))
  )
)

/**
 * Calls `f` on every event until the returned function is called (for code outside Effect, such as a test's probe).
 *
 * @category accessors
 * @since 0.2.0
 */
export const subscribe = (f: (event: Event) => void): () => void => {
  listeners.add(f)
  return () => {
    listeners.delete(f)
  }
}
