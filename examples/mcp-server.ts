/**
 * An MCP server over stdio: a ToolRegistry with a `tool(...)` (its JSON Schema comes from the Struct, field
 * descriptions included) beside the built-in notes tools, for any MCP client that starts this program
 * (examples/mcp-client.ts does). Logs go to stderr: stdout carries the protocol.
 * Run: node examples/mcp-server.ts   (or MCP_PORT=8808 node examples/mcp-server.ts for http://127.0.0.1:8808/mcp)
 */
import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Schema } from "effect"
import { McpCommand, McpToolServer, ToolDefinition, ToolRegistry } from "../src/index.ts"

const Convert = ToolDefinition.tool("Convert", {
  description: "Convert a temperature from Celsius to Fahrenheit",
  parameters: {
    celsius: Schema.Finite.annotate({ description: "Degrees Celsius" }),
    digits: ToolDefinition.withDefault(Schema.Int.annotate({ description: "Decimals to round to" }), 1)
  },
  success: Schema.Struct({ fahrenheit: Schema.Finite }),
  handler: ({ celsius, digits }) => Effect.succeed({ fahrenheit: Number((celsius * 9 / 5 + 32).toFixed(digits)) })
})


// The built-in notes tools (in memory), and Convert.
const Tools = ToolRegistry.layerTools([Convert]).pipe(
  Layer.provideMerge(McpCommand.layerBuiltins({ tools: ["notes"] })),
  Layer.provide(NodeFileSystem.layer)
)

const port = process.env.MCP_PORT
const main = port === undefined || port === ""
  ? Layer.launch(McpToolServer.layerStdio({ name: "example-tools" }).pipe(Layer.provide(Tools)))
  : Layer.launch(McpToolServer.layerHttpServer({ name: "example-tools", port: Number(port) }).pipe(Layer.provide(Tools)))

NodeRuntime.runMain(main)
