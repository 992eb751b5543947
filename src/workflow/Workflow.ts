/**
 * A workflow graph as data, with a typed builder: `make` (name, input Schema, variables), `add` (nodes from
 * `WorkflowNode`), `connect` (edges, by node name or id, type-checked against the nodes added), `chain`, `entry`,
 * `output`; `validate` reports every problem of the graph at once. Run it with `WorkflowExecutor`, durably with
 * `DurableWorkflow`; write it to and read it from JSON with `WorkflowJson`.
 *
 * @example
 * ```ts
 * const Research = Workflow.make("research", { input: Schema.Struct({ topic: Schema.String }) }).pipe(
 *   Workflow.add(
 *     WorkflowNode.agent("facts", { prompt: "Facts about {{input.topic}}" }),
 *     WorkflowNode.agent("risks", { prompt: "Risks of {{input.topic}}" }),
 *     WorkflowNode.join("both"),
 *     WorkflowNode.agent("summary", { prompt: "Summarize: {{nodes.both.output}}" })
 *   ),
 *   Workflow.connect("facts", "both"),
 *   Workflow.connect("risks", "both"),
 *   Workflow.connect("both", "summary")
 * )
 * ```
 *
 * @since 0.2.0
 */
import { Pipeable, Schema } from "effect"
import { validateGraph } from "./internal/validate.ts"
import type { Problem } from "./WorkflowError.ts"
import type * as WorkflowNode from "./WorkflowNode.ts"

const TypeId = "~effect-llama/Workflow"

// ============================================================================
// Models
// ============================================================================

/**
 * An edge. `from` and `to` are node names or ids; `branch` labels an edge leaving a condition (default: the target
 * node's name).
 *
 * @category models
 * @since 0.2.0
 */
export interface Edge {
  readonly from: string
  readonly to: string
  readonly branch: string | undefined
}

/**
 * A workflow: `In` is its input's type, `R` the services its nodes need, `Refs` the names and ids of its nodes.
 *
 * @category models
 * @since 0.2.0
 */
export interface Workflow<In = unknown, R = never, Refs extends string = string> extends Pipeable.Pipeable {
  readonly [TypeId]: typeof TypeId
  readonly "~services"?: (_: never) => R
  readonly "~refs"?: (_: never) => Refs
  readonly "~input"?: (_: never) => In
  readonly name: string
  readonly description: string | undefined
  /** The input Schema (its JSON form is what templates see as `input`). */
  readonly input: Schema.Top
  /** The name the input Schema is registered under in JSON; default `<workflow>.input`. */
  readonly inputRef: string
  /** Initial variables. */
  readonly vars: Readonly<Record<string, unknown>>
  /** Entry nodes; default: every node without parents. */
  readonly entry: ReadonlyArray<string> | undefined
  /** The node whose output is the workflow's output; default: the only sink (else a record of the sinks). */
  readonly output: string | undefined
  readonly nodes: ReadonlyArray<WorkflowNode.Node>
  readonly edges: ReadonlyArray<Edge>
}

/**
 * Any workflow.
 *
 * @category models
 * @since 0.2.0
 */
export type Any = Workflow<any, any, any>

/**
 * The input type of a workflow.
 *
 * @category models
 * @since 0.2.0
 */
export type Input<W> = W extends Workflow<infer In, any, any> ? In : never

/**
 * The services a workflow's nodes need.
 *
 * @category models
 * @since 0.2.0
 */
export type Services<W> = W extends Workflow<any, infer R, any> ? R : never

/**
 * @category guards
 * @since 0.2.0
 */
export const isWorkflow = (u: unknown): u is Any => typeof u === "object" && u !== null && TypeId in u

const Proto = {
  [TypeId]: TypeId,
  pipe() {
    return Pipeable.pipeArguments(this, arguments)
  }
}

/**
 * Builds a workflow value from its parts (the builder functions use it; so does `WorkflowJson.fromJson`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromParts = <In = unknown, R = never, Refs extends string = string>(parts: {
  readonly name: string
  readonly description?: string | undefined
  readonly input?: Schema.Top | undefined
  readonly inputRef?: string | undefined
  readonly vars?: Readonly<Record<string, unknown>> | undefined
  readonly entry?: ReadonlyArray<string> | undefined
  readonly output?: string | undefined
  readonly nodes?: ReadonlyArray<WorkflowNode.Node> | undefined
  readonly edges?: ReadonlyArray<Edge> | undefined
}): Workflow<In, R, Refs> =>
  Object.assign(Object.create(Proto), {
    name: parts.name,
    description: parts.description,
    input: parts.input ?? Schema.Unknown,
    inputRef: parts.inputRef ?? `${parts.name}.input`,
    vars: parts.vars ?? {},
    entry: parts.entry,
    output: parts.output,
    nodes: parts.nodes ?? [],
    edges: parts.edges ?? []
  })

const update = <W extends Any>(self: W, changes: Partial<Omit<Any, typeof TypeId>>): any =>
  fromParts({ ...self, ...changes } as never)

// ============================================================================
// Constructors
// ============================================================================

/**
 * An empty workflow. `input` is the Schema of what `execute` takes (default: anything); `vars` are initial
 * variables.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = <S extends Schema.Top & { readonly EncodingServices: never } = typeof Schema.Unknown>(
  name: string,
  options: {
    readonly input?: S
    readonly inputRef?: string
    readonly vars?: Readonly<Record<string, unknown>>
    readonly description?: string
  } = {}
): Workflow<S["Type"], never, never> =>
  fromParts({
    name,
    description: options.description,
    input: options.input,
    inputRef: options.inputRef,
    vars: options.vars
  })

/**
 * Adds nodes.
 *
 * @category constructors
 * @since 0.2.0
 */
export const add = <const Nodes extends ReadonlyArray<WorkflowNode.Node<string, any>>>(...nodes: Nodes) =>
<In, R, Refs extends string>(
  self: Workflow<In, R, Refs>
): Workflow<In, R | WorkflowNode.Services<Nodes[number]>, Refs | WorkflowNode.Refs<Nodes[number]>> =>
  update(self, { nodes: [...self.nodes, ...nodes] })

type Known<Refs extends string, Used extends string> = [Used] extends [Refs] ? unknown
  : { readonly "unknown node": Exclude<Used, Refs> }

/**
 * Adds an edge from each of `from` to each of `to` (node names or ids). `branch` labels edges leaving a condition.
 *
 * @category constructors
 * @since 0.2.0
 */
export const connect = <const From extends string, const To extends string>(
  from: From | ReadonlyArray<From>,
  to: To | ReadonlyArray<To>,
  options: { readonly branch?: string } = {}
) =>
<In, R, Refs extends string>(self: Workflow<In, R, Refs> & Known<Refs, From | To>): Workflow<In, R, Refs> =>
  update(self, {
    edges: [
      ...self.edges,
      ...(typeof from === "string" ? [from] : from).flatMap((f) =>
        (typeof to === "string" ? [to] : to).map((t) => ({ from: f, to: t, branch: options.branch }))
      )
    ]
  })

/**
 * Adds many edges at once (`[from, to]` or `[from, to, branch]`), for graphs built by code.
 *
 * @category constructors
 * @since 0.2.0
 */
export const connectAll = <const Ref extends string>(
  edges: Iterable<readonly [from: Ref, to: Ref, branch?: string]>
) =>
<In, R, Refs extends string>(self: Workflow<In, R, Refs> & Known<Refs, Ref>): Workflow<In, R, Refs> =>
  update(self, {
    edges: [...self.edges, ...Array.from(edges, ([from, to, branch]) => ({ from, to, branch }))]
  })

/**
 * Connects the nodes one after the other.
 *
 * @category constructors
 * @since 0.2.0
 */
export const chain = <const Steps extends ReadonlyArray<string>>(...steps: Steps) =>
<In, R, Refs extends string>(self: Workflow<In, R, Refs> & Known<Refs, Steps[number]>): Workflow<In, R, Refs> =>
  update(self, {
    edges: [
      ...self.edges,
      ...steps.slice(1).map((to, i) => ({ from: steps[i]!, to, branch: undefined }))
    ]
  })

/**
 * Declares the entry nodes (default: every node without parents); a node no entry leads to is then unreachable.
 *
 * @category constructors
 * @since 0.2.0
 */
export const entry = <const Entry extends ReadonlyArray<string>>(...nodes: Entry) =>
<In, R, Refs extends string>(self: Workflow<In, R, Refs> & Known<Refs, Entry[number]>): Workflow<In, R, Refs> =>
  update(self, { entry: nodes })

/**
 * Declares the node whose output is the workflow's output (what a `subworkflow` node returns).
 *
 * @category constructors
 * @since 0.2.0
 */
export const output = <const Node extends string>(node: Node) =>
<In, R, Refs extends string>(self: Workflow<In, R, Refs> & Known<Refs, Node>): Workflow<In, R, Refs> =>
  update(self, { output: node })

// ============================================================================
// Validation
// ============================================================================

/**
 * Every problem of the graph, at once (empty when it can run): cycles, dangling and duplicate edges, duplicate
 * names or ids, unreachable nodes, template references to unknown nodes, nodes that do not run before, or unknown
 * input fields, and conditions without outgoing edges.
 *
 * @category getters
 * @since 0.2.0
 */
export const validate = (self: Any): ReadonlyArray<Problem> => validateGraph(self)
