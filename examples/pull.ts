/**
 * Download a model with `ModelPull.pull`, a Stream of progress events (resolved files, bytes and speed, resumes,
 * the verified sha256). This example serves the generated model from a loopback HTTP server so it runs offline;
 * pass a real source to fetch one: `node examples/pull.ts hf:<user>/<repo>:Q4_K_M`.
 * Run: node examples/pull.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Stream } from "effect"
import { createReadStream, statSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ModelPull } from "../src/index.ts"
import { modelPath } from "./model.ts"

// A file host on 127.0.0.1 serving the generated model (closed with the program).
const localHost = Effect.acquireRelease(
  Effect.callback<ReturnType<typeof createServer>>((resume) => {
    const server = createServer((_, response) => {
      response.writeHead(200, { "content-length": String(statSync(modelPath).size) })
      createReadStream(modelPath).pipe(response)
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
)

const program = Effect.gen(function*() {
  const given = process.argv[2]
  const source = given ?? `http://127.0.0.1:${((yield* localHost).address() as AddressInfo).port}/tiny-qwen2.gguf`
  // A scratch cache, removed at the end (the CLI uses ModelCache.directory(): $EFFECT_LLAMA_MODELS).
  const directory = yield* Effect.acquireRelease(
    Effect.promise(() => mkdtemp(join(tmpdir(), "effect-llama-pull-example-"))),
    (dir) => Effect.promise(() => rm(dir, { recursive: true, force: true }))
  )
  yield* ModelPull.pull(source, { directory }).pipe(
    Stream.runForEach((event) => {
      switch (event.type) {
        case "resolved":
          return Console.log(`resolved ${event.files.length} file(s): ${event.files.map((f) => f.url).join(", ")}`)
        case "progress":
          return Console.log(`  ${event.received} of ${event.total ?? "?"} bytes, ${(event.bytesPerSecond / 1e6).toFixed(1)} MB/s`)
        case "resumed":
          return Console.log(`  resumed at ${event.offset}`)
        case "verified":
          return Console.log(`verified ${event.path}: sha256 ${event.sha256}${event.checked ? " (matches the published digest)" : ""}`)
        case "done":
          return Console.log(`done: ${event.files.map((f) => `${f.path} (${f.size} bytes)`).join(", ")}`)
      }
    })
  )
})

NodeRuntime.runMain(program.pipe(Effect.scoped))
