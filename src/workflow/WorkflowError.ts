/**
 * What can be wrong with a workflow before it runs (`Problem`, all of them reported at once by
 * `Workflow.validate`), and `WorkflowError`, the failure of a run that could not start: an invalid graph, an input
 * its Schema rejects, a JSON definition that does not load. Failures of nodes are not errors of the run: they are in
 * its result.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

// ============================================================================
// Problems
// ============================================================================

/**
 * Nodes on a cycle (a workflow is a DAG).
 *
 * @category models
 * @since 0.2.0
 */
export const Cycle = Schema.TaggedStruct("Cycle", { nodes: Schema.Array(Schema.String) })

/**
 * An edge whose end is no node's id or name.
 *
 * @category models
 * @since 0.2.0
 */
export const DanglingEdge = Schema.TaggedStruct("DanglingEdge", {
  from: Schema.String,
  to: Schema.String,
  missing: Schema.Array(Schema.String)
})

/**
 * The same edge (same ends and branch label) added more than once.
 *
 * @category models
 * @since 0.2.0
 */
export const DuplicateEdge = Schema.TaggedStruct("DuplicateEdge", {
  from: Schema.String,
  to: Schema.String,
  count: Schema.Int
})

/**
 * Two nodes with the same name, or the same id.
 *
 * @category models
 * @since 0.2.0
 */
export const DuplicateName = Schema.TaggedStruct("DuplicateName", {
  name: Schema.String,
  key: Schema.Literals(["name", "id"]),
  count: Schema.Int
})

/**
 * A node no path from the entry nodes reaches.
 *
 * @category models
 * @since 0.2.0
 */
export const UnreachableNode = Schema.TaggedStruct("UnreachableNode", { node: Schema.String })

/**
 * A template naming a node that does not exist or does not run before this one (`nodes`), an input field the input
 * Schema does not have (`input`), `item`/`index` outside a map's node (`item`), or a `{{...}}` that is none of the
 * known forms (`template`).
 *
 * @category models
 * @since 0.2.0
 */
export const UnknownReference = Schema.TaggedStruct("UnknownReference", {
  node: Schema.String,
  reference: Schema.String,
  scope: Schema.Literals(["nodes", "input", "item", "template"]),
  reason: Schema.Literals(["unknown", "not-upstream"])
})

/**
 * A condition without outgoing edges: it would have no branch to take.
 *
 * @category models
 * @since 0.2.0
 */
export const ConditionWithoutBranches = Schema.TaggedStruct("ConditionWithoutBranches", { node: Schema.String })

/**
 * One problem of a workflow definition.
 *
 * @category models
 * @since 0.2.0
 */
export const Problem = Schema.Union([
  Cycle,
  DanglingEdge,
  DuplicateEdge,
  DuplicateName,
  UnreachableNode,
  UnknownReference,
  ConditionWithoutBranches
])

/**
 * @category models
 * @since 0.2.0
 */
export type Problem = typeof Problem.Type

/**
 * One line per problem, for messages.
 *
 * @category getters
 * @since 0.2.0
 */
export const describeProblem = (problem: Problem): string => {
  switch (problem._tag) {
    case "Cycle":
      return `cycle through ${problem.nodes.join(" -> ")}`
    case "DanglingEdge":
      return `edge ${problem.from} -> ${problem.to}: no node ${problem.missing.join(" or ")}`
    case "DuplicateEdge":
      return `edge ${problem.from} -> ${problem.to} added ${problem.count} times`
    case "DuplicateName":
      return `${problem.count} nodes with the ${problem.key} ${problem.name}`
    case "UnreachableNode":
      return `node ${problem.node} is not reachable from the entry nodes`
    case "UnknownReference":
      return problem.scope === "template"
        ? `node ${problem.node} has a template {{${problem.reference}}} of no known form`
        : `node ${problem.node} refers to ${problem.reference}, which ${
          problem.reason === "unknown" ? "does not exist" : "does not run before it"
        }`
    case "ConditionWithoutBranches":
      return `condition ${problem.node} has no outgoing edges`
  }
}

// ============================================================================
// Errors
// ============================================================================

/**
 * Why a run did not start:
 * - `InvalidWorkflow`: the graph has problems (`problems` lists them all);
 * - `InvalidInput`: the input does not fit the workflow's input Schema;
 * - `InvalidDefinition`: a JSON definition is malformed or names code the registry does not have.
 *
 * @category errors
 * @since 0.2.0
 */
export class WorkflowError extends Schema.TaggedError<WorkflowError>()("WorkflowError", {
  reason: Schema.Literals(["InvalidWorkflow", "InvalidInput", "InvalidDefinition"]),
  workflow: Schema.String,
  description: Schema.String,
  problems: Schema.Array(Problem)
}) {
  override get message(): string {
    return `${this.reason} (${this.workflow}): ${this.description}`
  }
}
