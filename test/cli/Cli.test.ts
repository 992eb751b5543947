// The `effect-llama` command through child processes (the source entry, run by node): info, complete, embed,
// chat over piped stdin (and Ctrl-C stopping a reply), serve with a graceful SIGTERM, pull, models, and the
// one-line errors and exit codes.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureModel } from "../../scripts/models.ts"
import { exitCodes } from "../../src/cli/CliFailure.ts"
import * as GgufReader from "../../src/gguf/GgufReader.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl, scriptedModel, sseData } from "../server/support.ts"
import { fakeHost, killWithParent, sha256, smallGguf, tempDir } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const entry = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const start = (args: ReadonlyArray<string>, env: Record<string, string> = {}): ChildProcess =>
  killWithParent(spawn(process.execPath, [entry, ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] }))

const finish = (child: ChildProcess) =>
  Effect.callback<Run>((resume) => {
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const cli = (args: ReadonlyArray<string>, options: { readonly stdin?: string; readonly env?: Record<string, string> } = {}) =>
  Effect.suspend(() => {
    const child = start(args, options.env)
    child.stdin!.end(options.stdin ?? "")
    return finish(child)
  }).pipe(Effect.timeout("120 seconds"))

// Resolves once `stream` has printed something matching `pattern`.
const waitFor = (child: ChildProcess, stream: "stdout" | "stderr", pattern: RegExp) =>
  Effect.callback<RegExpExecArray>((resume) => {
    let text = ""
    const onData = (d: Buffer) => {
      text += d
      const match = pattern.exec(text)
      if (match !== null) {
        child[stream]!.off("data", onData)
        resume(Effect.succeed(match))
      }
    }
    child[stream]!.on("data", onData)
    return Effect.sync(() => child[stream]!.off("data", onData))
  }).pipe(Effect.timeout("60 seconds"))

const oneLine = (stderr: string) => stderr.trim().split("\n")

describe("effect-llama CLI", () => {
  it.live("--help lists the commands; a usage error is one line and exit 2", () =>
    Effect.gen(function*() {
      const help = yield* cli(["--help"])
      assert.strictEqual(help.code, 0)
      for (const command of ["chat", "complete", "embed", "serve", "info", "bench", "models", "pull"]) assert.include(help.stdout, command)
      const usage = yield* cli(["complete", "-m", "m.gguf", "--max-tokens", "many", "x"])
      assert.strictEqual(usage.code, exitCodes.Usage)
      assert.deepStrictEqual(oneLine(usage.stderr), [
        'effect-llama: Invalid value for flag --max-tokens: "many". Expected a string representing a finite number (see: effect-llama complete --help)'
      ])
    }))

  it.live("info prints the architecture and tensor count without loading the model; --json too", () =>
    Effect.gen(function*() {
      const file = yield* GgufReader.read(tinyQwen, { maxArrayLength: 16 })
      const text = yield* cli(["info", tinyQwen])
      assert.strictEqual(text.code, 0)
      assert.match(text.stdout, /^architecture\s+qwen2$/m)
      assert.match(text.stdout, new RegExp(`^tensors\\s+${file.tensors.length}$`, "m"))
      assert.include(text.stdout, "token_embd.weight")
      const json = yield* cli(["info", tinyQwen, "--json"])
      const parsed = JSON.parse(json.stdout) as { architecture: string; tensorCount: number; tensors: Array<{ name: string }> }
      assert.strictEqual(parsed.architecture, "qwen2")
      assert.strictEqual(parsed.tensorCount, file.tensors.length)
      assert.deepStrictEqual(parsed.tensors.map((t) => t.name), file.tensors.map((t) => t.name))
    }))

  it.live("a missing model file exits 3 with one line, no stack trace", () =>
    Effect.gen(function*() {
      for (const args of [["info", "/nowhere/model.gguf"], ["complete", "-m", "/nowhere/model.gguf", "hi"], ["serve", "-m", "/nowhere/model.gguf"]]) {
        const run = yield* cli(args)
        assert.strictEqual(run.code, exitCodes.ModelFile)
        assert.deepStrictEqual(oneLine(run.stderr), ["effect-llama: model file not found: /nowhere/model.gguf"])
      }
      // A file that is not a GGUF: still one line, the same kind.
      const notGguf = yield* cli(["complete", "-m", entry, "hi"])
      assert.strictEqual(notGguf.code, exitCodes.ModelFile)
      assert.strictEqual(oneLine(notGguf.stderr).length, 1)
      assert.notInclude(notGguf.stderr, "    at ")
    }))

  it.live("complete streams a continuation; --json reports it with usage; embed --json gives one vector per text", () =>
    Effect.gen(function*() {
      const args = ["complete", "-m", tinyQwen, "-n", "8", "--temperature", "0", "--threads", "1"]
      const json = yield* cli([...args, "--json", "Once", "upon", "a", "time"])
      assert.strictEqual(json.code, 0)
      const result = JSON.parse(json.stdout) as { text: string; finishReason: string; usage: { promptTokens: number; completionTokens: number } }
      assert.strictEqual(result.finishReason, "length")
      assert.deepStrictEqual(result.usage, { promptTokens: 4, completionTokens: 8 })
      const plain = yield* cli(args, { stdin: "Once upon a time" }) // the prompt from stdin
      assert.strictEqual(plain.code, 0)
      assert.strictEqual(plain.stdout, `${result.text}\n`)
      const embed = yield* cli(["embed", "-m", tinyQwen, "--json", "--threads", "1", "the sea", "a river"])
      assert.strictEqual(embed.code, 0)
      const vectors = JSON.parse(embed.stdout) as { dimensions: number; embeddings: Array<Array<number>> }
      assert.strictEqual(vectors.dimensions, 64)
      assert.strictEqual(vectors.embeddings.length, 2)
      for (const v of vectors.embeddings) assert.approximately(Math.hypot(...v), 1, 1e-4)
    }))

  it.live("bench --json reports prompt processing and generation speed", () =>
    Effect.gen(function*() {
      const run = yield* cli(["bench", "-m", tinyQwen, "--pp", "64", "--tg", "16", "--reps", "2", "--threads", "1", "--json"])
      assert.strictEqual(run.code, 0)
      const report = JSON.parse(run.stdout) as { threads: number; results: Array<{ test: string; tokensPerSecond: number }> }
      assert.strictEqual(report.threads, 1)
      assert.deepStrictEqual(report.results.map((r) => r.test), ["pp64", "tg16"])
      assert.isTrue(report.results.every((r) => Number.isFinite(r.tokensPerSecond) && r.tokensPerSecond > 0))
    }))

  it.live("chat over piped stdin answers twice and exits on /exit", () =>
    Effect.gen(function*() {
      const args = ["chat", "-m", tinyQwen, "-n", "10", "--threads", "1", "--system", "Be brief."]
      const json = yield* cli([...args, "--json"], { stdin: "hello\nhow are you?\n/exit\nnot read\n" })
      assert.strictEqual(json.code, 0)
      const replies = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as { role: string; content: string; usage: { inputTokens: number } })
      assert.strictEqual(replies.length, 2)
      assert.isTrue(replies.every((r) => r.role === "assistant" && typeof r.content === "string"))
      // The second turn's prompt holds the first exchange.
      assert.isAbove(replies[1]!.usage.inputTokens, replies[0]!.usage.inputTokens)
      const reset = yield* cli([...args, "--json"], { stdin: "hello\n/reset\nhello\n" })
      const [first, second] = reset.stdout.trim().split("\n").map((line) => JSON.parse(line) as { usage: { inputTokens: number } })
      assert.strictEqual(second!.usage.inputTokens, first!.usage.inputTokens) // /reset dropped the history
      assert.include(reset.stderr, "(history cleared)")
    }))

  it.live("Ctrl-C stops a reply without leaving the chat", () =>
    Effect.gen(function*() {
      const child = start(["chat", "-m", tinyQwen, "-n", "1500", "--threads", "1"])
      const done = yield* Effect.forkChild(finish(child))
      child.stdin!.write("Tell me a very long story.\n")
      yield* waitFor(child, "stdout", /\S{3}/) // the reply is streaming
      child.kill("SIGINT")
      yield* waitFor(child, "stdout", / \[stopped\]\n/)
      child.stdin!.write("Hi again.\n") // the chat goes on: a second reply
      child.stdin!.end("/exit\n")
      const run = yield* Fiber.join(done).pipe(Effect.timeout("60 seconds"))
      assert.strictEqual(run.code, 0)
      const [, after] = run.stdout.split(" [stopped]\n")
      assert.isAbove(after!.trim().length, 0) // the second reply
      assert.strictEqual(run.stdout.split(" [stopped]").length, 2)
    }))

  it.live("serve: listens, answers, and on SIGTERM lets the request in flight finish, then exits 0", () =>
    Effect.gen(function*() {
      const child = start(["serve", "-m", tinyQwen, "--port", "0", "--threads", "1", "--parallel", "2", "--no-embeddings", "--api-key", "k1,k2"])
      const done = yield* Effect.forkChild(finish(child))
      const [, url] = yield* waitFor(child, "stderr", /listening on (http:\/\/127\.0\.0\.1:\d+)/)
      yield* waitFor(child, "stderr", /serving effect-llama-tiny-qwen2 .* with 2 slots, API key required/)
      const health = yield* Effect.promise(() => fetch(`${url}/health`).then((r) => r.status))
      assert.strictEqual(health, 200)
      const unauthorized = yield* Effect.promise(() => fetch(`${url}/v1/models`).then((r) => r.status))
      assert.strictEqual(unauthorized, 401)
      // A streamed request of a few hundred tokens, in flight when the signal comes.
      const response = yield* Effect.promise(() =>
        fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { authorization: "Bearer k2", "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "Talk." }], max_tokens: 300, stream: true })
        })
      )
      const reader = response.body!.getReader()
      const first = yield* Effect.promise(() => reader.read())
      child.kill("SIGTERM")
      let body = new TextDecoder().decode(first.value)
      for (;;) {
        const chunk = yield* Effect.promise(() => reader.read())
        if (chunk.done) break
        body += new TextDecoder().decode(chunk.value)
      }
      assert.isTrue(body.trimEnd().endsWith("data: [DONE]"))
      const run = yield* Fiber.join(done).pipe(Effect.timeout("30 seconds"))
      assert.strictEqual(run.code, 0)
      assert.include(run.stderr, "shutting down")
      const refused = yield* Effect.promise(() => fetch(`${url}/health`).then(() => "answered", () => "refused"))
      assert.strictEqual(refused, "refused")
    }))

  it.live("serve: a request still running when the grace period ends is cut, and the process exits 0", () =>
    Effect.gen(function*() {
      const child = start(["serve", "-m", tinyQwen, "--port", "0", "--threads", "1", "--parallel", "1", "--no-embeddings", "--grace", "0.3"])
      const done = yield* Effect.forkChild(finish(child))
      const [, url] = yield* waitFor(child, "stderr", /listening on (http:\/\/127\.0\.0\.1:\d+)/)
      yield* waitFor(child, "stderr", /serving /)
      const response = yield* Effect.promise(() =>
        fetch(`${url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "Talk for long." }], max_tokens: 1900, stream: true })
        })
      )
      const reader = response.body!.getReader()
      yield* Effect.promise(() => reader.read())
      const signalled = performance.now()
      child.kill("SIGTERM")
      let body = ""
      const ended = yield* Effect.promise(async () => {
        try {
          for (;;) {
            const chunk = await reader.read()
            if (chunk.done) return "ended"
            body += new TextDecoder().decode(chunk.value)
          }
        } catch {
          return "cut"
        }
      })
      const run = yield* Fiber.join(done).pipe(Effect.timeout("30 seconds"))
      assert.strictEqual(run.code, 0)
      assert.notInclude(body, "[DONE]") // the answer did not finish: it was aborted
      assert.include(["ended", "cut"], ended)
      assert.isBelow(performance.now() - signalled, 10_000)
    }))

  it.live("serve --upstream: a gateway to another OpenAI-compatible server, with its key", () =>
    Effect.gen(function*() {
      // The upstream: our server on a scripted model, in this process, behind a key.
      const context = yield* Layer.build(OpenAiServer.layerNode(scriptedModel("hello from upstream"), { port: 0, apiKeys: ["up-key"], modelId: "big" }))
      const upstream = yield* baseUrl.pipe(Effect.provideContext(context))
      const child = start(["serve", "--upstream", `${upstream}/v1`, "--upstream-model", "big", "--upstream-key", "up-key", "--port", "0", "--no-embeddings"])
      const done = yield* Effect.forkChild(finish(child))
      const [, url] = yield* waitFor(child, "stderr", /listening on (http:\/\/127\.0\.0\.1:\d+) \(upstream /)
      yield* waitFor(child, "stderr", /serving big /)
      const chat = (stream: boolean) =>
        Effect.promise(() =>
          fetch(`${url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ model: "big", messages: [{ role: "user", content: "hi" }], stream })
          }).then(async (r) => ({ status: r.status, text: await r.text() }))
        )
      const plain = yield* chat(false)
      assert.strictEqual(plain.status, 200)
      assert.strictEqual((JSON.parse(plain.text) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content, "hello from upstream")
      const streamed = yield* chat(true)
      const frames = sseData(streamed.text)
      assert.strictEqual(frames.at(-1), "[DONE]")
      const text = frames.slice(0, -1).map((f) => (JSON.parse(f) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? "").join("")
      assert.strictEqual(text, "hello from upstream")
      child.kill("SIGTERM")
      const run = yield* Fiber.join(done).pipe(Effect.timeout("30 seconds"))
      assert.strictEqual(run.code, 0)
      // A wrong upstream key is the gateway's problem, not the client's: a 500 that says what the upstream said.
      const wrong = start(["serve", "--upstream", `${upstream}/v1`, "--upstream-model", "big", "--upstream-key", "nope", "--port", "0", "--no-embeddings"])
      const wrongDone = yield* Effect.forkChild(finish(wrong))
      const [, wrongUrl] = yield* waitFor(wrong, "stderr", /listening on (http:\/\/127\.0\.0\.1:\d+)/)
      yield* waitFor(wrong, "stderr", /serving big /)
      const refused = yield* Effect.promise(() =>
        fetch(`${wrongUrl}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] })
        }).then((r) => r.status)
      )
      assert.strictEqual(refused, 500)
      wrong.kill("SIGTERM")
      assert.strictEqual((yield* Fiber.join(wrongDone).pipe(Effect.timeout("30 seconds"))).code, 0)
      const usage = yield* cli(["serve", "--upstream", `${upstream}/v1`])
      assert.strictEqual(usage.code, exitCodes.Usage)
      assert.deepStrictEqual(oneLine(usage.stderr), ["effect-llama: --upstream needs --upstream-model"])
    }).pipe(Effect.scoped))

  it.live("pull (a loopback host) then models; a 404 exits 4 and a checksum mismatch 5, each with one line", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("effect-llama-cli-")
      const host = yield* fakeHost
      const bytes = yield* smallGguf(dir, "src.gguf")
      host.files.set("/test/repo/resolve/main/small-Q8_0.gguf", { bytes })
      host.files.set("/test/bad/resolve/main/bad.gguf", { bytes, reportedSha256: "1".repeat(64) })
      const env = { EFFECT_LLAMA_MODELS: join(dir, "models"), HF_ENDPOINT: host.url }
      const pulled = yield* cli(["pull", "hf:test/repo:q8_0"], { env })
      assert.strictEqual(pulled.code, 0)
      const path = join(dir, "models", "huggingface", "test", "repo", "small-Q8_0.gguf")
      assert.strictEqual(pulled.stdout, `${path}\n`)
      assert.include(pulled.stderr, `small-Q8_0.gguf: sha256 ${sha256(bytes)} (verified)`)
      const listed = yield* cli(["models", "--json"], { env })
      const models = JSON.parse(listed.stdout) as { models: Array<{ name: string; size: number }> }
      assert.deepStrictEqual(models.models.map((m) => [m.name, m.size]), [[join("huggingface", "test", "repo", "small-Q8_0.gguf"), bytes.length]])
      const info = yield* cli(["info", path])
      assert.match(info.stdout, /^architecture\s+llama$/m)
      const missing = yield* cli(["pull", `${host.url}/files/none.gguf`], { env })
      assert.strictEqual(missing.code, exitCodes.Download)
      assert.deepStrictEqual(oneLine(missing.stderr).filter((l) => l.startsWith("effect-llama:")), [
        `effect-llama: none.gguf not found (HTTP 404): ${host.url}/files/none.gguf`
      ])
      const bad = yield* cli(["pull", "hf:test/bad/bad.gguf"], { env })
      assert.strictEqual(bad.code, exitCodes.Checksum)
      assert.match(oneLine(bad.stderr).at(-1)!, /^effect-llama: bad\.gguf: sha256 [0-9a-f]{64}, expected 1{64}; the download was deleted$/)
    }))
})
