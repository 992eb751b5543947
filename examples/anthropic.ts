/**
 * Anthropic's Messages API: ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (default api.anthropic.com/v1), ANTHROPIC_MODEL.
 * Streams a reply, thinking as reasoning when the model thinks; any server that speaks the Messages API works
 * (llama-server serves it at /v1/messages).
 * Run: ANTHROPIC_API_KEY=sk-ant-... node examples/anthropic.ts
 */
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { Anthropic, Resilience } from "../src/index.ts"

const model = process.env.ANTHROPIC_MODEL ?? "claude-sonnet-4-5"

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({
    prompt: [{ role: "system", content: "You answer in one sentence." }, { role: "user", content: "What is a lighthouse for?" }]
  })
  yield* Console.log(response.text)
  yield* Console.log(`finish: ${response.finishReason}, tokens in/out: ${response.usage.inputTokens.total}/${response.usage.outputTokens.total}`)
  yield* Console.log("streamed:")
  yield* LanguageModel.streamText({ prompt: "Tell me about the sea." }).pipe(
    Stream.runForEach((part) =>
      part.type === "text-delta" || part.type === "reasoning-delta"
        ? Effect.sync(() => process.stdout.write(part.delta))
        : part.type === "finish"
        ? Console.log(`\n[finish: ${part.reason}, ${part.usage.outputTokens.total} tokens]`)
        : Effect.void
    )
  )
})

const Claude = Anthropic.layerConfig({ model, config: { maxTokens: 48 } }).pipe(
  Resilience.languageModel({ key: `anthropic/${model}` }),
  Layer.provide(NodeHttpClient.layerUndici)
)

NodeRuntime.runMain(program.pipe(Effect.provide(Claude)))
