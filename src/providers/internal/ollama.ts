/**
 * Ollama's native `/api/chat` format: prompts -> messages (images as base64, whole tool calls), responses and
 * NDJSON lines -> effect/ai parts. A `{"error": ...}` line ends the stream with that error.
 *
 * @internal
 */
import { AiError, type Prompt, type Response } from "effect/ai"
import { fromStreamError, malformed, type Site } from "./errors.ts"
import { arrayOf, countOf, fileData, isObject, type Json, resultText, stringOf } from "./json.ts"
import type { Decoder } from "./streaming.ts"
import { makeTextParts } from "./textParts.ts"

/** @internal */
export const toMessages = (site: Site, prompt: Prompt.Prompt): Array<Json> | AiError.AiError => {
  const out: Array<Json> = []
  for (const message of prompt.content) {
    switch (message.role) {
      case "system":
        out.push({ role: "system", content: message.content })
        break
      case "user": {
        let content = ""
        const images: Array<string> = []
        for (const part of message.content) {
          if (part.type === "text") content += part.text
          else {
            const data = fileData(part)
            if (!part.mediaType.startsWith("image/") || !("base64" in data)) {
              return AiError.make({
                module: site.module,
                method: site.method,
                reason: new AiError.InvalidUserInputError({ description: `Ollama reads inline images, not ${part.mediaType}${"url" in data ? " URLs" : ""}` })
              })
            }
            images.push(data.base64)
          }
        }
        out.push({ role: "user", content, ...(images.length > 0 ? { images } : {}) })
        break
      }
      case "assistant": {
        let content = ""
        let thinking = ""
        const calls: Array<Json> = []
        for (const part of message.content) {
          if (part.type === "text") content += part.text
          else if (part.type === "reasoning") thinking += part.text
          else if (part.type === "tool-call" && part.providerExecuted !== true) {
            calls.push({ function: { name: part.name, arguments: part.params ?? {} } })
          }
        }
        out.push({
          role: "assistant",
          content,
          ...(thinking === "" ? {} : { thinking }),
          ...(calls.length > 0 ? { tool_calls: calls } : {})
        })
        break
      }
      case "tool":
        for (const part of message.content) {
          if (part.type === "tool-result") out.push({ role: "tool", content: resultText(part.result), tool_name: part.name })
        }
        break
    }
  }
  return out
}

/** @internal */
export const finishReasonOf = (reason: string | undefined, toolCalls: number): Response.FinishReason =>
  toolCalls > 0 ? "tool-calls" : reason === "stop" ? "stop" : reason === "length" ? "length" : reason === undefined ? "unknown" : "other"

const usageOf = (json: Json): typeof Response.Usage.Encoded => {
  const input = countOf(json.prompt_eval_count)
  const output = countOf(json.eval_count)
  return {
    inputTokens: input === undefined ? {} : { total: input },
    outputTokens: output === undefined ? {} : { total: output }
  }
}

const metadataOf = (json: Json): Response.ResponseMetadataPartEncoded => {
  const model = stringOf(json.model)
  const created = stringOf(json.created_at)
  return {
    type: "response-metadata",
    ...(model === undefined ? {} : { modelId: model }),
    timestamp: created !== undefined && !Number.isNaN(Date.parse(created)) ? new Date(created).toISOString() : new Date().toISOString()
  }
}

let calls = 0
const callId = () => `ollama_call_${Date.now().toString(36)}_${(++calls).toString(36)}`

const toolCallParts = (message: Json): Array<Response.ToolCallPartEncoded> =>
  arrayOf(message.tool_calls).flatMap((call) => {
    if (!isObject(call) || !isObject(call.function)) return []
    const args = call.function.arguments
    let params: unknown = args ?? {}
    if (typeof args === "string") {
      try {
        params = JSON.parse(args)
      } catch {
        params = args
      }
    }
    return [{ type: "tool-call" as const, id: stringOf(call.id) ?? callId(), name: stringOf(call.function.name) ?? "", params }]
  })

const errorOf = (site: Site, request: { readonly method: string; readonly url: string; readonly status: number }, json: Json) =>
  fromStreamError(site, request, { message: typeof json.error === "string" ? json.error : JSON.stringify(json.error) })

/** A whole `/api/chat` response -> parts. @internal */
export const responseParts = (site: Site, body: unknown): Array<Response.PartEncoded> | AiError.AiError => {
  if (!isObject(body) || !isObject(body.message)) return malformed(site, "the response has no `message`", JSON.stringify(body))
  const parts: Array<Response.PartEncoded> = [metadataOf(body)]
  const thinking = stringOf(body.message.thinking)
  if (thinking !== undefined && thinking !== "") parts.push({ type: "reasoning", text: thinking })
  const content = stringOf(body.message.content)
  if (content !== undefined && content !== "") parts.push({ type: "text", text: content })
  const tools = toolCallParts(body.message)
  parts.push(...tools)
  parts.push({ type: "finish", reason: finishReasonOf(stringOf(body.done_reason), tools.length), usage: usageOf(body) })
  return parts
}

/**
 * NDJSON lines of a streamed chat -> stream parts. The stream must reach its `done: true` line.
 *
 * @internal
 */
export const lineDecoder = (
  site: Site,
  request: { readonly method: string; readonly url: string; readonly status: number },
  cut: (detail: string) => AiError.AiError
): Decoder<unknown, Response.StreamPartEncoded> => {
  let started = false
  const parts = makeTextParts()
  let done = false
  let toolCount = 0
  return {
    feed: (line, out) => {
      if (done) return undefined
      if (!isObject(line)) return malformed(site, "a stream line is not an object", JSON.stringify(line))
      if (line.error !== undefined) return errorOf(site, request, line)
      if (!started) {
        started = true
        out.push(metadataOf(line))
      }
      const message = isObject(line.message) ? line.message : {}
      parts.reasoning(stringOf(message.thinking), out)
      parts.text(stringOf(message.content), out)
      const tools = toolCallParts(message)
      toolCount += tools.length
      out.push(...tools)
      if (line.done === true) {
        done = true
        parts.close(out)
        out.push({ type: "finish", reason: finishReasonOf(stringOf(line.done_reason), toolCount), usage: usageOf(line) })
      }
      return undefined
    },
    end: () => done ? undefined : cut("it ended before its `done: true` line")
  }
}
