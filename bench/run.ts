/**
 * `npm run bench`: builds llama-bench and llama-batched-bench (scripts/build-llama-tools.ts, into
 * .cache/llama-tools), installs the bench dependencies when missing (bench/node_modules: node-llama-cpp and its
 * prebuilt binaries), generates the bench-0.5b model once, then runs every case on three contenders -- llama.cpp's tools, node-llama-cpp, effect-llama (raw native
 * API) -- and a fourth, effect-llama through LanguageModel.streamText (the Effect layer's overhead).
 *
 * Method: in each case, round after round, every contender runs once in turn (A B C A B C ...); the first
 * `warmup` rounds are not counted. The node contenders each live in a child process of their own, started for
 * each group of cases (loaded once per group, idle while the others run); peak RSS is measured in fresh
 * processes. Turns wait for an idle machine and are rerun when other processes took CPU. See BENCHMARKS.md.
 *
 * Usage: npm run bench [-- --threads 2 --runs 5 ...]   (npm run bench -- --help)
 */
import { execFile, execFileSync, fork, type ChildProcess } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { availableParallelism, loadavg } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { ensureModel } from "../scripts/models.ts"
import { candidatePaths } from "../src/native/Native.ts"
import type { NativeBinding } from "../src/native/NativeBinding.ts"
import { buildLlamaTools } from "../scripts/build-llama-tools.ts"
import { batchedBench, batchedBenchArgs, llamaBench, llamaBenchArgs, llamaCppRss } from "./contender-llama-cpp.ts"
import {
  EFFECT_LLAMA,
  EFFECT_STREAM_TEXT,
  LLAMA_CPP,
  machine,
  NODE_LLAMA_CPP,
  type Row,
  writeResults
} from "./report.ts"
import { waitForQuiet } from "./quiet.ts"
import { fallbackThreads, parseSettings, type Settings } from "./settings.ts"
import { type FromWorker, type Measurement, randomTokens, type Request, shortTexts } from "./workloads.ts"

const benchDir = dirname(fileURLToPath(import.meta.url))
const root = resolve(benchDir, "..")
const execFileAsync = promisify(execFile)
const MODEL = "bench-0.5b"

// ---------------------------------------------------------------------------------------------------------------
// Node contenders: a child process each, one request at a time.

class Worker {
  private readonly child: ChildProcess
  private readonly pending = new Map<number, (message: FromWorker) => void>()
  private nextId = 1
  private exited: string | undefined
  /** CPU time the worker reported for all its requests so far. */
  cpuMs = 0
  readonly ready: Promise<Readonly<Record<string, unknown>>>
  readonly name: string
  readonly file: string

  constructor(name: string, file: string, settings: Settings, mode: string, env: Readonly<Record<string, string>> = {}) {
    this.name = name
    this.file = file
    this.child = fork(join(benchDir, file), [JSON.stringify(settings), mode], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    this.ready = new Promise((resolveReady, reject) => {
      this.child.on("message", (message: FromWorker) => {
        if (message.type === "ready") resolveReady(message.info)
        else this.pending.get(message.id)?.(message)
      })
      this.child.on("exit", (code, signal) => {
        this.exited = `${this.name} worker exited (${signal ?? code})`
        reject(new Error(this.exited))
        for (const answer of this.pending.values()) answer({ type: "error", id: 0, message: this.exited })
        this.pending.clear()
      })
    })
  }

  /** The measurement, or undefined when the contender does not do this kind of request. */
  request(request: Request): Promise<Measurement | undefined> {
    if (this.exited !== undefined) return Promise.reject(new Error(this.exited))
    const id = this.nextId++
    return new Promise((resolveRequest, reject) => {
      this.pending.set(id, (message) => {
        this.pending.delete(id)
        if (message.type === "result") {
          this.cpuMs += message.cpuMs
          resolveRequest(message.measurement)
        }
        else if (message.type === "unsupported") resolveRequest(undefined)
        else if (message.type === "error") reject(new Error(`${this.name}: ${message.message}`))
      })
      this.child.send({ type: "request", id, request })
    })
  }

  async close(): Promise<void> {
    if (this.exited !== undefined) return
    const gone = new Promise((r) => this.child.once("exit", r))
    this.child.send({ type: "exit" })
    await gone
  }
}

/** Peak RSS (KiB) of a fresh process of a node contender on the probe workload (see worker-harness.ts). */
const probeRss = async (file: string, settings: Settings): Promise<number> => {
  const { stdout } = await execFileAsync(process.execPath, [join(benchDir, file), JSON.stringify(settings), "rss-probe"], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024
  })
  const last = stdout.trim().split("\n").at(-1) ?? "{}"
  return (JSON.parse(last) as { maxRssKb: number }).maxRssKb
}

// ---------------------------------------------------------------------------------------------------------------
// Setup: the model, the default thread count, the tools, the bench dependencies.

const ensureBenchDependencies = (): void => {
  if (existsSync(join(benchDir, "node_modules", "node-llama-cpp", "package.json"))) return
  // `npm install`, not `npm ci`: bench/package-lock.json may lack node-llama-cpp's binaries for other platforms
  // (a registry mirror without them), which `npm ci` refuses and `npm install` skips as missing optional packages.
  console.log("bench: installing the bench dependencies (npm install --prefix bench; node-llama-cpp downloads nothing)")
  execFileSync("npm", ["install", "--prefix", benchDir, "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" }
  })
}

const nativeInfo = () => {
  const path = candidatePaths().find((p) => existsSync(p))
  return path === undefined ? undefined : (createRequire(import.meta.url)(path) as NativeBinding).systemInfo()
}
const defaultThreads = (): number => nativeInfo()?.defaultThreads ?? fallbackThreads()
const defaultBackend = () => nativeInfo()?.cpuBackend ?? { amx: false, extraBufferTypes: [], extraBufferTypesEnabled: true }

const startedAt = performance.now()
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  parseSettings(process.argv.slice(2), { model: MODEL, modelPath: "", threads: 0 }) // prints the usage and exits
}
const modelPath = await ensureModel(MODEL)
const settings = parseSettings(process.argv.slice(2), { model: MODEL, modelPath, threads: defaultThreads() })
if (!settings.skipBuild) await buildLlamaTools(["llama-bench", "llama-batched-bench"], { output: "inherit" })
ensureBenchDependencies()

const host = machine()
const loadAtStart = loadavg()
if (loadAtStart[0]! > 0.5) {
  console.log(`bench: WARNING: the load average is ${loadAtStart.map((x) => x.toFixed(2)).join(" ")}: ` +
    "other work on this machine will slow the contenders down unevenly")
}
console.log(`\nbench: ${host.cpu}, ${host.physicalCores ?? "?"} cores / ${host.logicalCpus} logical CPUs; threads used: ${settings.threads}`)
console.log(`bench: model ${modelPath}`)
console.log(`bench: cases ${settings.cases.join(", ")}; ${settings.runs} counted runs after ${settings.warmup} warm-up\n`)

// ---------------------------------------------------------------------------------------------------------------
// Contenders and the rows they fill.

const notes: Array<string> = []
const contenders: Record<string, Readonly<Record<string, unknown>>> = {
  [LLAMA_CPP]: {
    tools: "llama-bench and llama-batched-bench from vendor/llama.cpp (.cache/llama-tools: Release, GGML_NATIVE, static, no OpenMP)",
    "llama-bench": llamaBenchArgs(settings, settings.promptTokens, settings.genTokens).join(" ").replace(modelPath, "MODEL"),
    "llama-batched-bench": batchedBenchArgs(settings, settings.parallelPrompt, settings.parallelGen, settings.parallelSequences)
      .join(" ").replace(modelPath, "MODEL")
  }
}
// The node contenders run in worker processes started afresh for each group of cases, so that a process holds
// only the contexts its group uses; the case tg2ctx measures a second, idle context on purpose.
type WorkerMode = "serve" | "serve-extra-context"
const workerFiles: Array<readonly [string, string]> = [
  [NODE_LLAMA_CPP, "worker-node-llama-cpp.ts"],
  [EFFECT_LLAMA, "worker-effect-llama.ts"],
  [EFFECT_STREAM_TEXT, "worker-effect-stream-text.ts"]
]
const failedToStart = new Set<string>()
let workers: Array<Worker> = []

const startWorkers = async (mode: WorkerMode): Promise<void> => {
  for (const [name, file] of workerFiles) {
    if (failedToStart.has(name)) continue
    const w = new Worker(name, file, settings, mode)
    try {
      const info = await w.ready
      if (contenders[name] === undefined) {
        contenders[name] = info
        console.log(`bench: ${name}: ${JSON.stringify(info)}`)
      }
      workers.push(w)
    } catch (error) {
      failedToStart.add(name)
      notes.push(`${name} did not start: ${error instanceof Error ? error.message : String(error)}`)
      console.log(`bench: ${name} did not start (see above); going on without it`)
    }
  }
}

/** Runs `body` with fresh node workers, then stops them. */
const withWorkers = async (mode: WorkerMode, body: () => Promise<void>): Promise<void> => {
  await startWorkers(mode)
  try {
    await body()
  } finally {
    for (const w of workers) await w.close()
    workers = []
  }
}

const worker = (name: string) => workers.find((w) => w.name === name)
const available = (name: string) =>
  name === LLAMA_CPP || (workerFiles.some(([n]) => n === name) && !failedToStart.has(name))
const order = [LLAMA_CPP, NODE_LLAMA_CPP, EFFECT_LLAMA, EFFECT_STREAM_TEXT]

const rows = new Map<string, Row>()
const row = (id: string, label: string, higherIsBetter = true): Row => {
  if (!rows.has(id)) rows.set(id, { id, label, higherIsBetter, values: {} })
  return rows.get(id)!
}
const record = (id: string, contender: string, counted: number | undefined, value: number | undefined) => {
  if (counted === undefined || value === undefined) return
  const values = (rows.get(id)!.values[contender] ??= [])
  values[counted] = value
}

// Rows in table order.
const s = settings
if (s.cases.includes("pp")) {
  row("pp", `Prompt processing, ${s.promptTokens} tokens (tokens/s ↑)`)
  row("pp-native", `↳ effect-llama's own native prefill timing (tokens/s ↑)`)
}
if (s.cases.includes("tg")) {
  row("tg", `Generation, ${s.genTokens} tokens (tokens/s ↑)`)
  row("tg-native", `↳ effect-llama's own native generate timing (tokens/s ↑)`)
}
if (s.cases.includes("tg2ctx")) {
  row("tg2ctx", `Generation, ${s.genTokens} tokens, a second context used before in the same process (tokens/s ↑)`)
}
if (s.cases.includes("parallel")) {
  for (const n of s.parallelSequences) {
    row(`parallel-${n}-tg`, `${n} seq × ${s.parallelGen} generated: aggregate S_TG (tokens/s ↑)`)
    row(`parallel-${n}-pp`, `${n} seq × ${s.parallelPrompt}-token prompt: S_PP (tokens/s ↑)`)
    row(`parallel-${n}-all`, `${n} seq, prompt + generation: S (tokens/s ↑)`)
  }
}
if (s.cases.includes("ttft")) row("ttft", `Time to first token, ${s.ttftPromptTokens}-token prompt (ms ↓)`, false)
if (s.cases.includes("embed")) row("embed", `Embeddings, ${s.embedTexts} short texts in one request (texts/s ↑)`)
if (s.cases.includes("rss")) row("rss", `Peak RSS, load + ${s.ttftPromptTokens}-token prompt + 1 token (MiB ↓)`, false)
if (s.cases.includes("contend")) {
  row("contend-gen", `Two busy contexts: generation of ${s.genTokens} tokens alone (ms ↓)`, false)
  row("contend-embed", `↳ embedding ${s.embedTexts} texts alone on a second context (ms ↓)`, false)
  row("contend-both", `↳ both at once (ms ↓)`, false)
  row("contend-ratio", `↳ both at once ÷ the sum alone (target ≤ 1.10, ↓)`, false)
}
if (s.cases.includes("xbt")) {
  row("xbt-on", `Prompt processing, ${s.promptTokens} tokens, extra buffer types on (tokens/s ↑)`)
  row("xbt-off", `↳ the same with EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0 (tokens/s ↑)`)
}

// ---------------------------------------------------------------------------------------------------------------
// The cases. Each group runs round after round; in a round every contender takes its turn.
// Before a turn the bench waits for the CPUs to be idle (quiet.ts); after it, it compares the CPU time the whole
// machine used during the turn with the CPU time the contender itself used: when other processes took more than
// `disturbedShare` of the CPUs, the turn is run again (at most `retries` times) and, if still disturbed, kept
// and marked.

interface TurnResult {
  /** What to print for this turn ("" when the contender has nothing for this case). */
  readonly text: string
  /** CPU time the contender used (undefined: unknown, no disturbance check). */
  readonly cpuMs: number | undefined
  /** Records the figures as those of counted round `counted`. */
  readonly commit: (counted: number) => void
}
type Turn = (contender: string, round: number) => Promise<TurnResult>

const quietThreshold = 0.1
const disturbedShare = 0.1
const retries = 2
let turns = 0
let retried = 0
let disturbedKept = 0

const readCpuMs = (): number | undefined => {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
    const busyTicks = fields.reduce((a, b) => a + b, 0) - fields[3]! - fields[4]!
    return busyTicks * 10 // USER_HZ is 100 on Linux
  } catch {
    return undefined
  }
}

const rounds = async (title: string, contenders: ReadonlyArray<string>, turn: Turn, check = true): Promise<void> => {
  const total = s.warmup + s.runs
  for (let round = 0; round < total; round++) {
    const counted = round >= s.warmup ? round - s.warmup : undefined
    const parts: Array<string> = []
    for (const contender of order.filter((c) => contenders.includes(c) && available(c))) {
      for (let attempt = 0; ; attempt++) {
        try {
          await waitForQuiet(quietThreshold, s.quietWait * 1000)
          const machineBefore = readCpuMs()
          const ownBefore = process.cpuUsage()
          const wallBefore = performance.now()
          const result = await turn(contender, round)
          const wallMs = performance.now() - wallBefore
          const machineAfter = readCpuMs()
          const own = process.cpuUsage(ownBefore)
          let others: number | undefined
          if (check && result.cpuMs !== undefined && machineBefore !== undefined && machineAfter !== undefined) {
            const used = machineAfter - machineBefore - result.cpuMs - (own.user + own.system) / 1000
            others = Math.max(0, used) / (wallMs * availableParallelism())
          }
          const disturbed = others !== undefined && others > disturbedShare
          if (disturbed && attempt < retries) {
            retried++
            continue
          }
          turns++
          if (disturbed) disturbedKept++
          if (counted !== undefined) result.commit(counted)
          const mark = disturbed ? ` [disturbed: others used ${Math.round(others! * 100)}% of the CPUs]` : ""
          if (result.text !== "") parts.push(`${contender}: ${result.text}${attempt > 0 ? ` (try ${attempt + 1})` : ""}${mark}`)
        } catch (error) {
          parts.push(`${contender}: FAILED`)
          console.error(`bench: ${title}, ${contender}: ${error instanceof Error ? error.message : String(error)}`)
        }
        break
      }
    }
    console.log(`${title.padEnd(9)} ${counted === undefined ? "warm-up" : `run ${counted + 1}/${s.runs}`}  ${parts.join(" | ")}`)
  }
}

const fixed = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(1))
const seed = (group: number, round: number) => group * 1_000_003 + round * 7919 + 17

/** Sends requests to a node contender and sums the CPU time its worker reports for them. */
const onWorker = async <A>(contender: string, use: (w: Worker) => Promise<A>): Promise<{ value: A; cpuMs: number }> => {
  const w = worker(contender)!
  const before = w.cpuMs
  const value = await use(w)
  return { value, cpuMs: w.cpuMs - before }
}

const wantPp = s.cases.includes("pp")
const wantTg = s.cases.includes("tg")
if (wantPp || wantTg) {
  await withWorkers("serve", () => rounds("pp/tg", order, async (contender, round) => {
    const ppTokens = randomTokens(seed(1, round), s.promptTokens)
    const tgTokens = randomTokens(seed(2, round), 1)
    let pp: Measurement | undefined
    let tg: Measurement | undefined
    let cpuMs: number | undefined
    if (contender === LLAMA_CPP) {
      const result = await llamaBench(s, wantPp ? s.promptTokens : 0, wantTg ? s.genTokens : 0)
      ;({ pp, tg, cpuMs } = result)
      contenders[LLAMA_CPP] = { ...contenders[LLAMA_CPP], ...result.info }
    } else {
      ;({ cpuMs } = await onWorker(contender, async (w) => {
        if (wantPp) pp = await w.request({ kind: "pp", tokens: ppTokens })
        if (wantTg) tg = await w.request({ kind: "tg", tokens: tgTokens, count: s.genTokens })
      }))
    }
    return {
      text: pp === undefined && tg === undefined ? "" : `pp ${fixed(pp?.tokensPerSecond)}, tg ${fixed(tg?.tokensPerSecond)}`,
      cpuMs,
      commit: (counted) => {
        if (wantPp) {
          record("pp", contender, counted, pp?.tokensPerSecond)
          record("pp-native", contender, counted, pp?.nativeTokensPerSecond)
        }
        if (wantTg) {
          record("tg", contender, counted, tg?.tokensPerSecond)
          record("tg-native", contender, counted, tg?.nativeTokensPerSecond)
        }
      }
    }
  }))
}

if (s.cases.includes("tg2ctx")) {
  notes.push("tg2ctx: the worker first generates a few tokens on a second context, which it keeps idle; " +
    "it should cost nothing (each effect-llama context has its own ggml thread pool, asleep while idle; see BENCHMARKS.md).")
  await withWorkers("serve-extra-context", () => rounds("tg2ctx", [NODE_LLAMA_CPP, EFFECT_LLAMA], async (contender, round) => {
    const tokens = randomTokens(seed(7, round), 1)
    const { value: m, cpuMs } = await onWorker(contender, (w) => w.request({ kind: "tg", tokens, count: s.genTokens }))
    return {
      text: m === undefined ? "" : `tg ${fixed(m.tokensPerSecond)}`,
      cpuMs,
      commit: (counted) => record("tg2ctx", contender, counted, m?.tokensPerSecond)
    }
  }))
}

if (s.cases.includes("parallel")) {
  await withWorkers("serve", () => rounds("parallel", order, async (contender, round) => {
    let results: Map<number, Measurement | undefined>
    let cpuMs: number | undefined
    if (contender === LLAMA_CPP) {
      ;({ results, cpuMs } = await batchedBench(s, s.parallelPrompt, s.parallelGen, s.parallelSequences))
    } else {
      ;({ value: results, cpuMs } = await onWorker(contender, async (w) => {
        const out = new Map<number, Measurement | undefined>()
        for (const n of s.parallelSequences) {
          // Prompts differ between sequence counts too: no sequence may find its prompt already cached.
          const prompts = Array.from({ length: n }, (_, i) => randomTokens(seed(3, round) + n * 1009 + i * 101, s.parallelPrompt))
          const next = randomTokens(seed(4, round) + n, n)
          // llama-batched-bench decodes 16 tokens before its first test; the workers do the same, untimed.
          const warmup = n === s.parallelSequences[0] ? { warmup: randomTokens(seed(5, round), 16) } : {}
          out.set(n, await w.request({ kind: "parallel", ...warmup, prompts, next, count: s.parallelGen }))
        }
        return out
      }))
    }
    const parts = [...results].filter(([, m]) => m !== undefined).map(([n, m]) => `${n}: ${fixed(m!.tgTokensPerSecond)}`)
    return {
      text: parts.length === 0 ? "" : `S_TG ${parts.join(", ")}`,
      cpuMs,
      commit: (counted) => {
        for (const [n, m] of results) {
          record(`parallel-${n}-tg`, contender, counted, m?.tgTokensPerSecond)
          record(`parallel-${n}-pp`, contender, counted, m?.ppTokensPerSecond)
          record(`parallel-${n}-all`, contender, counted, m?.tokensPerSecond)
        }
      }
    }
  }))
}

if (s.cases.includes("ttft")) {
  notes.push("Time to first token: llama.cpp has no tool that reports it; only the node contenders are compared.")
  await withWorkers("serve", () => rounds("ttft", [NODE_LLAMA_CPP, EFFECT_LLAMA, EFFECT_STREAM_TEXT], async (contender, round) => {
    const tokens = randomTokens(seed(5, round), s.ttftPromptTokens)
    const { value: m, cpuMs } = await onWorker(contender, (w) => w.request({ kind: "ttft", tokens }))
    return {
      text: m === undefined ? "" : `${fixed(m.milliseconds)} ms`,
      cpuMs,
      commit: (counted) => record("ttft", contender, counted, m?.milliseconds)
    }
  }))
}

if (s.cases.includes("embed")) {
  notes.push("Embeddings: llama.cpp is not measured (llama-embedding is not built). effect-llama embeds the whole " +
    "request in batches of many sequences (its context has one sequence per text); node-llama-cpp's " +
    "getEmbeddingFor embeds one text per call.")
  await withWorkers("serve", () => rounds("embed", [NODE_LLAMA_CPP, EFFECT_LLAMA], async (contender, round) => {
    const texts = shortTexts(seed(6, round), s.embedTexts)
    const { value: m, cpuMs } = await onWorker(contender, (w) => w.request({ kind: "embed", texts }))
    return {
      text: m === undefined ? "" : `${fixed(m.textsPerSecond)} texts/s`,
      cpuMs,
      commit: (counted) => record("embed", contender, counted, m?.textsPerSecond)
    }
  }))
}

if (s.cases.includes("rss")) {
  notes.push("Peak RSS: a fresh process per contender and run (maxrss: /usr/bin/time for llama.cpp, " +
    "process.resourceUsage() for the node ones, which includes Node itself, about 40-50 MiB); the model is mmapped.")
  const rss = async (contender: string): Promise<number | undefined> =>
    contender === LLAMA_CPP ? await llamaCppRss(s) : await probeRss(workerFiles.find(([n]) => n === contender)![1], s)
  await rounds("rss", [LLAMA_CPP, NODE_LLAMA_CPP, EFFECT_LLAMA], async (contender) => {
    const kb = await rss(contender)
    const mib = kb === undefined ? undefined : kb / 1024
    return { text: `${fixed(mib)} MiB`, cpuMs: undefined, commit: (counted) => record("rss", contender, counted, mib) }
  }, false)
}

if (s.cases.includes("contend")) {
  notes.push("contend: one effect-llama process, a generating context and an embedding context with the default " +
    "threads each; the compute budget shared by all contexts makes their decodes take turns.")
  await withWorkers("serve", () => rounds("contend", [EFFECT_LLAMA], async (contender, round) => {
    const request = { kind: "contend", tokens: randomTokens(seed(9, round), 1), count: s.genTokens, texts: shortTexts(seed(10, round), s.embedTexts) } as const
    const { value: m, cpuMs } = await onWorker(contender, (w) => w.request(request))
    return {
      text: m === undefined ? "" : `alone ${fixed(m.genMs)} + ${fixed(m.embedMs)} ms, together ${fixed(m.bothMs)} ms (${m.ratio!.toFixed(2)}x)`,
      cpuMs,
      commit: (counted) => {
        record("contend-gen", contender, counted, m?.genMs)
        record("contend-embed", contender, counted, m?.embedMs)
        record("contend-both", contender, counted, m?.bothMs)
        record("contend-ratio", contender, counted, m?.ratio)
      }
    }
  }))
}

if (s.cases.includes("xbt")) {
  // Two effect-llama workers, one loading the model without the CPU backend's extra buffer types (AMX tiles, repacked
  // weights): what those kernels are worth on this CPU. Both alternate within each round.
  const plain = new Worker(`${EFFECT_LLAMA} (no extra buffer types)`, "worker-effect-llama.ts", settings, "serve", {
    EFFECT_LLAMA_EXTRA_BUFFER_TYPES: "0"
  })
  const backend = defaultBackend()
  notes.push(`xbt: the CPU backend's extra buffer types here: ${backend.extraBufferTypes.join(", ") || "none"}` +
    ` (AMX kernels ${backend.amx ? "compiled in" : "not compiled in"}); weights of types they do not take stay in plain buffers.`)
  try {
    await plain.ready
    await withWorkers("serve", () => rounds("xbt", [EFFECT_LLAMA], async (_contender, round) => {
      const tokens = randomTokens(seed(8, round), s.promptTokens)
      const on = await onWorker(EFFECT_LLAMA, (w) => w.request({ kind: "pp", tokens }))
      await waitForQuiet(quietThreshold, s.quietWait * 1000)
      const offBefore = plain.cpuMs
      const off = await plain.request({ kind: "pp", tokens })
      return {
        text: `on ${fixed(on.value?.tokensPerSecond)}, off ${fixed(off?.tokensPerSecond)}`,
        cpuMs: on.cpuMs + plain.cpuMs - offBefore,
        commit: (counted) => {
          record("xbt-on", EFFECT_LLAMA, counted, on.value?.tokensPerSecond)
          record("xbt-off", EFFECT_LLAMA, counted, off?.tokensPerSecond)
        }
      }
    }))
  } finally {
    await plain.close()
  }
}

notes.push(`Shared machine: before each turn the bench waited up to ${s.quietWait} s for the CPUs to be at most ` +
  `${quietThreshold * 100}% busy; a turn during which other processes used more than ${disturbedShare * 100}% of the ` +
  `CPUs was run again (at most ${retries} times): ${retried} reruns, ${disturbedKept} of ${turns} turns kept although disturbed.`)

notes.push("llama-bench sizes its context to the test (pp + tg tokens); the other contenders use the context size above.")
notes.push("effect-llama and node-llama-cpp times are taken in JavaScript, from the call to the event that ends the " +
  "measured span; llama.cpp's tools time the decode calls only.")

const { json, md, text } = writeResults(join(benchDir, "results"), {
  date: new Date().toISOString(),
  durationSeconds: (performance.now() - startedAt) / 1000,
  machine: host,
  loadAverage: { start: loadAtStart, end: loadavg() },
  settings,
  contenders,
  rows: [...rows.values()],
  notes
})
console.log(`\n${text}`)
console.log(`bench: wrote ${json.replace(root + "/", "")} and ${md.replace(root + "/", "")}`)
