/**
 * effect/ai responses -> OpenAI's JSON: a whole chat completion, and the chunks of a streamed one (role first,
 * then content / reasoning / tool-call fragments per index, then the finish reason, then usage when asked).
 *
 * @internal
 */
import type { LanguageModel, Response } from "effect/ai"
import type { ChatCompletionChunk } from "../OpenAiSchema.ts"

type FinishReason = "stop" | "length" | "tool_calls" | "content_filter"

/** @internal */
export const finishReasonOf = (reason: Response.FinishReason): FinishReason =>
  reason === "length" ? "length" : reason === "tool-calls" ? "tool_calls" : reason === "content-filter" ? "content_filter" : "stop"

/** @internal */
export interface UsageJson {
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly total_tokens: number
  readonly prompt_tokens_details?: { readonly cached_tokens: number }
}

/** @internal */
export const usageOf = (usage: Response.Usage | undefined): UsageJson => {
  const prompt = usage?.inputTokens.total ?? 0
  const completion = usage?.outputTokens.total ?? 0
  const cached = usage?.inputTokens.cacheRead
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached } })
  }
}

/** @internal */
export interface Meta {
  readonly id: string
  readonly created: number
  readonly model: string
}

const argumentsOf = (params: unknown): string => (typeof params === "string" ? params : JSON.stringify(params ?? {}))

/** A non-streamed answer. @internal */
export const completionOf = (meta: Meta, response: LanguageModel.GenerateTextResponse<any, any>) => {
  const calls = response.toolCalls
  const reasoning = response.reasoningText
  const finish = finishReasonOf(response.finishReason)
  return {
    id: meta.id,
    object: "chat.completion" as const,
    created: meta.created,
    model: meta.model,
    choices: [{
      index: 0,
      message: {
        role: "assistant" as const,
        content: calls.length > 0 && response.text === "" ? null : response.text,
        ...(reasoning === undefined || reasoning === "" ? {} : { reasoning_content: reasoning }),
        ...(calls.length === 0 ? {} : {
          tool_calls: calls.map((call) => ({
            id: call.id,
            type: "function" as const,
            function: { name: call.name, arguments: argumentsOf(call.params) }
          }))
        })
      },
      // A cut-off call was dropped by the model; the answer is then a length cut, not a call.
      finish_reason: finish === "tool_calls" && calls.length === 0 ? "stop" : finish,
      logprobs: null
    }],
    usage: usageOf(response.usage)
  }
}

type Delta = ChatCompletionChunk["choices"][number]["delta"]

/** Turns stream parts into chunks, keeping the tool-call index of each call id. @internal */
export class ChunkWriter {
  private readonly meta: Meta
  private readonly calls = new Map<string, { index: number; started: boolean }>()
  private sawCall = false
  usage: Response.Usage | undefined

  constructor(meta: Meta) {
    this.meta = meta
  }

  chunk(delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.meta.id,
      object: "chat.completion.chunk",
      created: this.meta.created,
      model: this.meta.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }]
    }
  }

  /** The first chunk: the assistant's role. */
  start(): ChatCompletionChunk {
    return this.chunk({ role: "assistant", content: "" })
  }

  private callIndex(id: string) {
    let entry = this.calls.get(id)
    if (entry === undefined) {
      entry = { index: this.calls.size, started: false }
      this.calls.set(id, entry)
    }
    return entry
  }

  /** The chunks for one part (none for parts that carry nothing a client reads). */
  part(part: Response.AnyPart): ReadonlyArray<ChatCompletionChunk> {
    switch (part.type) {
      case "text-delta":
        return part.delta === "" ? [] : [this.chunk({ content: part.delta })]
      case "reasoning-delta":
        return part.delta === "" ? [] : [this.chunk({ reasoning_content: part.delta })]
      case "tool-params-start": {
        const entry = this.callIndex(part.id)
        entry.started = true
        this.sawCall = true
        return [this.chunk({ tool_calls: [{ index: entry.index, id: part.id, type: "function", function: { name: part.name, arguments: "" } }] })]
      }
      case "tool-params-delta": {
        const entry = this.callIndex(part.id)
        return part.delta === "" ? [] : [this.chunk({ tool_calls: [{ index: entry.index, function: { arguments: part.delta } }] })]
      }
      case "tool-call": {
        const entry = this.callIndex(part.id)
        this.sawCall = true
        if (entry.started) return []
        entry.started = true
        return [this.chunk({
          tool_calls: [{ index: entry.index, id: part.id, type: "function", function: { name: part.name, arguments: argumentsOf(part.params) } }]
        })]
      }
      case "finish": {
        this.usage = part.usage
        const finish = finishReasonOf(part.reason)
        return [this.chunk({}, finish === "tool_calls" && !this.sawCall ? "stop" : finish)]
      }
      default:
        return []
    }
  }

  /** The usage chunk (`stream_options.include_usage`): no choices. */
  usageChunk(): ChatCompletionChunk {
    return {
      id: this.meta.id,
      object: "chat.completion.chunk",
      created: this.meta.created,
      model: this.meta.model,
      choices: [],
      usage: usageOf(this.usage)
    }
  }
}
