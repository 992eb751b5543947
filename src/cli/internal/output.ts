/**
 * Terminal output for the CLI: stdout for results, stderr for status lines and progress bars (drawn only on a
 * terminal), number formatting, and where Ctrl-C goes (a running reply or server takes it before the process).
 *
 * @internal
 */
import { Effect, type Scope } from "effect"

/** Writes to stdout (results: text, JSON). @internal */
export const out = (text: string): Effect.Effect<void> => Effect.sync(() => void process.stdout.write(text))

/** One status line on stderr. @internal */
export const status = (line: string): Effect.Effect<void> => Effect.sync(() => void process.stderr.write(`${line}\n`))

/** One JSON document on stdout. @internal */
export const json = (value: unknown): Effect.Effect<void> =>
  out(`${JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v))}\n`)

/** @internal */
export const formatBytes = (bytes: number): string => {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"]
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

/** @internal */
export const formatSeconds = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?"
  if (seconds < 60) return `${Math.ceil(seconds)}s`
  const minutes = Math.floor(seconds / 60)
  return minutes < 60 ? `${minutes}m${String(Math.ceil(seconds % 60)).padStart(2, "0")}s` : `${Math.floor(minutes / 60)}h${minutes % 60}m`
}

/**
 * A progress bar on stderr, redrawn in place; nothing on a non-terminal stderr (logs and pipes stay clean).
 *
 * @internal
 */
export class ProgressBar {
  private readonly label: string
  private readonly enabled: boolean
  private last = 0
  private drawn = false
  private finished = false

  constructor(label: string, enabled: boolean = process.stderr.isTTY === true) {
    this.label = label
    this.enabled = enabled
  }

  /** Draws `fraction` (0..1, or undefined when unknown) with `detail` after the bar; at most every 80 ms. */
  update(fraction: number | undefined, detail: string = ""): void {
    if (!this.enabled || this.finished) return // a late callback after done() draws nothing
    const now = performance.now()
    if (now - this.last < 80 && fraction !== 1) return
    this.last = now
    const width = 24
    const filled = fraction === undefined ? 0 : Math.round(Math.min(1, Math.max(0, fraction)) * width)
    const percent = fraction === undefined ? "  ?%" : `${String(Math.floor(fraction * 100)).padStart(3)}%`
    const columns = process.stderr.columns ?? 100
    const line = `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent} ${detail}`
    process.stderr.write(`\r${line.slice(0, columns - 1).padEnd(Math.min(columns - 1, line.length))}\x1b[K`)
    this.drawn = true
  }

  /** Clears the bar (and prints `line` in its place, on any stderr). */
  done(line?: string): void {
    if (this.enabled && this.drawn && !this.finished) process.stderr.write("\r\x1b[K")
    this.finished = true
    if (line !== undefined) process.stderr.write(`${line}\n`)
  }
}

// Ctrl-C goes to the innermost handler that wants it (a reply being streamed, a server); with none, the process
// is interrupted.
const handlers: Array<() => boolean> = []

/** Routes a SIGINT/SIGTERM: true if a handler took it. @internal */
export const routeSignal = (): boolean => {
  for (let i = handlers.length - 1; i >= 0; i--) if (handlers[i]!()) return true
  return false
}

/** Installs a signal handler for the life of the Scope. @internal */
export const onSignal = (handler: () => boolean): Effect.Effect<void, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => void handlers.push(handler)),
    () =>
      Effect.sync(() => {
        const at = handlers.lastIndexOf(handler)
        if (at >= 0) handlers.splice(at, 1)
      })
  )
