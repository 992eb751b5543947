/**
 * Serve tools as an MCP server (effect/ai's `McpServer`): the enabled tools of a `ToolRegistry`, or a Toolkit with
 * handlers (`AgentTool.toolkit(...)`), over stdio (`layerStdio`, for a client that starts this program) or
 * Streamable HTTP (`layerHttp` on an `HttpRouter`, `layerHttpServer` standalone on a loopback port).
 *
 * **Details**
 *
 * - Each tool's input schema is its `ToolDefinition.jsonSchema`; results are JSON text, plus `structuredContent`
 *   when the result is an object.
 * - Registry calls go through `ToolRegistry.execute`, so they count in its metrics and history. A failed call
 *   (bad arguments, the tool's failure, a timeout) is a tool result with `isError: true` whose content is the
 *   `ToolCallError`, naming the invalid fields; a disabled or unknown tool is a JSON-RPC invalid-params error.
 * - The tools are read when the server starts: tools registered later are not listed.
 *
 * @since 0.2.0
 */
import { NodeHttpServer, NodeStdio } from "@effect/platform-node"
import { Cause, Context, type Duration, Effect, Layer, Option, Stream } from "effect"
import { McpProtocol, McpSchema, McpServer, Tool, type Toolkit } from "effect/ai"
import { HttpRouter, type HttpServer, type HttpServerError } from "effect/http"
import { createServer } from "node:http"
import * as ToolCallError from "../tools/ToolCallError.ts"
import * as ToolDefinition from "../tools/ToolDefinition.ts"
import { ToolRegistry } from "../tools/ToolRegistry.ts"
import * as ToolRegistryModule from "../tools/ToolRegistry.ts"

// ============================================================================
// Options
// ============================================================================

/**
 * What the server says about itself, and which protocol revisions it speaks.
 *
 * @category models
 * @since 0.2.0
 */
export interface ServerOptions {
  /** Default "effect-llama". */
  readonly name?: string
  /** Default the library's version. */
  readonly version?: string
  readonly instructions?: string
  /** Default: 2025-11-25 and 2025-06-18 (the revisions effect/ai's client speaks, and the previous one). */
  readonly protocols?: readonly [McpProtocol.ProtocolAdapter, ...Array<McpProtocol.ProtocolAdapter>]
}

/**
 * Which tools to serve: the registry's (optionally one category, each call within `timeout`), or a Toolkit with
 * handlers.
 *
 * @category models
 * @since 0.2.0
 */
export type ToolSource =
  | { readonly registry: ToolRegistryModule.Service; readonly category?: string; readonly timeout?: Duration.Input }
  | { readonly toolkit: Toolkit.WithHandler<any> }

/**
 * Options of the server layers: what the server says about itself, and its tools: `toolkit`, or else the
 * `ToolRegistry` in context (optionally one `category`, each call within `timeout`).
 *
 * @category models
 * @since 0.2.0
 */
export interface ServeOptions extends ServerOptions {
  readonly toolkit?: Toolkit.WithHandler<any>
  readonly category?: string
  readonly timeout?: Duration.Input
}

/**
 * What a server layer needs for `O`: the `ToolRegistry`, unless `O` names a toolkit.
 *
 * @category models
 * @since 0.2.0
 */
export type Needs<O> = O extends { readonly toolkit: Toolkit.WithHandler<any> } ? never : ToolRegistry

const defaults = (options: ServerOptions) => ({
  name: options.name ?? "effect-llama",
  version: options.version ?? "0.2.0",
  ...(options.instructions === undefined ? {} : { instructions: options.instructions }),
  protocols: options.protocols ?? [McpProtocol.v2025_11_25, McpProtocol.v2025_06_18] as const
})

// ============================================================================
// Registration
// ============================================================================

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const textOf = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value) ?? "null")

const success = (data: unknown) =>
  new McpSchema.CallToolResult({
    content: [{ type: "text", text: textOf(data) }],
    ...(isObject(data) ? { structuredContent: data } : {}),
    isError: false
  })

const failure = (error: ToolCallError.ToolCallError) => {
  const encoded = ToolCallError.encode(error)
  return new McpSchema.CallToolResult({
    content: [{ type: "text", text: `${error.message}\n${textOf(encoded)}` }],
    structuredContent: encoded,
    isError: true
  })
}

const mcpToolOf = (tool: Tool.Any): McpSchema.Tool => {
  const schema = ToolDefinition.jsonSchema(tool)
  const inputSchema = (schema.type === "object" ? schema : { type: "object", properties: {} }) as McpSchema.ToolJson
  const title = Context.getOption(tool.annotations, Tool.Title)
  const description = Tool.getDescription(tool)
  return new McpSchema.Tool({
    name: tool.name,
    ...(description === undefined ? {} : { description }),
    inputSchema,
    annotations: {
      ...(Option.isSome(title) ? { title: title.value } : {}),
      readOnlyHint: Context.get(tool.annotations, Tool.Readonly),
      destructiveHint: Context.get(tool.annotations, Tool.Destructive),
      idempotentHint: Context.get(tool.annotations, Tool.Idempotent),
      openWorldHint: Context.get(tool.annotations, Tool.OpenWorld)
    } as never
  })
}

const registryHandler = (registry: ToolRegistryModule.Service, name: string, timeout: Duration.Input | undefined) =>
(payload: unknown) =>
  registry.execute(name, payload ?? {}, timeout === undefined ? {} : { timeout }).pipe(
    Effect.map((result) => (result.success ? success(result.data) : failure(result.failure))),
    Effect.catchTag("ToolRegistryError", (e) => Effect.fail(new McpSchema.InvalidParams({ message: e.message })))
  )

const toolkitHandler = (toolkit: Toolkit.WithHandler<any>, tool: Tool.Any) => (payload: unknown) =>
  (toolkit.handle(tool.name, (payload ?? {}) as never) as Effect.Effect<
    Stream.Stream<Tool.HandlerResult<Tool.Any>, unknown>,
    unknown
  >).pipe(
    Effect.flatMap((stream) => Stream.runLast(Stream.filter(stream, (r) => !r.preliminary))),
    Effect.map(Option.match({
      onNone: () =>
        failure(new ToolCallError.ToolCallError({ tool: tool.name, reason: "Defect", description: "the tool returned no result" })),
      onSome: (r) =>
        r.isFailure ? failure(ToolCallError.fromResult(tool, tool.name, payload, r)) : success(r.encodedResult)
    })),
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.succeed(failure(ToolRegistryModule.defectOf(tool.name, cause)))
    )
  )

/**
 * Adds the tools of `source` to the `McpServer` in context.
 *
 * @category constructors
 * @since 0.2.0
 */
export const register = (source: ToolSource): Effect.Effect<void, never, McpServer.McpServer> =>
  Effect.gen(function*() {
    const server = yield* McpServer.McpServer
    if ("registry" in source) {
      const infos = yield* source.registry.list({
        enabled: true,
        ...(source.category === undefined ? {} : { category: source.category })
      })
      for (const info of infos) {
        const tool = yield* Effect.orDie(source.registry.tool(info.name))
        yield* server.addTool({
          tool: mcpToolOf(tool),
          annotations: tool.annotations,
          handle: registryHandler(source.registry, info.name, source.timeout)
        })
      }
      return
    }
    for (const tool of Object.values(source.toolkit.tools as Record<string, Tool.Any>)) {
      yield* server.addTool({ tool: mcpToolOf(tool), annotations: tool.annotations, handle: toolkitHandler(source.toolkit, tool) })
    }
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * Registers the tools of `options` with the `McpServer` in context (for a transport of your own).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerTools = <O extends ServeOptions>(options: O): Layer.Layer<never, never, McpServer.McpServer | Needs<O>> =>
  Layer.effectDiscard(Effect.gen(function*() {
    if (options.toolkit !== undefined) return yield* register({ toolkit: options.toolkit })
    const registry = yield* ToolRegistry
    yield* register({
      registry,
      ...(options.category === undefined ? {} : { category: options.category }),
      ...(options.timeout === undefined ? {} : { timeout: options.timeout })
    })
  })) as never

/**
 * An MCP server over this process's stdin and stdout (newline-delimited JSON-RPC), for a client that starts it
 * as a child process. Nothing else may write to stdout: log to stderr.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerStdio = <const O extends ServeOptions>(options: O = {} as O): Layer.Layer<
  McpServer.McpServer,
  never,
  Needs<O>
> =>
  McpServer.layerStdio({ ...defaults(options), registrations: layerTools(options) as Layer.Layer<never> }).pipe(
    Layer.provide(NodeStdio.layer),
    Layer.orDie
  ) as never

/**
 * An MCP endpoint (Streamable HTTP) at `path` (default `/mcp`) of the `HttpRouter` in context.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerHttp = <const O extends ServeOptions & { readonly path?: HttpRouter.PathInput }>(
  options: O = {} as O
): Layer.Layer<McpServer.McpServer, never, HttpRouter.HttpRouter | Needs<O>> =>
  McpServer.layerHttp({
    ...defaults(options),
    path: options.path ?? "/mcp",
    registrations: layerTools(options) as Layer.Layer<never>
  }).pipe(Layer.orDie) as never

/**
 * A standalone MCP HTTP server on `host` (default 127.0.0.1) and `port` (0 picks a free one; the `HttpServer`
 * it provides tells the address), endpoint `path` (default `/mcp`).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerHttpServer = <
  const O extends ServeOptions & { readonly port: number; readonly host?: string; readonly path?: HttpRouter.PathInput }
>(options: O): Layer.Layer<HttpServer.HttpServer, HttpServerError.ServeError, Needs<O>> =>
  HttpRouter.serve(layerHttp(options), { disableListenLog: true, disableLogger: true }).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: options.port, host: options.host ?? "127.0.0.1" }))
  ) as never
