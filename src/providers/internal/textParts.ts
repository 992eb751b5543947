import type { Response } from "effect/ai"

/**
 * The text and reasoning parts of a streamed reply whose chunks carry plain deltas (OpenAI's `content` /
 * `reasoning_content`, Ollama's `content` / `thinking`): one reasoning block, then one text block, each opened at
 * its first non-empty delta and closed before the other opens or at the end.
 *
 * @internal
 */
export interface TextParts {
  readonly reasoning: (delta: string | undefined, out: Array<Response.StreamPartEncoded>) => void
  readonly text: (delta: string | undefined, out: Array<Response.StreamPartEncoded>) => void
  readonly close: (out: Array<Response.StreamPartEncoded>) => void
}

/** @internal */
export const makeTextParts = (): TextParts => {
  let textOpen = false
  let reasoningOpen = false
  const closeReasoning = (out: Array<Response.StreamPartEncoded>) => {
    if (reasoningOpen) out.push({ type: "reasoning-end", id: "reasoning-0" })
    reasoningOpen = false
  }
  return {
    reasoning: (delta, out) => {
      if (delta === undefined || delta === "") return
      if (!reasoningOpen) out.push({ type: "reasoning-start", id: "reasoning-0" })
      reasoningOpen = true
      out.push({ type: "reasoning-delta", id: "reasoning-0", delta })
    },
    text: (delta, out) => {
      if (delta === undefined || delta === "") return
      closeReasoning(out)
      if (!textOpen) out.push({ type: "text-start", id: "text-0" })
      textOpen = true
      out.push({ type: "text-delta", id: "text-0", delta })
    },
    close: (out) => {
      closeReasoning(out)
      if (textOpen) out.push({ type: "text-end", id: "text-0" })
      textOpen = false
    }
  }
}
