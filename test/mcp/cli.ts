// The `effect-llama` CLI as the lead mounts it, with the `mcp` command only: a child process for the MCP tests.
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as McpCommand from "../../src/mcp/McpCommand.ts"

const cli = Command.make("effect-llama").pipe(Command.withSubcommands([McpCommand.command]))

NodeRuntime.runMain(
  Command.runWith(cli, { version: "0.2.0" })(process.argv.slice(2)).pipe(Effect.provide(NodeServices.layer))
)
