/**
 * An OpenAI chat request -> what effect/ai's LanguageModel takes: the prompt (tool calls and tool results
 * included), a toolkit of dynamic tools built from the request's JSON Schemas, the tool choice, the structured
 * output schema, and the sampling settings.
 *
 * @internal
 */
import { Effect, JsonSchema, Schema, SchemaRepresentation } from "effect"
import { type Prompt, Tool, Toolkit } from "effect/ai"
import type { ChatCompletionRequest, CompletionRequest } from "../OpenAiSchema.ts"
import { invalidRequest, type ServerError } from "../ServerError.ts"

/**
 * Sampling and limits of one request, provider-neutral (the server's `applySettings` maps them to a model).
 *
 * @internal
 */
export interface Settings {
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly temperature?: number
  readonly topP?: number
  readonly seed?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  readonly logitBias?: ReadonlyArray<{ readonly token: number; readonly bias: number }>
  readonly parallelToolCalls?: boolean
}

/** @internal */
export type ResponseFormat =
  | { readonly type: "text" }
  | { readonly type: "json"; readonly name: string; readonly schema: Schema.Codec<any, any> }

/** @internal */
export interface ChatCall {
  readonly prompt: ReadonlyArray<Prompt.MessageEncoded>
  readonly toolkit: Toolkit.Toolkit<Record<string, Tool.Any>> | undefined
  readonly toolChoice: "auto" | "none" | "required" | { readonly tool: string }
  readonly responseFormat: ResponseFormat
  readonly settings: Settings
  readonly stream: boolean
  readonly includeUsage: boolean
}

const isDraft07 = (schema: Record<string, unknown>) =>
  "definitions" in schema || (typeof schema.$schema === "string" && /draft-0[4-7]/.test(schema.$schema))

/** A JSON Schema from a request as an Effect Schema (which the local model turns into a grammar). @internal */
export const fromJsonSchema = (schema: Record<string, unknown>, param: string): Effect.Effect<Schema.Codec<any, any>, ServerError> =>
  Effect.try({
    try: () => {
      const { $schema: _, ...rest } = schema
      const document = isDraft07(schema) ? JsonSchema.fromSchemaDraft07(rest) : JsonSchema.fromSchemaDraft2020_12(rest)
      return SchemaRepresentation.fromJsonSchemaDocument(document, { patterns: "ignore" }) as Schema.Codec<any, any>
    },
    catch: (cause) => invalidRequest(`unsupported JSON Schema: ${cause instanceof Error ? cause.message : String(cause)}`, param)
  })

const textOf = (content: ChatCompletionRequest["messages"][number]["content"], param: string): Effect.Effect<string, ServerError> => {
  if (content === undefined || content === null) return Effect.succeed("")
  if (typeof content === "string") return Effect.succeed(content)
  let text = ""
  for (const part of content) {
    if (part.type === "text") text += part.text
    else if (part.type === "refusal") text += part.refusal
    else return Effect.fail(invalidRequest("only text content is allowed in this message", param))
  }
  return Effect.succeed(text)
}

const dataUrl = /^data:([^;,]+)(;base64)?,(.*)$/s

const userParts = (content: ChatCompletionRequest["messages"][number]["content"], param: string) =>
  Effect.gen(function*() {
    if (content === undefined || content === null) return yield* invalidRequest("a user message needs content", param)
    if (typeof content === "string") return content
    const parts: Array<Prompt.UserMessagePartEncoded> = []
    for (const part of content) {
      if (part.type === "text") parts.push({ type: "text", text: part.text })
      else if (part.type === "refusal") parts.push({ type: "text", text: part.refusal })
      else {
        const match = dataUrl.exec(part.image_url.url)
        parts.push(match === null
          ? { type: "file", mediaType: "image/*", data: new URL(part.image_url.url) }
          : { type: "file", mediaType: match[1]!, data: match[2] === undefined ? decodeURIComponent(match[3]!) : match[3]! })
      }
    }
    return parts
  })

const parseArguments = (text: string, param: string): Effect.Effect<unknown, ServerError> =>
  Effect.try({ try: () => (text.trim() === "" ? {} : JSON.parse(text)), catch: () => invalidRequest("tool call arguments must be JSON", param) })

const toolResult = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** OpenAI messages -> effect/ai prompt messages (tool results get the name of the call they answer). @internal */
export const toPrompt = (messages: ChatCompletionRequest["messages"]): Effect.Effect<Array<Prompt.MessageEncoded>, ServerError> =>
  Effect.gen(function*() {
    if (messages.length === 0) return yield* invalidRequest("messages must not be empty", "messages")
    const out: Array<Prompt.MessageEncoded> = []
    const callNames = new Map<string, string>()
    for (const [i, message] of messages.entries()) {
      const param = `messages[${i}]`
      switch (message.role) {
        case "system":
        case "developer":
          out.push({ role: "system", content: yield* textOf(message.content, `${param}.content`) })
          break
        case "user":
          out.push({ role: "user", content: yield* userParts(message.content, `${param}.content`) })
          break
        case "assistant": {
          const parts: Array<Prompt.AssistantMessagePartEncoded> = []
          if (typeof message.reasoning_content === "string" && message.reasoning_content !== "") {
            parts.push({ type: "reasoning", text: message.reasoning_content })
          }
          const text = yield* textOf(message.content, `${param}.content`)
          if (text !== "") parts.push({ type: "text", text })
          for (const [j, call] of (message.tool_calls ?? []).entries()) {
            const params = yield* parseArguments(call.function.arguments, `${param}.tool_calls[${j}].function.arguments`)
            callNames.set(call.id, call.function.name)
            parts.push({ type: "tool-call", id: call.id, name: call.function.name, params, providerExecuted: false })
          }
          out.push({ role: "assistant", content: parts })
          break
        }
        case "tool": {
          const id = message.tool_call_id
          if (typeof id !== "string") return yield* invalidRequest("a tool message needs tool_call_id", `${param}.tool_call_id`)
          const name = callNames.get(id) ?? message.name
          if (typeof name !== "string") {
            return yield* invalidRequest(`no assistant tool call has the id ${JSON.stringify(id)}`, `${param}.tool_call_id`)
          }
          const text = yield* textOf(message.content, `${param}.content`)
          // Consecutive tool messages answer one assistant turn: one effect/ai tool message.
          const last = out[out.length - 1]
          const part: Prompt.ToolResultPartEncoded = { type: "tool-result", id, name, isFailure: false, result: toolResult(text) }
          if (last !== undefined && last.role === "tool") out[out.length - 1] = { role: "tool", content: [...last.content, part] }
          else out.push({ role: "tool", content: [part] })
          break
        }
      }
    }
    return out
  })

const toolkitOf = (request: ChatCompletionRequest) =>
  Effect.gen(function*() {
    const tools = request.tools ?? []
    if (tools.length === 0) return undefined
    const made: Array<Tool.Any> = []
    for (const [i, tool] of tools.entries()) {
      const parameters = tool.function.parameters ?? { type: "object", properties: {} }
      const schema = yield* fromJsonSchema(parameters, `tools[${i}].function.parameters`)
      const description = tool.function.description
      made.push(Tool.dynamic(tool.function.name, {
        ...(typeof description === "string" ? { description } : {}),
        parameters: schema
      }) as unknown as Tool.Any)
    }
    return Toolkit.make(...made) as unknown as Toolkit.Toolkit<Record<string, Tool.Any>>
  })

const toolChoiceOf = (request: ChatCompletionRequest, toolkit: ChatCall["toolkit"]): Effect.Effect<ChatCall["toolChoice"], ServerError> => {
  const choice = request.tool_choice
  if (choice === undefined || choice === null) return Effect.succeed("auto")
  if (typeof choice === "string") return Effect.succeed(choice)
  const name = choice.function.name
  if (toolkit === undefined || !(name in toolkit.tools)) {
    return Effect.fail(invalidRequest(`tool_choice names ${JSON.stringify(name)}, which is not in tools`, "tool_choice"))
  }
  return Effect.succeed({ tool: name })
}

// Any JSON object: what `json_object` asks for.
const AnyObject = Schema.Record(Schema.String, Schema.Json)

const responseFormatOf = (request: ChatCompletionRequest): Effect.Effect<ResponseFormat, ServerError> => {
  const format = request.response_format
  if (format === undefined || format === null || format.type === "text") return Effect.succeed({ type: "text" })
  if (format.type === "json_object") return Effect.succeed({ type: "json", name: "object", schema: AnyObject })
  const schema = format.json_schema.schema
  if (schema === undefined || schema === null) return Effect.succeed({ type: "json", name: format.json_schema.name, schema: AnyObject })
  return Effect.map(fromJsonSchema(schema, "response_format.json_schema.schema"), (s) => ({ type: "json", name: format.json_schema.name, schema: s }))
}

/** The sampling fields both chat and text completions share. @internal */
export const settingsOf = (
  request: ChatCompletionRequest | CompletionRequest,
  maxTokens: number | null | undefined
): Effect.Effect<Settings, ServerError> =>
  Effect.gen(function*() {
    if (request.n !== undefined && request.n !== null && request.n !== 1) {
      return yield* invalidRequest(`n must be 1: this server returns one choice per request (got ${request.n})`, "n")
    }
    const stop = request.stop === undefined || request.stop === null ? undefined : typeof request.stop === "string" ? [request.stop] : request.stop
    if (stop !== undefined && stop.length > 4) return yield* invalidRequest("stop takes at most 4 sequences", "stop")
    const logitBias: Array<{ token: number; bias: number }> = []
    for (const [key, bias] of Object.entries(request.logit_bias ?? {})) {
      const token = Number(key)
      if (!Number.isInteger(token) || token < 0) return yield* invalidRequest(`logit_bias keys are token ids, got ${JSON.stringify(key)}`, "logit_bias")
      logitBias.push({ token, bias })
    }
    const set = <K extends keyof Settings>(key: K, value: Settings[K] | null | undefined) => (value === undefined || value === null ? {} : { [key]: value })
    return {
      ...set("maxTokens", maxTokens),
      ...set("stop", stop),
      ...set("temperature", request.temperature),
      ...set("topP", request.top_p),
      // OpenAI seeds are any integer; llama.cpp's are 32-bit.
      ...set("seed", request.seed === undefined || request.seed === null ? undefined : Number(BigInt.asUintN(32, BigInt(request.seed)))),
      ...set("presencePenalty", request.presence_penalty),
      ...set("frequencyPenalty", request.frequency_penalty),
      ...(logitBias.length === 0 ? {} : { logitBias }),
      ...("parallel_tool_calls" in request ? set("parallelToolCalls", request.parallel_tool_calls) : {})
    }
  })

/** @internal */
export const chatCall = (request: ChatCompletionRequest): Effect.Effect<ChatCall, ServerError> =>
  Effect.gen(function*() {
    if (request.logprobs === true) return yield* invalidRequest("logprobs are not supported", "logprobs")
    const prompt = yield* toPrompt(request.messages)
    const toolkit = yield* toolkitOf(request)
    const toolChoice = yield* toolChoiceOf(request, toolkit)
    const responseFormat = yield* responseFormatOf(request)
    const settings = yield* settingsOf(request, request.max_completion_tokens ?? request.max_tokens)
    return {
      prompt,
      toolkit,
      toolChoice,
      responseFormat,
      settings,
      stream: request.stream === true,
      includeUsage: request.stream_options?.include_usage === true
    }
  })
