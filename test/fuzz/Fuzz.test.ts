// The fuzz test: 1,050 damaged copies of the test models (Mutator.ts: KV types and lengths, array counts, vocabulary
// arrays, special token ids, hyper-parameters, tensor dims, types and offsets, header counts, magic, version, bit
// flips, zeroed runs, truncations, garbage weights), each loaded through LlamaModel.make in a child process and,
// where it loads, used for a chat render and a 4-token generation. Any signal, hang or untyped error fails the test
// with the seed and the mutation to reproduce it. FUZZ_SEED picks another seed (the default is fixed).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { scan } from "./GgufLayout.ts"
import { describe as describeCase, makeCase } from "./Mutator.ts"
import { type Result, runCases } from "./runner.ts"
import { modelFile } from "../support/native.ts"

const seed = Number(process.env.FUZZ_SEED ?? 13)
// FUZZ_CASES scales the run (npm run test:sanitize uses fewer; the default suite runs 1,050)
const total = Number(process.env.FUZZ_CASES ?? 1050)
const micro = new URL("../fixtures/micro-llama.gguf", import.meta.url).pathname

// Most cases on the micro model (fast, and its small vocabulary makes vocabulary damage bite), the rest on the
// test models themselves (the SPM vocabulary of tiny-llama, the BPE vocabulary, merges and template of tiny-qwen2).
const bases = [
  { name: "micro-llama", path: Effect.succeed(micro), count: Math.round(total * 2 / 3) },
  { name: "tiny-llama", path: modelFile("tiny-llama"), count: Math.round(total * 5 / 21) },
  { name: "tiny-qwen2", path: modelFile("tiny-qwen2"), count: Math.round(total * 2 / 21) }
] as const

const failures = (name: string, path: string, results: ReadonlyArray<Result>): Array<string> => {
  const base = readFileSync(path)
  const layout = scan(base)
  return results.filter((r) => r.outcome !== "ok" && r.outcome !== "typed").map((r) =>
    `${r.outcome}: ${describeCase(makeCase(name, base, layout, seed, r.index))}\n` +
    `  reproduce: node test/fuzz/case.ts ${name} ${seed} ${r.index} /tmp/case.gguf\n  ${r.message ?? ""}`
  )
}

describe("fuzz", () => {
  it.live(`${total} damaged models: typed errors or working models, never a crash or a hang (seed ${seed})`, () =>
    Effect.gen(function*() {
      const tmp = mkdtempSync(join(tmpdir(), "effect-llama-fuzz-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(tmp, { recursive: true, force: true })))
      const all: Array<Result & { readonly base: string }> = []
      const problems: Array<string> = []
      for (const base of bases) {
        const path = yield* base.path
        const results = yield* Effect.promise(() =>
          runCases({
            source: { mode: "mutate", base: base.name, path, seed, tmp },
            indices: Array.from({ length: base.count }, (_, i) => i),
            workers: 2,
            batch: 120,
            caseTimeoutMs: 60_000
          })
        )
        all.push(...results.map((r) => ({ ...r, base: base.name })))
        problems.push(...failures(base.name, path, results))
      }
      assert.strictEqual(all.length, bases.reduce((n, b) => n + b.count, 0))
      assert.deepStrictEqual(problems, [], `${problems.length} cases failed:\n${problems.join("\n")}`)
      const count = (f: (r: Result) => boolean) => all.filter(f).length
      // damage that llama.cpp only ever met with GGML_ABORT, now a typed InvalidModelFile with its message
      assert.isAbove(count((r) => r.reason === "InvalidModelFile" && (r.message ?? "").includes("llama-vocab.cpp")), 0, "the vocab-load abort")
      assert.isAbove(count((r) => r.outcome === "ok"), 50, "some damaged files still load and generate")
    }).pipe(Effect.scoped), 600_000)
})
