import { it } from "@effect/vitest"
import { Effect } from "effect"
import { generate, loadModel, modelFile, openContext } from "../support/native.ts"
const tools = JSON.stringify([{ type: "function", function: { name: "get_weather", description: "w", parameters: { type: "object", properties: { city: { type: "string", enum: ["Paris", "Oslo"] } }, required: ["city"], additionalProperties: false } } }])
it.effect("x", () => Effect.gen(function*() {
  const model = yield* loadModel(yield* modelFile("tiny-qwen2"))
  const ctx = yield* openContext(model, { contextSize: 2048 })
  const applied = yield* Effect.promise(() => model.applyChat({ messages: JSON.stringify([{ role: "user", content: "hi" }]), tools, toolChoice: "auto" }))
  const base = { temperature: 0 }
  const variants: Record<string, object> = {
    plain: base,
    bias: { ...base, logitBias: [{ token: 27, bias: 100 }] },
    lazy: { ...base, grammar: applied.grammar, grammarType: "tool_calls", grammarLazy: true, grammarTriggers: applied.grammarTriggers, preservedTokens: applied.preservedTokens, generationPrompt: applied.generationPrompt },
    json: { ...base, grammar: (yield* Effect.sync(() => 'root ::= "{" [a-z]* "}"')) },
  }
  for (const [name, sampling] of Object.entries(variants)) {
    const t0 = Date.now()
    const out = yield* generate(ctx, { sequence: 0, text: applied.prompt, maxTokens: 30, sampling })
    console.log(name, Date.now() - t0, "ms", out.done.reason, out.tokens.length, JSON.stringify(out.text.slice(0, 60)))
  }
}), 120000)
