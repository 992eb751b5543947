/**
 * `JsonStore`: the state of the built-in tools (todos, notes), in memory or in a JSON file. File writes are atomic
 * (a temp file in the same directory, then a rename), so a crash mid-write leaves the previous file intact.
 * Updates are serialized, and a file is written only when the state changed.
 *
 * @since 0.1.0
 */
import { Effect, FileSystem, Ref, Schema, Semaphore } from "effect"

// ============================================================================
// Models
// ============================================================================

/**
 * Reading or writing the store's file failed, or the file does not decode with the store's Schema.
 *
 * @category errors
 * @since 0.1.0
 */
export class JsonStoreError extends Schema.TaggedError<JsonStoreError>()("JsonStoreError", {
  path: Schema.String,
  operation: Schema.Literals(["read", "write"]),
  description: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.operation} ${this.path}: ${this.description}`
  }
}

/**
 * A value of type `A` with serialized updates.
 *
 * @category models
 * @since 0.1.0
 */
export interface JsonStore<A> {
  readonly get: Effect.Effect<A>
  /**
   * Computes a result and the next state from the current one. A failure of `f` leaves the state unchanged; a
   * changed state is persisted before `modify` returns.
   */
  readonly modify: <B, E, R>(
    f: (state: A) => Effect.Effect<readonly [B, A], E, R>
  ) => Effect.Effect<B, E | JsonStoreError, R>
}

// ============================================================================
// Constructors
// ============================================================================

const makeWith = <A>(initial: A, persist: (state: A) => Effect.Effect<void, JsonStoreError>) =>
  Effect.gen(function*() {
    const state = yield* Ref.make(initial)
    const lock = yield* Semaphore.make(1)
    const store: JsonStore<A> = {
      get: Ref.get(state),
      modify: (f) =>
        Semaphore.withPermit(
          lock,
          Effect.gen(function*() {
            const current = yield* Ref.get(state)
            const [result, next] = yield* f(current)
            if (next !== current) {
              yield* persist(next)
              yield* Ref.set(state, next)
            }
            return result
          })
        )
    }
    return store
  })

/**
 * A store that lives in memory only.
 *
 * @category constructors
 * @since 0.1.0
 */
export const memory = <A>(initial: A): Effect.Effect<JsonStore<A>> => makeWith(initial, () => Effect.void)

let tempCounter = 0

/**
 * A store persisted to the JSON file at `path`: read (and decoded with `schema`) now if it exists, else `initial`;
 * rewritten atomically after every change.
 *
 * @category constructors
 * @since 0.1.0
 */
export const file = <S extends Schema.Codec<any, any, never, never>>(options: {
  readonly path: string
  readonly schema: S
  readonly initial: S["Type"]
}): Effect.Effect<JsonStore<S["Type"]>, JsonStoreError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const { path } = options
    const codec = Schema.fromJsonString(options.schema, { space: 2 })
    const fail = (operation: "read" | "write") => (cause: { readonly message: string }) =>
      new JsonStoreError({ path, operation, description: cause.message })

    const exists = yield* fs.exists(path).pipe(Effect.mapError(fail("read")))
    const initial: S["Type"] = exists
      ? yield* fs.readFileString(path).pipe(
        Effect.flatMap((text) => Schema.decodeUnknownEffect(codec)(text)),
        Effect.mapError(fail("read"))
      )
      : options.initial

    // The temp file sits next to the target so the rename stays on one file system (atomic on POSIX).
    const persist = (state: S["Type"]) =>
      Effect.gen(function*() {
        const text = yield* Schema.encodeEffect(codec)(state)
        const temp = `${path}.${process.pid}.${++tempCounter}.tmp`
        yield* fs.writeFileString(temp, text).pipe(
          Effect.andThen(fs.rename(temp, path)),
          Effect.tapError(() => Effect.ignore(fs.remove(temp)))
        )
      }).pipe(Effect.mapError(fail("write")))

    return yield* makeWith<S["Type"]>(initial, persist)
  })
