/**
 * Contender "llama.cpp": its own benchmark tools, built from vendor/llama.cpp by scripts/build-llama-tools.ts.
 * - llama-bench gives pp (prompt processing) and tg (generation) tokens/s; one repetition per invocation, after
 *   its own warm-up run, so that the orchestrator can alternate it with the other contenders.
 * - llama-batched-bench gives S_PP, S_TG and S for npl parallel sequences; its context holds max(npl) sequences.
 * - Peak RSS: llama-batched-bench on one sequence (prompt + one token) under /usr/bin/time.
 * Each invocation loads the model again; the tools time only the decoding, not the load.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { toolPath } from "../scripts/build-llama-tools.ts"
import type { Settings } from "./settings.ts"
import type { Measurement } from "./workloads.ts"

const execFileAsync = promisify(execFile)
const maxBuffer = 64 * 1024 * 1024

export const timeProgram = "/usr/bin/time"

interface ToolRun {
  readonly stdout: string
  readonly stderr: string
  /** CPU time the tool used (user + system), when /usr/bin/time is there. */
  readonly cpuMs: number | undefined
  /** Peak resident set size in KiB, when /usr/bin/time is there. */
  readonly maxRssKb: number | undefined
}

/** Runs a tool, under /usr/bin/time when present (for its CPU time and peak RSS). */
export const runTool = async (command: string, args: ReadonlyArray<string>): Promise<ToolRun> => {
  if (!existsSync(timeProgram)) {
    const { stdout, stderr } = await execFileAsync(command, args, { maxBuffer })
    return { stdout, stderr, cpuMs: undefined, maxRssKb: undefined }
  }
  const dir = mkdtempSync(join(tmpdir(), "effect-llama-bench-"))
  try {
    const out = join(dir, "time")
    const { stdout, stderr } = await execFileAsync(timeProgram, ["-f", "%U %S %M", "-o", out, command, ...args], { maxBuffer })
    const [user, system, rss] = readFileSync(out, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number)
    return { stdout, stderr, cpuMs: (user! + system!) * 1000, maxRssKb: rss }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const common = (s: Settings) => ["-m", s.modelPath, "-t", String(s.threads), "-b", String(s.batchSize),
  "-ub", String(s.ubatchSize), "-fa", s.flashAttention]

interface LlamaBenchRow {
  readonly n_prompt: number
  readonly n_gen: number
  readonly avg_ts: number
  readonly cpu_info: string
  readonly build_commit: string
  readonly n_threads: number
  readonly flash_attn: unknown
}

export const llamaBenchArgs = (s: Settings, prompt: number, gen: number): Array<string> =>
  [...common(s), "-p", String(prompt), "-n", String(gen), "-r", "1", "-o", "json"]

/** One llama-bench invocation: the pp and tg rows it was asked for (0 skips one). */
export const llamaBench = async (s: Settings, prompt: number, gen: number) => {
  const { stdout, cpuMs } = await runTool(toolPath("llama-bench"), llamaBenchArgs(s, prompt, gen))
  const rows = JSON.parse(stdout) as Array<LlamaBenchRow>
  const pp = rows.find((r) => r.n_prompt > 0 && r.n_gen === 0)
  const tg = rows.find((r) => r.n_gen > 0 && r.n_prompt === 0)
  return {
    pp: pp === undefined ? undefined : { tokensPerSecond: pp.avg_ts },
    tg: tg === undefined ? undefined : { tokensPerSecond: tg.avg_ts },
    info: rows[0] === undefined ? {} : { cpu: rows[0].cpu_info, buildCommit: rows[0].build_commit },
    cpuMs
  }
}

interface BatchedRow {
  readonly pl: number
  readonly speed_pp: number
  readonly speed_tg: number
  readonly speed: number
}

export const batchedBenchArgs = (s: Settings, npp: number, ntg: number, npl: ReadonlyArray<number>): Array<string> =>
  [...common(s), "-tb", String(s.threads), "-c", String(s.contextSize), "-npp", String(npp), "-ntg", String(ntg),
    "-npl", npl.join(","), "--output-format", "jsonl"]

/** One llama-batched-bench invocation: per sequence count, the same figures the node workers report. */
export const batchedBench = async (
  s: Settings,
  npp: number,
  ntg: number,
  npl: ReadonlyArray<number>
): Promise<{ readonly results: Map<number, Measurement>; readonly cpuMs: number | undefined }> => {
  const { stdout, stderr, cpuMs } = await runTool(toolPath("llama-batched-bench"), batchedBenchArgs(s, npp, ntg, npl))
  const rows = `${stdout}\n${stderr}`.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as BatchedRow)
  const out = new Map<number, Measurement>()
  for (const r of rows) {
    out.set(r.pl, { ppTokensPerSecond: r.speed_pp, tgTokensPerSecond: r.speed_tg, tokensPerSecond: r.speed })
  }
  for (const n of npl) if (!out.has(n)) throw new Error(`llama-batched-bench gave no row for npl=${n}:\n${stderr.slice(-2000)}`)
  return { results: out, cpuMs }
}

/** Peak RSS (KiB) of llama.cpp on the probe workload: one sequence, the ttft prompt, one generated token. */
export const llamaCppRss = async (s: Settings): Promise<number | undefined> => {
  const args = [...common(s), "-tb", String(s.threads), "-c", String(s.contextSize),
    "-npp", String(s.ttftPromptTokens), "-ntg", "1", "-npl", "1", "--output-format", "jsonl"]
  return (await runTool(toolPath("llama-batched-bench"), args)).maxRssKb
}
