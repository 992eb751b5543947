/**
 * Load the tools of an external MCP server into a ToolRegistry, then use them: list their definitions (OpenAI's
 * tool format), execute one directly, and let an agent on the local model call one through the registry. The
 * server is examples/mcp-server.ts, started as a child process over stdio.
 * Run: node examples/mcp-client.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { Agent, LlamaLanguageModel, McpTools, Native, ToolRegistry } from "../src/index.ts"
import { isRandomModel, modelPath } from "./model.ts"

const server = new URL("./mcp-server.ts", import.meta.url).pathname

const program = Effect.gen(function*() {
  const registry = yield* ToolRegistry.ToolRegistry
  const definitions = yield* registry.definitions({ category: "mcp" })
  yield* Console.log(`tools from the server: ${definitions.map((d) => d.function.name).join(", ")}`)

  const direct = yield* registry.execute("remote_Convert", { celsius: 21.5 })
  yield* Console.log(`execute remote_Convert -> ${JSON.stringify(direct.success ? direct.data : direct.error)} in ${direct.durationMs} ms`)
  const invalid = yield* registry.execute("remote_Convert", { celsius: "warm" })
  // The server's ToolCallError names the field.
  const failure = invalid.success ? undefined : (invalid.error as { readonly structured?: unknown }).structured
  yield* Console.log(`invalid call -> ${JSON.stringify(failure)}`)

  // A random-weight model calls tools only when forced: one call on step 1, then an answer without tools.
  const agent = yield* Agent.make({
    tools: registry.toolkit({ category: "mcp" }),
    maxSteps: 3,
    toolChoice: isRandomModel ? (step) => (step === 1 ? { tool: "remote_Convert" } : "none") : "auto",
    toolLimits: { timeout: "10 seconds", maxToolCalls: 2 },
    aroundStep: (step) =>
      LlamaLanguageModel.withConfigOverride({ maxTokens: step === 1 ? 200 : 32, parallelToolCalls: false, sampling: { seed: 3 } })
  })
  const run = yield* agent.generate("What is 30 degrees Celsius in Fahrenheit?")
  for (const call of run.toolCalls) {
    yield* Console.log(`agent called ${call.name} ${JSON.stringify(call.params)} -> ${JSON.stringify(call.result)}`)
  }
  yield* Console.log(`[agent finished: ${run.reason} after ${run.steps} steps]`)
})

const Remote = McpTools.layerStdio({ command: process.execPath, args: [server], prefix: "remote_" }).pipe(
  Layer.provideMerge(ToolRegistry.layer)
)
const Local = LlamaLanguageModel.layerModel({ path: modelPath, config: { sampling: { seed: 3 } } }).pipe(
  Layer.provide(Native.layer)
)

NodeRuntime.runMain(program.pipe(Effect.provide([Remote, Local])))
