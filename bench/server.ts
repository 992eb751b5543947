/**
 * `npm run bench:server`: our OpenAI-compatible server (`effect-llama serve`) against llama.cpp's `llama-server`,
 * built from the vendored source with the addon's flags, on the same model, slots, context and threads. For 1, 4
 * and 8 concurrent streaming clients: aggregate generation tokens/s and time to first token (p50, p99), side by
 * side. Both servers run as child processes for the whole bench; turns alternate (ours, theirs, ours, ...), each
 * after the machine is quiet, and one warm-up request each comes first.
 *
 * Usage: npm run bench:server -- --llama-server PATH [--model PATH] [--threads N] [--parallel 8] [--ctx 8192]
 *        [--tokens 128] [--requests 4] [--rounds 3] [--concurrency 1,4,8]
 */
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { ensureModel } from "../scripts/models.ts"
import { waitForQuiet } from "./quiet.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
// Where scripts/build-llama-tools.ts (the shared build of llama-server from vendor/llama.cpp) puts it.
const toolsDir = process.env["EFFECT_LLAMA_TOOLS_DIR"] !== undefined && process.env["EFFECT_LLAMA_TOOLS_DIR"] !== ""
  ? process.env["EFFECT_LLAMA_TOOLS_DIR"]
  : join(root, ".cache", "llama-tools")
const defaultLlamaServer = join(toolsDir, "bin", "llama-server")

const { values } = parseArgs({
  options: {
    "llama-server": { type: "string" },
    model: { type: "string" },
    threads: { type: "string" },
    parallel: { type: "string", default: "8" },
    ctx: { type: "string", default: "8192" },
    tokens: { type: "string", default: "128" },
    requests: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "1,4,8" },
    help: { type: "boolean", default: false }
  }
})
if (values.help) {
  console.log("npm run bench:server -- --llama-server PATH [--model PATH] [--threads N] [--parallel 8] [--ctx 8192] [--tokens 128] [--requests 4] [--rounds 3] [--concurrency 1,4,8]")
  process.exit(0)
}
const llamaServer = values["llama-server"] ?? process.env["LLAMA_SERVER"] ?? defaultLlamaServer
if (!existsSync(llamaServer)) {
  console.error(`bench:server: no llama-server at ${llamaServer}; build it (scripts/build-llama-tools.ts) or pass --llama-server PATH`)
  process.exit(2)
}
const threads = Number(values.threads ?? availableParallelism())
const parallel = Number(values.parallel)
const ctx = Number(values.ctx)
const tokens = Number(values.tokens)
const requests = Number(values.requests)
const rounds = Number(values.rounds)
const levels = values.concurrency.split(",").map(Number)
const model = values.model ?? (await ensureModel("bench-0.5b"))

const freePort = () =>
  new Promise<number>((done) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port
      server.close(() => done(port))
    })
  })

const waitHealthy = async (url: string, child: ChildProcess, name: string) => {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    const status = await fetch(`${url}/health`).then((r) => r.status, () => 0)
    if (status === 200) return
    await new Promise((r) => setTimeout(r, 200))
  }
}

interface Contender {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
}

const startOurs = async (): Promise<Contender> => {
  const port = await freePort()
  const child = spawn(process.execPath, [
    join(root, "src", "cli", "main.ts"), "serve", "-m", model, "--port", String(port), "--parallel", String(parallel),
    "--ctx-size", String(ctx), "--threads", String(threads), "--no-embeddings", "--no-chat-page"
  ], { stdio: ["ignore", "ignore", "inherit"] })
  const url = `http://127.0.0.1:${port}`
  await waitHealthy(url, child, "effect-llama serve")
  return { name: "effect-llama", url, child }
}

const startTheirs = async (): Promise<Contender> => {
  const port = await freePort()
  const child = spawn(llamaServer, [
    "-m", model, "--host", "127.0.0.1", "--port", String(port), "-np", String(parallel), "-c", String(ctx),
    "-t", String(threads), "-tb", String(threads), "--no-webui", "--jinja", "-lv", "0"
  ], { stdio: ["ignore", "ignore", "ignore"] })
  const url = `http://127.0.0.1:${port}`
  await waitHealthy(url, child, "llama-server")
  return { name: "llama-server", url, child }
}

interface Sample {
  readonly ttftMs: number
  readonly completionTokens: number
}

// One streamed chat completion: time to the first content chunk, and the generated tokens (usage chunk).
const request = async (url: string, index: number): Promise<Sample> => {
  const started = performance.now()
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: [{ role: "user", content: `Write story number ${index} about a lighthouse keeper.` }],
      max_tokens: tokens,
      temperature: 0.8,
      seed: index,
      stream: true,
      stream_options: { include_usage: true }
    })
  })
  if (response.status !== 200) throw new Error(`HTTP ${response.status} from ${url}: ${await response.text()}`)
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ""
  let ttftMs = Number.NaN
  let contentChunks = 0
  let completionTokens: number | undefined
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += decoder.decode(value, { stream: true })
    let end: number
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (!frame.startsWith("data: ") || frame === "data: [DONE]") continue
      const chunk = JSON.parse(frame.slice(6)) as {
        choices: Array<{ delta?: { content?: string | null } }>
        usage?: { completion_tokens: number } | null
      }
      if ((chunk.choices[0]?.delta?.content ?? "") !== "") {
        if (contentChunks === 0) ttftMs = performance.now() - started
        contentChunks++
      }
      if (chunk.usage != null) completionTokens = chunk.usage.completion_tokens
    }
  }
  return { ttftMs, completionTokens: completionTokens ?? contentChunks }
}

// `clients` clients at once, each making `requests` requests one after another.
const turn = async (contender: Contender, clients: number, offset: number) => {
  const started = performance.now()
  const samples = (await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const out: Array<Sample> = []
    for (let r = 0; r < requests; r++) {
      out.push(await request(contender.url, offset + c * requests + r).catch((error: unknown) => {
        // Say whose request failed, and whether its process is gone (a crash), before the bench stops.
        const { exitCode, signalCode } = contender.child
        const state = exitCode === null && signalCode === null ? "still running" : `exited (${signalCode ?? exitCode})`
        throw new Error(`${contender.name}: a request failed (${String(error)}); the server is ${state}`, { cause: error })
      }))
    }
    return out
  }))).flat()
  const seconds = (performance.now() - started) / 1000
  return { tokensPerSecond: samples.reduce((n, s) => n + s.completionTokens, 0) / seconds, ttft: samples.map((s) => s.ttftMs) }
}

const percentile = (values: ReadonlyArray<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
const median = (values: ReadonlyArray<number>) => percentile(values, 50)

console.error(`bench:server: ${model}, ${parallel} slots, context ${ctx}, ${threads} threads, ${tokens} tokens per request`)
const children: Array<ChildProcess> = []
const stopAll = () => {
  for (const child of children) child.kill("SIGTERM")
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    stopAll()
    process.exit(130)
  })
}
const ours = await startOurs()
children.push(ours.child)
const theirs = await startTheirs()
children.push(theirs.child)
try {
  for (const c of [ours, theirs]) await request(c.url, 0) // warm-up
  const rows: Array<string> = []
  for (const clients of levels) {
    const results = new Map<string, { tps: Array<number>; ttft: Array<number> }>([[ours.name, { tps: [], ttft: [] }], [theirs.name, { tps: [], ttft: [] }]])
    for (let round = 0; round < rounds; round++) {
      for (const contender of round % 2 === 0 ? [ours, theirs] : [theirs, ours]) {
        await waitForQuiet(0.15, 20_000)
        const result = await turn(contender, clients, 1000 * round)
        results.get(contender.name)!.tps.push(result.tokensPerSecond)
        results.get(contender.name)!.ttft.push(...result.ttft)
        console.error(`  ${clients} clients, round ${round + 1}: ${contender.name} ${result.tokensPerSecond.toFixed(1)} tokens/s`)
      }
    }
    const a = results.get(ours.name)!
    const b = results.get(theirs.name)!
    const tps = [median(a.tps), median(b.tps)]
    const p50 = [median(a.ttft), median(b.ttft)]
    const p99 = [percentile(a.ttft, 99), percentile(b.ttft, 99)]
    rows.push(
      `| ${clients} | ${tps[0]!.toFixed(1)} | ${tps[1]!.toFixed(1)} | ${(tps[0]! / tps[1]!).toFixed(2)}× | ` +
        `${p50[0]!.toFixed(0)} / ${p99[0]!.toFixed(0)} | ${p50[1]!.toFixed(0)} / ${p99[1]!.toFixed(0)} | ${(p50[0]! / p50[1]!).toFixed(2)}× |`
    )
  }
  console.log("| clients | effect-llama tokens/s | llama-server tokens/s | ratio | effect-llama TTFT p50 / p99 ms | llama-server TTFT p50 / p99 ms | TTFT p50 ratio |")
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
  for (const row of rows) console.log(row)
} finally {
  stopAll()
}
