// A LanguageModel that replays canned turns (text and/or tool calls) and records what it was asked.
import { Effect, Layer, Stream } from "effect"
import { LanguageModel, type Prompt, type Response } from "effect/ai"

export interface Turn {
  readonly text?: string
  readonly calls?: ReadonlyArray<{ readonly name: string; readonly params: unknown }>
}

export interface Request {
  readonly method: "generateText" | "streamText"
  readonly roles: ReadonlyArray<Prompt.Message["role"]>
  readonly system: string | undefined
  readonly tools: ReadonlyArray<string>
  readonly toolChoice: LanguageModel.ProviderOptions["toolChoice"]
  readonly prompt: Prompt.Prompt
}

export type Script = (request: Request, index: number) => Turn

/** Plays `turns` in order, repeating the last one when they run out. */
export const sequence = (...turns: ReadonlyArray<Turn>): Script => (_, i) => turns[Math.min(i, turns.length - 1)]!

const usage = { inputTokens: { total: 10 }, outputTokens: { total: 5 } }

const toRequest = (method: Request["method"], options: LanguageModel.ProviderOptions): Request => {
  const first = options.prompt.content[0]
  return {
    method,
    roles: options.prompt.content.map((m) => m.role),
    system: first?.role === "system" ? first.content : undefined,
    tools: options.tools.map((t) => t.name),
    toolChoice: options.toolChoice,
    prompt: options.prompt
  }
}

export const make = (script: Script) => {
  const requests: Array<Request> = []
  let turnCounter = 0
  const next = (method: Request["method"], options: LanguageModel.ProviderOptions) => {
    const request = toRequest(method, options)
    requests.push(request)
    const index = turnCounter++
    return { turn: script(request, index), index }
  }
  const calls = (turn: Turn, index: number) =>
    (turn.calls ?? []).map((c, i) => ({ type: "tool-call" as const, id: `call_${index}_${i}`, name: c.name, params: c.params }))
  const layer = Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.sync(() => {
          const { index, turn } = next("generateText", options)
          const parts: Array<Response.PartEncoded> = [
            ...(turn.text === undefined ? [] : [{ type: "text" as const, text: turn.text }]),
            ...calls(turn, index),
            { type: "finish", reason: (turn.calls?.length ?? 0) > 0 ? "tool-calls" : "stop", usage }
          ]
          return parts
        }),
      streamText: (options) =>
        Stream.suspend(() => {
          const { index, turn } = next("streamText", options)
          const text = turn.text ?? ""
          const half = Math.ceil(text.length / 2)
          const parts: Array<Response.StreamPartEncoded> = [
            ...(text === "" ? [] : [
              { type: "text-start" as const, id: "t" },
              { type: "text-delta" as const, id: "t", delta: text.slice(0, half) },
              { type: "text-delta" as const, id: "t", delta: text.slice(half) },
              { type: "text-end" as const, id: "t" }
            ]),
            ...calls(turn, index),
            { type: "finish", reason: (turn.calls?.length ?? 0) > 0 ? "tool-calls" : "stop", usage }
          ]
          return Stream.fromIterable(parts)
        })
    })
  )
  return { layer, requests }
}
