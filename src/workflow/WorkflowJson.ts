/**
 * Workflows as JSON. `toJson` writes the graph: nodes, edges, templates, settings; code (a transform's function, a
 * condition's `decide`, Schemas, tools, models, nested workflows) is written as the name it is registered under.
 * `fromJson` reads a definition back with a `Registry` holding those names; `registryOf` collects the registry of a
 * workflow built in code, so `fromJson(toJson(w), registryOf(w))` gives `w` back.
 *
 * **Details**
 *
 * Names are the node's `ref` (default: its name) for its function, and `<ref>.input`, `<ref>.output`, `<ref>.tools`,
 * `<ref>.model`, `<ref>.toolChoice`, `<ref>.aroundStep`, `<ref>.schema`, `<ref>.retryWhile` for the rest; the
 * workflow's input Schema is `inputRef` (default `<workflow>.input`), a subworkflow is its workflow's name, and an
 * execution profile its preset's name.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Schema } from "effect"
import * as ExecutionProfile from "../resilience/ExecutionProfile.ts"
import * as Workflow from "./Workflow.ts"
import { WorkflowError } from "./WorkflowError.ts"
import type * as WorkflowNode from "./WorkflowNode.ts"

// ============================================================================
// Schemas
// ============================================================================

const Retry = Schema.Struct({
  times: Schema.Int,
  delayMs: Schema.optionalKey(Schema.Finite),
  backoff: Schema.optionalKey(Schema.Literals(["fixed", "exponential"])),
  maxDelayMs: Schema.optionalKey(Schema.Finite),
  while: Schema.optionalKey(Schema.String)
})

/**
 * One node of a JSON definition (fields by kind; see `WorkflowNode` for their meaning).
 *
 * @category schemas
 * @since 0.2.0
 */
export interface NodeDefinition {
  readonly kind: WorkflowNode.Kind
  readonly name: string
  readonly id?: string
  readonly description?: string
  readonly timeoutMs?: number
  readonly retry?: typeof Retry.Type
  readonly saveAs?: string
  readonly ref?: string
  readonly from?: unknown
  readonly input?: string
  readonly output?: string
  readonly prompt?: string
  readonly system?: string
  readonly tools?: string
  readonly model?: string
  readonly profile?: string
  readonly config?: unknown
  readonly toolChoice?: unknown
  readonly maxSteps?: number
  readonly toolLimits?: {
    readonly timeoutMs?: number
    readonly maxToolCalls?: number
    readonly onError?: "continue" | "stop"
  }
  readonly aroundStep?: string
  readonly mode?: "all" | "any"
  readonly items?: unknown
  readonly concurrency?: number
  readonly each?: NodeDefinition
  readonly durationMs?: number
  readonly workflow?: string
  readonly schema?: string
}

/**
 * @category schemas
 * @since 0.2.0
 */
export const NodeDefinition: Schema.Codec<NodeDefinition> = Schema.Struct({
  kind: Schema.Literals(["agent", "transform", "condition", "join", "map", "delay", "subworkflow", "signal"]),
  name: Schema.String,
  id: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  timeoutMs: Schema.optionalKey(Schema.Finite),
  retry: Schema.optionalKey(Retry),
  saveAs: Schema.optionalKey(Schema.String),
  ref: Schema.optionalKey(Schema.String),
  from: Schema.optionalKey(Schema.Unknown),
  input: Schema.optionalKey(Schema.String),
  output: Schema.optionalKey(Schema.String),
  prompt: Schema.optionalKey(Schema.String),
  system: Schema.optionalKey(Schema.String),
  tools: Schema.optionalKey(Schema.String),
  model: Schema.optionalKey(Schema.String),
  profile: Schema.optionalKey(Schema.String),
  config: Schema.optionalKey(Schema.Unknown),
  toolChoice: Schema.optionalKey(Schema.Unknown),
  maxSteps: Schema.optionalKey(Schema.Int),
  toolLimits: Schema.optionalKey(Schema.Struct({
    timeoutMs: Schema.optionalKey(Schema.Finite),
    maxToolCalls: Schema.optionalKey(Schema.Int),
    onError: Schema.optionalKey(Schema.Literals(["continue", "stop"]))
  })),
  aroundStep: Schema.optionalKey(Schema.String),
  mode: Schema.optionalKey(Schema.Literals(["all", "any"])),
  items: Schema.optionalKey(Schema.Unknown),
  concurrency: Schema.optionalKey(Schema.Int),
  each: Schema.optionalKey(Schema.suspend((): Schema.Codec<NodeDefinition> => NodeDefinition)),
  durationMs: Schema.optionalKey(Schema.Finite),
  workflow: Schema.optionalKey(Schema.String),
  schema: Schema.optionalKey(Schema.String)
})

/**
 * A workflow as JSON.
 *
 * @category schemas
 * @since 0.2.0
 */
export const Definition = Schema.Struct({
  format: Schema.Literal("effect-llama/workflow@1"),
  name: Schema.String,
  description: Schema.optionalKey(Schema.String),
  input: Schema.optionalKey(Schema.String),
  vars: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  entry: Schema.optionalKey(Schema.Array(Schema.String)),
  output: Schema.optionalKey(Schema.String),
  nodes: Schema.Array(NodeDefinition),
  edges: Schema.Array(Schema.Struct({ from: Schema.String, to: Schema.String, branch: Schema.optionalKey(Schema.String) }))
})

/**
 * @category models
 * @since 0.2.0
 */
export type Definition = typeof Definition.Type

// ============================================================================
// Registry
// ============================================================================

/**
 * The code a definition refers to, by name.
 *
 * @category models
 * @since 0.2.0
 */
export interface Registry {
  readonly functions: ReadonlyMap<string, (...args: ReadonlyArray<any>) => any>
  readonly schemas: ReadonlyMap<string, Schema.Top>
  readonly tools: ReadonlyMap<string, WorkflowNode.AgentTools<any>>
  readonly models: ReadonlyMap<string, WorkflowNode.ModelSource>
  readonly profiles: ReadonlyMap<string, ExecutionProfile.ExecutionProfile>
  readonly workflows: ReadonlyMap<string, Workflow.Any>
}

type Entries<A> = Readonly<Record<string, A>> | ReadonlyMap<string, A>

const toMap = <A>(entries: Entries<A> | undefined): ReadonlyMap<string, A> =>
  entries === undefined ? new Map() : entries instanceof Map ? entries : new Map(Object.entries(entries))

const presets = [
  ExecutionProfile.Balanced,
  ExecutionProfile.HighThroughput,
  ExecutionProfile.LowLatency,
  ExecutionProfile.MemoryOptimized
]

/**
 * A registry from records (or maps) of named code. The four execution profile presets are always there.
 *
 * @category constructors
 * @since 0.2.0
 */
export const registry = (entries: {
  readonly functions?: Entries<(...args: ReadonlyArray<any>) => any>
  readonly schemas?: Entries<Schema.Top>
  readonly tools?: Entries<WorkflowNode.AgentTools<any>>
  readonly models?: Entries<WorkflowNode.ModelSource>
  readonly profiles?: Entries<ExecutionProfile.ExecutionProfile>
  readonly workflows?: Entries<Workflow.Any>
}): Registry => ({
  functions: toMap(entries.functions),
  schemas: toMap(entries.schemas),
  tools: toMap(entries.tools),
  models: toMap(entries.models),
  profiles: new Map([...presets.map((p) => [p.name, p] as const), ...toMap(entries.profiles)]),
  workflows: toMap(entries.workflows)
})

/**
 * Both registries' entries (`that` wins on equal names).
 *
 * @category constructors
 * @since 0.2.0
 */
export const merge = (self: Registry, that: Registry): Registry => ({
  functions: new Map([...self.functions, ...that.functions]),
  schemas: new Map([...self.schemas, ...that.schemas]),
  tools: new Map([...self.tools, ...that.tools]),
  models: new Map([...self.models, ...that.models]),
  profiles: new Map([...self.profiles, ...that.profiles]),
  workflows: new Map([...self.workflows, ...that.workflows])
})

const ms = (d: Duration.Duration | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

type Defined<A> =
  & { readonly [K in keyof A as undefined extends A[K] ? never : K]: A[K] }
  & { readonly [K in keyof A as undefined extends A[K] ? K : never]?: Exclude<A[K], undefined> }

const defined = <A extends Record<string, unknown>>(record: A): Defined<A> =>
  Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Defined<A>

interface Collect {
  readonly functions: Map<string, (...args: ReadonlyArray<any>) => any>
  readonly schemas: Map<string, Schema.Top>
  readonly tools: Map<string, WorkflowNode.AgentTools<any>>
  readonly models: Map<string, WorkflowNode.ModelSource>
  readonly profiles: Map<string, ExecutionProfile.ExecutionProfile>
  readonly workflows: Map<string, Workflow.Any>
}

// Writes one node, collecting its code into `into`.
const writeNode = (node: WorkflowNode.Node, into: Collect): NodeDefinition => {
  const ref = node.ref
  const schema = (suffix: string, s: Schema.Top | undefined) => {
    if (s === undefined) return undefined
    into.schemas.set(`${ref}.${suffix}`, s)
    return `${ref}.${suffix}`
  }
  if (node.retry?.while !== undefined) into.functions.set(`${ref}.retryWhile`, node.retry.while)
  const common = defined({
    kind: node.kind,
    name: node.name,
    id: node.id === node.name ? undefined : node.id,
    description: node.description,
    timeoutMs: ms(node.timeout),
    retry: node.retry === undefined ? undefined : defined({
      times: node.retry.times,
      delayMs: node.retry.delay === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(node.retry.delay)),
      backoff: node.retry.backoff,
      maxDelayMs: node.retry.maxDelay === undefined
        ? undefined
        : Duration.toMillis(Duration.fromInputUnsafe(node.retry.maxDelay)),
      while: node.retry.while === undefined ? undefined : `${ref}.retryWhile`
    }),
    saveAs: node.saveAs,
    ref: ref === node.name ? undefined : ref
  })
  switch (node.kind) {
    case "transform":
      into.functions.set(ref, node.run)
      return defined({ ...common, from: node.from, input: schema("input", node.input), output: schema("output", node.output) })
    case "condition":
      into.functions.set(ref, node.decide)
      return defined({ ...common, from: node.from, input: schema("input", node.input) })
    case "agent": {
      if (node.tools !== undefined) into.tools.set(`${ref}.tools`, node.tools)
      if (node.model !== undefined) into.models.set(`${ref}.model`, node.model)
      if (node.profile !== undefined) into.profiles.set(node.profile.name, node.profile)
      if (node.aroundStep !== undefined) into.functions.set(`${ref}.aroundStep`, node.aroundStep)
      if (typeof node.toolChoice === "function") into.functions.set(`${ref}.toolChoice`, node.toolChoice)
      return defined({
        ...common,
        prompt: node.prompt,
        system: node.system,
        tools: node.tools === undefined ? undefined : `${ref}.tools`,
        model: node.model === undefined ? undefined : `${ref}.model`,
        profile: node.profile?.name,
        config: node.config,
        toolChoice: typeof node.toolChoice === "function" ? { $ref: `${ref}.toolChoice` } : node.toolChoice,
        maxSteps: node.maxSteps,
        toolLimits: node.toolLimits === undefined ? undefined : defined({
          timeoutMs: node.toolLimits.timeout === undefined ? undefined : Duration.toMillis(Duration.fromInputUnsafe(node.toolLimits.timeout)),
          maxToolCalls: node.toolLimits.maxToolCalls,
          onError: node.toolLimits.onError
        }),
        aroundStep: node.aroundStep === undefined ? undefined : `${ref}.aroundStep`,
        output: schema("output", node.output)
      })
    }
    case "join":
      return { ...common, mode: node.mode }
    case "map":
      return defined({ ...common, items: node.items, concurrency: node.concurrency, each: writeNode(node.each, into) })
    case "delay":
      return { ...common, durationMs: Duration.toMillis(node.duration) }
    case "subworkflow":
      collect(node.workflow as Workflow.Any, into)
      into.workflows.set(node.workflow.name, node.workflow as Workflow.Any)
      return defined({ ...common, workflow: node.workflow.name, from: node.from })
    case "signal":
      return defined({ ...common, schema: schema("schema", node.schema) })
  }
}

const collect = (workflow: Workflow.Any, into: Collect): Definition => {
  if (workflow.input !== Schema.Unknown) into.schemas.set(workflow.inputRef, workflow.input)
  return defined({
    format: "effect-llama/workflow@1" as const,
    name: workflow.name,
    description: workflow.description,
    input: workflow.input === Schema.Unknown ? undefined : workflow.inputRef,
    vars: Object.keys(workflow.vars).length === 0 ? undefined : workflow.vars,
    entry: workflow.entry,
    output: workflow.output,
    nodes: workflow.nodes.map((n) => writeNode(n, into)),
    edges: workflow.edges.map((e) => defined({ from: e.from, to: e.to, branch: e.branch }))
  })
}

const emptyCollect = (): Collect => ({
  functions: new Map(),
  schemas: new Map(),
  tools: new Map(),
  models: new Map(),
  profiles: new Map(),
  workflows: new Map()
})

/**
 * The registry of a workflow built in code: every function, Schema, toolkit, model, profile and nested workflow it
 * uses, under the names `toJson` writes.
 *
 * @category constructors
 * @since 0.2.0
 */
export const registryOf = (workflow: Workflow.Any): Registry => {
  const into = emptyCollect()
  collect(workflow, into)
  return registry(into)
}

// ============================================================================
// Encoding
// ============================================================================

/**
 * The definition of a workflow, as a value.
 *
 * @category encoding
 * @since 0.2.0
 */
export const toDefinition = (workflow: Workflow.Any): Definition => collect(workflow, emptyCollect())

/**
 * The definition of a workflow, as JSON text.
 *
 * @category encoding
 * @since 0.2.0
 */
export const toJson = (workflow: Workflow.Any, space?: number): string => JSON.stringify(toDefinition(workflow), null, space)

// ============================================================================
// Decoding
// ============================================================================

interface Reader {
  readonly registry: Registry
  readonly missing: Array<string>
}

const lookup = <A>(reader: Reader, table: keyof Registry, name: string | undefined): A | undefined => {
  if (name === undefined) return undefined
  const found = (reader.registry[table] as ReadonlyMap<string, unknown>).get(name)
  if (found === undefined) reader.missing.push(`${table}: ${name}`)
  return found as A | undefined
}

const readNode = (reader: Reader, d: NodeDefinition, workflows: Map<string, Workflow.Any>): WorkflowNode.Node => {
  const ref = d.ref ?? d.name
  const base = {
    kind: d.kind,
    id: d.id ?? d.name,
    name: d.name,
    description: d.description,
    timeout: d.timeoutMs === undefined ? undefined : Duration.millis(d.timeoutMs),
    retry: d.retry === undefined ? undefined : defined({
      times: d.retry.times,
      delay: d.retry.delayMs,
      backoff: d.retry.backoff,
      maxDelay: d.retry.maxDelayMs,
      while: lookup<(e: unknown) => boolean>(reader, "functions", d.retry.while)
    }) as WorkflowNode.RetryPolicy,
    saveAs: d.saveAs,
    ref
  }
  const schema = (name: string | undefined) => lookup<Schema.Top>(reader, "schemas", name)
  switch (d.kind) {
    case "transform":
      return {
        ...base,
        kind: "transform",
        from: d.from as WorkflowNode.TemplateValue | undefined,
        input: schema(d.input),
        output: schema(d.output),
        run: lookup(reader, "functions", ref) ?? (() => Effect.void)
      }
    case "condition":
      return {
        ...base,
        kind: "condition",
        from: d.from as WorkflowNode.TemplateValue | undefined,
        input: schema(d.input),
        decide: lookup(reader, "functions", ref) ?? (() => [])
      }
    case "agent": {
      const choice = d.toolChoice as { readonly $ref?: string } | undefined
      return {
        ...base,
        kind: "agent",
        prompt: d.prompt ?? "",
        system: d.system,
        tools: lookup(reader, "tools", d.tools),
        model: lookup(reader, "models", d.model),
        profile: lookup(reader, "profiles", d.profile),
        config: d.config as never,
        toolChoice: typeof choice === "object" && choice !== null && typeof choice.$ref === "string"
          ? lookup(reader, "functions", choice.$ref)
          : d.toolChoice as never,
        maxSteps: d.maxSteps,
        toolLimits: d.toolLimits === undefined ? undefined : {
          ...(d.toolLimits.timeoutMs === undefined ? {} : { timeout: Duration.millis(d.toolLimits.timeoutMs) }),
          ...(d.toolLimits.maxToolCalls === undefined ? {} : { maxToolCalls: d.toolLimits.maxToolCalls }),
          ...(d.toolLimits.onError === undefined ? {} : { onError: d.toolLimits.onError })
        },
        aroundStep: lookup(reader, "functions", d.aroundStep),
        output: schema(d.output)
      }
    }
    case "join":
      return { ...base, kind: "join", mode: d.mode ?? "all" }
    case "map":
      return {
        ...base,
        kind: "map",
        items: (d.items ?? []) as WorkflowNode.TemplateValue,
        concurrency: d.concurrency,
        each: d.each === undefined
          ? (reader.missing.push(`map ${d.name}: each`), readNode(reader, { kind: "transform", name: `${d.name}.each` }, workflows) as never)
          : readNode(reader, d.each, workflows) as never
      }
    case "delay":
      return { ...base, kind: "delay", duration: Duration.millis(d.durationMs ?? 0) }
    case "subworkflow":
      return {
        ...base,
        kind: "subworkflow",
        workflow: workflows.get(d.workflow ?? "") ?? lookup<Workflow.Any>(reader, "workflows", d.workflow) ??
          Workflow.make(d.workflow ?? "missing"),
        from: d.from as WorkflowNode.TemplateValue | undefined
      }
    case "signal":
      return { ...base, kind: "signal", schema: schema(d.schema) }
  }
}

/**
 * Reads a definition (a value); fails with `InvalidDefinition` listing every name the registry lacks. `R` is the
 * services its registered code needs (the registry does not know them): give it when they are not `never`.
 *
 * @category decoding
 * @since 0.2.0
 */
export const fromDefinition = <R = never>(
  definition: Definition,
  registry: Registry
): Effect.Effect<Workflow.Workflow<unknown, R, string>, WorkflowError> =>
  Effect.suspend(() => {
    const reader: Reader = { registry, missing: [] }
    const workflow = Workflow.fromParts<unknown, R, string>({
      name: definition.name,
      description: definition.description,
      input: definition.input === undefined ? undefined : lookup(reader, "schemas", definition.input),
      inputRef: definition.input,
      vars: definition.vars,
      entry: definition.entry,
      output: definition.output,
      nodes: definition.nodes.map((n) => readNode(reader, n, new Map())),
      edges: definition.edges.map((e) => ({ from: e.from, to: e.to, branch: e.branch }))
    })
    return reader.missing.length === 0
      ? Effect.succeed(workflow)
      : Effect.fail(
        new WorkflowError({
          reason: "InvalidDefinition",
          workflow: definition.name,
          description: `the registry has no ${reader.missing.join(", ")}`,
          problems: []
        })
      )
  })

/**
 * Reads a workflow from JSON text.
 *
 * @category decoding
 * @since 0.2.0
 */
export const fromJson = <R = never>(
  json: string,
  registry: Registry
): Effect.Effect<Workflow.Workflow<unknown, R, string>, WorkflowError> =>
  Schema.decodeUnknownEffect(Schema.fromJsonString(Definition))(json).pipe(
    Effect.mapError((error) =>
      new WorkflowError({ reason: "InvalidDefinition", workflow: "?", description: error.message, problems: [] })
    ),
    Effect.flatMap((definition) => fromDefinition<R>(definition, registry))
  )
