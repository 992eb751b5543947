/**
 * Runs workflows in process: `execute` (to the result), `stream` (the events, the last one carrying the result),
 * `start` (a handle to await, interrupt or signal the run). A node starts as soon as its parents have finished;
 * concurrency is bounded overall and per node kind, from the execution profile in context (see `limits`).
 *
 * **Details**
 *
 * - Failure policy `failFast` (default): the first failed node interrupts the running ones and skips the rest;
 *   `continue`: only the nodes downstream of the failure are skipped, the independent branches finish.
 * - Node failures are in the result (`state: "failed"`), not errors of the Effect; the Effect fails only when the
 *   run cannot start (`WorkflowError`: an invalid graph or input).
 * - Interrupting the run interrupts its nodes, and with them their model calls.
 * - Every run counts in `WorkflowStats`.
 *
 * @since 0.2.0
 */
import { Context, Deferred, Effect, Fiber, Layer, Queue, type Scope, Stream } from "effect"
import { CurrentExecutionProfile, type ExecutionProfile } from "../resilience/ExecutionProfile.ts"
import { directJournal, makeLimits, runPlan } from "./internal/engine.ts"
import { compile } from "./internal/plan.ts"
import type * as Workflow from "./Workflow.ts"
import { WorkflowError } from "./WorkflowError.ts"
import type { WorkflowEvent } from "./WorkflowEvent.ts"
import type { Kind } from "./WorkflowNode.ts"
import type { WorkflowResult } from "./WorkflowResult.ts"
import * as WorkflowStats from "./WorkflowStats.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * Concurrency limits of a run.
 *
 * @category models
 * @since 0.2.0
 */
export interface Limits {
  /** Work nodes (agent, transform, condition, map items) running at once, over all kinds. */
  readonly total: number
  /** Per kind; a kind not listed is bounded by `total` only. */
  readonly kinds: Partial<Record<Kind, number>>
  /** Items a map runs at once unless the node says otherwise. */
  readonly map: number
}

/**
 * The limits an execution profile implies: agents (model calls) at the profile's `concurrency`, all work nodes at
 * four times that, maps at `concurrency` items at once. So `MemoryOptimized` runs one agent at a time and
 * `HighThroughput` four times as many as cores.
 *
 * @category configuration
 * @since 0.2.0
 */
export const limits = (profile: ExecutionProfile): Limits => ({
  total: 4 * profile.concurrency,
  kinds: { agent: profile.concurrency },
  map: profile.concurrency
})

/**
 * Options of a run.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** Default `failFast`. */
  readonly failurePolicy?: "failFast" | "continue"
  /** Overrides the profile's total limit (`Infinity` for none). */
  readonly concurrency?: number
  /** Overrides per-kind limits. */
  readonly kindConcurrency?: Partial<Record<Kind, number>>
  /** Overrides the default item concurrency of maps. */
  readonly mapConcurrency?: number
  /** Variables on top of the workflow's own. */
  readonly vars?: Readonly<Record<string, unknown>>
  /** Hears every event as it happens (the run waits for it). */
  readonly onEvent?: (event: WorkflowEvent) => Effect.Effect<void>
  /** Default: a random id. */
  readonly runId?: string
}

/**
 * A run in progress.
 *
 * @category models
 * @since 0.2.0
 */
export interface RunHandle {
  readonly runId: string
  readonly result: Effect.Effect<WorkflowResult>
  /** Sends a value to a `signal` node, by name or id (before or while it waits). */
  readonly signal: (node: string, value: unknown) => Effect.Effect<void>
  readonly interrupt: Effect.Effect<void>
}

// ============================================================================
// Running
// ============================================================================

let runCounter = 0
const newRunId = () => `run-${Date.now().toString(36)}-${(++runCounter).toString(36)}`

interface Prepared {
  readonly run: Effect.Effect<WorkflowResult, never, any>
  readonly runId: string
  readonly signal: (node: string, value: unknown) => Effect.Effect<void>
}

const prepare = <In, R>(
  workflow: Workflow.Workflow<In, R, any>,
  input: In,
  options: Options
): Effect.Effect<Prepared, WorkflowError> =>
  Effect.gen(function*() {
    const plan = yield* compile(workflow)
    const encoded = plan.input === undefined ? input : yield* plan.input.encode(input).pipe(
      Effect.mapError((error) =>
        new WorkflowError({ reason: "InvalidInput", workflow: workflow.name, description: error.message, problems: [] })
      )
    )
    const profile = yield* CurrentExecutionProfile
    const defaults = limits(profile)
    const signals = new Map<string, Deferred.Deferred<unknown>>()
    const gate = (key: string) => {
      let deferred = signals.get(key)
      if (deferred === undefined) signals.set(key, deferred = Deferred.makeUnsafe<unknown>())
      return deferred
    }
    const runId = options.runId ?? newRunId()
    const run = runPlan(plan, encoded, {
      runId,
      journal: directJournal((key) => Deferred.await(gate(key))),
      limits: makeLimits(
        options.concurrency ?? defaults.total,
        { ...defaults.kinds, ...options.kindConcurrency },
        options.mapConcurrency ?? defaults.map
      ),
      failurePolicy: options.failurePolicy ?? "failFast",
      emit: options.onEvent,
      prefix: "",
      path: [],
      vars: options.vars,
      profile
    }).pipe(Effect.tap(WorkflowStats.record))
    // A signal node by name or id (`<subworkflow>/<id>` inside a subworkflow).
    const keyOf = (node: string) => {
      const i = plan.byRef.get(node)
      return i === undefined ? node : plan.nodes[i]!.node.id
    }
    return { run, runId, signal: (node, value) => Effect.asVoid(Deferred.succeed(gate(keyOf(node)), value)) }
  })

/**
 * Runs a workflow to its result.
 *
 * @category constructors
 * @since 0.2.0
 */
export const execute = <In, R>(
  workflow: Workflow.Workflow<In, R, any>,
  input: In,
  options: Options = {}
): Effect.Effect<WorkflowResult, WorkflowError, R> =>
  Effect.flatMap(prepare(workflow, input, options), (prepared) => prepared.run)

/**
 * Starts a run in the current scope (closing the scope interrupts it) and returns its handle.
 *
 * @category constructors
 * @since 0.2.0
 */
export const start = <In, R>(
  workflow: Workflow.Workflow<In, R, any>,
  input: In,
  options: Options = {}
): Effect.Effect<RunHandle, WorkflowError, R | Scope.Scope> =>
  Effect.gen(function*() {
    const prepared = yield* prepare(workflow, input, options)
    const fiber = yield* Effect.forkScoped(prepared.run)
    return {
      runId: prepared.runId,
      result: Fiber.join(fiber),
      signal: prepared.signal,
      interrupt: Fiber.interrupt(fiber)
    }
  })

/**
 * The run's events as a Stream, ending with `run-finished` (which carries the result). Stopping the stream early
 * interrupts the run.
 *
 * @category constructors
 * @since 0.2.0
 */
export const stream = <In, R>(
  workflow: Workflow.Workflow<In, R, any>,
  input: In,
  options: Omit<Options, "onEvent"> = {}
): Stream.Stream<WorkflowEvent, WorkflowError, R> =>
  Stream.callback<WorkflowEvent, WorkflowError, R>(
    (queue) =>
      execute(workflow, input, { ...options, onEvent: (event) => Effect.asVoid(Queue.offer(queue, event)) }).pipe(
        Effect.andThen(Queue.end(queue))
      ),
    { bufferSize: 256, strategy: "suspend" }
  )

/**
 * The statistics of a workflow's runs (by name), or of all runs.
 *
 * @category getters
 * @since 0.2.0
 */
export const stats = (workflow?: string | Workflow.Any): Effect.Effect<WorkflowStats.Stats> =>
  WorkflowStats.get(typeof workflow === "string" || workflow === undefined ? workflow : workflow.name)

// ============================================================================
// Service
// ============================================================================

/**
 * An executor with default options, for programs that inject one.
 *
 * @category models
 * @since 0.2.0
 */
export interface Service {
  readonly execute: <In, R>(
    workflow: Workflow.Workflow<In, R, any>,
    input: In,
    options?: Options
  ) => Effect.Effect<WorkflowResult, WorkflowError, R>
  readonly stream: <In, R>(
    workflow: Workflow.Workflow<In, R, any>,
    input: In,
    options?: Omit<Options, "onEvent">
  ) => Stream.Stream<WorkflowEvent, WorkflowError, R>
  readonly start: <In, R>(
    workflow: Workflow.Workflow<In, R, any>,
    input: In,
    options?: Options
  ) => Effect.Effect<RunHandle, WorkflowError, R | Scope.Scope>
  readonly stats: (workflow?: string | Workflow.Any) => Effect.Effect<WorkflowStats.Stats>
}

/**
 * @category services
 * @since 0.2.0
 */
export class WorkflowExecutor extends Context.Service<WorkflowExecutor, Service>()("effect-llama/WorkflowExecutor") {}

/**
 * An executor whose runs use `defaults` under their own options.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (defaults: Options = {}): Service =>
  WorkflowExecutor.of({
    execute: (workflow, input, options) => execute(workflow, input, { ...defaults, ...options }),
    stream: (workflow, input, options) => stream(workflow, input, { ...defaults, ...options }),
    start: (workflow, input, options) => start(workflow, input, { ...defaults, ...options }),
    stats
  })

/**
 * Provides a `WorkflowExecutor` with default options.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (defaults: Options = {}): Layer.Layer<WorkflowExecutor> => Layer.succeed(WorkflowExecutor, make(defaults))
