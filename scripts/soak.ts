/**
 * Soak: 70 model load/dispose cycles (each with a context and a short generation), then 1,000 generations on
 * one context (some aborted mid-way, some with grammars), watching the process RSS. Exits 1 when RSS grows by
 * 5% or more after warm-up. Run: `node --expose-gc scripts/soak.ts` (about a minute on 2 cores).
 */
import { ensureModel } from "./models.ts"
import { JobRouter } from "../src/native/JobRouter.ts"
import type { GenerateRequest, NativeBinding, NativeContext } from "../src/native/NativeBinding.ts"
import { createRequire } from "node:module"
import { candidatePaths } from "../src/native/Native.ts"
import { existsSync } from "node:fs"

const native = createRequire(import.meta.url)(candidatePaths().find((p) => existsSync(p))!) as NativeBinding
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const rssMb = () => {
  gc()
  return process.memoryUsage().rss / 2 ** 20
}

const run = (context: NativeContext, router: JobRouter, request: GenerateRequest, abortAfter?: number) =>
  new Promise<string>((resolve, reject) => {
    const job = context.generate(request)
    let tokens = 0
    router.listen(job, (event) => {
      if (event.type === "token" && ++tokens === abortAfter) context.abort(job)
      if (event.type === "done") resolve(event.reason)
      if (event.type === "error") reject(new Error(`${event.code}: ${event.message}`))
    })
  })

const path = await ensureModel("tiny-qwen2")
const report: Array<string> = []

// 1. Load/dispose cycles. The warm-up is 20 cycles: each context starts threads of its own, and glibc gives new
// threads malloc arenas (at most 8 per core) that keep some freed memory; RSS is flat once they exist.
const warmCycles = 20
let warm = 0
const cycles = 70
for (let i = 0; i < cycles; i++) {
  const model = new native.Model(path, {})
  await model.load()
  const context = new native.Context(model, { contextSize: 512 })
  const router = new JobRouter()
  await context.init(router.dispatch)
  await run(context, router, { sequence: 0, text: `cycle ${i}`, maxTokens: 8, sampling: { temperature: 0 } })
  await context.dispose()
  await model.dispose()
  if (i === warmCycles - 1) warm = rssMb()
}
const afterCycles = rssMb()
report.push(`load/dispose: ${cycles} cycles, RSS ${warm.toFixed(1)} MB after ${warmCycles} -> ${afterCycles.toFixed(1)} MB (${((afterCycles / warm - 1) * 100).toFixed(2)}%)`)

// 2. Generations on one context.
const model = new native.Model(path, {})
await model.load()
const context = new native.Context(model, { contextSize: 4096, sequences: 4 })
const router = new JobRouter()
await context.init(router.dispatch)
const grammar = native.jsonSchemaToGrammar(JSON.stringify({ type: "object", properties: { n: { type: "integer", minimum: 0, maximum: 9 } }, required: ["n"] }))
const generations = 1000
let genWarm = 0
const reasons = new Map<string, number>()
for (let i = 0; i < generations; i += 4) {
  const batch = [0, 1, 2, 3].map((seq) => {
    const k = i + seq
    const request: GenerateRequest = {
      sequence: seq,
      text: `Request ${k}: ${"lorem ipsum ".repeat(k % 13)}`,
      maxTokens: 16,
      sampling: k % 5 === 0 ? { temperature: 0.8, seed: k, grammar } : { temperature: 0.8, seed: k }
    }
    return run(context, router, request, k % 7 === 0 ? 3 : undefined)
  })
  for (const reason of await Promise.all(batch)) reasons.set(reason, (reasons.get(reason) ?? 0) + 1)
  if (i === 100) genWarm = rssMb()
}
const afterGenerations = rssMb()
await context.dispose()
await model.dispose()
report.push(`generations: ${generations} (${[...reasons].map(([r, n]) => `${r} ${n}`).join(", ")}), RSS ${genWarm.toFixed(1)} MB after 100 -> ${afterGenerations.toFixed(1)} MB (${((afterGenerations / genWarm - 1) * 100).toFixed(2)}%)`)

for (const line of report) console.log(line)
const grew = afterCycles / warm >= 1.05 || afterGenerations / genWarm >= 1.05
console.log(grew ? "soak: FAILED (RSS grew by 5% or more)" : "soak: ok")
process.exit(grew ? 1 : 0)
