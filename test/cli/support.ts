// A loopback stand-in for Hugging Face and plain file hosts: serves generated GGUF files with Range support, a
// repo tree API with LFS digests, and faults on demand (a connection dropped at 40%, a wrong digest, 404s).
import { Effect } from "effect"
import type { ChildProcess } from "node:child_process"
import { createHash, randomBytes } from "node:crypto"
import { mkdtemp, readFile, rm } from "node:fs/promises"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as GgufFormat from "../../src/gguf/GgufFormat.ts"
import * as GgufWriter from "../../src/gguf/GgufWriter.ts"

export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), prefix))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )

/**
 * Ties `child` to this process: if the test process ends before the test's finalizer kills the child (a worker
 * killed on timeout, a crash), the child is killed with it, so no server or CLI process outlives its test.
 */
export const killWithParent = <C extends ChildProcess>(child: C): C => {
  const orphan = () => child.kill("SIGKILL")
  process.once("exit", orphan)
  child.once("exit", () => process.removeListener("exit", orphan))
  return child
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** A small real GGUF (one f32 tensor of `rows` × 256), as bytes. */
export const smallGguf = (dir: string, name: string, rows = 1024) =>
  Effect.gen(function*() {
    const path = join(dir, name)
    const data = new Uint8Array(randomBytes(rows * 256 * 4))
    yield* Effect.orDie(GgufWriter.write(path, {
      metadata: [
        ["general.architecture", GgufFormat.string("llama")],
        ["general.name", GgufFormat.string(name)],
        ["general.alignment", GgufFormat.uint32(32)]
      ],
      tensors: [{ name: "token_embd.weight", shape: [256, rows], type: GgufFormat.GgmlType.F32, data }]
    }))
    return new Uint8Array(yield* Effect.promise(() => readFile(path)))
  })

export interface HostedFile {
  readonly bytes: Uint8Array
  /** The digest the tree API reports (default: the real one). */
  readonly reportedSha256?: string
}

export interface FakeHost {
  readonly url: string
  readonly files: Map<string, HostedFile>
  /** Paths whose next full (non-Range) GET is cut after 40% of the bytes. */
  readonly dropOnce: Set<string>
  /** Every request: method, path and its Range header. */
  readonly requests: Array<{ readonly path: string; readonly range: string | undefined }>
}

const serveBytes = (host: FakeHost, path: string, request: IncomingMessage, response: ServerResponse) => {
  const file = host.files.get(path)
  if (file === undefined) {
    response.writeHead(404, { "content-type": "text/plain" }).end("not found")
    return
  }
  const bytes = file.bytes
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "")
  if (range !== null) {
    const start = Number(range[1])
    if (start >= bytes.length) {
      response.writeHead(416, { "content-range": `bytes */${bytes.length}` }).end()
      return
    }
    response.writeHead(206, {
      "content-length": String(bytes.length - start),
      "content-range": `bytes ${start}-${bytes.length - 1}/${bytes.length}`,
      "accept-ranges": "bytes"
    })
    response.end(Buffer.from(bytes.subarray(start)))
    return
  }
  response.writeHead(200, { "content-length": String(bytes.length), "accept-ranges": "bytes" })
  if (host.dropOnce.delete(path)) {
    // Send 40% of the body, then cut the connection.
    response.write(Buffer.from(bytes.subarray(0, Math.floor(bytes.length * 0.4))), () => {
      setTimeout(() => response.socket?.destroy(), 20)
    })
    return
  }
  response.end(Buffer.from(bytes))
}

/** The fake host on a free loopback port, closed with the scope. */
export const fakeHost = Effect.acquireRelease(
  Effect.callback<{ host: FakeHost; close: () => Promise<void> }>((resume) => {
    const host: FakeHost = { url: "", files: new Map(), dropOnce: new Set(), requests: [] }
    const server = createServer((request, response) => {
      const path = decodeURIComponent((request.url ?? "/").split("?")[0]!)
      host.requests.push({ path, range: request.headers.range })
      const tree = /^\/api\/models\/([^/]+\/[^/]+)\/tree\/([^/]+)$/.exec(path)
      if (tree !== null) {
        const prefix = `/${tree[1]}/resolve/${tree[2]}/`
        const entries = [...host.files.entries()].filter(([p]) => p.startsWith(prefix)).map(([p, f]) => ({
          type: "file",
          path: p.slice(prefix.length),
          size: f.bytes.length,
          lfs: { oid: f.reportedSha256 ?? sha256(f.bytes), size: f.bytes.length }
        }))
        if (entries.length === 0) response.writeHead(404).end("{}")
        else response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(entries))
        return
      }
      serveBytes(host, path, request, response)
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as AddressInfo
      ;(host as { url: string }).url = `http://127.0.0.1:${address.port}`
      resume(Effect.succeed({
        host,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections()
            server.close(() => done())
          })
      }))
    })
  }),
  ({ close }) => Effect.promise(close)
).pipe(Effect.map(({ host }) => host))
