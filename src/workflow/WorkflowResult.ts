/**
 * What a run produces: its state, and per node its status, output, attempts, timing and usage, plus the variables,
 * the total usage and the duration. Every part is a Schema, so a durable run journals its result as JSON.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

// ============================================================================
// Schemas
// ============================================================================

/**
 * Token counts, summed over a node's model calls (or a run's nodes).
 *
 * @category schemas
 * @since 0.2.0
 */
export const Usage = Schema.Struct({ inputTokens: Schema.Finite, outputTokens: Schema.Finite })

/**
 * @category models
 * @since 0.2.0
 */
export type Usage = typeof Usage.Type

/**
 * Where a node ended: `succeeded`, `failed` (after its retries), `skipped` (a branch not taken, a failed upstream
 * node, or a run stopped by a failure before it started), `interrupted` (running when a fail-fast run stopped).
 *
 * @category schemas
 * @since 0.2.0
 */
export const NodeStatus = Schema.Literals(["succeeded", "failed", "skipped", "interrupted"])

/**
 * @category models
 * @since 0.2.0
 */
export type NodeStatus = typeof NodeStatus.Type

/**
 * Why a node was skipped.
 *
 * @category schemas
 * @since 0.2.0
 */
export const SkipReason = Schema.Literals(["branch-not-taken", "upstream-failed", "run-stopped"])

/**
 * @category models
 * @since 0.2.0
 */
export type SkipReason = typeof SkipReason.Type

/**
 * One node's result. Times are epoch milliseconds; `output` is the node's JSON output; `branches` are the branches a
 * condition took.
 *
 * @category schemas
 * @since 0.2.0
 */
export const NodeResult = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  kind: Schema.String,
  status: NodeStatus,
  output: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.String),
  skipReason: Schema.optionalKey(SkipReason),
  branches: Schema.optionalKey(Schema.Array(Schema.String)),
  attempts: Schema.Int,
  startedAt: Schema.optionalKey(Schema.Finite),
  finishedAt: Schema.optionalKey(Schema.Finite),
  durationMs: Schema.optionalKey(Schema.Finite),
  usage: Schema.optionalKey(Usage)
})

/**
 * @category models
 * @since 0.2.0
 */
export type NodeResult = typeof NodeResult.Type

/**
 * The state of a finished run: `succeeded` when no node failed.
 *
 * @category schemas
 * @since 0.2.0
 */
export const RunState = Schema.Literals(["succeeded", "failed"])

/**
 * @category models
 * @since 0.2.0
 */
export type RunState = typeof RunState.Type

/**
 * A run's result. `nodes` is keyed by node name; `output` is the output node's (see `Workflow.output`).
 *
 * @category schemas
 * @since 0.2.0
 */
export const WorkflowResult = Schema.Struct({
  workflow: Schema.String,
  runId: Schema.String,
  state: RunState,
  nodes: Schema.Record(Schema.String, NodeResult),
  output: Schema.optionalKey(Schema.Unknown),
  variables: Schema.Record(Schema.String, Schema.Unknown),
  usage: Usage,
  startedAt: Schema.Finite,
  finishedAt: Schema.Finite,
  durationMs: Schema.Finite
})

/**
 * @category models
 * @since 0.2.0
 */
export type WorkflowResult = typeof WorkflowResult.Type

// ============================================================================
// Getters
// ============================================================================

/**
 * The names of the nodes with a status, in definition order.
 *
 * @category getters
 * @since 0.2.0
 */
export const nodesWith = (result: WorkflowResult, status: NodeStatus): ReadonlyArray<string> =>
  Object.values(result.nodes).filter((n) => n.status === status).map((n) => n.name)

/**
 * The outputs of the nodes that succeeded, by name.
 *
 * @category getters
 * @since 0.2.0
 */
export const outputs = (result: WorkflowResult): Readonly<Record<string, unknown>> =>
  Object.fromEntries(Object.values(result.nodes).filter((n) => n.status === "succeeded").map((n) => [n.name, n.output]))
