/**
 * `npm run bench:workflow`: the workflow executor against LangGraph.js on the same graphs of no-op nodes (a
 * 10,000-node chain, a 1,000-wide fan-out/fan-in, a 100x100 layered DAG), and durable runs on PostgreSQL (and on
 * the embedded engine) in milliseconds per node. Every measurement runs in a fresh process (bench/workflow-worker.ts):
 * the first run includes building and compiling the graph, the warm runs reuse it; peak RSS is the process's.
 *
 * Usage: npm run bench:workflow [-- --cases chain,fan,layered,durable --runs 3 --langgraph-runs 1
 *                                   --durable-nodes 100 --database postgres://...]
 * Without --database (or EFFECT_LLAMA_TEST_DATABASE_URL) the durable case starts a throwaway PostgreSQL, as the
 * tests do. Results: bench/results/workflow-<stamp>.json and .md.
 */
import { execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import * as Postgres from "../test/support/Postgres.ts"
import { machine } from "./report.ts"

const benchDir = dirname(fileURLToPath(import.meta.url))
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback
}
if (process.argv.includes("--help")) {
  console.log("npm run bench:workflow -- [--cases chain,fan,layered,durable] [--runs 3] [--langgraph-runs 1]")
  console.log("                          [--durable-nodes 100] [--database postgres://...]")
  process.exit(0)
}
const cases = flag("cases", "chain,fan,layered,durable").split(",")
const runs = Number(flag("runs", "3"))
const langGraphRuns = Number(flag("langgraph-runs", "1"))
const durableNodes = Number(flag("durable-nodes", "100"))

interface Measured {
  readonly coldMs: number
  readonly warmMs: ReadonlyArray<number>
  readonly maxRssKb: number
  readonly executed: number
}

const worker = (args: ReadonlyArray<string>): Promise<Measured> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(benchDir, "workflow-worker.ts"), ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (d) => (out += d))
    child.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1)!) as Measured)
        : reject(new Error(`workflow-worker ${args.join(" ")} exited with ${code}`)))
  })

const median = (xs: ReadonlyArray<number>) => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1))
const mib = (kb: number) => (kb / 1024).toFixed(0)

if (!existsSync(join(benchDir, "node_modules", "@langchain", "langgraph", "package.json"))) {
  console.log("bench: installing the bench dependencies (npm install --prefix bench)")
  execFileSync("npm", ["install", "--prefix", benchDir, "--no-audit", "--no-fund"], {
    stdio: "inherit",
    env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: "true" }
  })
}

const started = performance.now()
const loadStart = loadavg()
const lines: Array<string> = []
const rows: Array<Record<string, unknown>> = []
const say = (line: string) => {
  console.log(line)
  lines.push(line)
}

say("| Graph | Contender | First run (ms) | Warm run, median (ms) | Peak RSS (MiB) | Nodes run |")
say("|---|---|---:|---:|---:|---:|")
for (const shape of cases.filter((c) => c !== "durable")) {
  const ours = await worker(["effect-llama", shape, String(runs)])
  const theirs = await worker(["langgraph", shape, String(langGraphRuns)])
  for (const [name, m] of [["effect-llama", ours], ["LangGraph.js", theirs]] as const) {
    say(`| ${shape} | ${name} | ${ms(m.coldMs)} | ${ms(median(m.warmMs))} | ${mib(m.maxRssKb)} | ${m.executed} |`)
    rows.push({ case: shape, contender: name, ...m })
  }
  say(
    `| ${shape} | speedup | ${(theirs.coldMs / ours.coldMs).toFixed(1)}x | ` +
      `${(median(theirs.warmMs) / median(ours.warmMs)).toFixed(1)}x | | |`
  )
}

if (cases.includes("durable")) {
  let server: Postgres.Server | undefined
  const given = process.argv.includes("--database") ? flag("database", "") : undefined
  if (given === undefined) server = await Postgres.start()
  const url = given ?? server!.url
  say("")
  say(`| Durable run (${durableNodes} nodes) | Engine | First run (ms) | Warm run, median (ms) | ms per node | Peak RSS (MiB) |`)
  say("|---|---|---:|---:|---:|---:|")
  for (const shape of ["chain", "fan"]) {
    for (const engine of ["memory", "postgres"]) {
      const m = await worker(["durable", engine === "memory" ? "memory" : url, shape, String(durableNodes), String(runs)])
      const warm = median(m.warmMs)
      say(
        `| ${shape === "chain" ? "chain" : "fan-out/fan-in"} | ${engine === "memory" ? "embedded (memory)" : "PostgreSQL"} | ` +
          `${ms(m.coldMs)} | ${ms(warm)} | ${(warm / durableNodes).toFixed(2)} | ${mib(m.maxRssKb)} |`
      )
      rows.push({ case: `durable ${shape}`, contender: engine, ...m })
    }
  }
  await server?.stop()
}

const stamp = new Date().toISOString().replace(/[:.]/g, "-")
const results = join(benchDir, "results")
mkdirSync(results, { recursive: true })
const meta = {
  date: new Date().toISOString(),
  durationSeconds: (performance.now() - started) / 1000,
  machine: machine(),
  loadAverage: { start: loadStart, end: loadavg() },
  settings: { cases, runs, langGraphRuns, durableNodes }
}
writeFileSync(join(results, `workflow-${stamp}.json`), JSON.stringify({ ...meta, rows }, null, 2))
writeFileSync(
  join(results, `workflow-${stamp}.md`),
  `# Workflow benchmark ${meta.date}\n\n${JSON.stringify(meta.machine)}\nload ${loadStart.map((l) => l.toFixed(1)).join(" ")}\n\n${
    lines.join("\n")
  }\n`
)
console.log(`\n${meta.durationSeconds.toFixed(0)} s; load average at start ${loadStart.map((l) => l.toFixed(1)).join(" ")}`)
