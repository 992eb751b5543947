// Regression files (test/fixtures, made by make-fixtures.ts and from libFuzzer findings): each once reached a
// GGML_ABORT in llama.cpp's loader or at the first decode and killed the process, or crashed it (a null call), or
// failed only at the first generation. Each is loaded in a child
// process (a regression must not take the test runner down with it) and must fail with a typed InvalidModelFile
// that keeps llama.cpp's reason; the undamaged micro model loads and generates.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync } from "node:fs"
import { runCases } from "./runner.ts"

const dir = new URL("../fixtures/", import.meta.url).pathname

// file -> the reason llama.cpp gives (part of the typed error's message), or "ok"
const expected: Readonly<Record<string, string>> = {
  "micro-llama.gguf": "ok",
  "micro-llama-vocab-duplicate-flip.gguf": "GGML_ASSERT(id_to_token.size() == token_to_id.size())",
  "micro-llama-vocab-duplicate-copy.gguf": "GGML_ASSERT(id_to_token.size() == token_to_id.size())",
  "micro-llama-block-count-zero.gguf": "GGML_ASSERT(hparams.n_layer_all > 0",
  "micro-llama-negative-norm-eps.gguf": "layer_norm_rms_epsilon = -1",
  "micro-llama-alignment-one.gguf": "buffer pointer must be aligned",
  "micro-llama-integer-weight.gguf": "tensor output.weight has type i8",
  "micro-llama-vocab-missing-byte.gguf": "the vocabulary cannot tokenize text"
}
// undefined behaviour in the loader that UBSan found (patches/0007): llama.cpp itself refuses these, and under
// `npm run test:sanitize` they must load without a report
const refused: ReadonlyArray<string> = [
  "micro-llama-kv-type-invalid.gguf",
  "micro-llama-tensor-type-invalid.gguf",
  "micro-llama-tensor-dims-overflow.gguf"
]

describe("regression files", () => {
  it.live("every fixture is a typed InvalidModelFile with llama.cpp's reason (or, undamaged, works)", () =>
    Effect.gen(function*() {
      const files = readdirSync(dir).filter((f) => f.endsWith(".gguf")).sort()
      assert.deepStrictEqual(files.filter((f) => expected[f] === undefined && !refused.includes(f)), [], "a fixture without an expectation")
      const results = yield* Effect.promise(() =>
        runCases({
          source: { mode: "files", files: files.map((f) => dir + f) },
          indices: files.map((_, i) => i),
          workers: 1,
          batch: files.length,
          caseTimeoutMs: 60_000
        })
      )
      for (const r of results) {
        const file = files[r.index]!
        const want = expected[file]
        if (want === undefined) {
          assert.deepStrictEqual([r.outcome, r.reason], ["typed", "ModelLoadFailed"], `${file}: ${r.message}`)
        } else if (want === "ok") {
          assert.strictEqual(r.outcome, "ok", `${file}: ${r.message}`)
        } else {
          assert.deepStrictEqual([r.outcome, r.reason], ["typed", "InvalidModelFile"], `${file}: ${r.message}`)
          assert.include(r.message ?? "", want, file)
        }
      }
      assert.strictEqual(results.length, files.length)
    }), 300_000)
})
