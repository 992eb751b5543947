/**
 * How the agent measures its history against the model's context: a function from text to a token count.
 * `estimate` (about four characters a token) needs nothing; `llama` counts exactly with the local model's tokenizer.
 *
 * @since 0.1.0
 */
import { Effect } from "effect"
import * as LlamaModel from "../llama/LlamaModel.ts"

/**
 * Counts the tokens of a text.
 *
 * @category models
 * @since 0.1.0
 */
export type TokenCounter = (text: string) => Effect.Effect<number>

/**
 * A rough count: one token per four characters (rounded up).
 *
 * @category constructors
 * @since 0.1.0
 */
export const estimate: TokenCounter = (text) => Effect.succeed(Math.ceil(text.length / 4))

/**
 * The exact count with the loaded model's tokenizer (`LlamaModel.tokenize`). If tokenizing fails the estimate is
 * used: a budget check should not fail a conversation.
 *
 * @category constructors
 * @since 0.1.0
 */
export const llama: Effect.Effect<TokenCounter, never, LlamaModel.LlamaModel> = Effect.gen(function*() {
  const model = yield* LlamaModel.LlamaModel
  return (text: string) =>
    model.tokenize(text, { addSpecial: false, parseSpecial: true }).pipe(
      Effect.map((tokens) => tokens.length),
      Effect.orElseSucceed(() => Math.ceil(text.length / 4))
    )
})
