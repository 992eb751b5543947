// `effect-llama mcp`: the command parses its flags and serves the built-in tools; over HTTP it listens on a loopback
// port (0: a free one) and says where on stderr; its state can live in JSON files.
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem, Layer } from "effect"
import { McpClient, McpProtocol } from "effect/ai"
import { FetchHttpClient } from "effect/http"
import { NodeFileSystem } from "@effect/platform-node"
import { spawn } from "node:child_process"

// The real `effect-llama` executable, where `mcp` is mounted.
const cli = new URL("../../src/cli/main.ts", import.meta.url).pathname

// Starts `effect-llama mcp ...args` and waits for the URL it prints; the process is killed when the scope closes.
const startHttp = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly url: string; readonly child: ReturnType<typeof spawn> }, Error>((resume) => {
      const child = spawn(process.execPath, [cli, "mcp", "--transport", "http", "--port", "0", ...args], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr.on("data", (d) => {
        stderr += d
        const match = /effect-llama mcp: (http:\/\/\S+)/.exec(stderr)
        if (match !== null) resume(Effect.succeed({ url: match[1]!, child }))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`mcp exited with ${code}: ${stderr}`))))
      return Effect.sync(() => child.kill())
    }),
    ({ child }) => Effect.sync(() => child.kill())
  )

const client = (url: string) =>
  McpClient.layerHttp({ name: "test", version: "1", protocol: McpProtocol.v2025_11_25, url }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

describe("effect-llama mcp", () => {
  it.live("--transport http --tools todo: a loopback endpoint serving the todo tools only", () =>
    Effect.gen(function*() {
      const { url } = yield* startHttp(["--tools", "todo"])
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
      yield* Effect.gen(function*() {
        const mcp = yield* McpClient.McpClient
        const tools = yield* mcp.listTools()
        assert.deepStrictEqual(tools.map((t) => t.name), ["TodoAdd", "TodoList", "TodoComplete", "TodoDelete"])
        const added = yield* mcp.callTool({ tool: tools[0]!, arguments: { title: "ship it" } })
        assert.strictEqual((added.structuredContent as { readonly title: string }).title, "ship it")
      }).pipe(Effect.provide(client(url)))
    }), 60_000)

  it.live("--data-dir keeps the tools' state in JSON files", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const { url } = yield* startHttp(["--tools", "notes", "--data-dir", dir, "--path", "/tools"])
      assert.match(url, /\/tools$/)
      yield* Effect.gen(function*() {
        const mcp = yield* McpClient.McpClient
        const tools = yield* mcp.listTools()
        yield* mcp.callTool({ tool: tools.find((t) => t.name === "NoteCreate")!, arguments: { title: "kept", content: "on disk" } })
      }).pipe(Effect.provide(client(url)))
      const saved = JSON.parse(yield* fs.readFileString(`${dir}/notes.json`)) as { readonly notes: ReadonlyArray<{ title: string }> }
      assert.deepStrictEqual(saved.notes.map((n) => n.title), ["kept"])
    }).pipe(Effect.provide(NodeFileSystem.layer)), 60_000)

  it.live("a bad flag value is a usage error", () =>
    Effect.gen(function*() {
      const result = yield* Effect.callback<{ readonly code: number | null; readonly out: string }>((resume) => {
        const child = spawn(process.execPath, [cli, "mcp", "--transport", "carrier-pigeon"], { stdio: ["ignore", "pipe", "pipe"] })
        let out = ""
        child.stdout.on("data", (d) => (out += d))
        child.stderr.on("data", (d) => (out += d))
        child.on("close", (code) => resume(Effect.succeed({ code, out })))
        return Effect.sync(() => child.kill())
      })
      assert.notStrictEqual(result.code, 0)
      assert.include(result.out, "carrier-pigeon")
    }), 60_000)
})
