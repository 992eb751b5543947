/**
 * The sequences (slots) of a context as a pool: a Semaphore bounds how many generate at once, and a new request
 * gets the free sequence whose KV cache already holds the longest prefix of its prompt (so a chat's next turn
 * lands where the last one left its cache).
 *
 * @internal
 */
import { Effect, Scope, Semaphore } from "effect"

/** @internal */
export interface SequencePool {
  /** Waits for a free sequence; it goes back to the pool when the Scope closes. */
  readonly acquire: (prompt: string) => Effect.Effect<number, never, Scope.Scope>
  /** Records what a sequence's KV cache now holds (prompt + output), or "" after it was cleared. */
  readonly remember: (sequence: number, text: string) => void
  /** Sequences in use and requests waiting for one. */
  readonly stats: () => { readonly total: number; readonly busy: number; readonly waiting: number }
  /** What a sequence's KV cache holds, as last remembered. */
  readonly text: (sequence: number) => string
}

/** @internal How many leading characters two strings share. */
export const sharedPrefix = (a: string, b: string): number => commonPrefix(a, b)

const commonPrefix = (a: string, b: string): number => {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i
}

/** @internal */
export const make = (size: number, onWaiting?: (delta: number) => Effect.Effect<void>): SequencePool => {
  const permits = Semaphore.makeUnsafe(size)
  const slots = Array.from({ length: size }, () => ({ busy: false, text: "", used: 0 }))
  let clock = 0
  let waiting = 0
  const wait = (delta: number) =>
    Effect.suspend(() => {
      waiting += delta
      return onWaiting === undefined ? Effect.void : onWaiting(delta)
    })
  // A permit guarantees a free slot; pick the best one synchronously.
  const pick = (prompt: string): number => {
    let best = -1
    let bestScore = -1
    for (const [i, slot] of slots.entries()) {
      if (slot.busy) continue
      const score = commonPrefix(slot.text, prompt)
      if (score > bestScore || (score === bestScore && slot.used < slots[best]!.used)) {
        best = i
        bestScore = score
      }
    }
    slots[best]!.busy = true
    slots[best]!.used = ++clock
    return best
  }
  return {
    acquire: (prompt) =>
      Effect.acquireRelease(
        Effect.map(
          Effect.andThen(wait(1), Semaphore.take(permits, 1)).pipe(Effect.ensuring(wait(-1))),
          () => pick(prompt)
        ),
        (sequence) =>
          Effect.suspend(() => {
            slots[sequence]!.busy = false
            return Semaphore.release(permits, 1)
          })
      ),
    remember: (sequence, text) => {
      slots[sequence]!.text = text
    },
    stats: () => ({ total: size, busy: slots.filter((s) => s.busy).length, waiting }),
    text: (sequence) => slots[sequence]!.text
  }
}
