/**
 * The nodes of a workflow graph, as data: `agent` (a model with tools), `transform` (an Effect from inputs to an
 * output), `condition` (a router choosing branches), `join`, `map` (fan-out over a list), `delay`, `subworkflow` and
 * `signal` (waits for a value from outside: human in the loop). Add them to a workflow with `Workflow.add`.
 *
 * **Details**
 *
 * - A node's input is, unless `from` says otherwise, what its parents produced: the workflow input for a node
 *   without parents, the parent's output for one parent, and a record by parent name for several.
 * - Outputs are kept in their JSON form (encoded with the node's `output` Schema when it has one), so every run can
 *   be journaled and resumed; a node's `input` Schema decodes what it receives.
 * - Strings in `prompt`, `system`, `from` and `items` are templates: `{{input.x}}`, `{{nodes.<name>.output.<path>}}`,
 *   `{{vars.<k>}}`, and in a map's node `{{item}}` and `{{index}}`. A template that is a single `{{...}}` keeps the
 *   value's type; anything else renders text.
 *
 * @since 0.2.0
 */
import { Duration, type Effect, type Layer, type Schema } from "effect"
import type { LanguageModel } from "effect/ai"
import type * as Agent from "../agent/Agent.ts"
import type * as LlamaLanguageModel from "../ai/LlamaLanguageModel.ts"
import type { ExecutionProfile } from "../resilience/ExecutionProfile.ts"
import type { ToolLimits } from "../tools/ToolLimits.ts"
import type * as ToolRegistry from "../tools/ToolRegistry.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * The kinds of node.
 *
 * @category models
 * @since 0.2.0
 */
export type Kind = "agent" | "transform" | "condition" | "join" | "map" | "delay" | "subworkflow" | "signal"

/**
 * JSON in which strings are templates (see the module docs).
 *
 * @category models
 * @since 0.2.0
 */
export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<TemplateValue>
  | { readonly [key: string]: TemplateValue }

/**
 * How a failed attempt is retried: `times` retries after the first attempt, waiting `delay` (default 100 ms),
 * doubled after each retry with `backoff: "exponential"` (the default) up to `maxDelay`. `while` picks the
 * failures worth retrying (default: all; a timeout counts as a failure).
 *
 * @category models
 * @since 0.2.0
 */
export interface RetryPolicy {
  readonly times: number
  readonly delay?: Duration.Input
  readonly backoff?: "fixed" | "exponential"
  readonly maxDelay?: Duration.Input
  readonly while?: (error: unknown) => boolean
}

/**
 * What a node's code gets besides its input: the run's id, the workflow input, the outputs of the nodes finished so
 * far (by name), the variables, the attempt (from 1), and in a map's node the item's index.
 *
 * @category models
 * @since 0.2.0
 */
export interface NodeContext {
  /** The run's id (on a durable run, its execution id). */
  readonly runId: string
  readonly node: string
  readonly input: unknown
  readonly outputs: Readonly<Record<string, unknown>>
  readonly vars: Readonly<Record<string, unknown>>
  readonly attempt: number
  readonly index: number | undefined
  /** Sets a workflow variable; it becomes visible to the nodes that start after this one finished. */
  readonly setVar: (key: string, value: unknown) => void
}

/**
 * Options every node takes.
 *
 * @category models
 * @since 0.2.0
 */
export interface CommonOptions {
  /** Another key for edges and results; default: the name. */
  readonly id?: string
  readonly description?: string
  /** Time limit of one attempt. Agent nodes default to the execution profile's `attemptTimeout`. */
  readonly timeout?: Duration.Input
  /** Agent nodes default to the execution profile's retry settings, for retryable failures only. */
  readonly retry?: RetryPolicy
  /** Stores the node's output in this workflow variable. */
  readonly saveAs?: string
  /** The name its code is registered under when the workflow is written as JSON; default: the node's name. */
  readonly ref?: string
}

interface Base<Name extends string, R> {
  readonly "~services"?: (_: never) => R
  readonly kind: Kind
  readonly id: string
  readonly name: Name
  readonly description: string | undefined
  readonly timeout: Duration.Duration | undefined
  readonly retry: RetryPolicy | undefined
  readonly saveAs: string | undefined
  readonly ref: string
}

/**
 * Tools for an agent node: those of `Agent`, or a `ToolRegistry` (its enabled tools, seen again at every step).
 *
 * @category models
 * @since 0.2.0
 */
export type AgentTools<R = never> = Agent.Tools<R> | ToolRegistry.Service

/**
 * The model of an agent node: a `LanguageModel` service or a Layer providing one.
 *
 * @category models
 * @since 0.2.0
 */
export type ModelSource = LanguageModel.LanguageModel | Layer.Layer<LanguageModel.LanguageModel>

/**
 * @category models
 * @since 0.2.0
 */
export interface AgentNode<Name extends string = string, R = unknown> extends Base<Name, R> {
  readonly kind: "agent"
  readonly prompt: string
  readonly system: string | undefined
  readonly tools: AgentTools<any> | undefined
  readonly model: ModelSource | undefined
  readonly profile: ExecutionProfile | undefined
  readonly config: LlamaLanguageModel.Config | undefined
  readonly toolChoice: Agent.ToolChoice | undefined
  readonly maxSteps: number | undefined
  readonly aroundStep: Agent.Options["aroundStep"]
  readonly toolLimits: ToolLimits | undefined
  readonly output: Schema.Top | undefined
}

/**
 * @category models
 * @since 0.2.0
 */
export interface TransformNode<Name extends string = string, R = unknown> extends Base<Name, R> {
  readonly kind: "transform"
  readonly from: TemplateValue | undefined
  readonly input: Schema.Top | undefined
  readonly output: Schema.Top | undefined
  readonly run: (input: any, context: NodeContext) => Effect.Effect<unknown, unknown, any>
}

/**
 * What a condition returns: the branch or branches to take.
 *
 * @category models
 * @since 0.2.0
 */
export type Branches = string | ReadonlyArray<string>

/**
 * @category models
 * @since 0.2.0
 */
export interface ConditionNode<Name extends string = string, R = unknown> extends Base<Name, R> {
  readonly kind: "condition"
  readonly from: TemplateValue | undefined
  readonly input: Schema.Top | undefined
  readonly decide: (input: any, context: NodeContext) => Branches | Effect.Effect<Branches, unknown, any>
}

/**
 * @category models
 * @since 0.2.0
 */
export interface JoinNode<Name extends string = string> extends Base<Name, never> {
  readonly kind: "join"
  readonly mode: "all" | "any"
}

/**
 * A node a `map` runs once per item.
 *
 * @category models
 * @since 0.2.0
 */
export type MapItemNode<R = unknown> = AgentNode<string, R> | TransformNode<string, R>

/**
 * @category models
 * @since 0.2.0
 */
export interface MapNode<Name extends string = string, R = unknown> extends Base<Name, R> {
  readonly kind: "map"
  readonly items: TemplateValue
  readonly concurrency: number | undefined
  readonly each: MapItemNode<R>
}

/**
 * @category models
 * @since 0.2.0
 */
export interface DelayNode<Name extends string = string> extends Base<Name, never> {
  readonly kind: "delay"
  readonly duration: Duration.Duration
}

/**
 * A workflow run as one node of another (its definition, as `Workflow.Workflow` without the type parameters).
 *
 * @category models
 * @since 0.2.0
 */
export interface SubworkflowNode<Name extends string = string, R = unknown> extends Base<Name, R> {
  readonly kind: "subworkflow"
  readonly workflow: { readonly name: string; readonly nodes: ReadonlyArray<Node> }
  readonly from: TemplateValue | undefined
}

/**
 * @category models
 * @since 0.2.0
 */
export interface SignalNode<Name extends string = string> extends Base<Name, never> {
  readonly kind: "signal"
  readonly schema: Schema.Top | undefined
}

/**
 * Any node.
 *
 * @category models
 * @since 0.2.0
 */
export type Node<Name extends string = string, R = any> =
  | AgentNode<Name, R>
  | TransformNode<Name, R>
  | ConditionNode<Name, R>
  | JoinNode<Name>
  | MapNode<Name, R>
  | DelayNode<Name>
  | SubworkflowNode<Name, R>
  | SignalNode<Name>

/**
 * The services a node's code needs.
 *
 * @category models
 * @since 0.2.0
 */
export type Services<N> = N extends { readonly "~services"?: (_: never) => infer R } ? unknown extends R ? never : R
  : never

/**
 * The names and ids a node can be referred to by.
 *
 * @category models
 * @since 0.2.0
 */
export type Refs<N> = N extends { readonly name: infer Name extends string; readonly id: infer Id extends string }
  ? Name | Id
  : never

// ============================================================================
// Constructors
// ============================================================================

const base = <Name extends string>(kind: Kind, name: Name, options: CommonOptions) => ({
  kind,
  // The constructors type it as their `Id` (the name unless `id` is given).
  id: (options.id ?? name) as never,
  name,
  description: options.description,
  timeout: options.timeout === undefined ? undefined : Duration.fromInputUnsafe(options.timeout),
  retry: options.retry,
  saveAs: options.saveAs,
  ref: options.ref ?? name
})

type SchemaNoServices = Schema.Top & { readonly DecodingServices: never; readonly EncodingServices: never }

/**
 * Options of an agent node.
 *
 * @category models
 * @since 0.2.0
 */
export interface AgentOptions<Out extends SchemaNoServices, R> extends CommonOptions {
  /** The user message (a template). */
  readonly prompt: string
  /** The system prompt (a template). */
  readonly system?: string
  readonly tools?: AgentTools<R>
  /** Default: the `LanguageModel` in context. */
  readonly model?: ModelSource
  /** Provided to the node's model calls (the resilience wrapper reads it) and its timeout and retry defaults. */
  readonly profile?: ExecutionProfile
  /** Sampling and generation settings of the local model (`LlamaLanguageModel.withConfigOverride`). */
  readonly config?: LlamaLanguageModel.Config
  readonly toolChoice?: Agent.ToolChoice
  /** Model calls, at least 1. Default 10. */
  readonly maxSteps?: number
  readonly aroundStep?: Agent.Options["aroundStep"]
  /**
   * Per-run limits on the node's tool calls (see `ToolLimits`). With `onError: "stop"`, a failed tool call fails
   * the node (its retry policy then applies).
   */
  readonly toolLimits?: ToolLimits
  /** Structured output: after the tool loop, the answer as a value of this Schema (`generateObject`). */
  readonly output?: Out
}

/**
 * A model with tools: runs an `Agent` (tool loop) on `prompt`; its output is the final text, or with `output` a
 * value of that Schema. Its text deltas, tool calls and results are events of the run.
 *
 * @category constructors
 * @since 0.2.0
 */
export const agent = <
  const Name extends string,
  Out extends SchemaNoServices = typeof Schema.String,
  R = never,
  const Id extends string = Name
>(
  name: Name,
  options: AgentOptions<Out, R> & { readonly id?: Id }
): AgentNode<Name, R | LanguageModel.LanguageModel> & { readonly id: Id } => ({
  ...base("agent", name, options),
  kind: "agent",
  prompt: options.prompt,
  system: options.system,
  tools: options.tools,
  model: options.model,
  profile: options.profile,
  config: options.config,
  toolChoice: options.toolChoice,
  maxSteps: options.maxSteps,
  aroundStep: options.aroundStep,
  toolLimits: options.toolLimits,
  output: options.output
})

/**
 * Like `agent`, on a model of its own (so the workflow needs no `LanguageModel` for it).
 *
 * @category constructors
 * @since 0.2.0
 */
export const agentWith = <
  const Name extends string,
  Out extends SchemaNoServices = typeof Schema.String,
  R = never,
  const Id extends string = Name
>(
  name: Name,
  options: AgentOptions<Out, R> & { readonly model: ModelSource; readonly id?: Id }
): AgentNode<Name, R> & { readonly id: Id } => agent(name, options) as never

/**
 * Options of a transform node.
 *
 * @category models
 * @since 0.2.0
 */
export interface TransformOptions<In extends SchemaNoServices, Out extends SchemaNoServices, E, R> extends CommonOptions {
  /** What the node receives (templates); default: its parents' outputs. */
  readonly from?: TemplateValue
  /** Decodes what the node receives. */
  readonly input?: In
  /** Encodes what the node returns. */
  readonly output?: Out
  readonly run: (input: In["Type"], context: NodeContext) => Effect.Effect<Out["Type"], E, R>
}

/**
 * Code as a node: an Effect from its (decoded) input to its output. A failure fails the node.
 *
 * @category constructors
 * @since 0.2.0
 */
export const transform = <
  const Name extends string,
  In extends SchemaNoServices = typeof Schema.Unknown,
  Out extends SchemaNoServices = typeof Schema.Unknown,
  E = never,
  R = never,
  const Id extends string = Name
>(
  name: Name,
  options: TransformOptions<In, Out, E, R> & { readonly id?: Id }
): TransformNode<Name, R> & { readonly id: Id } => ({
  ...base("transform", name, options),
  kind: "transform",
  from: options.from,
  input: options.input,
  output: options.output,
  run: options.run as TransformNode["run"]
})

/**
 * Options of a condition node.
 *
 * @category models
 * @since 0.2.0
 */
export interface ConditionOptions<In extends SchemaNoServices, E, R> extends CommonOptions {
  readonly from?: TemplateValue
  readonly input?: In
  /** The branches to take: labels of the outgoing edges (an edge's label defaults to its target's name). */
  readonly decide: (input: In["Type"], context: NodeContext) => Branches | Effect.Effect<Branches, E, R>
}

/**
 * A router: `decide` names the outgoing edges to follow; the other branches, and every node only they lead to, are
 * skipped. Its output is its input, passed on to the chosen branches.
 *
 * @category constructors
 * @since 0.2.0
 */
export const condition = <
  const Name extends string,
  In extends SchemaNoServices = typeof Schema.Unknown,
  E = never,
  R = never,
  const Id extends string = Name
>(
  name: Name,
  options: ConditionOptions<In, E, R> & { readonly id?: Id }
): ConditionNode<Name, R> & { readonly id: Id } => ({
  ...base("condition", name, options),
  kind: "condition",
  from: options.from,
  input: options.input,
  decide: options.decide as ConditionNode["decide"]
})

/**
 * Waits for its parents: `all` (default) for every one to finish, then outputs a record of the outputs of those that
 * ran (by name); `any` starts at the first parent to succeed and outputs `{ from, output }`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const join = <const Name extends string, const Id extends string = Name>(
  name: Name,
  options: CommonOptions & { readonly mode?: "all" | "any"; readonly id?: Id } = {}
): JoinNode<Name> & { readonly id: Id } => ({ ...base("join", name, options), kind: "join", mode: options.mode ?? "all" })

/**
 * Fan-out: runs `each` once per element of `items` (a template giving a list), at most `concurrency` at once
 * (default: the execution profile's), and outputs their outputs in the order of the items. `each` sees the element
 * as its input and as `{{item}}`, its position as `{{index}}`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const map = <const Name extends string, R, const Id extends string = Name>(
  name: Name,
  options: CommonOptions & {
    readonly id?: Id
    readonly items: TemplateValue
    readonly concurrency?: number
    readonly each: MapItemNode<R>
  }
): MapNode<Name, R> & { readonly id: Id } => ({
  ...base("map", name, options),
  kind: "map",
  items: options.items,
  concurrency: options.concurrency,
  each: options.each
})

/**
 * Waits, then passes its input on. On a durable run the wait is a `DurableClock` timer: up to a minute it is an
 * activity that sleeps (run again whole after a restart), longer ones are scheduled by the engine and survive a
 * restart (the run suspends meanwhile).
 *
 * @category constructors
 * @since 0.2.0
 */
export const delay = <const Name extends string, const Id extends string = Name>(
  name: Name,
  options: CommonOptions & { readonly duration: Duration.Input; readonly id?: Id }
): DelayNode<Name> & { readonly id: Id } => ({
  ...base("delay", name, options),
  kind: "delay",
  duration: Duration.fromInputUnsafe(options.duration)
})

/**
 * Runs another workflow as one node: its input is `from` (default: this node's input), its output the other
 * workflow's output; it fails when the other run fails.
 *
 * @category constructors
 * @since 0.2.0
 */
export const subworkflow = <const Name extends string, W extends SubworkflowNode["workflow"], const Id extends string = Name>(
  name: Name,
  options: CommonOptions & { readonly workflow: W; readonly from?: TemplateValue; readonly id?: Id }
): SubworkflowNode<Name, W extends { readonly "~services"?: (_: never) => infer R } ? R : never> & { readonly id: Id } => ({
  ...base("subworkflow", name, options),
  kind: "subworkflow",
  workflow: options.workflow,
  from: options.from
})

/**
 * Waits for a value from outside the run (an approval, a human's answer), then outputs it. Send it with the run
 * handle's `signal` (`WorkflowExecutor.start`) or, on a durable run, `DurableWorkflow.signal`, also after a restart.
 * `schema` checks the value (in its JSON form); one that does not fit fails the node.
 *
 * @category constructors
 * @since 0.2.0
 */
export const signal = <const Name extends string, S extends SchemaNoServices = typeof Schema.Unknown, const Id extends string = Name>(
  name: Name,
  options: CommonOptions & { readonly schema?: S; readonly id?: Id } = {}
): SignalNode<Name> & { readonly id: Id } => ({ ...base("signal", name, options), kind: "signal", schema: options.schema } as never)
