/**
 * OpenAI Chat Completions wire format: effect/ai prompts and tools -> request JSON; responses and SSE chunks ->
 * effect/ai response parts (tool-call fragments joined per `index`, `reasoning_content` as reasoning, usage with
 * cached tokens, finish reasons).
 *
 * @internal
 */
import { AiError, type LanguageModel, type Prompt, type Response } from "effect/ai"
import { fromStreamError, malformed, type Site, streamCut } from "./errors.ts"
import {
  arrayOf,
  countOf,
  fileData,
  isObject,
  type Json,
  parseArguments,
  resultText,
  stringOf
} from "./json.ts"
import type { Decoder, SseEvent } from "./streaming.ts"
import { makeTextParts } from "./textParts.ts"

// ============================================================================
// Request
// ============================================================================

const userContent = (site: Site, parts: ReadonlyArray<Prompt.UserMessagePart>): string | Array<Json> | AiError.AiError => {
  if (parts.every((part) => part.type === "text")) return parts.map((part) => part.text).join("")
  const out: Array<Json> = []
  for (const part of parts) {
    if (part.type === "text") {
      out.push({ type: "text", text: part.text })
      continue
    }
    const data = fileData(part)
    const url = "url" in data ? data.url : `data:${part.mediaType};base64,${data.base64}`
    if (part.mediaType.startsWith("image/")) out.push({ type: "image_url", image_url: { url } })
    else if ("base64" in data) {
      out.push({ type: "file", file: { filename: part.fileName ?? "file", file_data: url } })
    } else {
      return AiError.make({
        module: site.module,
        method: site.method,
        reason: new AiError.InvalidUserInputError({ description: `a ${part.mediaType} file must be sent inline, not as a URL` })
      })
    }
  }
  return out
}

/**
 * The prompt as Chat Completions messages.
 *
 * @internal
 */
export const toMessages = (site: Site, prompt: Prompt.Prompt): Array<Json> | AiError.AiError => {
  const out: Array<Json> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        out.push({ role: "system", content: message.content })
        break
      case "user": {
        const content = userContent(site, message.content)
        if (AiError.isAiError(content)) return content
        out.push({ role: "user", content })
        break
      }
      case "assistant": {
        let text = ""
        const calls: Array<Json> = []
        for (const part of message.content) {
          if (part.type === "text") text += part.text
          else if (part.type === "tool-call" && part.providerExecuted !== true) {
            calls.push({ id: part.id, type: "function", function: { name: part.name, arguments: JSON.stringify(part.params ?? {}) } })
          }
        }
        out.push({ role: "assistant", content: text === "" && calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) })
        break
      }
      case "tool":
        for (const part of message.content) {
          if (part.type === "tool-result") out.push({ role: "tool", tool_call_id: part.id, content: resultText(part.result) })
        }
        break
    }
  }
  return out
}

/**
 * `tool_choice` for effect/ai's choice (the tools of a `oneOf` are already filtered by effect/ai).
 *
 * @internal
 */
export const toToolChoice = (choice: LanguageModel.ProviderOptions["toolChoice"]): string | Json => {
  if (typeof choice === "string") return choice
  if ("tool" in choice) return { type: "function", function: { name: choice.tool } }
  return choice.mode ?? "auto"
}

// ============================================================================
// Response
// ============================================================================

/** @internal */
export const finishReasonOf = (reason: string | undefined, toolCalls: number): Response.FinishReason => {
  if (toolCalls > 0 && reason !== "length") return "tool-calls"
  switch (reason) {
    case "stop":
      return "stop"
    case "length":
      return "length"
    case "tool_calls":
    case "function_call":
      return "tool-calls"
    case "content_filter":
      return "content-filter"
    case undefined:
      return "unknown"
    default:
      return "other"
  }
}

/** Chat Completions `usage` -> effect/ai usage (cached prompt tokens as cache reads, reasoning tokens apart). @internal */
export const usageOf = (usage: unknown): typeof Response.Usage.Encoded => {
  if (!isObject(usage)) return { inputTokens: {}, outputTokens: {} }
  const input = countOf(usage.prompt_tokens)
  const output = countOf(usage.completion_tokens)
  const cached = isObject(usage.prompt_tokens_details) ? countOf(usage.prompt_tokens_details.cached_tokens) : undefined
  const reasoning = isObject(usage.completion_tokens_details)
    ? countOf(usage.completion_tokens_details.reasoning_tokens)
    : undefined
  return {
    inputTokens: {
      ...(input === undefined ? {} : { total: input }),
      ...(cached === undefined ? {} : { cacheRead: cached }),
      ...(input === undefined ? {} : { uncached: Math.max(0, input - (cached ?? 0)) })
    },
    outputTokens: {
      ...(output === undefined ? {} : { total: output }),
      ...(reasoning === undefined ? {} : { reasoning, ...(output === undefined ? {} : { text: Math.max(0, output - reasoning) }) })
    }
  }
}

const metadataPart = (json: Json): Response.ResponseMetadataPartEncoded => {
  const created = countOf(json.created)
  const id = stringOf(json.id)
  const model = stringOf(json.model)
  return {
    type: "response-metadata",
    ...(id === undefined ? {} : { id }),
    ...(model === undefined ? {} : { modelId: model }),
    timestamp: new Date(created === undefined ? Date.now() : created * 1000).toISOString()
  }
}

const badToolCall = (site: Site, name: string, args: string): AiError.AiError =>
  AiError.make({
    module: site.module,
    method: site.method,
    reason: new AiError.InvalidOutputError({ description: `the arguments of the call to '${name}' are not JSON: ${args.slice(0, 200)}` })
  })

/**
 * A whole completion -> parts.
 *
 * @internal
 */
export const completionParts = (site: Site, body: unknown): Array<Response.PartEncoded> | AiError.AiError => {
  if (!isObject(body) || !Array.isArray(body.choices)) {
    return malformed(site, "the completion has no `choices`", JSON.stringify(body))
  }
  const choice = body.choices[0]
  if (!isObject(choice) || !isObject(choice.message)) return malformed(site, "the completion's first choice has no `message`", JSON.stringify(body))
  const message = choice.message
  const parts: Array<Response.PartEncoded> = [metadataPart(body)]
  const reasoning = stringOf(message.reasoning_content) ?? stringOf(message.reasoning)
  if (reasoning !== undefined && reasoning !== "") parts.push({ type: "reasoning", text: reasoning })
  const content = stringOf(message.content)
  if (content !== undefined && content !== "") parts.push({ type: "text", text: content })
  let calls = 0
  const finish = stringOf(choice.finish_reason)
  for (const [i, call] of arrayOf(message.tool_calls).entries()) {
    if (!isObject(call) || !isObject(call.function)) return malformed(site, "a tool call has no `function`", JSON.stringify(call))
    const name = stringOf(call.function.name) ?? ""
    const args = call.function.arguments
    const parsed = typeof args === "string" ? parseArguments(args) : { ok: true as const, value: args ?? {} }
    if (!parsed.ok) {
      if (finish === "length") continue
      return badToolCall(site, name, String(args))
    }
    parts.push({ type: "tool-call", id: stringOf(call.id) ?? `${stringOf(body.id) ?? "call"}_tool_${i}`, name, params: parsed.value })
    calls++
  }
  parts.push({ type: "finish", reason: finishReasonOf(finish, calls), usage: usageOf(body.usage) })
  return parts
}

interface ToolCallState {
  readonly index: number
  id: string
  name: string
  args: string
  started: boolean
}

/**
 * SSE events of a streamed completion -> stream parts. The stream must end with `[DONE]` or at least a finish
 * reason; otherwise it was cut.
 *
 * @internal
 */
export const chunkDecoder = (
  site: Site,
  request: { readonly method: string; readonly url: string; readonly status: number }
): Decoder<SseEvent, Response.StreamPartEncoded> => {
  let started = false
  let done = false
  const parts = makeTextParts()
  let responseId: string | undefined
  let finish: string | undefined
  let usage: unknown
  const calls = new Map<number, ToolCallState>()

  const finalize = (out: Array<Response.StreamPartEncoded>): AiError.AiError | undefined => {
    done = true
    parts.close(out)
    let count = 0
    for (const call of [...calls.values()].sort((a, b) => a.index - b.index)) {
      const parsed = parseArguments(call.args)
      if (!parsed.ok) {
        if (finish === "length") continue
        return badToolCall(site, call.name, call.args)
      }
      if (call.started) out.push({ type: "tool-params-end", id: call.id })
      out.push({ type: "tool-call", id: call.id, name: call.name, params: parsed.value })
      count++
    }
    out.push({ type: "finish", reason: finishReasonOf(finish, count), usage: usageOf(usage) })
    return undefined
  }

  const delta = (choice: Json, out: Array<Response.StreamPartEncoded>): AiError.AiError | undefined => {
    const d = isObject(choice.delta) ? choice.delta : {}
    parts.reasoning(stringOf(d.reasoning_content) ?? stringOf(d.reasoning), out)
    parts.text(stringOf(d.content), out)
    for (const fragment of arrayOf(d.tool_calls)) {
      if (!isObject(fragment)) continue
      const index = countOf(fragment.index) ?? calls.size
      const fn = isObject(fragment.function) ? fragment.function : {}
      let call = calls.get(index)
      if (call === undefined) {
        call = { index, id: stringOf(fragment.id) ?? `${responseId ?? "call"}_tool_${index}`, name: "", args: "", started: false }
        calls.set(index, call)
      }
      const name = stringOf(fn.name)
      if (name !== undefined && call.name === "") call.name = name
      if (!call.started && call.name !== "") {
        call.started = true
        out.push({ type: "tool-params-start", id: call.id, name: call.name })
      }
      const args = stringOf(fn.arguments)
      if (args !== undefined && args !== "") {
        call.args += args
        if (call.started) out.push({ type: "tool-params-delta", id: call.id, delta: args })
      }
    }
    const reason = stringOf(choice.finish_reason)
    if (reason !== undefined) finish = reason
    return undefined
  }

  return {
    feed: (event, out) => {
      if (done) return undefined
      if (event.data === "[DONE]") return finalize(out)
      let chunk: unknown
      try {
        chunk = JSON.parse(event.data)
      } catch {
        return malformed(site, "a stream event is not JSON", event.data)
      }
      if (!isObject(chunk)) return malformed(site, "a stream event is not an object", event.data)
      if (event.event === "error" || chunk.error !== undefined) {
        const error = isObject(chunk.error) ? chunk.error : chunk
        return fromStreamError(site, request, {
          message: stringOf(error.message) ?? (typeof chunk.error === "string" ? chunk.error : undefined),
          type: stringOf(error.type),
          code: stringOf(error.code) ?? (typeof error.code === "number" ? String(error.code) : undefined)
        })
      }
      if (!started) {
        started = true
        responseId = stringOf(chunk.id)
        out.push(metadataPart(chunk))
      }
      if (chunk.usage !== undefined && chunk.usage !== null) usage = chunk.usage
      const choice = arrayOf(chunk.choices)[0]
      return isObject(choice) ? delta(choice, out) : undefined
    },
    end: (out) => {
      if (done) return undefined
      if (finish !== undefined) return finalize(out)
      return streamCut(site, request, "it ended before `[DONE]` and without a finish reason")
    }
  }
}
