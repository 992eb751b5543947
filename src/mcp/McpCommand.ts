/**
 * `effect-llama mcp`: serves the built-in tools (notes, todos) as an MCP server, over stdio (default: for a client
 * that starts it) or Streamable HTTP on a loopback port. `command` is the effect/cli `Command` (mounted into the
 * `effect-llama` CLI as a subcommand), `run` the Effect it runs, for programs that serve their own registry.
 *
 *   effect-llama mcp                                   # stdio
 *   effect-llama mcp --transport http --port 8808      # http://127.0.0.1:8808/mcp
 *   effect-llama mcp --tools notes --data-dir ./state  # notes only, kept in ./state/notes.json
 *
 * @since 0.2.0
 */
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer, Logger, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import * as NotesTools from "../tools/NotesTools.ts"
import * as TodoTools from "../tools/TodoTools.ts"
import * as ToolRegistry from "../tools/ToolRegistry.ts"
import * as McpToolServer from "./McpToolServer.ts"

// ============================================================================
// Options
// ============================================================================

/**
 * The built-in tool sets the command can serve.
 *
 * @category models
 * @since 0.2.0
 */
export type ToolSet = "notes" | "todo"

/**
 * What `run` serves and how.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  readonly transport: "stdio" | "http"
  /** HTTP only. 0 picks a free port. Default 8808. */
  readonly port?: number
  /** HTTP only. Default 127.0.0.1. */
  readonly host?: string
  /** HTTP only. Default /mcp. */
  readonly path?: `/${string}`
  /** Default both. */
  readonly tools?: ReadonlyArray<ToolSet>
  /** Keep the tools' state in JSON files here (notes.json, todos.json); default in memory. */
  readonly dataDir?: string
  /** Called with the HTTP endpoint's URL once it listens. Default: printed to stderr. */
  readonly onListening?: (url: string) => void
}

// ============================================================================
// Run
// ============================================================================

/**
 * A registry holding the built-in tool sets (in memory, or in JSON files under `dataDir`).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerBuiltins = (options: Pick<Options, "tools" | "dataDir"> = {}) =>
  Layer.effect(ToolRegistry.ToolRegistry, Effect.gen(function*() {
    const registry = yield* ToolRegistry.make
    const sets = options.tools ?? ["notes", "todo"]
    const dir = options.dataDir
    if (sets.includes("notes")) {
      const notes = dir === undefined ? yield* NotesTools.make() : yield* NotesTools.makeFile(`${dir}/notes.json`)
      yield* registry.registerAll(notes.all, { category: "notes" })
    }
    if (sets.includes("todo")) {
      const todos = dir === undefined ? yield* TodoTools.make() : yield* TodoTools.makeFile(`${dir}/todos.json`)
      yield* registry.registerAll(todos.all, { category: "todo" })
    }
    return registry
  }))

/**
 * Serves the registry's tools until interrupted. Logs go to stderr (stdout carries the protocol on stdio).
 *
 * @category constructors
 * @since 0.2.0
 */
export const serve = (options: Options): Effect.Effect<never, unknown, ToolRegistry.ToolRegistry> => {
  if (options.transport === "stdio") {
    return Layer.launch(McpToolServer.layerStdio({ name: "effect-llama" }))
  }
  const server = McpToolServer.layerHttpServer({
    name: "effect-llama",
    port: options.port ?? 8808,
    host: options.host ?? "127.0.0.1",
    path: options.path ?? "/mcp"
  })
  return Layer.launch(Layer.effectDiscard(Effect.gen(function*() {
    const address = yield* HttpServer.HttpServer
    const url = `${HttpServer.formatAddress(address.address)}${options.path ?? "/mcp"}`
    if (options.onListening === undefined) yield* Effect.sync(() => process.stderr.write(`effect-llama mcp: ${url}\n`))
    else options.onListening(url)
  })).pipe(Layer.provide(server)))
}

/**
 * Serves the built-in tools as `options` say (the Effect `command` runs).
 *
 * @category constructors
 * @since 0.2.0
 */
export const run = (options: Options): Effect.Effect<never, unknown, never> =>
  serve(options).pipe(
    Effect.provide(layerBuiltins(options)),
    Effect.provide(NodeFileSystem.layer),
    Effect.provideService(Logger.LogToStderr, true)
  )

// ============================================================================
// Command
// ============================================================================

const toolSets = (value: string): ReadonlyArray<ToolSet> =>
  value.split(",").map((s) => s.trim()).filter((s): s is ToolSet => s === "notes" || s === "todo")

/**
 * `effect-llama mcp [--transport stdio|http] [--port N] [--host H] [--path /mcp] [--tools notes,todo] [--data-dir D]`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const command = Command.make("mcp", {
  transport: Flag.Literals("transport", ["stdio", "http"]).pipe(
    Flag.withDefault("stdio" as const),
    Flag.withDescription("stdio (a client starts this process) or http (Streamable HTTP)")
  ),
  port: Flag.Int("port").pipe(Flag.withDefault(8808), Flag.withDescription("HTTP port (0: a free one)")),
  host: Flag.String("host").pipe(Flag.withDefault("127.0.0.1"), Flag.withDescription("HTTP host")),
  path: Flag.String("path").pipe(Flag.withDefault("/mcp"), Flag.withDescription("HTTP endpoint path")),
  tools: Flag.String("tools").pipe(Flag.withDefault("notes,todo"), Flag.withDescription("tool sets: notes, todo")),
  dataDir: Flag.Directory("data-dir").pipe(Flag.optional, Flag.withDescription("keep the tools' state here"))
}, (flags) =>
  run({
    transport: flags.transport,
    port: flags.port,
    host: flags.host,
    path: (flags.path.startsWith("/") ? flags.path : `/${flags.path}`) as `/${string}`,
    tools: toolSets(flags.tools),
    ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {})
  })).pipe(Command.withDescription("Serve the built-in tools over MCP (stdio or HTTP)"))
