/**
 * Persist a chat with its KV cache: LlamaChat.save writes the history and the cells of the sequence that holds it;
 * LlamaChat.restore (in another context, another process, later) loads them, so the next turn reads only the new
 * message. Run: node examples/chat-persist.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Chat } from "effect/ai"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { LlamaChat, LlamaLanguageModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

// Each `Effect.provide(Local)` below loads the model and creates a context of its own, as a new process would.
const Local = LlamaLanguageModel.layerModel({ path: modelPath, context: { contextSize: 4096 }, config: { maxTokens: 24 } }).pipe(Layer.provide(Native.layer))

const program = Effect.gen(function*() {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "chat-"))),
    (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
  )
  const file = join(dir, "chat.state")
  yield* Effect.gen(function*() {
    const chat = yield* Chat.empty
    const first = yield* chat.generateText({ prompt: "Tell me about foxes." })
    yield* Console.log(`turn 1: ${first.text}`)
    yield* LlamaChat.save(chat, file)
  }).pipe(Effect.provide(Local))
  yield* Effect.gen(function*() {
    const chat = yield* LlamaChat.restore(file)
    const second = yield* chat.generateText({ prompt: "And wolves?" })
    yield* Console.log(`turn 2: ${second.text}`)
    const { total, cacheRead } = second.usage.inputTokens
    yield* Console.log(`restored: ${cacheRead} of ${total} prompt tokens came from the saved state`)
  }).pipe(Effect.provide(Local))
})

NodeRuntime.runMain(Effect.scoped(program))
