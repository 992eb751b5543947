/**
 * `tool(...)`: a tool in one definition, with its JSON Schema derived from a `Schema.Struct` (or its fields), never
 * written by hand and never guessed from type names. Descriptions come from the fields' `description` annotations;
 * the field kinds covered, each checked by a test against the JSON Schema it gives:
 *
 * | Schema                                   | JSON Schema                                  |
 * |------------------------------------------|----------------------------------------------|
 * | `Schema.String` / `Finite` / `Int` / `Boolean` | `string` / `number` / `integer` / `boolean` |
 * | `Schema.optionalKey(X)`, `Schema.optional(X)`  | X, not required (no `null` branch: the decoder would refuse it) |
 * | `withDefault(X, value)`                  | X with `default`, not required; the handler gets the default |
 * | `Schema.Literals([...])`, `Schema.Enum(E)` | `enum`                                     |
 * | `Schema.Array(X)`                        | `array` of X                                 |
 * | `Schema.Struct({...})`                   | nested closed `object`                        |
 * | `Schema.Union([A, B])`, `Schema.NullOr(X)` | `anyOf`                                     |
 *
 * Objects are closed (`additionalProperties: false`), the range checks of a safe integer and the non-finite branch
 * of `Schema.Number` are left out (tool arguments are JSON numbers). `definition` gives the OpenAI tool format.
 *
 * @since 0.2.0
 */
import { Effect, Schema, SchemaAST } from "effect"
import { type AiError, Tool, type Toolkit } from "effect/ai"
import * as AgentTool from "./AgentTool.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * A JSON Schema object.
 *
 * @category models
 * @since 0.2.0
 */
export type JsonSchema = { readonly [key: string]: unknown }

/**
 * A tool in OpenAI's function-tool format (what `definitions()` lists).
 *
 * @category models
 * @since 0.2.0
 */
export interface OpenAiTool {
  readonly type: "function"
  readonly function: {
    readonly name: string
    readonly description?: string
    readonly parameters: JsonSchema
    readonly strict?: boolean
  }
}

type ParametersOf<P> = P extends Schema.Top ? P : P extends Schema.Struct.Fields ? Schema.Struct<P> : never

// ============================================================================
// Constructors
// ============================================================================

/**
 * Defines a tool: `parameters` is a `Schema.Struct` or its fields. The result is an `AgentTool` (for
 * `AgentTool.toolkit`, `ToolRegistry.register`, agents, MCP servers); bad arguments and handler failures go back
 * to the model as failed results.
 *
 * @category constructors
 * @since 0.2.0
 */
export const tool = <
  const Name extends string,
  const P extends Schema.Top | Schema.Struct.Fields = {},
  Success extends Schema.Top = typeof Schema.Unknown,
  Failure extends Schema.Top = typeof Schema.Never,
  R = never
>(name: Name, options: {
  readonly description: string
  readonly parameters?: P
  readonly success?: Success
  readonly failure?: Failure
  readonly handler: (
    params: ParametersOf<P>["Type"],
    context: Toolkit.HandlerContext<AgentTool.ReturnTool<Name, ParametersOf<P>, Success, Failure>>
  ) => Effect.Effect<Success["Type"], Failure["Type"] | AiError.AiError, R>
}): AgentTool.AgentTool<AgentTool.ReturnTool<Name, ParametersOf<P>, Success, Failure>, R> => {
  const parameters = (options.parameters === undefined
    ? Schema.Struct({})
    : Schema.isSchema(options.parameters)
    ? options.parameters
    : Schema.Struct(options.parameters as Schema.Struct.Fields)) as ParametersOf<P>
  return AgentTool.make(name, {
    description: options.description,
    parameters,
    success: (options.success ?? Schema.Unknown) as Success,
    ...(options.failure === undefined ? {} : { failure: options.failure }),
    handler: options.handler as never
  }) as never
}

/**
 * An optional field with a default: absent in a call, the handler gets `value`; its JSON Schema says `default`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const withDefault = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  value: S["Type"]
) =>
  schema.annotate({ default: value } as never).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(value) as never)
  ) as unknown as Schema.withDecodingDefaultKey<S>

// ============================================================================
// JSON Schema
// ============================================================================

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const NON_FINITE = JSON.stringify({ type: "string", enum: ["Infinity", "-Infinity", "NaN"] })
const MAX_SAFE = Number.MAX_SAFE_INTEGER

// Noise of effect's generator for tool arguments: the non-finite branch of Number, a safe integer's range.
const tidy = (node: unknown): unknown => {
  if (Array.isArray(node)) return node.map(tidy)
  if (!isObject(node)) return node
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) out[key] = tidy(value)
  if (out.type === "integer" && out.minimum === -MAX_SAFE && out.maximum === MAX_SAFE) {
    delete out.minimum
    delete out.maximum
  }
  if (Array.isArray(out.anyOf)) {
    const kept = (out.anyOf as Array<unknown>).filter((b) => JSON.stringify(b) !== NON_FINITE)
    const { anyOf: _, ...rest } = out
    if (kept.length === 1 && isObject(kept[0])) return { ...kept[0], ...rest }
    const values = enumValues(kept)
    if (values !== undefined) return { type: values.type, enum: values.values, ...rest }
    out.anyOf = kept
  }
  return out
}

// `Schema.Enum` gives one single-value branch per member: one `enum` says the same.
const enumValues = (branches: ReadonlyArray<unknown>) => {
  const first = branches[0]
  if (branches.length < 2 || !isObject(first)) return undefined
  const values: Array<unknown> = []
  for (const b of branches) {
    if (!isObject(b) || b.type !== first.type || !Array.isArray(b.enum) || b.enum.length !== 1) return undefined
    if (Object.keys(b).some((k) => k !== "type" && k !== "enum" && k !== "title")) return undefined
    values.push(b.enum[0])
  }
  return { type: first.type, values }
}

const isNull = (u: unknown) => isObject(u) && u.type === "null" && Object.keys(u).length === 1

const withoutNull = (node: unknown): unknown => {
  if (!isObject(node) || !Array.isArray(node.anyOf)) return node
  const kept = (node.anyOf as Array<unknown>).filter((b) => !isNull(b))
  if (kept.length === node.anyOf.length) return node
  const { anyOf: _, ...rest } = node
  return kept.length === 1 && isObject(kept[0]) ? { ...kept[0], ...rest } : { ...rest, anyOf: kept }
}

const hasMember = (ast: SchemaAST.AST, tag: string): boolean =>
  ast._tag === "Union" && (ast as SchemaAST.Union).types.some((t) => t._tag === tag)

// `Schema.optional(X)` generates `anyOf [X, null]`, but the decoder takes an absent key, not null: the null
// branch goes. Walks the (encoded) AST beside the JSON Schema through nested structs and arrays.
const dropOptionalNull = (ast: SchemaAST.AST, node: unknown): unknown => {
  if (!isObject(node)) return node
  if (ast._tag === "Objects" && isObject(node.properties)) {
    const properties: Record<string, unknown> = { ...node.properties }
    for (const ps of (ast as SchemaAST.Objects).propertySignatures) {
      const key = String(ps.name)
      if (!(key in properties)) continue
      let property = properties[key]
      const optionalUndefined = ps.type.context?.isOptional === true && hasMember(ps.type, "Undefined") &&
        !hasMember(ps.type, "Null")
      if (optionalUndefined) property = withoutNull(property)
      const inner = ps.type._tag === "Union"
        ? (ps.type as SchemaAST.Union).types.filter((t) => t._tag !== "Undefined")
        : [ps.type]
      properties[key] = inner.length === 1 ? dropOptionalNull(inner[0]!, property) : property
    }
    return { ...node, properties }
  }
  if (ast._tag === "Arrays" && isObject(node.items)) {
    const rest = (ast as SchemaAST.Arrays).rest[0]
    return rest === undefined ? node : { ...node, items: dropOptionalNull(rest, node.items) }
  }
  return node
}

/**
 * The JSON Schema of a parameter Schema (see the module docs for what each field kind gives).
 *
 * @category encoding
 * @since 0.2.0
 */
export const schemaOf = (schema: Schema.Top): JsonSchema => {
  const encoded = SchemaAST.toEncoded(schema.ast)
  // A Struct without fields is "any non-null value" to the generator; as tool parameters it is an empty object.
  if (encoded._tag === "Objects" && encoded.propertySignatures.length === 0 && encoded.indexSignatures.length === 0) {
    return { type: "object", properties: {}, additionalProperties: false }
  }
  const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  const defs = Object.keys(doc.definitions).length === 0 ? {} : { $defs: doc.definitions }
  return tidy(dropOptionalNull(encoded, { ...(doc.schema as JsonSchema), ...defs })) as JsonSchema
}

const toolOf = (self: AgentTool.Any | Tool.Any): Tool.Any => ("handler" in self ? self.tool : self) as Tool.Any

/**
 * The JSON Schema of a tool's parameters; for a dynamic tool with a raw JSON Schema (one loaded from an MCP
 * server), that schema.
 *
 * @category encoding
 * @since 0.2.0
 */
export const jsonSchema = (self: AgentTool.Any | Tool.Any): JsonSchema => {
  const t = toolOf(self)
  if (Tool.isDynamic(t) && t.jsonSchema !== undefined) return t.jsonSchema as JsonSchema
  return schemaOf(t.parametersSchema)
}

/**
 * A tool in OpenAI's format. `strict: true` asks OpenAI to hold the model to the schema (it then requires every
 * property to be listed as required; use it with schemas without optional fields).
 *
 * @category encoding
 * @since 0.2.0
 */
export const definition = (self: AgentTool.Any | Tool.Any, options: { readonly strict?: boolean } = {}): OpenAiTool => {
  const t = toolOf(self)
  const description = Tool.getDescription(t)
  return {
    type: "function",
    function: {
      name: t.name,
      ...(description === undefined ? {} : { description }),
      parameters: jsonSchema(t),
      ...(options.strict === undefined ? {} : { strict: options.strict })
    }
  }
}

/**
 * Several tools in OpenAI's format.
 *
 * @category encoding
 * @since 0.2.0
 */
export const definitions = (
  selves: ReadonlyArray<AgentTool.Any | Tool.Any>,
  options: { readonly strict?: boolean } = {}
): ReadonlyArray<OpenAiTool> => selves.map((s) => definition(s, options))
