/**
 * Bad input is a typed error, never a crash: a damaged model file, a chat template that loops forever, JSON nested
 * too deep. Each failure is handled by its reason (`Effect.catchReason`), and the process carries on.
 * Run: node examples/bad-input.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { LlamaModel, Native } from "../src/index.ts"
import { modelPath } from "./model.ts"

// A copy of a model whose vocabulary holds the same token twice: llama.cpp's loader used to abort the process.
const damaged = new URL("../test/fixtures/micro-llama-vocab-duplicate-flip.gguf", import.meta.url).pathname

const program = Effect.gen(function*() {
  const loaded = yield* LlamaModel.make({ path: damaged }).pipe(
    Effect.as("loaded"),
    Effect.catchReason("LlamaError", "InvalidModelFile", (reason) => Effect.succeed(`refused: ${reason.message}`))
  )
  yield* Console.log(`damaged model -> ${loaded}`)

  const model = yield* LlamaModel.make({ path: modelPath })
  const messages = JSON.stringify([{ role: "user", content: "Hi" }])
  // A template from an untrusted model file that never ends: bounded by a deadline, and interrupted by a timeout.
  const endless = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
  const looped = yield* model.applyChat({ messages, templateOverride: endless, timeoutMs: 500 }).pipe(
    Effect.as("rendered"),
    Effect.catchReason("LlamaError", "TemplateError", (reason) => Effect.succeed(`stopped: ${reason.message}`))
  )
  yield* Console.log(`endless template -> ${looped}`)

  const deep = `[{"role":"user","content":${"[".repeat(10_000)}1${"]".repeat(10_000)}}]`
  const refused = yield* model.applyChat({ messages: deep }).pipe(
    Effect.as("rendered"),
    Effect.catchReason("LlamaError", "InvalidRequest", (reason) => Effect.succeed(`refused: ${reason.message}`))
  )
  yield* Console.log(`deep JSON -> ${refused}`)

  const applied = yield* model.applyChat({ messages })
  yield* Console.log(`and the model still works: ${applied.prompt.length} characters of prompt`)
}).pipe(Effect.scoped)

NodeRuntime.runMain(program.pipe(Effect.provide(Native.layer)))
