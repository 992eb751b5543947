/**
 * `npm run bench:parity`: two figures for the parity features, on effect-llama alone.
 *
 * 1. Warmup: the first request's time to first token in a fresh process, with and without the context's `warmup`
 *    (one tiny decode before the context serves, as llama.cpp's common_init does). Each sample is its own Node
 *    process (this file with `--worker`), so every one pays the page faults of the mapped weights and the first
 *    graph allocation; rounds alternate the order (cold warm, warm cold, ...). The file stays in the OS page cache
 *    across processes, as it would for a server restarted on the same machine. Reported: medians of the time to
 *    first token, of the warmup decode itself, and of a second request in the same process (the steady state).
 * 2. Speculative decoding: greedy decode speed (completion tokens / generate time, from the done event) on the
 *    bench model without a drafter, with a draft model of the same vocabulary, and with prompt lookup (n-gram),
 *    same prompts, same token count, one sequence, plus the acceptance rate. The outputs are checked equal.
 *    On random-weight models the draft rarely agrees with the model, so the draft figure is mostly the cost of
 *    drafting; a real model and its small sibling (`--model`/`--draft` paths) show the gain.
 *
 * Each measured request waits (up to `--quiet-wait` ms) for a quiet machine first, as the main bench does.
 *
 * Usage: npm run bench:parity [-- --model bench-0.5b --draft tiny-qwen2 --rounds 5 --prompts 4 --tokens 64
 *        --draft-tokens 6 --threads 2 --quiet-wait 20000]   (--model/--draft take a catalog name or a GGUF path)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { ensureModel } from "../scripts/models.ts"
import { LlamaContext, LlamaModel, Native } from "../src/index.ts"
import { waitForQuiet } from "./quiet.ts"

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const settings = {
  model: arg("model", "bench-0.5b"),
  draft: arg("draft", "tiny-qwen2"),
  rounds: Number(arg("rounds", "5")),
  prompts: Number(arg("prompts", "4")),
  tokens: Number(arg("tokens", "64")),
  draftTokens: Number(arg("draft-tokens", "6")),
  threads: Number(arg("threads", "2")),
  quietWait: Number(arg("quiet-wait", "20000"))
}

const resolve = (nameOrPath: string) => existsSync(nameOrPath) ? Promise.resolve(nameOrPath) : ensureModel(nameOrPath)

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const prompt = "Write a short story about a lighthouse keeper and the sea."

// ---------------------------------------------------------------------------------------------------------------
// Worker: one fresh process, one context, two requests.
// ---------------------------------------------------------------------------------------------------------------

const timeToFirstToken = (ctx: LlamaContext.Service, text: string) =>
  Effect.gen(function*() {
    const start = performance.now()
    yield* ctx.generate({ prompt: text, maxTokens: 1, sampling: { temperature: 0 } }).pipe(Stream.runDrain)
    return performance.now() - start
  })

const worker = (path: string, warmup: boolean) =>
  Effect.gen(function*() {
    const ctx = yield* LlamaContext.LlamaContext
    const first = yield* timeToFirstToken(ctx, prompt)
    const second = yield* timeToFirstToken(ctx, prompt.replace("lighthouse keeper", "fisherman")) // no cached prefix
    const result = { first, second, warmupMs: ctx.info.warmup?.ms ?? 0 }
    yield* Console.log(JSON.stringify(result))
  }).pipe(
    Effect.provide(LlamaContext.layer({ contextSize: 2048, threads: settings.threads, warmup }).pipe(
      Layer.provideMerge(LlamaModel.layer({ path })),
      Layer.provide(Native.layer)
    ))
  )

// ---------------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------------

const self = fileURLToPath(import.meta.url)

const warmupBench = (path: string) =>
  Effect.gen(function*() {
    const samples: Record<"cold" | "warm", Array<{ first: number; second: number; warmupMs: number }>> = { cold: [], warm: [] }
    for (let round = 0; round < settings.rounds; round++) {
      const order = round % 2 === 0 ? (["cold", "warm"] as const) : (["warm", "cold"] as const)
      for (const kind of order) {
        yield* Effect.promise(() => waitForQuiet(0.25, settings.quietWait))
        const out = execFileSync(process.execPath, [self, "--worker", path, kind, "--threads", String(settings.threads)], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"]
        })
        samples[kind].push(JSON.parse(out.trim().split("\n").at(-1)!))
      }
    }
    yield* Console.log(`\nWarmup: first request in a fresh process, time to first token (median of ${settings.rounds})`)
    yield* Console.log("| context | first request (ms) | warmup decode (ms) | second request (ms) |")
    yield* Console.log("|---|---:|---:|---:|")
    for (const kind of ["cold", "warm"] as const) {
      const s = samples[kind]
      yield* Console.log(
        `| ${kind === "cold" ? "no warmup" : "warmup: true"} | ${median(s.map((x) => x.first)).toFixed(1)} | ${
          kind === "cold" ? "-" : median(s.map((x) => x.warmupMs)).toFixed(1)
        } | ${median(s.map((x) => x.second)).toFixed(1)} |`
      )
    }
  })

const speculativeBench = (path: string, draftPath: string) =>
  Effect.gen(function*() {
    const draft = yield* LlamaModel.make({ path: draftPath })
    const base = { contextSize: 4096, threads: settings.threads }
    const variants: ReadonlyArray<readonly [string, LlamaContext.Options]> = [
      ["no drafter", base],
      [`draft model (${settings.draftTokens} tokens)`, { ...base, speculative: { type: "draft", model: draft, draftTokens: settings.draftTokens } }],
      [`prompt lookup (${settings.draftTokens} tokens)`, { ...base, speculative: { type: "ngram", draftTokens: settings.draftTokens } }]
    ]
    const texts = Array.from({ length: settings.prompts }, (_, i) =>
      ["The history of the printing press", "def quicksort(xs):", "Dear committee members,", "In a small village"][i % 4]! + ` (${i})`)
    const rows: Array<string> = []
    let reference: ReadonlyArray<ReadonlyArray<number>> | undefined
    for (const [name, options] of variants) {
      const ctx = yield* LlamaContext.make(options)
      yield* ctx.generateText({ prompt: "warm up", maxTokens: 4 })
      let tokens = 0
      let ms = 0
      let drafted = 0
      let accepted = 0
      const outputs: Array<ReadonlyArray<number>> = []
      for (const text of texts) {
        yield* Effect.promise(() => waitForQuiet(0.25, settings.quietWait))
        const out = yield* ctx.generateText({ prompt: text, maxTokens: settings.tokens, ignoreEog: true, sampling: { temperature: 0 } })
        tokens += out.done.usage.completionTokens
        ms += out.done.timings.generateMs
        drafted += out.done.speculative?.drafted ?? 0
        accepted += out.done.speculative?.accepted ?? 0
        outputs.push(out.tokens)
      }
      const same = reference === undefined ? "-" : JSON.stringify(outputs) === JSON.stringify(reference) ? "yes" : "NO"
      reference ??= outputs
      rows.push(`| ${name} | ${(tokens / (ms / 1000)).toFixed(1)} | ${drafted === 0 ? "-" : (accepted / drafted).toFixed(2)} | ${same} |`)
    }
    yield* Console.log(`\nSpeculative decoding: greedy, ${settings.prompts} prompts x ${settings.tokens} tokens, one sequence`)
    yield* Console.log("| drafter | tokens/s | acceptance rate | same tokens as no drafter |")
    yield* Console.log("|---|---:|---:|---|")
    for (const row of rows) yield* Console.log(row)
  }).pipe(Effect.scoped, Effect.provide(LlamaModel.layer({ path }).pipe(Layer.provideMerge(Native.layer))))

const main = Effect.gen(function*() {
  const path = yield* Effect.promise(() => resolve(settings.model))
  const draftPath = yield* Effect.promise(() => resolve(settings.draft))
  yield* Console.log(`bench:parity on ${settings.model} (draft ${settings.draft}), ${settings.threads} threads`)
  yield* warmupBench(path)
  yield* speculativeBench(path, draftPath)
})

const workerAt = process.argv.indexOf("--worker")
NodeRuntime.runMain(
  workerAt >= 0 ? worker(process.argv[workerAt + 1]!, process.argv[workerAt + 2] === "warm") : main
)
