// One fuzz worker process: `node test/fuzz/child.ts <base-name> <base-path> <seed> <tmp-dir> <index>...`.
// For each index it writes the damaged file, loads it through the public API (LlamaModel.make), and where it
// loads renders a chat and generates 4 tokens. It prints one JSON line before each case ({"start"}) and one
// after ({"end", "outcome", ...}), so the parent knows which case a crash or a hang belongs to.
import { Cause, Effect, Exit, Layer } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import { LlamaError } from "../../src/llama/LlamaError.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"
import { scan } from "./GgufLayout.ts"
import { apply, makeCase } from "./Mutator.ts"

const [baseName, basePath, seedText, tmp, ...indices] = process.argv.slice(2)
const base = readFileSync(basePath!)
const layout = scan(base)
const seed = Number(seedText)

const messages = JSON.stringify([{ role: "user", content: "Hi" }])

const exercise = (path: string, index: number) =>
  Effect.scoped(Effect.gen(function*() {
    const model = yield* LlamaModel.make({ path })
    yield* model.applyChat({ messages }).pipe(Effect.catchTag("LlamaError", () => Effect.void))
    const context = yield* LlamaContext.make({ contextSize: 128, batchSize: 32, threads: Number(process.env.FUZZ_THREADS ?? 1) }).pipe(
      Effect.provideService(LlamaModel.LlamaModel, model)
    )
    // Greedy and sampled in turn: the sampled chain meets NaN or Inf logits of garbage weights too.
    const sampling = index % 2 === 0 ? { temperature: 0 } : { temperature: 0.8, topK: 40, seed: index }
    yield* context.generateText({ prompt: "Hello world", maxTokens: 4, sampling })
  })).pipe(Effect.provide(Native.layer))

const outcome = (exit: Exit.Exit<void, unknown>) => {
  if (Exit.isSuccess(exit)) return { outcome: "ok" }
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined && failure.error instanceof LlamaError) {
    return { outcome: "typed", reason: failure.error.reason._tag, message: failure.error.message.slice(0, 300) }
  }
  return { outcome: "untyped", message: Cause.pretty(exit.cause).slice(0, 2000) }
}

const program = Effect.gen(function*() {
  for (const text of indices) {
    const index = Number(text)
    const c = makeCase(baseName!, base, layout, seed, index)
    const path = join(tmp!, `${baseName}-${seed}-${index}.gguf`)
    writeFileSync(path, apply(base, c))
    process.stdout.write(JSON.stringify({ start: index }) + "\n")
    const exit = yield* Effect.exit(exercise(path, index))
    rmSync(path, { force: true })
    process.stdout.write(JSON.stringify({ end: index, ...outcome(exit) }) + "\n")
  }
})

Effect.runFork(program.pipe(Effect.provide(Layer.empty)))
