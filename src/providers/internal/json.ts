/**
 * Small readers for provider JSON, and the JSON Schemas we send for tools and structured output.
 *
 * @internal
 */
import { Schema } from "effect"
import { type Prompt, Tool } from "effect/ai"

/** @internal */
export type Json = Record<string, unknown>

/** @internal */
export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** @internal */
export const stringOf = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

/** A non-negative integer count, or undefined (fractions are rounded: effect/ai's usage must be integers). @internal */
export const countOf = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined

/** @internal */
export const arrayOf = (value: unknown): ReadonlyArray<unknown> => Array.isArray(value) ? value : []

/**
 * A schema's JSON Schema with closed objects (`additionalProperties: false`) and its definitions under `$defs`:
 * what strict providers require, and what keeps a grammar-constrained local server from inventing keys.
 *
 * @internal
 */
export const closedJsonSchema = (schema: Schema.Top): Json => {
  const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  const defs = Object.keys(doc.definitions).length === 0 ? {} : { $defs: doc.definitions }
  return { ...(doc.schema as Json), ...defs }
}

/**
 * A tool's parameters as a closed JSON Schema; a dynamic tool with a raw JSON Schema (one loaded from an MCP server)
 * as that schema, which its `parametersSchema` (unknown) would turn into `{}`. @internal
 */
export const toolParameters = (tool: Tool.Any): Json =>
  Tool.isDynamic(tool) && tool.jsonSchema !== undefined ? tool.jsonSchema as Json : closedJsonSchema(tool.parametersSchema)

/** @internal */
export const toolDescription = (tool: Tool.Any): string | undefined => Tool.getDescription(tool)

/** Tools in the OpenAI function format, which Ollama's `/api/chat` takes too. @internal */
export const functionTools = (tools: ReadonlyArray<Tool.Any>): Array<Json> =>
  tools.map((tool) => {
    const description = toolDescription(tool)
    return {
      type: "function",
      function: { name: tool.name, ...(description === undefined ? {} : { description }), parameters: toolParameters(tool) }
    }
  })

/** A tool result as the text a provider's tool message carries. @internal */
export const resultText = (result: unknown): string => typeof result === "string" ? result : JSON.stringify(result)

/** A file part's bytes as base64 (URLs stay URLs). @internal */
export const fileData = (part: Prompt.FilePart): { readonly base64: string } | { readonly url: string } => {
  if (part.data instanceof URL) return { url: part.data.href }
  if (typeof part.data === "string") {
    return /^(https?:|data:)/.test(part.data) ? { url: part.data } : { base64: part.data }
  }
  return { base64: Buffer.from(part.data).toString("base64") }
}

/** Parses tool-call arguments; an empty string is `{}`. @internal */
export const parseArguments = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  if (text.trim() === "") return { ok: true, value: {} }
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}
