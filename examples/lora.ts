/**
 * LoRA adapters: load one for the model, apply it per request (or per context) with a scale; scale 0 is the base
 * model. Run: node examples/lora.ts   (LLAMA_MODEL_PATH and LLAMA_LORA_PATH for a real model and adapter)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { LlamaContext, LlamaModel, Native } from "../src/index.ts"
import { companionPath, modelPath } from "./model.ts"

const loraPath = await companionPath("LLAMA_LORA_PATH", "tiny-qwen2-lora")

const program = Effect.gen(function*() {
  const model = yield* LlamaModel.LlamaModel
  const ctx = yield* LlamaContext.LlamaContext
  const adapter = yield* model.loadLora(loraPath) // unloaded when the scope closes
  const request = { prompt: "Once upon a time", maxTokens: 24, sampling: { temperature: 0 } }
  const base = yield* ctx.generateText(request)
  for (const scale of [0, 0.5, 1]) {
    const out = yield* ctx.generateText({ ...request, lora: [{ adapter, scale }] })
    yield* Console.log(`scale ${scale}: ${out.text.replace(/\s+/g, " ").trim()}${out.text === base.text ? "  (= base)" : ""}`)
  }
})

const Local = LlamaContext.layer().pipe(Layer.provideMerge(LlamaModel.layer({ path: modelPath })), Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.scoped, Effect.provide(Local)))
