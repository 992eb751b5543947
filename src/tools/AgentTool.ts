/**
 * A tool in one definition: an effect/ai `Tool` (its JSON Schema comes from the parameter Schema, never written by
 * hand) together with its handler Effect. Tools built here use `failureMode: "return"`, so arguments that fail to
 * decode and handler failures come back to the model as failed tool results instead of failing the conversation.
 *
 * @since 0.1.0
 */
import { Effect, type Schema } from "effect"
import { type AiError, Tool, Toolkit } from "effect/ai"

// ============================================================================
// Models
// ============================================================================

/**
 * An effect/ai `Tool` plus the handler that runs it. `R` is what the handler needs; it is captured when the tool
 * goes into a toolkit (`toolkit`) or a `ToolRegistry`.
 *
 * @category models
 * @since 0.1.0
 */
export interface AgentTool<T extends Tool.Any, R = never> {
  readonly name: T["name"]
  readonly tool: T
  readonly handler: (
    params: Tool.Parameters<T>,
    context: Toolkit.HandlerContext<T>
  ) => Effect.Effect<Tool.Success<T>, Tool.Failure<T> | AiError.AiError, R>
}

/**
 * Any `AgentTool`, for generic constraints.
 *
 * @category models
 * @since 0.1.0
 */
export interface Any {
  readonly name: string
  readonly tool: Tool.Any
  readonly handler: (params: any, context: any) => Effect.Effect<any, any, any>
}

/**
 * The effect/ai tools of a tuple of `AgentTool`s, keyed by name (what a `Toolkit` holds).
 *
 * @category models
 * @since 0.1.0
 */
export type ToolsOf<Defs extends ReadonlyArray<Any>> = Toolkit.ToolsByName<{ readonly [K in keyof Defs]: Defs[K]["tool"] }>

/**
 * The services the handlers of a tuple of `AgentTool`s need.
 *
 * @category models
 * @since 0.1.0
 */
export type Requirements<Defs extends ReadonlyArray<Any>> = Defs[number] extends infer D
  ? D extends { readonly handler: (...args: any) => Effect.Effect<any, any, infer R> } ? R : never
  : never

/**
 * The effect/ai tool that `make` builds: failures are returned to the model as results.
 *
 * @category models
 * @since 0.1.0
 */
export type ReturnTool<
  Name extends string,
  Parameters extends Schema.Top,
  Success extends Schema.Top,
  Failure extends Schema.Top
> = Tool.Tool<Name, { parameters: Parameters; success: Success; failure: Failure; failureMode: "return" }>

// ============================================================================
// Constructors
// ============================================================================

/**
 * Defines a tool from a parameter Schema (use a `Schema.Struct`) and a handler.
 *
 * **Details**
 *
 * The tool's JSON Schema, the grammar a local model is constrained by and the decoding of the model's arguments
 * all come from `parameters`. `success` and `failure` encode the handler's results for the model.
 *
 * **Gotchas**
 *
 * For grammar-constrained local models prefer closed shapes: `Schema.Literals`, `Schema.Int` with bounds,
 * `Schema.optionalKey` (not `optional`: the model may send `null`, which the decoder rejects).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <
  const Name extends string,
  Parameters extends Schema.Top = typeof Tool.EmptyParams,
  Success extends Schema.Top = typeof Schema.Void,
  Failure extends Schema.Top = typeof Schema.Never,
  R = never
>(name: Name, options: {
  readonly description: string
  readonly parameters?: Parameters
  readonly success?: Success
  readonly failure?: Failure
  readonly handler: (
    params: Parameters["Type"],
    context: Toolkit.HandlerContext<ReturnTool<Name, Parameters, Success, Failure>>
  ) => Effect.Effect<Success["Type"], Failure["Type"] | AiError.AiError, R>
}): AgentTool<ReturnTool<Name, Parameters, Success, Failure>, R> => {
  const tool = Tool.make(name, {
    description: options.description,
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
    ...(options.success === undefined ? {} : { success: options.success }),
    ...(options.failure === undefined ? {} : { failure: options.failure }),
    failureMode: "return"
  }) as unknown as ReturnTool<Name, Parameters, Success, Failure>
  return { name, tool, handler: options.handler as never }
}

/**
 * A `Toolkit` with handlers (what `LanguageModel.generateText({ toolkit })` and `Agent` take) from `AgentTool`s.
 * The handlers' services are captured from the context this runs in.
 *
 * @category constructors
 * @since 0.1.0
 */
export const toolkit = <const Defs extends ReadonlyArray<Any>>(
  ...defs: Defs
): Effect.Effect<Toolkit.WithHandler<ToolsOf<Defs>>, never, Requirements<Defs>> =>
  Effect.gen(function*() {
    const kit = Toolkit.make(...defs.map((d) => d.tool))
    const handlers = Object.fromEntries(defs.map((d) => [d.name, d.handler]))
    const context = yield* kit.toHandlers(handlers as never)
    return yield* Effect.provideContext(kit, context)
  }) as never

/**
 * The JSON Schema of a tool's parameters, as sent to the model (derived from its Schema).
 *
 * @category accessors
 * @since 0.1.0
 */
export const jsonSchema = (self: Any): ReturnType<typeof Tool.getJsonSchema> => Tool.getJsonSchema(self.tool)
