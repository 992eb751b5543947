/**
 * Speculative decoding: a small draft model of the same vocabulary proposes tokens, the model checks them in one
 * batch; the output is what decoding alone gives, and the done event reports the acceptance rate.
 * Run: node examples/speculative.ts   (LLAMA_MODEL_PATH and LLAMA_DRAFT_PATH for real models)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { LlamaContext, LlamaModel, Native } from "../src/index.ts"
import { companionPath, modelPath } from "./model.ts"

const draftPath = await companionPath("LLAMA_DRAFT_PATH", "tiny-qwen2-draft")

const program = Effect.gen(function*() {
  const draft = yield* LlamaModel.make({ path: draftPath })
  const ctx = yield* LlamaContext.make({ contextSize: 4096, speculative: { type: "draft", model: draft, draftTokens: 6 } })
  const out = yield* ctx.generateText({ prompt: "The quick brown fox", maxTokens: 48, sampling: { temperature: 0 } })
  yield* Console.log(out.text)
  const spec = out.done.speculative
  if (spec !== undefined) {
    yield* Console.log(`acceptance rate: ${spec.acceptanceRate.toFixed(2)} (${spec.accepted} of ${spec.drafted} drafted tokens kept)`)
  }
})

const Local = LlamaModel.layer({ path: modelPath }).pipe(Layer.provideMerge(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.scoped, Effect.provide(Local)))
