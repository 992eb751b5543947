/**
 * The tools of an external MCP server (effect/ai's `McpClient`) as tools of a `ToolRegistry`, so agents and
 * workflow nodes call them like any other: `register(client)` loads them (name prefix and category optional),
 * `layer` does it for the life of a Layer, `layerStdio` / `layerHttp` also connect the client (a child process, or
 * a Streamable HTTP endpoint).
 *
 * **Details**
 *
 * Each tool keeps the server's JSON Schema (the local model's grammar is built from it), its arguments are passed
 * through as given, and its result is the server's structured content, else its text (parsed as JSON when it is
 * JSON). A result with `isError`, or a failed call, is an `McpToolError` the model sees as a failed tool result.
 *
 * @since 0.2.0
 */
import { NodeServices } from "@effect/platform-node"
import { type Duration, Effect, Layer, Schema } from "effect"
import { McpClient, McpProtocol, type McpSchema, Tool } from "effect/ai"
import type { HttpClient } from "effect/http"
import { ChildProcess } from "effect/process"
import type * as AgentTool from "../tools/AgentTool.ts"
import { ToolRegistry } from "../tools/ToolRegistry.ts"
import type * as ToolRegistryModule from "../tools/ToolRegistry.ts"
import type { ToolRegistryError } from "../tools/ToolRegistryError.ts"
import { McpToolError } from "./McpToolError.ts"

// ============================================================================
// Options
// ============================================================================

/**
 * How the server's tools enter the registry.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** Put before each tool's name in the registry (e.g. `"files_"`); the server is called with its own name. */
  readonly prefix?: string
  /** The registry category. Default "mcp". */
  readonly category?: string
  /** Time limit of one call. Default: the client's. */
  readonly timeout?: Duration.Input
  /** Only these tools (by the server's names). */
  readonly only?: ReadonlyArray<string>
}

// ============================================================================
// Constructors
// ============================================================================

const textOf = (result: McpSchema.CallToolResult): string =>
  result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n")

const valueOf = (result: McpSchema.CallToolResult): unknown => {
  if (result.structuredContent !== undefined) return result.structuredContent
  const text = textOf(result)
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The server's tool `tool` as an `AgentTool` named `name`, calling it through `client`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const toAgentTool = (
  client: McpClient.McpClient,
  tool: McpSchema.Tool,
  options: { readonly name?: string; readonly timeout?: Duration.Input } = {}
): AgentTool.Any => {
  const name = options.name ?? tool.name
  const definition = Tool.dynamic(name, {
    ...(tool.description === undefined ? {} : { description: tool.description }),
    parameters: tool.inputSchema as never,
    success: Schema.Unknown,
    failure: McpToolError,
    failureMode: "return"
  })
  return {
    name,
    tool: definition as unknown as Tool.Any,
    handler: (params: unknown) =>
      client.callTool(
        { tool, arguments: (params ?? {}) as never },
        options.timeout === undefined ? undefined : { timeout: options.timeout }
      ).pipe(
        Effect.mapError((e) => new McpToolError({ tool: name, reason: "CallFailed", content: e.message })),
        Effect.flatMap((result) =>
          result.isError === true
            ? Effect.fail(new McpToolError({
              tool: name,
              reason: "ToolError",
              content: textOf(result),
              ...(result.structuredContent === undefined ? {} : { structured: result.structuredContent })
            }))
            : Effect.succeed(valueOf(result))
        )
      )
  }
}

/**
 * Lists the server's tools and registers them in `registry`; returns what was registered.
 *
 * @category constructors
 * @since 0.2.0
 */
export const register = (
  registry: ToolRegistryModule.Service,
  client: McpClient.McpClient,
  options: Options = {}
): Effect.Effect<ReadonlyArray<ToolRegistryModule.ToolInfo>, McpToolError | ToolRegistryError> =>
  Effect.gen(function*() {
    const listed = yield* client.listTools().pipe(
      Effect.mapError((e) => new McpToolError({ tool: "*", reason: "CallFailed", content: e.message }))
    )
    const tools = listed.filter((t) => options.only === undefined || options.only.includes(t.name))
    return yield* Effect.forEach(tools, (tool) =>
      registry.register(
        toAgentTool(client, tool, {
          name: `${options.prefix ?? ""}${tool.name}`,
          ...(options.timeout === undefined ? {} : { timeout: options.timeout })
        }),
        { category: options.category ?? "mcp" }
      ) as Effect.Effect<ToolRegistryModule.ToolInfo, ToolRegistryError>)
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * Registers the tools of the `McpClient` in context in the `ToolRegistry` in context while the Layer lives.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options = {}): Layer.Layer<
  never,
  McpToolError | ToolRegistryError,
  ToolRegistry | McpClient.McpClient
> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const registry = yield* ToolRegistry
    const client = yield* McpClient.McpClient
    yield* Effect.acquireRelease(
      register(registry, client, options),
      (infos) => Effect.forEach(infos, (info) => Effect.ignore(registry.unregister(info.name)), { discard: true })
    )
  }))

const clientInfo = { name: "effect-llama", version: "0.2.0" }

/**
 * Starts `command` with `args` as a child process, talks MCP to it over its stdio, and registers its tools.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerStdio = (
  options: Options & {
    readonly command: string
    readonly args?: ReadonlyArray<string>
    readonly env?: Record<string, string>
    readonly cwd?: string
  }
): Layer.Layer<never, McpToolError | ToolRegistryError | McpClientErrorType, ToolRegistry> =>
  layer(options).pipe(
    Layer.provide(McpClient.layerStdio({
      ...clientInfo,
      protocol: McpProtocol.v2025_11_25,
      command: ChildProcess.make(options.command, [...(options.args ?? [])], {
        ...(options.env === undefined ? {} : { env: options.env, extendEnv: true }),
        ...(options.cwd === undefined ? {} : { cwd: options.cwd })
      })
    })),
    Layer.provide(NodeServices.layer)
  )

/**
 * Talks MCP to the Streamable HTTP endpoint at `url`, and registers its tools.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerHttp = (
  options: Options & { readonly url: string; readonly headers?: Record<string, string> }
): Layer.Layer<never, McpToolError | ToolRegistryError | McpClientErrorType, ToolRegistry | HttpClient.HttpClient> =>
  layer(options).pipe(
    Layer.provide(McpClient.layerHttp({
      ...clientInfo,
      protocol: McpProtocol.v2025_11_25,
      url: options.url,
      ...(options.headers === undefined ? {} : { headers: options.headers })
    }))
  )

/**
 * The error of connecting an MCP client.
 *
 * @category models
 * @since 0.2.0
 */
export type McpClientErrorType = Layer.Error<ReturnType<typeof McpClient.layerHttp>>
