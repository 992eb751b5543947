// MCP both ways: a child process serves a registry over stdio (the `effect-llama mcp` command), an in-process
// server serves one over HTTP on a loopback port; effect/ai's McpClient lists and calls their tools; an agent on the
// scripted model calls an MCP tool through a registry the server's tools were loaded into.
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Schema } from "effect"
import { McpClient, McpProtocol } from "effect/ai"
import { FetchHttpClient, HttpServer } from "effect/http"
import { ChildProcess } from "effect/process"
import * as Agent from "../../src/agent/Agent.ts"
import * as McpToolServer from "../../src/mcp/McpToolServer.ts"
import * as McpTools from "../../src/mcp/McpTools.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as ToolDefinition from "../../src/tools/ToolDefinition.ts"
import * as ToolRegistry from "../../src/tools/ToolRegistry.ts"
import * as ScriptedModel from "../agent/ScriptedModel.ts"

// The real `effect-llama` executable, where `mcp` is mounted.
const cli = new URL("../../src/cli/main.ts", import.meta.url).pathname

const Convert = ToolDefinition.tool("Convert", {
  description: "Celsius to Fahrenheit",
  parameters: { celsius: Schema.Int.annotate({ description: "Degrees Celsius" }) },
  success: Schema.Struct({ fahrenheit: Schema.Finite }),
  handler: ({ celsius }) => Effect.succeed({ fahrenheit: celsius * 9 / 5 + 32 })
})

// A registry with Convert, served over HTTP on 127.0.0.1 (a free port); the client's URL.
const httpServer = Effect.gen(function*() {
  const context = yield* Layer.build(
    McpToolServer.layerHttpServer({ port: 0, name: "test-tools" }).pipe(
      Layer.provide(ToolRegistry.layerTools([Convert])),
      Layer.provideMerge(ToolRegistry.layer)
    )
  )
  const server = Context.get(context, HttpServer.HttpServer)
  const registry = Context.get(context, ToolRegistry.ToolRegistry)
  return { url: `${HttpServer.formatAddress(server.address)}/mcp`, registry }
})

const clientOver = (url: string) =>
  McpClient.layerHttp({ name: "test", version: "1", protocol: McpProtocol.v2025_11_25, url }).pipe(
    Layer.provide(FetchHttpClient.layer)
  )

const text = (result: { readonly content: ReadonlyArray<{ readonly type: string }> }) =>
  result.content.map((c) => (c.type === "text" ? (c as unknown as { readonly text: string }).text : "")).join("")

describe("MCP", () => {
  it.live("a child process serves a registry over stdio; the client lists its tools and calls them", () =>
    Effect.gen(function*() {
      const client = yield* McpClient.McpClient
      const tools = yield* client.listTools()
      const names = tools.map((t) => t.name)
      assert.includeMembers(names, ["NoteCreate", "NoteRead", "NoteSearch", "TodoAdd", "TodoList"])
      const create = tools.find((t) => t.name === "NoteCreate")!
      assert.deepStrictEqual(create.inputSchema.required, ["title", "content"])

      const created = yield* client.callTool({ tool: create, arguments: { title: "MCP", content: "over stdio" } })
      assert.isFalse(created.isError ?? false)
      const note = created.structuredContent as { readonly id: number; readonly title: string }
      assert.strictEqual(note.id, 1)
      assert.strictEqual(note.title, "MCP")
      const read = yield* client.callTool({ tool: tools.find((t) => t.name === "NoteRead")!, arguments: { id: 1 } })
      assert.strictEqual((read.structuredContent as { readonly content: string }).content, "over stdio")

      // Bad arguments: a failed result whose ToolCallError names the field.
      const invalid = yield* client.callTool({ tool: create, arguments: { title: 7, content: "x" } })
      assert.isTrue(invalid.isError)
      const failure = invalid.structuredContent as { readonly reason: string; readonly field: string }
      assert.strictEqual(failure.reason, "InvalidArguments")
      assert.strictEqual(failure.field, "title")
    }).pipe(
      Effect.provide(
        McpClient.layerStdio({
          name: "test",
          version: "1",
          protocol: McpProtocol.v2025_11_25,
          command: ChildProcess.make(process.execPath, [cli, "mcp"])
        }).pipe(Layer.provide(NodeServices.layer))
      )
    ), 60_000)

  it.live("the same over HTTP: a registry served on a loopback port", () =>
    Effect.gen(function*() {
      const { registry, url } = yield* httpServer
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/)
      const result = yield* Effect.gen(function*() {
        const client = yield* McpClient.McpClient
        const tools = yield* client.listTools()
        assert.deepStrictEqual(tools.map((t) => t.name), ["Convert"])
        assert.deepStrictEqual(tools[0]!.inputSchema, {
          type: "object",
          properties: { celsius: { type: "integer", description: "Degrees Celsius" } },
          required: ["celsius"],
          additionalProperties: false
        })
        const called = yield* client.callTool({ tool: tools[0]!, arguments: { celsius: 100 } })
        assert.deepStrictEqual(JSON.parse(text(called)), { fahrenheit: 212 })
        return called
      }).pipe(Effect.provide(clientOver(url)))
      assert.deepStrictEqual(result.structuredContent, { fahrenheit: 212 })
      // The call went through the registry: it is in its history.
      const history = yield* registry.history({ tool: "Convert" })
      assert.strictEqual(history.length, 1)
      assert.deepStrictEqual(history[0]!.arguments, { celsius: 100 })
      assert.strictEqual(history[0]!.source, "execute")
    }), 60_000)

  it.live("a Toolkit served over HTTP", () =>
    Effect.gen(function*() {
      const Echo = AgentTool.make("Echo", {
        description: "Echoes its text",
        parameters: Schema.Struct({ text: Schema.String }),
        success: Schema.String,
        handler: ({ text }) => Effect.succeed(text.toUpperCase())
      })
      const toolkit = yield* AgentTool.toolkit(Echo)
      const context = yield* Layer.build(McpToolServer.layerHttpServer({ port: 0, toolkit }))
      const url = `${HttpServer.formatAddress(Context.get(context, HttpServer.HttpServer).address)}/mcp`
      yield* Effect.gen(function*() {
        const client = yield* McpClient.McpClient
        const [echo] = yield* client.listTools()
        const called = yield* client.callTool({ tool: echo!, arguments: { text: "hi" } })
        assert.strictEqual(text(called), "HI")
      }).pipe(Effect.provide(clientOver(url)))
    }), 60_000)

  it.live("an agent on the scripted model calls an MCP tool through the registry", () =>
    Effect.gen(function*() {
      const { url } = yield* httpServer
      const model = ScriptedModel.make(ScriptedModel.sequence(
        { calls: [{ name: "remote_Convert", params: { celsius: 30 } }] },
        { text: "It is 86F." }
      ))
      const result = yield* Effect.gen(function*() {
        const registry = yield* ToolRegistry.ToolRegistry
        const infos = yield* registry.list({ category: "mcp" })
        assert.deepStrictEqual(infos.map((i) => i.name), ["remote_Convert"])
        const agent = yield* Agent.make({ tools: registry.toolkit(), maxSteps: 3 })
        const run = yield* agent.generate("How warm is 30C in F?")
        // The model was offered the server's schema.
        assert.deepStrictEqual(model.requests[0]!.tools, ["remote_Convert"])
        const history = yield* registry.history()
        return { run, history }
      }).pipe(
        Effect.provide(McpTools.layerHttp({ url, prefix: "remote_" }).pipe(
          Layer.provideMerge(ToolRegistry.layer),
          Layer.provide(FetchHttpClient.layer)
        )),
        Effect.provide(model.layer)
      )
      assert.strictEqual(result.run.reason, "stop")
      assert.strictEqual(result.run.text, "It is 86F.")
      assert.deepStrictEqual(result.run.toolCalls.map((c) => [c.name, c.isFailure, c.result]), [
        ["remote_Convert", false, { fahrenheit: 86 }]
      ])
      assert.deepStrictEqual(result.history.map((h) => [h.tool, h.source, h.success]), [["remote_Convert", "model", true]])
    }), 60_000)
})
