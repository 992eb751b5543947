/**
 * `npm run bench:gpu -- [vulkan|cuda] [--model NAME] [--pp N] [--tg N] [--runs N] [--skip-build]`: the addon's GPU
 * build against llama.cpp's own llama-bench built with the same backend (scripts/build-llama-tools.ts --gpu), same
 * model, every layer offloaded, same batch sizes. The figure is the ratio (effect-llama / llama-bench) of prompt
 * (pp) and generation (tg) tokens per second, goal >= 0.95: on Mesa's lavapipe (no GPU here) the absolute speed
 * means nothing, the ratio does. Turns alternate between the two, and each figure is the median of its runs.
 * Defaults: vulkan, small-llama (29M parameters: lavapipe is slow), pp 256, tg 32, 3 runs.
 */
import { execFile, execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { buildLlamaTools, toolPath, type ToolsGpu } from "../scripts/build-llama-tools.ts"
import { renderNodes } from "../scripts/gpu-detect.mjs"
import { ensureModel } from "../scripts/models.ts"
import { summarize } from "./stats.ts"

const execFileAsync = promisify(execFile)
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

const argv = process.argv.slice(2)
const flag = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback
}
const gpu = (argv[0] !== undefined && !argv[0].startsWith("--") ? argv[0] : flag("--gpu", "vulkan")) as ToolsGpu
if (gpu !== "vulkan" && gpu !== "cuda") throw new Error(`bench:gpu: the backend must be vulkan or cuda, not ${gpu}`)
const settings = {
  model: flag("--model", "small-llama"),
  pp: Number(flag("--pp", "256")),
  tg: Number(flag("--tg", "32")),
  runs: Number(flag("--runs", "3")),
  batch: 512
}
const skipBuild = argv.includes("--skip-build")

const env: Record<string, string | undefined> = { ...process.env }
if (gpu === "vulkan" && env.GGML_VK_VISIBLE_DEVICES === undefined && renderNodes().length === 0) {
  env.GGML_VK_VISIBLE_DEVICES = "0" // no GPU: Mesa's lavapipe, for both contenders
}
const addon = env.EFFECT_LLAMA_ADDON ?? join(root, `build-${gpu}`, "Release", "effect_llama.node")

if (!skipBuild) {
  if (env.EFFECT_LLAMA_ADDON === undefined) {
    execFileSync(process.execPath, [join(root, "scripts", "build-native.mjs")], {
      stdio: "inherit",
      env: { ...process.env, EFFECT_LLAMA_GPU: gpu }
    })
  }
  await buildLlamaTools(["llama-bench"], { output: "inherit", gpu })
}
if (!existsSync(addon)) throw new Error(`bench:gpu: ${addon} is not built`)
const modelPath = await ensureModel(settings.model)

interface Speeds {
  readonly pp: number
  readonly tg: number
  readonly device?: string
}

const llamaBench = async (): Promise<Speeds> => {
  const args = ["-m", modelPath, "-ngl", "99", "-b", String(settings.batch), "-ub", String(settings.batch), "-p",
    String(settings.pp), "-n", String(settings.tg), "-r", "1", "-o", "json"]
  const { stdout } = await execFileAsync(toolPath("llama-bench", gpu), args, { env, maxBuffer: 64 << 20 })
  const rows = JSON.parse(stdout) as Array<{ n_prompt: number; n_gen: number; avg_ts: number; gpu_info?: string }>
  const pp = rows.find((r) => r.n_prompt > 0 && r.n_gen === 0)!
  const tg = rows.find((r) => r.n_gen > 0 && r.n_prompt === 0)!
  return { pp: pp.avg_ts, tg: tg.avg_ts, ...(pp.gpu_info === undefined ? {} : { device: pp.gpu_info }) }
}

const effectLlama = async (): Promise<Speeds> => {
  const input = JSON.stringify({ modelPath, ...settings })
  const { stdout } = await execFileAsync(process.execPath, [join(root, "bench", "gpu-worker.ts"), input], {
    env: { ...env, EFFECT_LLAMA_ADDON: addon },
    maxBuffer: 64 << 20
  })
  return JSON.parse(stdout) as Speeds
}

const results = { effect: [] as Array<Speeds>, llama: [] as Array<Speeds> }
await effectLlama() // warm-up: shader pipelines, the file cache
await llamaBench()
for (let run = 0; run < settings.runs; run++) {
  results.llama.push(await llamaBench())
  results.effect.push(await effectLlama())
}
const med = (rows: ReadonlyArray<Speeds>, key: "pp" | "tg") => summarize(rows.map((r) => r[key]))?.median ?? Number.NaN
const line = (key: "pp" | "tg", n: number) => {
  const e = med(results.effect, key)
  const l = med(results.llama, key)
  return `| ${key}${n} | ${e.toFixed(1)} | ${l.toFixed(1)} | ${(e / l).toFixed(3)} |`
}
console.log(`\nbench:gpu ${gpu} on ${results.effect[0]?.device ?? results.llama[0]?.device ?? "?"}, model ${settings.model}, ` +
  `every layer offloaded, batch ${settings.batch}, median of ${settings.runs} runs (tokens/s)\n`)
console.log("| case | effect-llama | llama-bench | ratio |")
console.log("| --- | ---: | ---: | ---: |")
console.log(line("pp", settings.pp))
console.log(line("tg", settings.tg))
