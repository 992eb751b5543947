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

// llama.cpp reports an aborted decode (our interruption of a generation, through the abort callback) at error
// level: ggml status 1 is GGML_STATUS_ABORTED, and llama_decode returns 2 when aborted. Those are debug lines.
const abortReports: ReadonlyArray<RegExp> = [
  /^graph_compute: ggml_backend_sched_graph_compute_async failed with error 1$/,
  /^process_ubatch: failed to compute graph, compute status: 1$/,
  /^llama_decode: failed to decode, ret = 2$/
]

const levelOf = (level: number, message: string) =>
  level >= 4 && abortReports.some((report) => report.test(message)) ? levels.debug : level

const logAt = (level: number, message: string) =>
  (level >= 4 ? Effect.logError(message) : level === 3 ? Effect.logWarning(message) : level === 2 ? Effect.logInfo(message) : Effect.logDebug(message))
    .pipe(Effect.annotateLogs("source", "llama.cpp"))

/**
 * Forwards llama.cpp logs at `minLevel` and above (default `warn`) while the layer is alive. The hook is
 * process-wide: the last such layer built wins. llama.cpp's report of an aborted decode (an interrupted generation)
 * is logged at debug level, not as an error.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = (options: { readonly minLevel?: Level } = {}): Layer.Layer<never, never, Native> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const native = yield* Native
    const services = yield* Effect.context<never>()
    const minLevel = levels[options.minLevel ?? "warn"]
    const forward = (level: number, text: string) => {
      const message = text.trimEnd()
      if (message === "") return
      const effective = levelOf(level, message)
      if (effective >= minLevel) Effect.runForkWith(services)(logAt(effective, message))
    }
    yield* Effect.acquireRelease(
      Effect.sync(() => native.setLogger(forward, minLevel)),
      () => Effect.sync(() => native.setLogger(null))
    )
  }))
