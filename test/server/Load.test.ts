// Load: 64 concurrent streaming clients on 4 slots, a fifth of them disconnecting midway. No server errors (the
// queue's 503s are retried and every client is served), every completed stream well formed, all slots idle after,
// the queue bound reached and respected, RSS flat (after a warm-up
// round of the same load). Bounded in count and time, and event-driven: nothing here polls or sleeps. The clients
// run in a child process, so the RSS is the server's own.
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"
import { ensureModel } from "../../scripts/models.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { killWithParent } from "../cli/support.ts"
import { baseUrl } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const CLIENTS = 64
const SLOTS = 4
// Fewer than the clients beyond the slots: the bound is reached, the rest are refused (503) and retry.
const MAX_QUEUED = 24
const MAX_TOKENS = 24
const clients = fileURLToPath(new URL("./loadClients.ts", import.meta.url))

// A full garbage collection, without starting the test process with --expose-gc.
setFlagsFromString("--expose-gc")
const gc = runInNewContext("gc") as () => void

const Server = OpenAiServer.layerNode(
  OpenAiServer.localModels({ path: tinyQwen, parallel: SLOTS, contextSize: SLOTS * 1024, threads: 1, embeddings: false }).pipe(
    Layer.provide(Native.layer)
  ),
  { port: 0, maxQueued: MAX_QUEUED }
)

interface Outcome {
  readonly status: number
  readonly refused: number
  readonly disconnected: boolean
  readonly frames: ReadonlyArray<string>
}

// The clients run in a child process (test/server/loadClients.ts), so the RSS measured here is the server's.
const round = (url: string) =>
  Effect.callback<ReadonlyArray<Outcome>>((resume) => {
    const child = killWithParent(execFile(process.execPath, [clients, url, String(CLIENTS), String(MAX_TOKENS)], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resume(error === null ? Effect.succeed(JSON.parse(stdout) as ReadonlyArray<Outcome>) : Effect.die(new Error(`load clients failed: ${stderr}`)))
    }))
    return Effect.sync(() => child.kill())
  })

// A completed stream: chunks of one id, the role first, one finish reason, the usage chunk, then [DONE].
const checkStream = (frames: ReadonlyArray<string>) => {
  assert.strictEqual(frames[frames.length - 1], "[DONE]")
  const chunks = frames.slice(0, -1).map((f) => JSON.parse(f) as {
    id: string
    object: string
    choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>
    usage?: { completion_tokens: number; prompt_tokens: number }
    error?: unknown
  })
  assert.isTrue(chunks.every((c) => c.error === undefined && c.object === "chat.completion.chunk" && c.id === chunks[0]!.id))
  assert.strictEqual(chunks[0]!.choices[0]!.delta.role, "assistant")
  const finishes = chunks.filter((c) => c.choices[0]?.finish_reason != null)
  assert.strictEqual(finishes.length, 1)
  const usage = chunks[chunks.length - 1]!
  assert.deepStrictEqual(usage.choices, [])
  assert.isAtMost(usage.usage!.completion_tokens, MAX_TOKENS)
  if (finishes[0]!.choices[0]!.finish_reason === "length") assert.strictEqual(usage.usage!.completion_tokens, MAX_TOKENS)
  const contents = chunks.filter((c) => (c.choices[0]?.delta.content ?? "") !== "").length
  assert.isAtMost(contents, usage.usage!.completion_tokens)
}

layer(Server, { excludeTestServices: true, timeout: 300_000 })("load", (it) => {
  it.effect(`${CLIENTS} streaming clients on ${SLOTS} slots, 20% disconnecting: no errors, idle after, RSS flat`, () =>
    Effect.gen(function*() {
      const server = yield* OpenAiServer.OpenAiServer
      yield* server.ready
      const url = yield* baseUrl
      // Warm-up: the same load three times, so the heap, the allocator and the KV cache pages reach their working
      // size (RSS grows over the first rounds, then stays flat); a full GC before each measurement.
      for (let i = 0; i < 3; i++) {
        yield* round(url)
        yield* server.awaitIdle.pipe(Effect.timeout("30 seconds"))
      }
      gc()
      const before = process.memoryUsage().rss
      const outcomes = yield* round(url).pipe(Effect.timeout("120 seconds"))
      yield* server.awaitIdle.pipe(Effect.timeout("30 seconds"))
      gc()
      const after = process.memoryUsage().rss

      assert.deepStrictEqual(outcomes.filter((o) => o.status !== 200).map((o) => o.status), [])
      const disconnected = outcomes.filter((o) => o.disconnected)
      // 13 clients (every fifth) leave after their third content chunk, unless their answer was done sooner.
      assert.isAtLeast(disconnected.length, 10)
      for (const outcome of outcomes.filter((o) => !o.disconnected)) checkStream(outcome.frames)

      const stats = server.stats()
      assert.strictEqual(stats.busy, 0)
      assert.strictEqual(stats.queued, 0)
      // The queue filled to its bound and no further; the overflow was refused and retried until served.
      assert.strictEqual(stats.peakQueued, MAX_QUEUED)
      const refused = outcomes.reduce((n, o) => n + o.refused, 0)
      assert.isAtLeast(refused, 1)
      assert.isAtLeast(stats.rejected, refused)
      const growth = (after - before) / before
      assert.isAtMost(growth, 0.05, `RSS grew ${(growth * 100).toFixed(1)}% (${before} -> ${after})`)
    }))
})
