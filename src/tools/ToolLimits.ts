/**
 * Per-run limits on tool calls, for an `Agent` and a workflow's agent node: a time limit per call, a most number
 * of calls per run, and whether a failed call stops the run or goes back to the model (GraphBit's tool executor's
 * `max_execution_time_ms`, `max_tool_calls`, `continue_on_error`).
 *
 * @since 0.2.0
 */
import { Duration } from "effect"

/**
 * The limits. None is set by default.
 *
 * @category models
 * @since 0.2.0
 */
export interface ToolLimits {
  /**
   * Time limit of one tool call. A call past it is interrupted and reported to the model as a failed result
   * (`ToolCallError` reason `Timeout`), which counts as a failure for `onError`.
   */
  readonly timeout?: Duration.Input
  /**
   * Tool calls a run may make. A call beyond them is not made: it gets a failed result (reason `LimitReached`) and
   * the run ends after that step with reason `max-tool-calls`.
   */
  readonly maxToolCalls?: number
  /**
   * What a failed call does (bad arguments, an unknown tool, a handler failure or defect, a timeout): `continue`
   * (default) gives the model the failure and goes on; `stop` ends the run after that step with reason
   * `tool-error`, and the step's calls not yet started are not made (reason `Skipped`).
   */
  readonly onError?: "continue" | "stop"
}

/**
 * The limits with their time limit decoded, `undefined` where not set.
 *
 * @category constructors
 * @since 0.2.0
 */
export const resolve = (limits: ToolLimits | undefined): {
  readonly timeout: Duration.Duration | undefined
  readonly maxToolCalls: number | undefined
  readonly stopOnError: boolean
} => ({
  timeout: limits?.timeout === undefined ? undefined : Duration.fromInputUnsafe(limits.timeout),
  maxToolCalls: limits?.maxToolCalls,
  stopOnError: limits?.onError === "stop"
})
