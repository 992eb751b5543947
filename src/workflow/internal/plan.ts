/** @internal A validated workflow, compiled for the executor: indices, templates, codecs (cached per workflow). */
import { Effect, Schema } from "effect"
import type { Any } from "../Workflow.ts"
import { describeProblem, WorkflowError } from "../WorkflowError.ts"
import type * as WorkflowNode from "../WorkflowNode.ts"
import * as Template from "./template.ts"
import { resolve, templatesOf, validateGraph } from "./validate.ts"

/** @internal */
export interface Codec {
  readonly decode: (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
  readonly encode: (u: unknown) => Effect.Effect<unknown, Schema.SchemaError>
}

/** @internal */
export const codec = (schema: Schema.Top | undefined): Codec | undefined => {
  if (schema === undefined || schema === Schema.Unknown) return undefined
  const json = Schema.toCodecJson(schema as Schema.Codec<unknown, unknown>)
  return {
    decode: Schema.decodeUnknownEffect(json) as Codec["decode"],
    encode: Schema.encodeUnknownEffect(json) as Codec["encode"]
  }
}

/** @internal */
export interface PlanNode {
  readonly index: number
  readonly node: WorkflowNode.Node
  readonly parents: ReadonlyArray<number>
  readonly children: ReadonlyArray<number>
  readonly incoming: ReadonlyArray<{ readonly from: number; readonly branch: string }>
  /** For conditions: the labels of the outgoing edges. */
  readonly branches: ReadonlySet<string>
  readonly from: Template.Compiled | undefined
  readonly prompt: Template.Compiled | undefined
  readonly system: Template.Compiled | undefined
  readonly items: Template.Compiled | undefined
  readonly input: Codec | undefined
  readonly output: Codec | undefined
  /** A map's node, compiled. */
  readonly each: PlanNode | undefined
  /** A subworkflow's plan. */
  readonly sub: Plan | undefined
}

/** @internal */
export interface Plan {
  readonly workflow: Any
  readonly nodes: ReadonlyArray<PlanNode>
  readonly entry: ReadonlyArray<number>
  readonly byRef: ReadonlyMap<string, number>
  readonly input: Codec | undefined
  readonly outputNode: number | undefined
  readonly sinks: ReadonlyArray<number>
}

const compileNode = (
  node: WorkflowNode.Node,
  index: number,
  links: {
    readonly parents: ReadonlyArray<number>
    readonly children: ReadonlyArray<number>
    readonly incoming: ReadonlyArray<{ readonly from: number; readonly branch: string }>
  },
  outgoingLabels: ReadonlySet<string>
): PlanNode => {
  const [first, second] = templatesOf(node)
  const compiled = (t: WorkflowNode.TemplateValue | undefined) => (t === undefined ? undefined : Template.compile(t))
  return {
    index,
    node,
    ...links,
    branches: outgoingLabels,
    from: node.kind === "transform" || node.kind === "condition" || node.kind === "subworkflow"
      ? compiled(first)
      : undefined,
    prompt: node.kind === "agent" ? compiled(first) : undefined,
    system: node.kind === "agent" ? compiled(second) : undefined,
    items: node.kind === "map" ? compiled(first) : undefined,
    input: node.kind === "transform" || node.kind === "condition"
      ? codec(node.input)
      : node.kind === "signal"
      ? codec(node.schema)
      : undefined,
    output: node.kind === "transform" || node.kind === "agent" ? codec(node.output) : undefined,
    each: node.kind === "map" ? compileNode(node.each, 0, { parents: [], children: [], incoming: [] }, new Set()) : undefined,
    sub: undefined
  }
}

const cache = new WeakMap<Any, Plan>()

/** @internal Validates and compiles (once per workflow value). */
export const compile = (workflow: Any): Effect.Effect<Plan, WorkflowError> => {
  const cached = cache.get(workflow)
  if (cached !== undefined) return Effect.succeed(cached)
  return Effect.suspend(() => {
    const problems = validateGraph(workflow)
    if (problems.length > 0) {
      return Effect.fail(
        new WorkflowError({
          reason: "InvalidWorkflow",
          workflow: workflow.name,
          description: problems.map(describeProblem).join("; "),
          problems
        })
      )
    }
    return Effect.map(
      Effect.forEach(
        workflow.nodes.filter((n): n is WorkflowNode.SubworkflowNode => n.kind === "subworkflow"),
        (n) => Effect.map(compile(n.workflow as Any), (plan) => [n.id, plan] as const)
      ),
      (subs) => {
        const subPlans = new Map(subs)
        const resolved = resolve(workflow)
        const nodes = resolved.nodes.map((node, i) => {
          const labels = new Set<string>()
          for (const c of resolved.children[i]!) {
            for (const e of resolved.incoming[c]!) if (e.from === i) labels.add(e.branch)
          }
          const planNode = compileNode(node, i, {
            parents: resolved.parents[i]!,
            children: resolved.children[i]!,
            incoming: resolved.incoming[i]!
          }, labels)
          return node.kind === "subworkflow" ? { ...planNode, sub: subPlans.get(node.id) } : planNode
        })
        const plan: Plan = {
          workflow,
          nodes,
          entry: resolved.entry,
          byRef: resolved.index,
          input: codec(workflow.input),
          outputNode: workflow.output === undefined ? undefined : resolved.index.get(workflow.output),
          sinks: nodes.filter((n) => n.children.length === 0).map((n) => n.index)
        }
        cache.set(workflow, plan)
        return plan
      }
    )
  })
}

/** @internal The node a request path names: ids through subworkflows, then the node (a map's `each` with `item`). */
export const locate = (plan: Plan, path: ReadonlyArray<string>, item: boolean): PlanNode | undefined => {
  let current: Plan | undefined = plan
  for (let i = 0; i < path.length; i++) {
    const index: number | undefined = current?.byRef.get(path[i]!)
    if (current === undefined || index === undefined) return undefined
    const node: PlanNode = current.nodes[index]!
    if (i === path.length - 1) return item ? node.each : node
    current = node.sub
  }
  return undefined
}
