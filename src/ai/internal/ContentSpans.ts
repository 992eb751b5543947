/**
 * Keeps message contents out of the chat template's control tokens. The rendered prompt is tokenized with special
 * tokens parsed, which the template's own markup (`<|im_start|>`, `<|im_end|>`) needs; text from messages and tool
 * results must not become control tokens, or a user could end their turn and write a system turn or a tool call.
 *
 * When no content holds control-token text (the usual case) the rendered prompt is used as it is. Otherwise each
 * such content is replaced by a unique marker, the template renders the markers, and the prompt is tokenized piece
 * by piece: template text with special tokens parsed, contents as plain text.
 *
 * @internal
 */
import { Effect } from "effect"
import { AiError } from "effect/ai"
import type { LlamaError } from "../../llama/LlamaError.ts"
import type * as LlamaModel from "../../llama/LlamaModel.ts"
import type { AppliedChat } from "../../native/NativeBinding.ts"

type Json = Record<string, unknown>

interface Marked {
  readonly messages: Array<Json>
  /** marker -> the text the template would have rendered in its place */
  readonly spans: Map<string, string>
}

const hasControlText = (text: string, controls: ReadonlyArray<string>): boolean => controls.some((c) => text.includes(c))

// Markers are letters and digits only, so no template filter (trim, tojson, escaping) changes them.
const markerFactory = () => {
  const nonce = Math.random().toString(36).slice(2, 10)
  let n = 0
  return () => `ELLAMASPAN${nonce}N${n++}X`
}

// Replaces every string in a JSON value that holds control-token text; inside JSON the span is the escaped text.
const markJsonStrings = (value: unknown, mark: (text: string, escaped: boolean) => string, controls: ReadonlyArray<string>): unknown => {
  if (typeof value === "string") return hasControlText(value, controls) ? mark(value, true) : value
  if (Array.isArray(value)) return value.map((v) => markJsonStrings(v, mark, controls))
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, markJsonStrings(v, mark, controls)]))
  }
  return value
}

/** @internal The messages with their control-token-bearing contents marked; undefined when there are none. */
export const markContents = (messages: ReadonlyArray<Json>, controls: ReadonlyArray<string>): Marked | undefined => {
  const nextMarker = markerFactory()
  const spans = new Map<string, string>()
  const mark = (text: string, escaped: boolean) => {
    const marker = nextMarker()
    spans.set(marker, escaped ? JSON.stringify(text).slice(1, -1) : text)
    return marker
  }
  const marked = messages.map((message) => {
    const out: Json = { ...message }
    for (const key of ["content", "reasoning_content"] as const) {
      const text = message[key]
      if (typeof text === "string" && hasControlText(text, controls)) out[key] = mark(text, false)
    }
    if (Array.isArray(message.tool_calls)) {
      out.tool_calls = (message.tool_calls as Array<Json>).map((call) => {
        const fn = call.function as Json
        if (typeof fn.arguments !== "string" || !hasControlText(fn.arguments, controls)) return call
        const args = JSON.stringify(markJsonStrings(JSON.parse(fn.arguments), mark, controls))
        return { ...call, function: { ...fn, arguments: args } }
      })
    }
    return out
  })
  return spans.size === 0 ? undefined : { messages: marked, spans }
}

const templateChanged = (marker: string) =>
  AiError.make({
    module: "LlamaLanguageModel",
    method: "prompt",
    reason: new AiError.InvalidRequestError({
      description: "a message holds control-token text and the chat template transformed it, so it cannot be kept " +
        "apart from the template's markup; remove that text, or set allowSpecialTokensInContent to let it through",
      metadata: { marker }
    })
  })

/**
 * @internal The prompt's token ids: the rendered template with its markup as control tokens and every marked span
 * as plain text. Fails when the template did not render a marker unchanged.
 */
export const tokenizeMarked = (
  model: LlamaModel.Service,
  applied: AppliedChat,
  spans: ReadonlyMap<string, string>,
  onError: (error: LlamaError) => AiError.AiError
): Effect.Effect<Int32Array, AiError.AiError> =>
  Effect.gen(function*() {
    for (const marker of spans.keys()) {
      if (!applied.prompt.includes(marker)) return yield* templateChanged(marker)
    }
    const pattern = new RegExp(`(${[...spans.keys()].join("|")})`)
    const pieces = applied.prompt.split(pattern)
    const tokenized = yield* Effect.forEach(pieces, (piece, i) => {
      const span = spans.get(piece)
      return model.tokenize(span ?? piece, { addSpecial: i === 0, parseSpecial: span === undefined })
    }, { concurrency: "unbounded" }).pipe(Effect.mapError(onError))
    const out = new Int32Array(tokenized.reduce((n, t) => n + t.length, 0))
    let at = 0
    for (const tokens of tokenized) {
      out.set(tokens, at)
      at += tokens.length
    }
    return out
  })
