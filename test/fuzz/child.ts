// One fuzz worker process: `node test/fuzz/child.ts <spec-json>`. The spec is either
//   { "mode": "mutate", "base": name, "path": base-file, "seed": n, "tmp": dir, "indices": [...] }
// (each index is a damaged copy of the base, made by Mutator.ts and written to `tmp`), or
//   { "mode": "files", "files": [...], "indices": [...] } (index i is files[i]).
// Each file is loaded through the public API (LlamaModel.make) and, where it loads, a chat is rendered and 4 tokens
// are generated. One JSON line is printed before each case ({"start"}) and one after ({"end", "outcome", ...}),
// so the parent knows which case a crash or a hang belongs to.
import { Cause, Effect, Exit } from "effect"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import { LlamaError } from "../../src/llama/LlamaError.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"
import { scan } from "./GgufLayout.ts"
import { apply, makeCase } from "./Mutator.ts"

type Spec =
  | {
    readonly mode: "mutate"
    readonly base: string
    readonly path: string
    readonly seed: number
    readonly tmp: string
    readonly indices: ReadonlyArray<number>
  }
  | { readonly mode: "files"; readonly files: ReadonlyArray<string>; readonly indices: ReadonlyArray<number> }

const messages = JSON.stringify([{ role: "user", content: "Hi" }])
const threads = Number(process.env.FUZZ_THREADS ?? 1)

const exercise = (path: string, index: number) =>
  Effect.scoped(Effect.gen(function*() {
    const model = yield* LlamaModel.make({ path })
    yield* model.applyChat({ messages }).pipe(Effect.catchTag("LlamaError", () => Effect.void))
    const context = yield* LlamaContext.make({ contextSize: 128, batchSize: 32, threads }).pipe(
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
    return { outcome: "typed", reason: failure.error.reason._tag, message: failure.error.message.slice(0, 1000) }
  }
  return { outcome: "untyped", message: Cause.pretty(exit.cause).slice(0, 2000) }
}

const spec = JSON.parse(process.argv[2]!) as Spec

const program = Effect.gen(function*() {
  const base = spec.mode === "mutate" ? readFileSync(spec.path) : undefined
  const layout = base === undefined ? undefined : scan(base)
  for (const index of spec.indices) {
    let path: string
    if (spec.mode === "mutate") {
      path = join(spec.tmp, `${spec.base}-${spec.seed}-${index}.gguf`)
      writeFileSync(path, apply(base!, makeCase(spec.base, base!, layout!, spec.seed, index)))
    } else {
      path = spec.files[index]!
    }
    process.stdout.write(JSON.stringify({ start: index }) + "\n")
    const exit = yield* Effect.exit(exercise(path, index))
    if (spec.mode === "mutate") rmSync(path, { force: true })
    process.stdout.write(JSON.stringify({ end: index, ...outcome(exit) }) + "\n")
  }
})

Effect.runFork(program)
