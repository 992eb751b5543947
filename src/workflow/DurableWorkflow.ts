/**
 * The same workflow definition as an effect/workflow `Workflow`: a durable run. Each unit of work (an agent,
 * transform or condition node, a map item) is an `Activity` whose outcome is journaled, a `delay` is a
 * `DurableClock` timer, a `signal` a `DurableDeferred`, and the run is identified by an idempotency key. On an
 * engine with durable storage (PostgreSQL: `WorkflowPostgres`), a run whose process died resumes when a process
 * that registers the workflow comes back, and the nodes that had finished do not run again. `layerMemory` is the
 * embedded engine: no database, nothing survives the process.
 *
 * **Details**
 *
 * - `distributed: true` runs every unit of work as a child workflow of its own, keyed by run and node, so the
 *   cluster's sharding spreads the nodes of one run over the runners (`WorkflowPostgres.layerRunner`); without it,
 *   a run's activities stay on the runner that owns the run.
 * - Activities are at-least-once: a node that was running when its process died runs again. Make side effects
 *   idempotent (for example a unique key per run and node).
 * - Events go to `onEvent` in the process that runs the workflow body; a resumed run replays the events of its
 *   journaled nodes (without running them), and agent deltas come only from nodes that really run.
 * - In fail-fast mode the run stops at the first failure; activities already handed to a cluster runner finish there
 *   (the engine runs them uninterruptibly) and their results are ignored.
 *
 * @since 0.2.0
 */
import { Effect, Layer, Option, Schema } from "effect"
import { Activity, DurableClock, DurableDeferred, Workflow as EffectWorkflow, WorkflowEngine } from "effect/workflow"
import { CurrentExecutionProfile } from "../resilience/ExecutionProfile.ts"
import { type Journal, makeLimits, runPlan, type UnitRequest } from "./internal/engine.ts"
import { compile, locate, type Plan } from "./internal/plan.ts"
import { Outcome, runWork } from "./internal/work.ts"
import type * as Workflow from "./Workflow.ts"
import { WorkflowError } from "./WorkflowError.ts"
import type { WorkflowEvent } from "./WorkflowEvent.ts"
import * as WorkflowExecutor from "./WorkflowExecutor.ts"
import { WorkflowResult } from "./WorkflowResult.ts"
import * as WorkflowStats from "./WorkflowStats.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * Options of a durable workflow.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options
  extends Pick<WorkflowExecutor.Options, "failurePolicy" | "concurrency" | "kindConcurrency" | "mapConcurrency">
{
  /** The effect/workflow name; default `effect-llama/<workflow name>`. */
  readonly name?: string
  /** Every unit of work as a child workflow, spread over the cluster's runners. Default false. */
  readonly distributed?: boolean
  /** Hears the events of the runs this process executes. */
  readonly onEvent?: (event: WorkflowEvent) => Effect.Effect<void>
}

// The input is optional in the payload: a workflow without an input Schema gets `undefined`, which is no JSON.
const Payload = (input: Schema.Top) => ({ key: Schema.String, input: Schema.optionalKey(input) })
const payload = (key: string, input: unknown) => (input === undefined ? { key } : { key, input })

const NodePayload = {
  parent: Schema.String,
  key: Schema.String,
  path: Schema.Array(Schema.String),
  item: Schema.NullOr(Schema.Int),
  received: Schema.optionalKey(Schema.Unknown),
  scope: Schema.Struct({
    input: Schema.optionalKey(Schema.Unknown),
    outputs: Schema.Record(Schema.String, Schema.Unknown),
    vars: Schema.Record(Schema.String, Schema.Unknown),
    item: Schema.optionalKey(Schema.Unknown),
    index: Schema.optionalKey(Schema.Int)
  })
}

/**
 * A workflow made durable.
 *
 * @category models
 * @since 0.2.0
 */
export interface DurableWorkflow<In, R> {
  readonly workflow: Workflow.Workflow<In, R, any>
  /** The effect/workflow definition (payload `{ key, input }`, success `WorkflowResult`). */
  readonly definition: EffectWorkflow.Workflow<string, Schema.Struct<ReturnType<typeof Payload>>, typeof WorkflowResult, Schema.Never>
  /** Registers the workflow with the engine: every process that should run (or resume) it provides this. */
  readonly layer: Layer.Layer<never, never, WorkflowEngine.WorkflowEngine | R>
  /** Runs (or joins the run with this key, or returns its result when it finished) and waits for the result. */
  readonly execute: (
    input: In,
    options: { readonly key: string }
  ) => Effect.Effect<WorkflowResult, WorkflowError, WorkflowEngine.WorkflowEngine>
  /** Starts the run with this key without waiting; returns its execution id. */
  readonly start: (
    input: In,
    options: { readonly key: string }
  ) => Effect.Effect<string, WorkflowError, WorkflowEngine.WorkflowEngine>
  /** The result once the run finished; `None` while it runs or waits for a signal. */
  readonly poll: (executionId: string) => Effect.Effect<Option.Option<WorkflowResult>, never, WorkflowEngine.WorkflowEngine>
  /** The execution id of the run with this key. */
  readonly executionId: (key: string) => Effect.Effect<string>
  /** Sends a value to a `signal` node of a run, by name or id (`<subworkflow>/<id>` inside a subworkflow). */
  readonly signal: (options: {
    readonly executionId: string
    readonly node: string
    readonly value: unknown
  }) => Effect.Effect<void, never, WorkflowEngine.WorkflowEngine>
  readonly interrupt: (executionId: string) => Effect.Effect<void, never, WorkflowEngine.WorkflowEngine>
}

// ============================================================================
// Constructors
// ============================================================================

// effect/workflow's execution id, without a payload to validate: the first 32 hex digits of a SHA-256 of the
// workflow's name and the idempotency key (Workflow.ts, makeExecutionIdFromPayload; a test compares the two).
const executionIdOf = (name: string, key: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${name.length}:${name}:${key}`))).pipe(
    Effect.map((digest) => Buffer.from(digest).toString("hex").slice(0, 32))
  )

const json = <A>(value: A): A => JSON.parse(JSON.stringify(value))

const signalDeferred = (key: string) => DurableDeferred.make(`signal/${key}`, { success: Schema.Unknown })

/**
 * Makes a workflow durable.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = <In, R>(workflow: Workflow.Workflow<In, R, any>, options: Options = {}): DurableWorkflow<In, R> => {
  const name = options.name ?? `effect-llama/${workflow.name}`
  const definition = EffectWorkflow.make(name, {
    payload: Payload(workflow.input),
    success: WorkflowResult,
    idempotencyKey: ({ key }) => key
  }) as unknown as DurableWorkflow<In, R>["definition"]

  const NodeWorkflow = EffectWorkflow.make(`${name}/node`, {
    payload: NodePayload,
    success: Outcome,
    idempotencyKey: ({ key, parent }) => `${parent}/${key}`
  })

  const emit = options.onEvent

  const journal = (executionId: string): Journal => ({
    unit: (key, request, local) =>
      options.distributed === true
        ? NodeWorkflow.execute({
          parent: executionId,
          key,
          path: request.path,
          item: request.item ?? null,
          // JSON already, but `undefined` (a node without input, an output of void) is no JSON value.
          ...json({ received: request.received }),
          scope: json({
            input: request.scope.input,
            outputs: request.scope.outputs,
            vars: request.scope.vars,
            item: request.scope.item,
            index: request.scope.index
          })
        } as never)
        : Activity.make({ name: key, success: Outcome, execute: local }),
    sleep: (key, duration) => DurableClock.sleep({ name: key, duration }),
    signal: (key) => DurableDeferred.await(signalDeferred(key))
  })

  const body = (plan: Plan, input: unknown, executionId: string) =>
    Effect.gen(function*() {
      const profile = yield* CurrentExecutionProfile
      const defaults = WorkflowExecutor.limits(profile)
      const result = yield* runPlan(plan, input, {
        runId: executionId,
        journal: journal(executionId),
        limits: makeLimits(
          options.concurrency ?? defaults.total,
          { ...defaults.kinds, ...options.kindConcurrency },
          options.mapConcurrency ?? defaults.map
        ),
        failurePolicy: options.failurePolicy ?? "failFast",
        emit,
        prefix: "",
        path: [],
        vars: undefined,
        profile
      })
      yield* WorkflowStats.record(result)
      return result
    })

  const runLayer = definition.toLayer((payload, executionId) =>
    Effect.gen(function*() {
      const plan = yield* Effect.orDie(compile(workflow))
      const input = plan.input === undefined ? payload.input : yield* Effect.orDie(plan.input.encode(payload.input))
      return yield* body(plan, input, executionId)
    }) as Effect.Effect<WorkflowResult>
  )

  // A unit of work of a distributed run, on whichever runner owns its shard.
  const nodeLayer = NodeWorkflow.toLayer((payload) =>
    Effect.gen(function*() {
      const plan = yield* Effect.orDie(compile(workflow))
      const node = locate(plan, payload.path, payload.item !== null)
      if (node === undefined) return yield* Effect.die(new Error(`${workflow.name} has no node ${payload.path.join("/")}`))
      const request: UnitRequest = {
        path: payload.path,
        item: payload.item ?? undefined,
        received: payload.received,
        scope: { ...payload.scope, input: payload.scope.input }
      }
      const tag = {
        runId: payload.parent,
        node: payload.key,
        name: payload.key,
        ...(payload.item === null ? {} : { item: payload.item })
      }
      return yield* Activity.make({
        name: "run",
        success: Outcome,
        execute: runWork({ node, received: request.received, scope: request.scope, tag, emit })
      })
    }) as Effect.Effect<Outcome>
  )

  const layer = (options.distributed === true ? Layer.mergeAll(runLayer, nodeLayer) : runLayer) as Layer.Layer<
    never,
    never,
    WorkflowEngine.WorkflowEngine | R
  >

  const validated = (input: In) =>
    Effect.flatMap(compile(workflow), (plan) =>
      plan.input === undefined ? Effect.void : plan.input.encode(input).pipe(
        Effect.asVoid,
        Effect.mapError((e) =>
          new WorkflowError({ reason: "InvalidInput", workflow: workflow.name, description: e.message, problems: [] })
        )
      ))

  return {
    workflow,
    definition,
    layer,
    execute: (input, { key }) =>
      Effect.andThen(
        validated(input),
        definition.execute(payload(key, input) as never) as Effect.Effect<WorkflowResult, never, WorkflowEngine.WorkflowEngine>
      ),
    start: (input, { key }) =>
      Effect.andThen(
        validated(input),
        definition.execute(payload(key, input) as never, { discard: true }) as Effect.Effect<string, never, WorkflowEngine.WorkflowEngine>
      ),
    poll: (executionId) =>
      Effect.flatMap(definition.poll(executionId), (result) => {
        if (Option.isNone(result) || result.value._tag === "Suspended") return Effect.succeed(Option.none())
        return Effect.map(result.value.exit, Option.some)
      }) as Effect.Effect<Option.Option<WorkflowResult>, never, WorkflowEngine.WorkflowEngine>,
    executionId: (key) => executionIdOf(name, key),
    signal: ({ executionId, node, value }) =>
      Effect.flatMap(Effect.orDie(compile(workflow)), (plan) => {
        const i = plan.byRef.get(node)
        const deferred = signalDeferred(i === undefined ? node : plan.nodes[i]!.node.id)
        return DurableDeferred.succeed(deferred, {
          token: DurableDeferred.tokenFromExecutionId(deferred, { workflow: definition, executionId }),
          value
        })
      }),
    interrupt: (executionId) => definition.interrupt(executionId)
  }
}

// ============================================================================
// Layers
// ============================================================================

/**
 * The embedded engine: runs durable workflows in process, with no database (nothing survives the process).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemory: Layer.Layer<WorkflowEngine.WorkflowEngine> = WorkflowEngine.layerMemory
