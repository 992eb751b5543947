/**
 * effect/ai Prompt -> the OpenAI-style JSON messages and tools that llama.cpp's common/chat reads.
 *
 * @internal
 */
import { Effect, Schema } from "effect"
import { AiError, type LanguageModel, type Prompt, Tool } from "effect/ai"
import { exceedsDepth, MAX_JSON_DEPTH } from "../../llama/internal/jsonDepth.ts"

type Json = Record<string, unknown>

const unsupported = (description: string) =>
  AiError.make({ module: "LlamaLanguageModel", method: "prompt", reason: new AiError.InvalidUserInputError({ description }) })

// JSON.stringify recurses: a value nested thousands of levels deep would overflow the stack (and the native side
// rejects JSON nested deeper than this anyway).
const tooDeep = (what: string) => unsupported(`${what} nest more than ${MAX_JSON_DEPTH} levels deep`)

const textOf = (result: unknown): string => typeof result === "string" ? result : JSON.stringify(result)

// An image part's bytes: a byte array, base64 text, or a data: URL (nothing is fetched).
const imageBytes = (part: Prompt.FilePart): Effect.Effect<Uint8Array, AiError.AiError> => {
  const { data } = part
  if (data instanceof Uint8Array) return Effect.succeed(data)
  if (typeof data === "string") return Effect.succeed(new Uint8Array(Buffer.from(data, "base64")))
  const match = /^data:[^;,]*(;base64)?,(.*)$/s.exec(data.href)
  if (match === null) {
    return Effect.fail(unsupported(`an image part must hold its bytes (a byte array, base64 or a data: URL), not ${data.protocol} URL`))
  }
  return Effect.succeed(new Uint8Array(match[1] === undefined ? Buffer.from(decodeURIComponent(match[2]!)) : Buffer.from(match[2]!, "base64")))
}

/**
 * @internal Prompt -> messages. With `onImage`, an image part of a user message becomes the text `onImage` returns
 * for its bytes (a marker the caller finds again in the rendered prompt); without it, it is an error.
 */
export const toMessages = (
  prompt: Prompt.Prompt,
  onImage?: (bytes: Uint8Array) => string
): Effect.Effect<Array<Json>, AiError.AiError> =>
  Effect.gen(function*() {
    const out: Array<Json> = []
    for (const message of prompt.content) {
      switch (message.role) {
        case "system":
          out.push({ role: "system", content: message.content })
          break
        case "user": {
          const text: Array<string> = []
          for (const part of message.content) {
            if (part.type === "file" && part.mediaType.startsWith("image/") && onImage !== undefined) {
              text.push(onImage(yield* imageBytes(part)))
              continue
            }
            if (part.type !== "text") return yield* unsupported(`a local model cannot read ${part.type} parts (${part.mediaType})`)
            text.push(part.text)
          }
          out.push({ role: "user", content: text.join("") })
          break
        }
        case "assistant": {
          let content = ""
          let reasoning = ""
          const toolCalls: Array<Json> = []
          for (const part of message.content) {
            if (part.type === "text") content += part.text
            else if (part.type === "reasoning") reasoning += part.text
            else if (part.type === "tool-call") {
              if (exceedsDepth(part.params)) return yield* tooDeep(`the params of tool call ${part.id}`)
              toolCalls.push({ id: part.id, type: "function", function: { name: part.name, arguments: JSON.stringify(part.params) } })
            }
          }
          out.push({
            role: "assistant",
            content,
            ...(reasoning === "" ? {} : { reasoning_content: reasoning }),
            ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls })
          })
          break
        }
        case "tool":
          for (const part of message.content) {
            if (part.type === "tool-result") {
              if (exceedsDepth(part.result)) return yield* tooDeep(`the result of tool call ${part.id}`)
              out.push({ role: "tool", tool_call_id: part.id, name: part.name, content: textOf(part.result) })
            }
          }
          break
      }
    }
    return out
  })

/**
 * A schema's JSON Schema with closed objects: the grammar then allows exactly the declared keys, nothing a
 * random or rambling model could fill with an endless extra property.
 *
 * @internal
 */
export const closedJsonSchema = (schema: Schema.Top): Json => {
  const doc = Schema.toJsonSchemaDocument(schema, { onExcessProperty: "error" })
  const defs = Object.keys(doc.definitions).length === 0 ? {} : { $defs: doc.definitions }
  return dropOptionalNulls({ ...(doc.schema as Json), ...defs }) as Json
}

const isNullType = (s: unknown): boolean =>
  typeof s === "object" && s !== null && (s as Json).type === "null" && Object.keys(s).length === 1

// `Schema.optional(X)` becomes `anyOf [X, null]` for a key that is not required, but the decoder reads an absent
// key, not null: the model may omit the key, so the grammar leaves the null branch out.
const withoutNullBranch = (property: unknown): unknown => {
  if (typeof property !== "object" || property === null || !Array.isArray((property as Json).anyOf)) return property
  const { anyOf, ...rest } = property as Json & { anyOf: Array<unknown> }
  const kept = anyOf.filter((branch) => !isNullType(branch))
  if (kept.length === anyOf.length || kept.length === 0) return property
  return kept.length === 1 ? { ...(kept[0] as Json), ...rest } : { ...rest, anyOf: kept }
}

/** @internal Applies `withoutNullBranch` to every optional property, at any depth. */
export const dropOptionalNulls = (schema: unknown): unknown => {
  if (Array.isArray(schema)) return schema.map(dropOptionalNulls)
  if (typeof schema !== "object" || schema === null) return schema
  const out: Json = {}
  for (const [key, value] of Object.entries(schema)) out[key] = dropOptionalNulls(value)
  const properties = out.properties
  if (typeof properties === "object" && properties !== null && !Array.isArray(properties)) {
    const required = new Set(Array.isArray(out.required) ? (out.required as Array<string>) : [])
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([name, p]) => [name, required.has(name) ? p : withoutNullBranch(p)])
    )
  }
  return out
}

/** @internal */
export const toTools = (tools: ReadonlyArray<Tool.Any>): Array<Json> =>
  tools.map((tool) => ({
    type: "function",
    function: {
      name: tool.name,
      ...(Tool.getDescription(tool) === undefined ? {} : { description: Tool.getDescription(tool) }),
      // A dynamic tool with a raw JSON Schema (e.g. one loaded from an MCP server) is offered with that schema.
      parameters: Tool.isDynamic(tool) && tool.jsonSchema !== undefined
        ? tool.jsonSchema as Json
        : closedJsonSchema(tool.parametersSchema)
    }
  }))

/** @internal */
export const toolChoiceOf = (choice: LanguageModel.ProviderOptions["toolChoice"]): "auto" | "none" | "required" => {
  if (typeof choice === "string") return choice
  if ("tool" in choice) return "required"
  return choice.mode ?? "auto"
}
