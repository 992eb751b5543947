/**
 * What a run reports as it goes: its start and end, each node's start, retries, end (finished, failed, skipped or
 * interrupted), and the agent nodes' text deltas, tool calls and tool results, each tagged with its node (`node` is
 * the id, `name` the name; `item` the position in a map; nodes of a subworkflow are `<subworkflow>/<node>`).
 *
 * **Gotchas**
 *
 * A durable run that resumes replays its events: nodes whose results were journaled report a start and an end again
 * (without running), and agent deltas come only from nodes that really run.
 *
 * @since 0.2.0
 */
import type { Kind } from "./WorkflowNode.ts"
import type { NodeResult, RunState, SkipReason, Usage, WorkflowResult } from "./WorkflowResult.ts"

/**
 * The node an event belongs to.
 *
 * @category models
 * @since 0.2.0
 */
export interface NodeTag {
  readonly runId: string
  readonly node: string
  readonly name: string
  readonly item?: number
}

/**
 * One event of a run.
 *
 * @category models
 * @since 0.2.0
 */
export type WorkflowEvent =
  | { readonly type: "run-started"; readonly runId: string; readonly workflow: string; readonly at: number }
  | {
    readonly type: "run-finished"
    readonly runId: string
    readonly workflow: string
    readonly state: RunState
    readonly durationMs: number
    readonly usage: Usage
    readonly result: WorkflowResult
  }
  | NodeTag & { readonly type: "node-started"; readonly kind: Kind; readonly at: number }
  | NodeTag & {
    readonly type: "node-retried"
    readonly attempt: number
    readonly error: string
    readonly delayMs: number
  }
  | NodeTag & { readonly type: "node-finished"; readonly kind: Kind; readonly result: NodeResult }
  | NodeTag & { readonly type: "node-failed"; readonly kind: Kind; readonly error: string; readonly attempts: number }
  | NodeTag & { readonly type: "node-skipped"; readonly kind: Kind; readonly reason: SkipReason }
  | NodeTag & { readonly type: "node-interrupted"; readonly kind: Kind }
  | NodeTag & { readonly type: "agent-text-delta"; readonly step: number; readonly delta: string }
  | NodeTag & {
    readonly type: "agent-tool-call"
    readonly step: number
    readonly id: string
    readonly tool: string
    readonly params: unknown
  }
  | NodeTag & {
    readonly type: "agent-tool-result"
    readonly step: number
    readonly id: string
    readonly tool: string
    readonly isFailure: boolean
    readonly result: unknown
  }

/**
 * Narrows an event by its `type`.
 *
 * @category guards
 * @since 0.2.0
 */
export const is = <T extends WorkflowEvent["type"]>(type: T) =>
(event: WorkflowEvent): event is Extract<WorkflowEvent, { type: T }> => event.type === type
