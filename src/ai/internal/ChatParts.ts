/**
 * Turns successive parses of the generated text (llama.cpp common/chat, partial while streaming) into effect/ai
 * stream parts: text and reasoning deltas, tool-params start/delta/end, and the tool calls at the end.
 *
 * @internal
 */
import type { Response } from "effect/ai"
import type { ParsedChat } from "../../native/NativeBinding.ts"

type Part = Response.StreamPartEncoded

interface CallState {
  readonly id: string
  readonly name: string
  arguments: string
}

/** @internal */
export class ChatParts {
  private text = ""
  private reasoning = ""
  private textOpen = false
  private reasoningOpen = false
  private readonly calls: Array<CallState> = []
  private readonly newCallId: () => string

  constructor(newCallId: () => string) {
    this.newCallId = newCallId
  }

  /** The parts that bring the stream up to `parsed` (a partial parse may only grow what came before). */
  update(parsed: ParsedChat): Array<Part> {
    const parts: Array<Part> = []
    if (parsed.reasoningContent.length > this.reasoning.length && parsed.reasoningContent.startsWith(this.reasoning)) {
      if (!this.reasoningOpen) parts.push({ type: "reasoning-start", id: "reasoning-0" })
      this.reasoningOpen = true
      parts.push({ type: "reasoning-delta", id: "reasoning-0", delta: parsed.reasoningContent.slice(this.reasoning.length) })
      this.reasoning = parsed.reasoningContent
    }
    if (parsed.content.length > this.text.length && parsed.content.startsWith(this.text)) {
      if (!this.textOpen) parts.push({ type: "text-start", id: "text-0" })
      this.textOpen = true
      parts.push({ type: "text-delta", id: "text-0", delta: parsed.content.slice(this.text.length) })
      this.text = parsed.content
    }
    for (const [i, call] of parsed.toolCalls.entries()) {
      if (call.name === "") continue // the name is not known yet
      let state = this.calls[i]
      if (state === undefined) {
        state = { id: call.id !== "" ? call.id : this.newCallId(), name: call.name, arguments: "" }
        this.calls[i] = state
        parts.push({ type: "tool-params-start", id: state.id, name: state.name })
      }
      if (call.arguments.length > state.arguments.length && call.arguments.startsWith(state.arguments)) {
        parts.push({ type: "tool-params-delta", id: state.id, delta: call.arguments.slice(state.arguments.length) })
        state.arguments = call.arguments
      }
    }
    return parts
  }

  /**
   * The closing parts after the final parse: ends, then one tool-call per call in `parsed` (a call streamed
   * before but missing from the final parse, one cut off unfinished, is closed without a tool-call).
   */
  finish(parsed: ParsedChat): Array<Part> {
    const parts = this.update(parsed)
    if (this.reasoningOpen) parts.push({ type: "reasoning-end", id: "reasoning-0" })
    if (this.textOpen) parts.push({ type: "text-end", id: "text-0" })
    for (const [i, state] of this.calls.entries()) {
      parts.push({ type: "tool-params-end", id: state.id })
      const call = parsed.toolCalls[i]
      if (call !== undefined) parts.push({ type: "tool-call", id: state.id, name: call.name, params: parseArguments(call.arguments) })
    }
    return parts
  }

  get toolCallCount(): number {
    return this.calls.length
  }
}

// Tool arguments are JSON; a model may also leave them empty for a tool without parameters.
const parseArguments = (text: string): unknown => {
  if (text.trim() === "") return {}
  try {
    return JSON.parse(text)
  } catch {
    return text // the framework validates params against the tool's schema and reports the failure
  }
}

/**
 * Drops tool calls whose arguments are not complete JSON: what a generation cut by its token limit left behind.
 *
 * @internal
 */
export const completeCalls = (parsed: ParsedChat): ParsedChat => ({
  ...parsed,
  toolCalls: parsed.toolCalls.filter((call) => {
    if (call.arguments.trim() === "") return true
    try {
      JSON.parse(call.arguments)
      return true
    } catch {
      return false
    }
  })
})

/** The whole message as non-streaming parts. @internal */
export const messageParts = (parsed: ParsedChat, newCallId: () => string): Array<Response.PartEncoded> => {
  const parts: Array<Response.PartEncoded> = []
  if (parsed.reasoningContent !== "") parts.push({ type: "reasoning", text: parsed.reasoningContent })
  if (parsed.content !== "") parts.push({ type: "text", text: parsed.content })
  for (const call of parsed.toolCalls) {
    parts.push({ type: "tool-call", id: call.id !== "" ? call.id : newCallId(), name: call.name, params: parseArguments(call.arguments) })
  }
  return parts
}
