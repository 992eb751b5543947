/**
 * The results: one row per case and figure, the counted runs of every contender, medians, ranges and pairwise
 * ratios; written to bench/results/<stamp>.json and .md (and latest.json / latest.md) and printed.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { availableParallelism, cpus, totalmem, type as osType, release } from "node:os"
import { join } from "node:path"
import type { Settings } from "./settings.ts"
import { formatRatio, formatSummary, pairwiseRatios, summarize, type Summary } from "./stats.ts"

export const LLAMA_CPP = "llama.cpp"
export const NODE_LLAMA_CPP = "node-llama-cpp"
export const EFFECT_LLAMA = "effect-llama"
export const EFFECT_STREAM_TEXT = "effect-llama streamText"

export interface Row {
  readonly id: string
  readonly label: string
  readonly higherIsBetter: boolean
  /** Contender name -> figure of each counted round (NaN where that run failed). */
  readonly values: Record<string, Array<number>>
}

export interface Machine {
  readonly cpu: string
  readonly logicalCpus: number
  readonly physicalCores: number | undefined
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
}

export const machine = (): Machine => {
  let physicalCores: number | undefined
  try {
    const out = execFileSync("lscpu", ["-p=CORE,SOCKET"], { encoding: "utf8" })
    physicalCores = new Set(out.split("\n").filter((l) => l !== "" && !l.startsWith("#"))).size
  } catch {
    physicalCores = undefined
  }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    logicalCpus: availableParallelism(),
    physicalCores,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version
  }
}

export interface Results {
  readonly date: string
  readonly durationSeconds: number
  readonly machine: Machine
  /** 1, 5 and 15-minute load averages when the run started and ended (other work skews the figures). */
  readonly loadAverage: { readonly start: ReadonlyArray<number>; readonly end: ReadonlyArray<number> }
  readonly settings: Settings
  readonly contenders: Record<string, Readonly<Record<string, unknown>>>
  readonly rows: ReadonlyArray<Row>
  readonly notes: ReadonlyArray<string>
}

const ratioColumns = (contenders: ReadonlyArray<string>): Array<[string, string]> => {
  const out: Array<[string, string]> = []
  if (contenders.includes(EFFECT_LLAMA)) {
    for (const base of [LLAMA_CPP, NODE_LLAMA_CPP]) if (contenders.includes(base)) out.push([EFFECT_LLAMA, base])
  }
  if (contenders.includes(EFFECT_STREAM_TEXT) && contenders.includes(EFFECT_LLAMA)) out.push([EFFECT_STREAM_TEXT, EFFECT_LLAMA])
  return out
}

export const rowSummary = (row: Row, contender: string): Summary | undefined => summarize(row.values[contender] ?? [])
export const rowRatio = (row: Row, subject: string, base: string): Summary | undefined =>
  summarize(pairwiseRatios(row.values[subject] ?? [], row.values[base] ?? []))

/** Best counted run of `subject` over best counted run of `base` (higher-is-better rows). */
export const bestRatio = (row: Row, subject: string, base: string): number | undefined => {
  const a = rowSummary(row, subject)
  const b = rowSummary(row, base)
  if (a === undefined || b === undefined) return undefined
  return row.higherIsBetter ? a.max / b.max : a.min / b.min
}

interface Target {
  readonly row: string
  /** Default: effect-llama (the raw native path). */
  readonly contender?: string
  readonly base: string
  readonly atLeast: number
  readonly text: string
}

export const targets = (s: Settings): Array<Target> => {
  const npl = Math.max(...s.parallelSequences)
  return [
    { row: "tg", base: LLAMA_CPP, atLeast: 0.98, text: "generation tokens/s >= 0.98x llama-bench" },
    { row: "tg", base: NODE_LLAMA_CPP, atLeast: 1.0, text: "generation tokens/s >= node-llama-cpp" },
    { row: "pp", base: LLAMA_CPP, atLeast: 0.98, text: "prompt processing tokens/s >= 0.98x llama-bench" },
    { row: `parallel-${npl}-tg`, base: LLAMA_CPP, atLeast: 0.95, text: `${npl}-sequence aggregate generation (S_TG) >= 0.95x llama-batched-bench` },
    { row: `parallel-${npl}-all`, base: LLAMA_CPP, atLeast: 0.95, text: `${npl}-sequence aggregate prompt + generation (S) >= 0.95x llama-batched-bench` },
    { row: "tg", contender: EFFECT_STREAM_TEXT, base: EFFECT_LLAMA, atLeast: 0.98, text: "LanguageModel.streamText generation within 2% of the raw native path" }
  ]
}

/** The contenders present in the results, in the canonical column order. */
const contenderNames = (r: Results): Array<string> =>
  [LLAMA_CPP, NODE_LLAMA_CPP, EFFECT_LLAMA, EFFECT_STREAM_TEXT].filter((n) =>
    n in r.contenders || r.rows.some((row) => (row.values[n]?.length ?? 0) > 0)
  )

export const markdown = (r: Results): string => {
  const names = contenderNames(r)
  const ratios = ratioColumns(names)
  const s = r.settings
  const m = r.machine
  const lines: Array<string> = []
  lines.push(`Machine: ${m.cpu}, ${m.physicalCores ?? "?"} cores / ${m.logicalCpus} logical CPUs, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}`)
  lines.push(`Settings: model ${s.model}, threads ${s.threads}, context ${s.contextSize}, batch ${s.batchSize}, ubatch ${s.ubatchSize}, ` +
    `flash attention ${s.flashAttention}, ${s.runs} counted runs after ${s.warmup} warm-up, contenders alternated in each round`)
  const load = (xs: ReadonlyArray<number>) => xs.map((x) => x.toFixed(2)).join(" ")
  lines.push(`Date: ${r.date} (${Math.round(r.durationSeconds)} s); load average at start ${load(r.loadAverage.start)}, at end ${load(r.loadAverage.end)}`)
  lines.push("")
  lines.push("Figures: median (min–max) of the counted runs. Ratios: effect-llama over the other, run by run (same round), then median (min–max); ↑ higher is better, ↓ lower is better.")
  lines.push("")
  lines.push(`| Case | ${names.join(" | ")} | ${ratios.map(([a, b]) => `${a === EFFECT_LLAMA ? "effect-llama" : "streamText"} ÷ ${b}`).join(" | ")} |`)
  lines.push(`|---|${names.map(() => "---:").join("|")}|${ratios.map(() => "---:").join("|")}|`)
  for (const row of r.rows) {
    const cells = names.map((n) => formatSummary(rowSummary(row, n)))
    const ratioCells = ratios.map(([a, b]) => formatRatio(rowRatio(row, a, b)))
    lines.push(`| ${row.label} | ${cells.join(" | ")} | ${ratioCells.join(" | ")} |`)
  }
  lines.push("")
  lines.push("Targets (verdict on the median of the pairwise ratios; in brackets, best run over best run, which noise from")
  lines.push("other processes can only lower):")
  lines.push("")
  for (const t of targets(s)) {
    const row = r.rows.find((x) => x.id === t.row)
    const contender = t.contender ?? EFFECT_LLAMA
    const ratio = row === undefined ? undefined : rowRatio(row, contender, t.base)
    const best = row === undefined ? undefined : bestRatio(row, contender, t.base)
    const verdict = ratio === undefined ? "not measured" : ratio.median >= t.atLeast ? "met" : "NOT met"
    const text = ratio === undefined ? "–" : `${ratio.median.toFixed(3)}× (best/best ${best?.toFixed(3) ?? "–"}×)`
    lines.push(`- ${t.text}: ${text} — ${verdict}`)
  }
  lines.push("")
  lines.push("Contenders:")
  lines.push("")
  for (const [name, info] of Object.entries(r.contenders)) {
    lines.push(`- ${name}: ${Object.entries(info).map(([k, v]) => `${k}: ${String(v)}`).join("; ")}`)
  }
  if (r.notes.length > 0) {
    lines.push("")
    lines.push("Notes:")
    lines.push("")
    for (const note of r.notes) lines.push(`- ${note}`)
  }
  return lines.join("\n") + "\n"
}

export const writeResults = (dir: string, r: Results): { json: string; md: string; text: string } => {
  mkdirSync(dir, { recursive: true })
  const stamp = r.date.replace(/[:.]/g, "-")
  const text = markdown(r)
  const names = contenderNames(r)
  const withSummaries = {
    ...r,
    rows: r.rows.map((row) => ({
      ...row,
      summary: Object.fromEntries(names.map((n) => [n, rowSummary(row, n) ?? null])),
      ratios: Object.fromEntries(ratioColumns(names).map(([a, b]) => [`${a} / ${b}`, rowRatio(row, a, b) ?? null]))
    }))
  }
  const json = join(dir, `${stamp}.json`)
  const md = join(dir, `${stamp}.md`)
  writeFileSync(json, JSON.stringify(withSummaries, null, 2) + "\n")
  writeFileSync(md, text)
  writeFileSync(join(dir, "latest.json"), JSON.stringify(withSummaries, null, 2) + "\n")
  writeFileSync(join(dir, "latest.md"), text)
  return { json, md, text }
}
