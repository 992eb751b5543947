/**
 * llama.cpp's own log messages, forwarded to Effect's Logger (annotated `source: "llama.cpp"`) at their level.
 * Without this layer the addon stays silent: it never writes to stdout or stderr.
 *
 * @since 0.1.0
 */
import { Effect, Layer } from "effect"
import { Native } from "../native/Native.ts"

/**
 * The lowest llama.cpp level forwarded.
 *
 * @category models
 * @since 0.1.0
 */
export type Level = "debug" | "info" | "warn" | "error"

const levels: Record<Level, number> = { debug: 1, info: 2, warn: 3, error: 4 }

const logAt = (level: number, message: string) =>
  (level >= 4 ? Effect.logError(message) : level === 3 ? Effect.logWarning(message) : level === 2 ? Effect.logInfo(message) : Effect.logDebug(message))
    .pipe(Effect.annotateLogs("source", "llama.cpp"))

/**
 * Forwards llama.cpp logs at `minLevel` and above (default `warn`) while the layer is alive. The hook is
 * process-wide: the last such layer built wins.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: { readonly minLevel?: Level } = {}): Layer.Layer<never, never, Native> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const native = yield* Native
    const services = yield* Effect.context<never>()
    const forward = (level: number, text: string) => {
      const message = text.trimEnd()
      if (message !== "") Effect.runForkWith(services)(logAt(level, message))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => native.setLogger(forward, levels[options.minLevel ?? "warn"])),
      () => Effect.sync(() => native.setLogger(null))
    )
  }))
