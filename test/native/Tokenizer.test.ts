// Tokenizer conformance: llama.cpp's own vectors (vendor/llama.cpp/models/ggml-vocab-*.gguf.inp/.out) reproduced
// through the addon, as tests/test-tokenizer-0.cpp checks them (add_special false, parse_special false).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { loadModel } from "../support/native.ts"

const models = new URL("../../vendor/llama.cpp/models/", import.meta.url).pathname
const vocabs = readdirSync(models).filter((f) => f.endsWith(".gguf") && existsSync(join(models, `${f}.inp`)))

const readVectors = (vocab: string): ReadonlyArray<readonly [string, ReadonlyArray<number>]> => {
  const inputs = readFileSync(join(models, `${vocab}.inp`), "utf8").split("\n__ggml_vocab_test__\n")
  if (inputs.at(-1) === "") inputs.pop()
  const outputs = readFileSync(join(models, `${vocab}.out`), "utf8").split("\n")
  return inputs.map((input, i) => [input, (outputs[i] ?? "").trim().split(" ").filter((s) => s !== "").map(Number)] as const)
}

// llama.cpp's detokenizer clean-up for vocabs with clean_spaces: no space before ? ! . ,
const cleanSpaces = (text: string): string => text.replace(/ ([?!.,])/g, "$1")

describe("tokenizer conformance", () => {
  it("finds the vocab vectors", () => {
    assert.isAtLeast(vocabs.length, 15)
  })

  for (const vocab of vocabs) {
    it.effect(vocab, () =>
      Effect.gen(function*() {
        const model = yield* loadModel(join(models, vocab), { vocabOnly: true })
        const vectors = readVectors(vocab)
        assert.isAbove(vectors.length, 10)
        for (const [input, expected] of vectors) {
          const tokens = yield* Effect.promise(() => model.tokenize(input, false, false))
          assert.deepStrictEqual(Array.from(tokens), expected, `tokenize ${JSON.stringify(input)}`)
          // Detokenizing our tokens gives the same text as detokenizing llama.cpp's reference tokens.
          const text = yield* Effect.promise(() => model.detokenize(tokens, false, false))
          const reference = yield* Effect.promise(() => model.detokenize(expected, false, false))
          assert.strictEqual(text, reference)
          // And gives the input back, up to the space clean-up some vocabs apply (" ?" -> "?"); WPM
          // (BERT) lowercases and strips accents by design, so it has no round trip.
          if (model.info().vocabType !== "wpm") {
            assert.include([input, cleanSpaces(input)], text, `round trip of ${JSON.stringify(input)}`)
          }
        }
      }), 120_000)
  }
})
