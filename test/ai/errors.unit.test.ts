// Every LlamaError reason survives the effect/ai boundary: the AiError reason the table names, the llama reason in
// its metadata, the LlamaError as its cause, the method named once in its message.
import { assert, describe, it } from "@effect/vitest"
import { aiReasonByLlamaReason, toAiError } from "../../src/ai/internal/errors.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as LlamaError from "../../src/llama/LlamaError.ts"

const reasons = LlamaError.LlamaErrorReason.members

describe("LlamaError -> AiError", () => {
  it("the table covers every reason", () => {
    assert.deepStrictEqual(Object.keys(aiReasonByLlamaReason).sort(), reasons.map((r) => r.identifier).sort())
  })

  for (const Reason of reasons) {
    it(`${Reason.identifier} keeps its tag, message and cause`, () => {
      const reason = new (Reason as unknown as new(f: { message: string }) => LlamaError.LlamaErrorReason)({ message: "what happened" })
      const error = new LlamaError.LlamaError({ module: "LlamaContext", method: "generate", reason })
      const ai = toAiError("LlamaLanguageModel", "generateText")(error)
      assert.strictEqual((ai.reason as { metadata?: Record<string, unknown> }).metadata?.llamaReason, Reason.identifier)
      assert.strictEqual(LlamaLanguageModel.llamaErrorOf(ai), error)
      // effect/ai words the reason ("Invalid request: ..."); the method is named once, the llama message kept whole.
      assert.match(ai.message, /^LlamaLanguageModel\.generateText: (?:[^:.]+[.:] )?what happened$/)
      assert.strictEqual(ai.isRetryable, reason.isRetryable)
    })
  }
})
