/**
 * Anthropic Messages wire format: prompts -> `system` + content blocks; responses and SSE events
 * (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`, `error`) -> effect/ai parts.
 *
 * @internal
 */
import { AiError, type LanguageModel, type Prompt, type Response, type Tool } from "effect/ai"
import { fromStreamError, malformed, type Site } from "./errors.ts"
import {
  countOf,
  fileData,
  isObject,
  type Json,
  parseArguments,
  resultText,
  stringOf,
  toolDescription,
  toolParameters
} from "./json.ts"
import type { Decoder, SseEvent } from "./streaming.ts"

// ============================================================================
// Request
// ============================================================================

const fileBlock = (site: Site, part: Prompt.FilePart): Json | AiError.AiError => {
  const data = fileData(part)
  const source = "url" in data
    ? { type: "url", url: data.url }
    : { type: "base64", media_type: part.mediaType, data: data.base64 }
  if (part.mediaType.startsWith("image/")) return { type: "image", source }
  if (part.mediaType === "application/pdf") return { type: "document", source }
  return AiError.make({
    module: site.module,
    method: site.method,
    reason: new AiError.InvalidUserInputError({ description: `Anthropic reads images and PDFs, not ${part.mediaType}` })
  })
}

/**
 * The prompt as `system` text and alternating user/assistant messages (tool results travel in user messages).
 *
 * @internal
 */
export const toMessages = (
  site: Site,
  prompt: Prompt.Prompt
): { readonly system: string | undefined; readonly messages: Array<Json> } | AiError.AiError => {
  const system: Array<string> = []
  const messages: Array<{ role: "user" | "assistant"; content: Array<Json> }> = []
  const push = (role: "user" | "assistant", blocks: Array<Json>) => {
    if (blocks.length === 0) return
    const last = messages[messages.length - 1]
    if (last !== undefined && last.role === role) last.content.push(...blocks)
    else messages.push({ role, content: blocks })
  }
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        system.push(message.content)
        break
      case "user": {
        const blocks: Array<Json> = []
        for (const part of message.content) {
          if (part.type === "text") blocks.push({ type: "text", text: part.text })
          else {
            const block = fileBlock(site, part)
            if (AiError.isAiError(block)) return block
            blocks.push(block)
          }
        }
        push("user", blocks)
        break
      }
      case "assistant": {
        const blocks: Array<Json> = []
        for (const part of message.content) {
          if (part.type === "text" && part.text !== "") blocks.push({ type: "text", text: part.text })
          else if (part.type === "reasoning") {
            const signature = (part.options as { anthropic?: { signature?: string } } | undefined)?.anthropic?.signature
            if (signature !== undefined) blocks.push({ type: "thinking", thinking: part.text, signature })
          } else if (part.type === "tool-call" && part.providerExecuted !== true) {
            blocks.push({ type: "tool_use", id: part.id, name: part.name, input: part.params ?? {} })
          }
        }
        push("assistant", blocks)
        break
      }
      case "tool": {
        const blocks: Array<Json> = []
        for (const part of message.content) {
          if (part.type === "tool-result") {
            blocks.push({ type: "tool_result", tool_use_id: part.id, content: resultText(part.result), ...(part.isFailure ? { is_error: true } : {}) })
          }
        }
        push("user", blocks)
        break
      }
    }
  }
  return { system: system.length === 0 ? undefined : system.join("\n\n"), messages }
}

/** @internal */
export const toTools = (tools: ReadonlyArray<Tool.Any>): Array<Json> =>
  tools.map((tool) => {
    const description = toolDescription(tool)
    return { name: tool.name, ...(description === undefined ? {} : { description }), input_schema: toolParameters(tool) }
  })

/** `tool_choice`: auto, any (required), tool (named), none. @internal */
export const toToolChoice = (choice: LanguageModel.ProviderOptions["toolChoice"], parallel: boolean | undefined): Json => {
  const mode = typeof choice === "string" ? choice : "tool" in choice ? "tool" : choice.mode ?? "auto"
  const base: Json = mode === "required"
    ? { type: "any" }
    : mode === "tool" && typeof choice === "object" && "tool" in choice
    ? { type: "tool", name: choice.tool }
    : { type: mode }
  return parallel === false && mode !== "none" ? { ...base, disable_parallel_tool_use: true } : base
}

// ============================================================================
// Response
// ============================================================================

/** Anthropic's stop reasons -> effect/ai's. @internal */
export const finishReasonOf = (reason: string | undefined): Response.FinishReason => {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop"
    case "max_tokens":
      return "length"
    case "tool_use":
      return "tool-calls"
    case "pause_turn":
      return "pause"
    case "refusal":
      return "content-filter"
    case undefined:
      return "unknown"
    default:
      return "other"
  }
}

interface UsageState {
  input?: number | undefined
  cacheRead?: number | undefined
  cacheWrite?: number | undefined
  output?: number | undefined
}

const mergeUsage = (state: UsageState, usage: unknown) => {
  if (!isObject(usage)) return
  state.input = countOf(usage.input_tokens) ?? state.input
  state.cacheRead = countOf(usage.cache_read_input_tokens) ?? state.cacheRead
  state.cacheWrite = countOf(usage.cache_creation_input_tokens) ?? state.cacheWrite
  state.output = countOf(usage.output_tokens) ?? state.output
}

// Anthropic's input_tokens leaves the cached ones out: the total is the sum.
const usageOf = (state: UsageState): typeof Response.Usage.Encoded => {
  const known = state.input !== undefined || state.cacheRead !== undefined || state.cacheWrite !== undefined
  return {
    inputTokens: known
      ? {
        total: (state.input ?? 0) + (state.cacheRead ?? 0) + (state.cacheWrite ?? 0),
        ...(state.input === undefined ? {} : { uncached: state.input }),
        ...(state.cacheRead === undefined ? {} : { cacheRead: state.cacheRead }),
        ...(state.cacheWrite === undefined ? {} : { cacheWrite: state.cacheWrite })
      }
      : {},
    outputTokens: state.output === undefined ? {} : { total: state.output }
  }
}

const metadataOf = (message: Json): Response.ResponseMetadataPartEncoded => {
  const id = stringOf(message.id)
  const model = stringOf(message.model)
  return {
    type: "response-metadata",
    ...(id === undefined ? {} : { id }),
    ...(model === undefined ? {} : { modelId: model }),
    timestamp: new Date().toISOString()
  }
}

/**
 * A whole message -> parts. With `objectTool`, that tool's input is the structured output (as text).
 *
 * @internal
 */
export const messageParts = (site: Site, body: unknown, objectTool?: string): Array<Response.PartEncoded> | AiError.AiError => {
  if (!isObject(body) || !Array.isArray(body.content)) return malformed(site, "the message has no `content`", JSON.stringify(body))
  const parts: Array<Response.PartEncoded> = [metadataOf(body)]
  for (const block of body.content) {
    if (!isObject(block)) continue
    if (block.type === "text") parts.push({ type: "text", text: stringOf(block.text) ?? "" })
    else if (block.type === "thinking") {
      const signature = stringOf(block.signature)
      parts.push({
        type: "reasoning",
        text: stringOf(block.thinking) ?? "",
        ...(signature === undefined ? {} : { metadata: { anthropic: { signature } } })
      })
    } else if (block.type === "tool_use") {
      const name = stringOf(block.name) ?? ""
      if (name === objectTool) parts.push({ type: "text", text: JSON.stringify(block.input ?? {}) })
      else parts.push({ type: "tool-call", id: stringOf(block.id) ?? "", name, params: block.input ?? {} })
    }
  }
  const usage: UsageState = {}
  mergeUsage(usage, body.usage)
  const stop = stringOf(body.stop_reason)
  parts.push({ type: "finish", reason: objectTool !== undefined && stop === "tool_use" ? "stop" : finishReasonOf(stop), usage: usageOf(usage) })
  return parts
}

interface Block {
  readonly kind: "text" | "reasoning" | "tool"
  readonly id: string
  readonly name: string
  json: string
  signature?: string | undefined
}

/**
 * SSE events of a streamed message -> stream parts; `ping` is ignored, an `error` event fails the stream with
 * the reason its type says (`overloaded_error`: a retryable provider error). The stream must reach `message_stop`.
 *
 * @internal
 */
export const eventDecoder = (
  site: Site,
  request: { readonly method: string; readonly url: string; readonly status: number },
  cut: (detail: string) => AiError.AiError
): Decoder<SseEvent, Response.StreamPartEncoded> => {
  const blocks = new Map<number, Block>()
  const usage: UsageState = {}
  let stop: string | undefined
  let messageId = "msg"
  let done = false
  return {
    feed: (event, out) => {
      if (done || event.event === "ping") return undefined
      let json: unknown
      try {
        json = JSON.parse(event.data)
      } catch {
        return malformed(site, `the ${event.event} event is not JSON`, event.data)
      }
      if (!isObject(json)) return malformed(site, `the ${event.event} event is not an object`, event.data)
      const type = stringOf(json.type) ?? event.event
      switch (type) {
        case "message_start": {
          const message = isObject(json.message) ? json.message : {}
          messageId = stringOf(message.id) ?? messageId
          mergeUsage(usage, message.usage)
          out.push(metadataOf(message))
          return undefined
        }
        case "content_block_start": {
          const index = countOf(json.index) ?? blocks.size
          const block = isObject(json.content_block) ? json.content_block : {}
          const kind = block.type === "tool_use" ? "tool" : block.type === "thinking" || block.type === "redacted_thinking" ? "reasoning" : "text"
          const id = kind === "tool" ? stringOf(block.id) ?? `${messageId}_tool_${index}` : `${kind}-${index}`
          const entry: Block = { kind, id, name: stringOf(block.name) ?? "", json: "" }
          blocks.set(index, entry)
          if (kind === "tool") out.push({ type: "tool-params-start", id, name: entry.name })
          else if (kind === "reasoning") out.push({ type: "reasoning-start", id })
          else {
            out.push({ type: "text-start", id })
            const text = stringOf(block.text)
            if (text !== undefined && text !== "") out.push({ type: "text-delta", id, delta: text })
          }
          return undefined
        }
        case "content_block_delta": {
          const block = blocks.get(countOf(json.index) ?? -1)
          const delta = isObject(json.delta) ? json.delta : {}
          if (block === undefined) return malformed(site, "a content_block_delta names no open block", event.data)
          switch (delta.type) {
            case "text_delta":
              out.push({ type: "text-delta", id: block.id, delta: stringOf(delta.text) ?? "" })
              break
            case "thinking_delta":
              out.push({ type: "reasoning-delta", id: block.id, delta: stringOf(delta.thinking) ?? "" })
              break
            case "signature_delta":
              block.signature = (block.signature ?? "") + (stringOf(delta.signature) ?? "")
              break
            case "input_json_delta": {
              const piece = stringOf(delta.partial_json) ?? ""
              block.json += piece
              if (piece !== "") out.push({ type: "tool-params-delta", id: block.id, delta: piece })
              break
            }
          }
          return undefined
        }
        case "content_block_stop": {
          const index = countOf(json.index) ?? -1
          const block = blocks.get(index)
          if (block === undefined) return undefined
          blocks.delete(index)
          if (block.kind === "text") out.push({ type: "text-end", id: block.id })
          else if (block.kind === "reasoning") {
            out.push({
              type: "reasoning-end",
              id: block.id,
              ...(block.signature === undefined ? {} : { metadata: { anthropic: { signature: block.signature } } })
            })
          } else {
            const params = parseArguments(block.json)
            if (!params.ok) {
              return AiError.make({
                module: site.module,
                method: site.method,
                reason: new AiError.InvalidOutputError({ description: `the input of the call to '${block.name}' is not JSON: ${block.json.slice(0, 200)}` })
              })
            }
            out.push({ type: "tool-params-end", id: block.id })
            out.push({ type: "tool-call", id: block.id, name: block.name, params: params.value })
          }
          return undefined
        }
        case "message_delta": {
          const delta = isObject(json.delta) ? json.delta : {}
          stop = stringOf(delta.stop_reason) ?? stop
          mergeUsage(usage, json.usage)
          return undefined
        }
        case "message_stop":
          done = true
          out.push({ type: "finish", reason: finishReasonOf(stop), usage: usageOf(usage) })
          return undefined
        case "error": {
          const error = isObject(json.error) ? json.error : {}
          return fromStreamError(site, request, { message: stringOf(error.message), type: stringOf(error.type) })
        }
        default:
          return undefined
      }
    },
    end: () => done ? undefined : cut("it ended before `message_stop`")
  }
}
