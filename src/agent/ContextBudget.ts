/**
 * Keeps a conversation inside the model's context: once the history passes a share of the context (75% by
 * default), the oldest turns are summarized by the model and replaced with the summary. Leading system messages
 * are always kept, and the cut falls on a user message, so a tool call is never separated from its result.
 *
 * @since 0.1.0
 */
import { Effect, Option } from "effect"
import { type AiError, LanguageModel, Prompt } from "effect/ai"
import * as LlamaContext from "../llama/LlamaContext.ts"
import type * as LlamaModel from "../llama/LlamaModel.ts"
import * as TokenCounter from "./TokenCounter.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * @category models
 * @since 0.1.0
 */
export interface Options {
  /** The model's context size in tokens (for a local model: the context size over its sequences). */
  readonly contextTokens: number
  /** Share of `contextTokens` above which the history is summarized. Default 0.75. */
  readonly threshold?: number
  /** Share of `contextTokens` the recent turns kept verbatim may use. Default 0.4. */
  readonly keepRatio?: number
  /** Default `TokenCounter.estimate`; `TokenCounter.llama` counts exactly on the local model. */
  readonly countTokens?: TokenCounter.TokenCounter
  /** Writes the summary of a transcript. Default: the model in context, with `instruction` as system prompt. */
  readonly summarize?: (transcript: string) => Effect.Effect<string, AiError.AiError, LanguageModel.LanguageModel>
  readonly instruction?: string
}

/**
 * The result of a compaction.
 *
 * @category models
 * @since 0.1.0
 */
export interface Compaction {
  readonly prompt: Prompt.Prompt
  /** How many messages the summary replaced. */
  readonly messages: number
  readonly tokensBefore: number
  readonly tokensAfter: number
}

/**
 * The default instruction of the summarizing call.
 *
 * @category constructors
 * @since 0.1.0
 */
export const defaultInstruction =
  "Summarize the conversation below in a few sentences. Keep facts, decisions, tool results and open tasks."

/**
 * The prefix of the user message that carries a summary.
 *
 * @category constructors
 * @since 0.1.0
 */
export const summaryPrefix = "Summary of the earlier conversation:\n"

/**
 * Budget options for the local model: the context of one sequence (`sequenceContextSize`: a context's size is
 * split over its sequences) and exact token counts from its tokenizer.
 *
 * @category constructors
 * @since 0.1.0
 */
export const llama = (
  options: Omit<Options, "contextTokens" | "countTokens"> = {}
): Effect.Effect<Options, never, LlamaModel.LlamaModel | LlamaContext.LlamaContext> =>
  Effect.gen(function*() {
    const context = yield* LlamaContext.LlamaContext
    const countTokens = yield* TokenCounter.llama
    return { ...options, contextTokens: context.info.sequenceContextSize, countTokens }
  })

// ============================================================================
// Measuring
// ============================================================================

/**
 * A message as plain text: what is counted and what the summarizer reads.
 *
 * @category accessors
 * @since 0.1.0
 */
export const render = (message: Prompt.Message): string => {
  switch (message.role) {
    case "system":
      return `system: ${message.content}`
    case "user":
      return `user: ${message.content.map((p) => (p.type === "text" ? p.text : `[${p.mediaType}]`)).join("")}`
    case "assistant":
      return `assistant: ${
        message.content.map((p) =>
          p.type === "text"
            ? p.text
            : p.type === "tool-call"
            ? `[call ${p.name}(${JSON.stringify(p.params)})]`
            : p.type === "tool-result"
            ? `[${p.name} -> ${JSON.stringify(p.result)}]`
            : ""
        ).join("")
      }`
    case "tool":
      return `tool: ${
        message.content.map((p) =>
          p.type === "tool-result" ? `[${p.name} ${p.isFailure ? "failed" : "->"} ${JSON.stringify(p.result)}]` : ""
        ).join("")
      }`
  }
}

// A few tokens per message for the chat template's role markers.
const messageOverhead = 4

const countAll = (messages: ReadonlyArray<Prompt.Message>, count: TokenCounter.TokenCounter) =>
  Effect.forEach(messages, (m) => Effect.map(count(render(m)), (n) => n + messageOverhead))

/**
 * The token count of a prompt.
 *
 * @category accessors
 * @since 0.1.0
 */
export const measure = (
  prompt: Prompt.Prompt,
  count: TokenCounter.TokenCounter = TokenCounter.estimate
): Effect.Effect<number> =>
  Effect.map(countAll(prompt.content, count), (ns) => ns.reduce((a, b) => a + b, 0))

// ============================================================================
// Compaction
// ============================================================================

const isSummary = (message: Prompt.Message): boolean =>
  message.role === "user" && message.content[0]?.type === "text" && message.content[0].text.startsWith(summaryPrefix)

const defaultSummarize = (instruction: string) => (transcript: string) =>
  Effect.map(
    LanguageModel.generateText({
      prompt: [{ role: "system", content: instruction }, { role: "user", content: transcript }]
    }),
    (response) => response.text.trim()
  )

/**
 * Summarizes the oldest turns of `prompt` when it is over budget; `None` when it is within budget or there is
 * nothing before the last user message to summarize.
 *
 * @category constructors
 * @since 0.1.0
 */
export const compact = (
  prompt: Prompt.Prompt,
  options: Options
): Effect.Effect<Option.Option<Compaction>, AiError.AiError, LanguageModel.LanguageModel> =>
  Effect.gen(function*() {
    const count = options.countTokens ?? TokenCounter.estimate
    const messages = prompt.content
    const sizes = yield* countAll(messages, count)
    const tokensBefore = sizes.reduce((a, b) => a + b, 0)
    if (tokensBefore <= (options.threshold ?? 0.75) * options.contextTokens) return Option.none()

    let head = 0
    while (head < messages.length && messages[head]!.role === "system") head++
    // The earliest user message (after the first turn) whose tail fits in keepRatio; else the last one.
    const keep = (options.keepRatio ?? 0.4) * options.contextTokens
    let cut = -1
    let tail = 0
    for (let i = messages.length - 1; i > head; i--) {
      tail += sizes[i]!
      if (messages[i]!.role !== "user") continue
      if (cut === -1 || tail <= keep) cut = i
      if (tail > keep) break
    }
    if (cut === -1) return Option.none()

    const old = messages.slice(head, cut)
    // Only the previous summary is left to summarize: another call would not make room.
    if (old.length <= 2 && isSummary(old[0]!)) return Option.none()
    const transcript = old.map(render).join("\n")
    const summarize = options.summarize ?? defaultSummarize(options.instruction ?? defaultInstruction)
    const summary = yield* summarize(transcript)
    const next = Prompt.concat(
      Prompt.fromMessages(messages.slice(0, head)),
      Prompt.concat(
        Prompt.make([
          { role: "user", content: `${summaryPrefix}${summary}` },
          { role: "assistant", content: [{ type: "text", text: "Understood." }] }
        ]),
        Prompt.fromMessages(messages.slice(cut))
      )
    )
    const tokensAfter = yield* measure(next, count)
    return Option.some({ prompt: next, messages: old.length, tokensBefore, tokensAfter })
  })
