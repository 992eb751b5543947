/**
 * Downloads models into the cache, as a Stream of progress events: `hf:<user>/<repo>/<file>.gguf`,
 * `hf:<user>/<repo>:<quant>` (the repo's GGUF of that quantization) and http(s) URLs. A download goes to
 * `<name>.partial` and is renamed only once complete and verified; an interrupted one resumes with an HTTP Range
 * request (within a pull, after a dropped connection, and across pulls); the sha256 is checked against the expected
 * digest when one is known (Hugging Face's LFS oid, or `sha256`) and reported either way; split GGUFs
 * (`-00001-of-0000N`) come together.
 *
 * @since 0.2.0
 */
import { Effect, Queue, Schedule, Schema, Stream } from "effect"
import { createHash, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"
import { mkdir, open, rename, rm, stat } from "node:fs/promises"
import { basename, dirname, join } from "node:path"
import * as ModelCache from "./ModelCache.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * Why a pull failed. `NotFound` (HTTP 404, or no such file in the repo), `HttpError` (another status),
 * `NetworkError` (the connection failed and retries ran out), `ChecksumMismatch` (the bytes are not the expected
 * ones; nothing is left under the final name), `InvalidSource`, `Ambiguous` (a quant matching several files),
 * `FileSystem`.
 *
 * @category errors
 * @since 0.2.0
 */
export class PullError extends Schema.TaggedError<PullError>()("PullError", {
  reason: Schema.Literals(["InvalidSource", "NotFound", "HttpError", "NetworkError", "ChecksumMismatch", "Ambiguous", "FileSystem"]),
  description: Schema.String,
  url: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.Number)
}) {
  override get message(): string {
    return this.description
  }
}

/**
 * A parsed source.
 *
 * @category models
 * @since 0.2.0
 */
export type Source =
  | { readonly type: "hf"; readonly repo: string; readonly file: string; readonly revision: string }
  | { readonly type: "hf-quant"; readonly repo: string; readonly quant: string; readonly revision: string }
  | { readonly type: "url"; readonly url: string }

/**
 * One file to fetch.
 *
 * @category models
 * @since 0.2.0
 */
export interface RemoteFile {
  readonly url: string
  /** Where it goes (absolute). */
  readonly path: string
  readonly size?: number
  /** The expected sha256 (hex), when known. */
  readonly sha256?: string
}

/**
 * What a pull reports, in order: the files it resolved, progress per file (at most every 100 ms), a resume after a
 * dropped connection or an earlier partial download, each verified digest, then the finished files.
 *
 * @category models
 * @since 0.2.0
 */
export type PullEvent =
  | { readonly type: "resolved"; readonly files: ReadonlyArray<RemoteFile> }
  | {
    readonly type: "progress"
    readonly path: string
    readonly received: number
    readonly total: number | undefined
    readonly bytesPerSecond: number
  }
  | { readonly type: "resumed"; readonly path: string; readonly offset: number }
  | { readonly type: "verified"; readonly path: string; readonly sha256: string; readonly checked: boolean }
  | { readonly type: "done"; readonly files: ReadonlyArray<{ readonly path: string; readonly size: number; readonly sha256: string }> }

/**
 * Options of `pull`.
 *
 * @category configuration
 * @since 0.2.0
 */
export interface Options {
  /** Cache folder. Default: `ModelCache.directory()`. */
  readonly directory?: string
  /** Expected sha256 of a single-file download. */
  readonly sha256?: string
  /** Hugging Face endpoint. Default: `HF_ENDPOINT`, else https://huggingface.co. */
  readonly endpoint?: string
  /** Hugging Face token. Default: `HF_TOKEN`. */
  readonly token?: string
  /** Retries after a dropped connection (each resumes where the last stopped). Default 5. */
  readonly retries?: number
}

// ============================================================================
// Sources
// ============================================================================

const invalid = (description: string) => new PullError({ reason: "InvalidSource", description })

const repoPattern = /^[\w.-]+\/[\w.-]+$/

/**
 * Parses `hf:<user>/<repo>/<path>.gguf[#revision]`, `hf:<user>/<repo>:<quant>[#revision]` or an http(s) URL.
 *
 * @category constructors
 * @since 0.2.0
 */
export const parseSource = (input: string): Effect.Effect<Source, PullError> =>
  Effect.suspend((): Effect.Effect<Source, PullError> => {
    if (input.startsWith("hf:")) {
      const [spec, revision = "main"] = input.slice(3).split("#", 2) as [string, string | undefined]
      const quant = /^([^/:]+\/[^/:]+):([\w.-]+)$/.exec(spec)
      if (quant !== null) return Effect.succeed({ type: "hf-quant" as const, repo: quant[1]!, quant: quant[2]!, revision })
      const parts = spec.split("/")
      const repo = parts.slice(0, 2).join("/")
      const file = parts.slice(2).join("/")
      if (!repoPattern.test(repo) || file === "" || file.split("/").some((p) => p === "" || p === "." || p === "..")) {
        return Effect.fail(invalid(`not a Hugging Face source: ${input} (hf:<user>/<repo>/<file>.gguf or hf:<user>/<repo>:<quant>)`))
      }
      return Effect.succeed({ type: "hf" as const, repo, file, revision })
    }
    let url: URL
    try {
      url = new URL(input)
    } catch {
      return Effect.fail(invalid(`not a model source: ${input} (hf:<user>/<repo>/<file>.gguf, hf:<user>/<repo>:<quant>, or an https URL)`))
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return Effect.fail(invalid(`unsupported URL scheme: ${url.protocol}`))
    if (basename(url.pathname) === "") return Effect.fail(invalid(`the URL names no file: ${input}`))
    return Effect.succeed({ type: "url" as const, url: url.href })
  })

const splitPattern = /-(\d{5})-of-(\d{5})\.gguf$/i

const splitNames = (name: string): ReadonlyArray<string> => {
  const match = splitPattern.exec(name)
  if (match === null) return [name]
  const count = Number(match[2])
  const width = match[1]!.length
  return Array.from({ length: count }, (_, i) => name.replace(splitPattern, `-${String(i + 1).padStart(width, "0")}-of-${match[2]}.gguf`))
}

interface TreeEntry {
  readonly type: string
  readonly path: string
  readonly size?: number
  readonly lfs?: { readonly oid?: string; readonly size?: number }
}

const requestHeaders = (token: string | undefined): Record<string, string> =>
  token === undefined || token === "" ? {} : { authorization: `Bearer ${token}` }

const fetchJson = (url: string, headers: Record<string, string>) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { headers, signal })
      return { status: response.status, body: response.ok ? ((await response.json()) as unknown) : await response.text() }
    },
    catch: (cause) => new PullError({ reason: "NetworkError", description: `could not reach ${url}: ${errorText(cause)}`, url })
  })

const errorText = (cause: unknown): string => {
  if (!(cause instanceof Error)) return String(cause)
  const inner = (cause as { cause?: unknown }).cause
  return inner instanceof Error ? `${cause.message} (${inner.message})` : cause.message
}

const statusError = (url: string, status: number, what: string) =>
  new PullError({
    reason: status === 404 ? "NotFound" : "HttpError",
    description: status === 404 ? `${what} not found (HTTP 404): ${url}` : `${what}: HTTP ${status} from ${url}`,
    url,
    status
  })

const hfTree = (endpoint: string, repo: string, revision: string, token: string | undefined) =>
  Effect.gen(function*() {
    const url = `${endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`
    const { status, body } = yield* fetchJson(url, requestHeaders(token))
    if (status !== 200) return yield* statusError(url, status, `repository ${repo}`)
    if (!Array.isArray(body)) return yield* new PullError({ reason: "HttpError", description: `unexpected answer from ${url}`, url })
    return (body as ReadonlyArray<TreeEntry>).filter((e) => e.type === "file")
  })

const hfFile = (endpoint: string, repo: string, revision: string, entry: TreeEntry, dir: string): RemoteFile => {
  const size = entry.lfs?.size ?? entry.size
  const oid = entry.lfs?.oid
  return {
    url: `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${entry.path.split("/").map(encodeURIComponent).join("/")}`,
    path: join(dir, "huggingface", ...repo.split("/"), ...entry.path.split("/")),
    ...(size === undefined ? {} : { size }),
    // An LFS file's oid is the sha256 of its content.
    ...(oid !== undefined && /^[0-9a-f]{64}$/.test(oid) ? { sha256: oid } : {})
  }
}

const baseOf = (path: string) => path.replace(splitPattern, ".gguf")

/**
 * The files a source stands for (all parts of a split model), with sizes and digests where the source tells them.
 *
 * @category constructors
 * @since 0.2.0
 */
export const resolve = (source: Source, options: Options = {}): Effect.Effect<ReadonlyArray<RemoteFile>, PullError> =>
  Effect.gen(function*() {
    const dir = options.directory ?? ModelCache.directory()
    const endpoint = (options.endpoint ?? process.env["HF_ENDPOINT"] ?? "https://huggingface.co").replace(/\/+$/, "")
    const token = options.token ?? process.env["HF_TOKEN"]
    if (source.type === "url") {
      const url = new URL(source.url)
      const names = splitNames(basename(url.pathname))
      if (options.sha256 !== undefined && names.length > 1) return yield* invalid("sha256 names one file, but this is a split model")
      return names.map((name): RemoteFile => {
        const part = new URL(url.href)
        part.pathname = join(dirname(url.pathname), name)
        return {
          url: part.href,
          path: join(dir, url.host.replace(/[^\w.-]/g, "_"), name),
          ...(options.sha256 === undefined ? {} : { sha256: options.sha256.toLowerCase() })
        }
      })
    }
    const tree = yield* hfTree(endpoint, source.repo, source.revision, token)
    let chosen: ReadonlyArray<TreeEntry>
    if (source.type === "hf") {
      const wanted = splitNames(source.file)
      chosen = wanted.map((name) => tree.find((e) => e.path === name)).filter((e): e is TreeEntry => e !== undefined)
      if (chosen.length !== wanted.length) {
        const missing = wanted.filter((name) => !tree.some((e) => e.path === name))
        return yield* new PullError({ reason: "NotFound", description: `${source.repo} has no file ${missing.join(", ")}` })
      }
    } else {
      const ggufs = tree.filter((e) => e.path.toLowerCase().endsWith(".gguf"))
      const quant = source.quant.toLowerCase()
      const matching = ggufs.filter((e) => basename(e.path).toLowerCase().includes(quant))
      const groups = new Map<string, Array<TreeEntry>>()
      for (const entry of matching) groups.set(baseOf(entry.path), [...(groups.get(baseOf(entry.path)) ?? []), entry])
      if (groups.size === 0) {
        return yield* new PullError({
          reason: "NotFound",
          description: `${source.repo} has no GGUF for ${source.quant}; it has: ${ggufs.map((e) => basename(e.path)).join(", ") || "no GGUF files"}`
        })
      }
      const exact = [...groups.entries()].filter(([base]) => basename(base, ".gguf").toLowerCase().endsWith(quant))
      const pick = groups.size === 1 ? [...groups.values()] : exact.map(([, files]) => files)
      if (pick.length !== 1) {
        return yield* new PullError({
          reason: "Ambiguous",
          description: `${source.quant} matches several models in ${source.repo}: ${[...groups.keys()].map((b) => basename(b)).join(", ")}`
        })
      }
      chosen = [...pick[0]!].sort((a, b) => a.path.localeCompare(b.path))
      const expected = splitNames(chosen[0]!.path)
      if (expected.length !== chosen.length) {
        return yield* new PullError({ reason: "NotFound", description: `${source.repo} holds ${chosen.length} of ${expected.length} parts of ${basename(baseOf(chosen[0]!.path))}` })
      }
    }
    if (options.sha256 !== undefined && chosen.length > 1) return yield* invalid("sha256 names one file, but this is a split model")
    return chosen.map((entry) => {
      const file = hfFile(endpoint, source.repo, source.revision, entry, dir)
      return options.sha256 === undefined ? file : { ...file, sha256: options.sha256.toLowerCase() }
    })
  })

// ============================================================================
// Download
// ============================================================================

const fsError = (path: string) => (cause: unknown) =>
  new PullError({ reason: "FileSystem", description: `${path}: ${errorText(cause)}` })

const sizeOf = (path: string): Effect.Effect<number | undefined> =>
  Effect.promise(() => stat(path).then((s) => s.size, () => undefined))

const hashFile = (path: string, hash: Hash): Effect.Effect<void, PullError> =>
  Effect.tryPromise({
    try: () =>
      new Promise<void>((done, fail) => {
        const stream = createReadStream(path)
        stream.on("data", (chunk) => hash.update(chunk))
        stream.on("end", () => done())
        stream.on("error", fail)
      }),
    catch: fsError(path)
  })

const fileSha256 = (path: string) =>
  Effect.map(Effect.tap(Effect.sync(() => createHash("sha256")), (hash) => hashFile(path, hash)), (hash) => hash.digest("hex"))

type Emit = (event: PullEvent) => Effect.Effect<void>

// One attempt: resumes from the partial file's size, appends what the server sends, returns the total size.
const attempt = (file: RemoteFile, partial: string, hash: { current: Hash }, headers: Record<string, string>, emit: Emit) =>
  Effect.gen(function*() {
    const offset = (yield* sizeOf(partial)) ?? 0
    const response = yield* Effect.tryPromise({
      try: (signal) => fetch(file.url, { headers: { ...headers, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, signal }),
      catch: (cause) => new PullError({ reason: "NetworkError", description: `could not reach ${file.url}: ${errorText(cause)}`, url: file.url })
    })
    if (response.status === 416 && offset > 0 && file.size === offset) {
      yield* Effect.promise(() => response.body?.cancel() ?? Promise.resolve())
      return offset
    }
    if (response.status !== 200 && response.status !== 206) {
      yield* Effect.promise(() => response.body?.cancel() ?? Promise.resolve())
      return yield* statusError(file.url, response.status, basename(file.path))
    }
    const resumed = response.status === 206 && offset > 0
    if (!resumed) hash.current = createHash("sha256")
    else yield* emit({ type: "resumed", path: file.path, offset })
    const length = Number(response.headers.get("content-length") ?? Number.NaN)
    const total = Number.isFinite(length) ? (resumed ? offset : 0) + length : file.size
    const handle = yield* Effect.acquireRelease(
      Effect.tryPromise({ try: () => open(partial, resumed ? "a" : "w"), catch: fsError(partial) }),
      (h) => Effect.promise(() => h.close())
    )
    let received = resumed ? offset : 0
    const started = performance.now()
    let reported = 0
    const reader = response.body!.getReader()
    yield* Effect.addFinalizer(() => Effect.promise(() => reader.cancel().catch(() => undefined)))
    for (;;) {
      const chunk = yield* Effect.tryPromise({
        try: () => reader.read(),
        catch: (cause) =>
          new PullError({ reason: "NetworkError", description: `the download of ${file.url} broke off: ${errorText(cause)}`, url: file.url })
      })
      if (chunk.done) break
      yield* Effect.tryPromise({ try: () => handle.write(chunk.value), catch: fsError(partial) })
      hash.current.update(chunk.value)
      received += chunk.value.byteLength
      const now = performance.now()
      if (now - reported >= 100) {
        reported = now
        const seconds = (now - started) / 1000
        yield* emit({ type: "progress", path: file.path, received, total, bytesPerSecond: seconds > 0 ? (received - offset) / seconds : 0 })
      }
    }
    if (total !== undefined && received !== total) {
      return yield* new PullError({
        reason: "NetworkError",
        description: `the download of ${file.url} ended at ${received} of ${total} bytes`,
        url: file.url
      })
    }
    const seconds = (performance.now() - started) / 1000
    yield* emit({ type: "progress", path: file.path, received, total: received, bytesPerSecond: seconds > 0 ? (received - offset) / seconds : 0 })
    return received
  }).pipe(Effect.scoped)

const download = (file: RemoteFile, options: Options, headers: Record<string, string>, emit: Emit) =>
  Effect.gen(function*() {
    yield* Effect.tryPromise({ try: () => mkdir(dirname(file.path), { recursive: true }), catch: fsError(dirname(file.path)) })
    // Already here (a finished earlier pull): verified, not fetched again.
    const existing = yield* sizeOf(file.path)
    if (existing !== undefined && (file.size === undefined || existing === file.size)) {
      const sha256 = yield* fileSha256(file.path)
      if (file.sha256 === undefined || file.sha256 === sha256) {
        yield* emit({ type: "verified", path: file.path, sha256, checked: file.sha256 !== undefined })
        return { path: file.path, size: existing, sha256 }
      }
    }
    const partial = `${file.path}.partial`
    const hash = { current: createHash("sha256") }
    const before = (yield* sizeOf(partial)) ?? 0
    if (before > 0) {
      if (file.size !== undefined && before > file.size) {
        yield* Effect.promise(() => rm(partial, { force: true }))
      } else {
        yield* hashFile(partial, hash.current) // a resumed download's digest covers the bytes from before
      }
    }
    const retryable = (error: PullError) => error.reason === "NetworkError" || (error.reason === "HttpError" && (error.status ?? 0) >= 500)
    const size = yield* attempt(file, partial, hash, headers, emit).pipe(
      Effect.retry({
        schedule: Schedule.min([Schedule.exponential("250 millis"), Schedule.spaced("4 seconds")]),
        times: options.retries ?? 5,
        while: retryable
      })
    )
    const sha256 = hash.current.digest("hex")
    if (file.sha256 !== undefined && file.sha256 !== sha256) {
      yield* Effect.promise(() => rm(partial, { force: true }))
      return yield* new PullError({
        reason: "ChecksumMismatch",
        description: `${basename(file.path)}: sha256 ${sha256}, expected ${file.sha256}; the download was deleted`,
        url: file.url
      })
    }
    yield* Effect.tryPromise({ try: () => rename(partial, file.path), catch: fsError(file.path) })
    yield* emit({ type: "verified", path: file.path, sha256, checked: file.sha256 !== undefined })
    return { path: file.path, size, sha256 }
  })

/**
 * Pulls a model: resolves the source, downloads every file (resuming partial ones), verifies them, and streams
 * what happens. Interrupting the stream stops the download and keeps the partial file for the next pull.
 *
 * @category constructors
 * @since 0.2.0
 */
export const pull = (source: string | Source, options: Options = {}): Stream.Stream<PullEvent, PullError> =>
  Stream.callback<PullEvent, PullError>((queue) =>
    Effect.gen(function*() {
      const emit: Emit = (event) => Effect.asVoid(Queue.offer(queue, event))
      const parsed = typeof source === "string" ? yield* parseSource(source) : source
      const files = yield* resolve(parsed, options)
      yield* emit({ type: "resolved", files })
      const endpoint = options.endpoint ?? process.env["HF_ENDPOINT"] ?? "https://huggingface.co"
      const token = options.token ?? process.env["HF_TOKEN"]
      const done = []
      for (const file of files) {
        // The token goes to the Hugging Face endpoint only.
        const headers = parsed.type !== "url" && file.url.startsWith(endpoint) ? requestHeaders(token) : {}
        done.push(yield* download(file, options, headers, emit))
      }
      yield* emit({ type: "done", files: done })
      yield* Queue.end(queue)
    }).pipe(Effect.catch((error) => Queue.fail(queue, error)))
  )
