/**
 * What an agent run reports as it goes: streamed text, tool calls and their results, the end of each step, history
 * summaries, and the end of the run with its reason and total usage.
 *
 * @since 0.1.0
 */
import type { Response } from "effect/ai"

/**
 * Token counts summed over the model calls of a step or a run.
 *
 * @category models
 * @since 0.1.0
 */
export interface Usage {
  readonly inputTokens: number
  readonly outputTokens: number
}

/**
 * Why a run ended: the model answered without calling a tool (`stop`), its last answer was cut off at the token
 * limit (`length`), it was still calling tools after `maxSteps` model calls (`max-steps`), it asked for more tool
 * calls than `toolLimits.maxToolCalls` allow (`max-tool-calls`), or a tool call failed with `toolLimits.onError:
 * "stop"` (`tool-error`).
 *
 * @category models
 * @since 0.1.0
 */
export type FinishReason = "stop" | "length" | "max-steps" | "max-tool-calls" | "tool-error"

/**
 * One event of a run. `step` counts model calls from 1. `tool-result.result` is the encoded (JSON) value the model
 * sees; `isFailure` marks bad arguments, unknown tools, handler failures, timeouts and calls not made (limits);
 * `durationMs` is how long the call took.
 *
 * @category models
 * @since 0.1.0
 */
export type AgentEvent =
  | { readonly type: "text-delta"; readonly step: number; readonly delta: string }
  | { readonly type: "reasoning-delta"; readonly step: number; readonly delta: string }
  | {
    readonly type: "tool-call"
    readonly step: number
    readonly id: string
    readonly name: string
    readonly params: unknown
  }
  | {
    readonly type: "tool-result"
    readonly step: number
    readonly id: string
    readonly name: string
    readonly isFailure: boolean
    readonly result: unknown
    readonly durationMs: number
  }
  | {
    readonly type: "step-finished"
    readonly step: number
    readonly finishReason: Response.FinishReason
    readonly toolCalls: number
    readonly usage: Usage
  }
  | {
    readonly type: "summarized"
    readonly step: number
    readonly messages: number
    readonly tokensBefore: number
    readonly tokensAfter: number
  }
  | {
    readonly type: "finished"
    readonly reason: FinishReason
    readonly steps: number
    readonly text: string
    readonly usage: Usage
  }

/**
 * Narrows an event by its `type`.
 *
 * @category guards
 * @since 0.1.0
 */
export const is = <T extends AgentEvent["type"]>(type: T) =>
(event: AgentEvent): event is Extract<AgentEvent, { type: T }> => event.type === type
