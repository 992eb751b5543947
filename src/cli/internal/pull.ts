/**
 * `effect-llama pull <source>` (download with a progress bar: size, speed, ETA) and `effect-llama models` (the
 * cache's contents).
 *
 * @internal
 */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { basename } from "node:path"
import * as ModelCache from "../ModelCache.ts"
import * as ModelPull from "../ModelPull.ts"
import * as Flags from "./flags.ts"
import { formatBytes, formatSeconds, json, out, ProgressBar, status } from "./output.ts"

/** @internal */
export const pull = Command.make("pull", {
  source: Argument.String("source").pipe(
    Argument.withDescription("hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant> (e.g. :Q4_K_M), or an https URL")
  ),
  sha256: Flag.String("sha256").pipe(Flag.withDescription("the expected sha256 of a single-file download"), Flag.optional),
  json: Flags.json
}, (flags) =>
  Effect.gen(function*() {
    const directory = ModelCache.directory()
    const bars = new Map<string, ProgressBar>()
    const bar = (path: string) => {
      let found = bars.get(path)
      if (found === undefined) {
        found = new ProgressBar(basename(path))
        bars.set(path, found)
      }
      return found
    }
    let files: ReadonlyArray<{ readonly path: string; readonly size: number; readonly sha256: string }> = []
    yield* ModelPull.pull(flags.source, {
      directory,
      ...Option.match(flags.sha256, { onNone: () => ({}), onSome: (sha256) => ({ sha256 }) })
    }).pipe(
      Stream.runForEach((event) =>
        Effect.sync(() => {
          switch (event.type) {
            case "resolved":
              if (!flags.json) {
                const total = event.files.reduce((n, f) => n + (f.size ?? 0), 0)
                process.stderr.write(`pulling ${event.files.length} file${event.files.length === 1 ? "" : "s"}${total > 0 ? ` (${formatBytes(total)})` : ""} into ${directory}\n`)
              }
              break
            case "progress": {
              const fraction = event.total === undefined || event.total === 0 ? undefined : event.received / event.total
              const eta = event.total === undefined || event.bytesPerSecond <= 0 ? Number.NaN : (event.total - event.received) / event.bytesPerSecond
              bar(event.path).update(
                fraction,
                `${formatBytes(event.received)}${event.total === undefined ? "" : ` / ${formatBytes(event.total)}`}  ${formatBytes(event.bytesPerSecond)}/s  ETA ${formatSeconds(eta)}`
              )
              break
            }
            case "resumed":
              if (!flags.json) process.stderr.write(`\rresuming ${basename(event.path)} at ${formatBytes(event.offset)}\x1b[K\n`)
              break
            case "verified":
              bar(event.path).done(
                flags.json ? undefined : `${basename(event.path)}: sha256 ${event.sha256} (${event.checked ? "verified" : "no digest published; computed"})`
              )
              break
            case "done":
              files = event.files
              break
          }
        })
      )
    )
    if (flags.json) return yield* json({ directory, files })
    for (const file of files) yield* out(`${file.path}\n`)
  })).pipe(Command.withDescription("Download a model into the cache ($EFFECT_LLAMA_MODELS), resuming and verifying it"))

/** @internal */
export const models = Command.make("models", { json: Flags.json }, (flags) =>
  Effect.gen(function*() {
    const directory = ModelCache.directory()
    const entries = yield* ModelCache.list(directory)
    if (flags.json) {
      return yield* json({
        directory,
        models: entries.map((e) => ({ name: e.name, path: e.path, size: e.size, modified: e.modified.toISOString(), ...(e.split === undefined ? {} : { split: e.split }) }))
      })
    }
    if (entries.length === 0) return yield* status(`no models in ${directory} (effect-llama pull <source> adds one)`)
    yield* status(`models in ${directory}`)
    const width = Math.max(...entries.map((e) => e.name.length))
    for (const entry of entries) {
      yield* out(`${entry.name.padEnd(width)}  ${formatBytes(entry.size).padStart(10)}  ${entry.modified.toISOString().slice(0, 10)}\n`)
    }
  })).pipe(Command.withDescription("List the models in the local cache"))
