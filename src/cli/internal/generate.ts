/**
 * `complete` (text continuation, streamed to stdout), `embed` (vectors) and `bench` (quick prompt-processing and
 * generation speed) on a local model.
 *
 * @internal
 */
import { Effect, Option, Stream } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { basename } from "node:path"
import * as LlamaContext from "../../llama/LlamaContext.ts"
import * as LlamaModel from "../../llama/LlamaModel.ts"
import * as Flags from "./flags.ts"
import { json, out, status } from "./output.ts"

const readStdin = Effect.promise(async () => {
  if (process.stdin.isTTY === true) return ""
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString("utf8")
})

const promptText = (words: ReadonlyArray<string>) => (words.length > 0 ? Effect.succeed(words.join(" ")) : readStdin)

/** @internal */
export const complete = Command.make("complete", {
  model: Flags.model,
  prompt: Argument.String("prompt").pipe(Argument.withDescription("the text to continue (default: stdin)"), Argument.variadic()),
  maxTokens: Flags.maxTokens(128),
  temperature: Flags.temperature,
  seed: Flags.seed,
  ctxSize: Flags.ctxSize(4096),
  threads: Flags.threads,
  gpuLayers: Flags.gpuLayers,
  json: Flags.json
}, (flags) =>
  Effect.gen(function*() {
    const prompt = yield* promptText(flags.prompt)
    const context = yield* LlamaContext.LlamaContext
    let text = ""
    let done: Extract<LlamaContext.GenerationEvent, { type: "done" }> | undefined
    yield* context.generate({ prompt, maxTokens: flags.maxTokens, sampling: Flags.samplingOf(flags) }).pipe(
      Stream.runForEach((event) => {
        text += event.text
        if (event.type === "done") done = event
        return flags.json || event.text === "" ? Effect.void : out(event.text)
      })
    )
    if (flags.json) {
      return yield* json({
        text,
        finishReason: done?.reason === "length" ? "length" : "stop",
        usage: { promptTokens: done?.usage.promptTokens ?? 0, completionTokens: done?.usage.completionTokens ?? 0 }
      })
    }
    yield* out("\n")
  }).pipe(Flags.withModel(flags.model, Flags.localContext(flags, { contextSize: flags.ctxSize, sequences: 1 })))).pipe(
  Command.withDescription("Continue a prompt (no chat template), streamed to stdout")
)

/** @internal */
export const embed = Command.make("embed", {
  model: Flags.model,
  texts: Argument.String("text").pipe(Argument.withDescription("texts to embed (default: stdin, one per line)"), Argument.variadic()),
  normalize: Flag.Boolean("normalize").pipe(Flag.withDescription("L2-normalize the vectors (--no-normalize for raw)"), Flag.withDefault(true)),
  ctxSize: Flags.ctxSize(4096),
  threads: Flags.threads,
  gpuLayers: Flags.gpuLayers,
  json: Flags.json
}, (flags) =>
  Effect.gen(function*() {
    const texts = flags.texts.length > 0
      ? flags.texts
      : (yield* readStdin).split("\n").filter((line) => line.trim() !== "")
    const context = yield* LlamaContext.LlamaContext
    const vectors = (yield* context.embed(texts, { normalize: flags.normalize })).map((v) => Array.from(v))
    if (flags.json) {
      return yield* json({ model: basename(flags.model), dimensions: vectors[0]?.length ?? 0, embeddings: vectors })
    }
    for (const [i, vector] of vectors.entries()) {
      const head = vector.slice(0, 8).map((x) => x.toFixed(4)).join(" ")
      yield* out(`${i}\t${vector.length} dims\t${head}${vector.length > 8 ? " …" : ""}\n`)
    }
  }).pipe(Flags.withModel(flags.model, Flags.localContext(flags, { contextSize: flags.ctxSize, sequences: 4, embeddings: true })))).pipe(
  Command.withDescription("Embed texts (one vector per text)")
)

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
const deviation = (xs: ReadonlyArray<number>) => {
  const m = mean(xs)
  return xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/** @internal */
export const bench = Command.make("bench", {
  model: Flags.model,
  pp: Flag.Int("pp").pipe(Flag.withDescription("prompt tokens to process (default 512)"), Flag.withDefault(512)),
  tg: Flag.Int("tg").pipe(Flag.withDescription("tokens to generate (default 128)"), Flag.withDefault(128)),
  reps: Flag.Int("reps").pipe(Flag.withAlias("r"), Flag.withDescription("repetitions (default 3)"), Flag.withDefault(3)),
  threads: Flags.threads,
  gpuLayers: Flags.gpuLayers,
  json: Flags.json
}, (flags) =>
  Effect.gen(function*() {
    const model = yield* LlamaModel.LlamaModel
    const context = yield* LlamaContext.LlamaContext
    const vocab = model.info.vocabSize
    // Deterministic ordinary tokens (clear of the low special ids), as llama-bench uses random ones.
    const prompt = Array.from({ length: flags.pp }, (_, i) => 100 + ((i * 7919) % Math.max(1, vocab - 200)))
    const once = (request: LlamaContext.GenerateRequest) => Effect.map(context.generateText(request), (g) => g.done)
    yield* once({ prompt: prompt.slice(0, 16), maxTokens: 4, ignoreEog: true, sampling: { temperature: 0 } }) // warm-up
    const pp: Array<number> = []
    const tg: Array<number> = []
    for (let rep = 0; rep < flags.reps; rep++) {
      // A different first token each time, so no prefix is reused from the last run.
      const prefill = yield* once({ prompt: [100 + rep, ...prompt.slice(1)], maxTokens: 1, sampling: { temperature: 0 } })
      pp.push(prefill.usage.promptTokens / (prefill.timings.prefillMs / 1000))
      const generated = yield* once({ prompt: [200 + rep], maxTokens: flags.tg, ignoreEog: true, sampling: { temperature: 0 } })
      tg.push((generated.usage.completionTokens - 1) / (generated.timings.generateMs / 1000))
    }
    const rows = [
      { test: `pp${flags.pp}`, tokensPerSecond: mean(pp), stddev: deviation(pp) },
      { test: `tg${flags.tg}`, tokensPerSecond: mean(tg), stddev: deviation(tg) }
    ]
    const threads = Option.getOrUndefined(flags.threads) ?? context.info.threads
    if (flags.json) return yield* json({ model: basename(flags.model), threads, reps: flags.reps, results: rows })
    yield* status(`${basename(flags.model)}: ${model.info.architecture}, ${model.info.parameters.toLocaleString("en-US")} parameters, ${threads} threads`)
    yield* out(`${"test".padEnd(8)}  ${"tokens/s".padStart(10)}  ${"±".padStart(7)}\n`)
    for (const row of rows) {
      yield* out(`${row.test.padEnd(8)}  ${row.tokensPerSecond.toFixed(2).padStart(10)}  ${row.stddev.toFixed(2).padStart(7)}\n`)
    }
  }).pipe(Flags.withModel(flags.model, Flags.localContext(flags, { contextSize: Math.max(flags.pp, flags.tg) + 64, sequences: 1 })))).pipe(
  Command.withDescription("Quick speed test: prompt processing (pp) and generation (tg) tokens per second")
)
