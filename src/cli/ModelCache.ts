/**
 * The local model cache: where `pull` puts models (`EFFECT_LLAMA_MODELS`, else `$XDG_CACHE_HOME/effect-llama/models`,
 * else `~/.cache/effect-llama/models`) and what is in it.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type { Dirent } from "node:fs"
import { readdir, stat } from "node:fs/promises"
import { homedir } from "node:os"
import { join, relative } from "node:path"

/**
 * The cache folder for this environment.
 *
 * @category constructors
 * @since 0.2.0
 */
export const directory = (env: Readonly<Record<string, string | undefined>> = process.env): string => {
  const configured = env["EFFECT_LLAMA_MODELS"]
  if (configured !== undefined && configured !== "") return configured
  const cache = env["XDG_CACHE_HOME"]
  return join(cache !== undefined && cache !== "" ? cache : join(homedir(), ".cache"), "effect-llama", "models")
}

/**
 * One cached model file.
 *
 * @category models
 * @since 0.2.0
 */
export interface Entry {
  /** Absolute path. */
  readonly path: string
  /** Path inside the cache, e.g. `huggingface/user/repo/model-q8_0.gguf`. */
  readonly name: string
  readonly size: number
  readonly modified: Date
  /** For a split model's parts, `[index, count]` (1-based). */
  readonly split?: readonly [number, number]
}

const splitPattern = /-(\d{5})-of-(\d{5})\.gguf$/i

/**
 * The split part of a file name (`-00002-of-00003.gguf` gives `[2, 3]`).
 *
 * @category getters
 * @since 0.2.0
 */
export const splitOf = (name: string): readonly [number, number] | undefined => {
  const match = splitPattern.exec(name)
  return match === null ? undefined : [Number(match[1]), Number(match[2])]
}

/**
 * Every finished `.gguf` under the cache folder (downloads in progress, `.partial`, are left out), sorted by name.
 *
 * @category constructors
 * @since 0.2.0
 */
export const list = (dir: string = directory()): Effect.Effect<ReadonlyArray<Entry>> =>
  Effect.promise(async () => {
    let entries: Array<Dirent>
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true })
    } catch {
      return []
    }
    const files = entries.filter((e) => e.isFile() && e.name.toLowerCase().endsWith(".gguf"))
    const out: Array<Entry> = []
    for (const file of files) {
      const path = join(file.parentPath, file.name)
      const info = await stat(path)
      const split = splitOf(file.name)
      out.push({ path, name: relative(dir, path), size: info.size, modified: info.mtime, ...(split === undefined ? {} : { split }) })
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  })
