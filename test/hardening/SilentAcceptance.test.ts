// Inputs that used to be accepted and then did nothing (or failed late) are typed errors where they are given:
// an empty grammar or one behind a NUL byte constrained nothing; a "token" trigger that is not one token was quietly
// made a word; a logit bias banning every token still generated; a grammar that masks every candidate still
// sampled one.
import { assert, layer } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"

const path = await ensureModel("tiny-qwen2")
const Local = LlamaContext.layer({ contextSize: 512 }).pipe(
  Layer.provideMerge(LlamaModel.layer({ path })),
  Layer.provide(Native.layer)
)

const reasonOf = (request: LlamaContext.GenerateRequest) =>
  Effect.gen(function*() {
    const context = yield* LlamaContext.LlamaContext
    const error = yield* Effect.flip(context.generateText({ maxTokens: 4, ...request }))
    return [error.reason._tag, error.reason.message] as const
  })

layer(Local, { excludeTestServices: true })("silent acceptance", (it) => {
  it.effect("an empty grammar, or one behind a NUL byte, is a GrammarError", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* reasonOf({ prompt: "Hi", grammar: { gbnf: "" } }), ["GrammarError", "sampling: the grammar is empty"])
      assert.strictEqual((yield* reasonOf({ prompt: "Hi", grammar: { gbnf: "  \n" } }))[0], "GrammarError")
      const [tag, message] = yield* reasonOf({ prompt: "Hi", grammar: { gbnf: "\u0000root ::= \"a\"" } })
      assert.deepStrictEqual([tag, message.includes("NUL")], ["GrammarError", true])
    }))

  it.effect("a token trigger that is not a single token is a GrammarError; one that is works", () =>
    Effect.gen(function*() {
      const grammar = (value: string) => ({ gbnf: "root ::= \"a\"", lazy: true, triggers: [{ type: "token" as const, value }] })
      const [tag, message] = yield* reasonOf({ prompt: "Hi", grammar: grammar("hello world") })
      assert.deepStrictEqual([tag, message.includes("not a single token")], ["GrammarError", true])
      const context = yield* LlamaContext.LlamaContext
      const out = yield* context.generateText({ prompt: "Hi", maxTokens: 4, grammar: grammar("<tool_call>") })
      assert.strictEqual(out.done.reason, "length")
    }))

  it.effect("a logit bias that bans every token is InvalidSampling; a grammar whose every token is banned fails", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const all = Array.from({ length: model.info.vocabSize }, (_, token) => ({ token, bias: -Infinity }))
      const [tag] = yield* reasonOf({ prompt: "Hi", sampling: { temperature: 0.7, logitBias: all } })
      assert.strictEqual(tag, "InvalidSampling")
      const [a] = yield* model.tokenize("a", { addSpecial: false, parseSpecial: false })
      const [maskedTag, message] = yield* reasonOf({
        prompt: "Hi",
        sampling: { temperature: 0.7, logitBias: [{ token: a!, bias: -Infinity }] },
        grammar: { gbnf: "root ::= \"a\"" }
      })
      assert.deepStrictEqual([maskedTag, message.includes("every token is masked")], ["SamplingFailed", true])
      // the context goes on
      const context = yield* LlamaContext.LlamaContext
      const events = yield* Stream.runCollect(context.generate({ prompt: "Hi", maxTokens: 3, sampling: { temperature: 0 } }))
      assert.strictEqual(events.length, 4)
    }))
})
