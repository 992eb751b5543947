/**
 * @internal The run loop: ready-set scheduling over a compiled plan. One coordinator fiber owns the run's state;
 * every node runs in a fiber of its own and reports its outcome through a queue, so a node starts as soon as its
 * parents have finished. Units of work go through a `Journal`: direct calls in memory, effect/workflow activities
 * on a durable run, child workflows on a distributed one.
 */
import { Cause, Clock, type Duration, Effect, Exit, Fiber, Metric, Queue, Semaphore } from "effect"
import type { ExecutionProfile } from "../../resilience/ExecutionProfile.ts"
import * as GenAi from "../../telemetry/GenAi.ts"
import * as Telemetry from "../../telemetry/Telemetry.ts"
import type { WorkflowEvent } from "../WorkflowEvent.ts"
import type * as WorkflowNode from "../WorkflowNode.ts"
import type { NodeResult, SkipReason, WorkflowResult } from "../WorkflowResult.ts"
import type { Plan, PlanNode } from "./plan.ts"
import * as Template from "./template.ts"
import { errorMessage, type Outcome, runWork, type Tag } from "./work.ts"

/** @internal What a unit of work needs to be run again elsewhere (a distributed runner). */
export interface UnitRequest {
  /** Node ids from the root workflow down through subworkflows. */
  readonly path: ReadonlyArray<string>
  /** Set for an item of a map. */
  readonly item: number | undefined
  readonly received: unknown
  readonly scope: Template.Scope
}

/** @internal Where units of work, waits and signals go. */
export interface Journal {
  readonly unit: (key: string, request: UnitRequest, local: Effect.Effect<Outcome, never, any>) => Effect.Effect<Outcome, never, any>
  readonly sleep: (key: string, duration: Duration.Duration) => Effect.Effect<void, never, any>
  readonly signal: (key: string, node: WorkflowNode.SignalNode) => Effect.Effect<unknown, never, any>
}

/** @internal */
export const directJournal = (signal: Journal["signal"]): Journal => ({
  unit: (_key, _request, local) => local,
  sleep: (_key, duration) => Effect.sleep(duration),
  signal
})

/** @internal Concurrency limits of a run (shared with its subworkflows). */
export interface Limits {
  readonly total: Semaphore.Semaphore | undefined
  readonly kinds: ReadonlyMap<WorkflowNode.Kind, Semaphore.Semaphore>
  readonly mapConcurrency: number
}

/** @internal */
export const makeLimits = (
  total: number | undefined,
  kinds: Partial<Record<WorkflowNode.Kind, number>>,
  mapConcurrency: number
): Limits => ({
  total: total === undefined || !Number.isFinite(total) ? undefined : Semaphore.makeUnsafe(total),
  kinds: new Map(
    Object.entries(kinds).filter(([, n]) => n !== undefined && Number.isFinite(n)).map(([k, n]) => [
      k as WorkflowNode.Kind,
      Semaphore.makeUnsafe(n!)
    ])
  ),
  mapConcurrency
})

/** @internal */
export interface RunContext {
  readonly runId: string
  readonly journal: Journal
  readonly limits: Limits
  readonly failurePolicy: "failFast" | "continue"
  readonly emit: ((event: WorkflowEvent) => Effect.Effect<void>) | undefined
  /** Prefix of journal keys and event node ids (subworkflows). */
  readonly prefix: string
  /** Node ids above this run (subworkflows), for unit requests. */
  readonly path: ReadonlyArray<string>
  readonly vars: Readonly<Record<string, unknown>> | undefined
  readonly profile: ExecutionProfile
}

const withPermits = <A, E, R>(limits: Limits, kind: WorkflowNode.Kind, self: Effect.Effect<A, E, R>) => {
  const kindLimit = limits.kinds.get(kind)
  const inner = kindLimit === undefined ? self : Semaphore.withPermit(kindLimit, self)
  return limits.total === undefined ? inner : Semaphore.withPermit(limits.total, inner)
}

interface Completion {
  readonly index: number
  readonly exit: Exit.Exit<Outcome>
}

const PENDING = 0
const QUEUED = 1
const SETTLED = 2

/** @internal Runs a plan on an input (in its JSON form). Interruption (or a node's suspension) propagates. */
export const runPlan = (plan: Plan, input: unknown, ctx: RunContext): Effect.Effect<WorkflowResult, never, any> =>
  Effect.gen(function*() {
    const { emit, journal, limits, prefix, runId } = ctx
    const workflow = plan.workflow.name
    const nodes = plan.nodes
    const n = nodes.length
    const startedAt = yield* Clock.currentTimeMillis
    const results: Array<NodeResult | undefined> = new Array(n)
    const outputs: Record<string, unknown> = {}
    const vars: Record<string, unknown> = { ...plan.workflow.vars, ...ctx.vars }
    const remaining = nodes.map((p) => p.parents.length)
    const state = new Uint8Array(n)
    const chosen: Array<ReadonlySet<string> | undefined> = new Array(n)
    const trigger: Array<number | undefined> = new Array(n)
    const completions = yield* Queue.unbounded<Completion>()
    const running = new Map<number, Fiber.Fiber<void>>()
    const scope: Template.Scope = { input, outputs, vars }
    let settled = 0
    let failed = false
    let stopped = false
    let inputTokens = 0
    let outputTokens = 0

    const tagOf = (p: PlanNode, item?: number): Tag => ({
      runId,
      node: prefix + p.node.id,
      name: prefix + p.node.name,
      ...(item === undefined ? {} : { item })
    })

    // An edge into `to` carries data when its source succeeded and, for a condition, was a chosen branch.
    const active = (to: PlanNode): Array<number> => {
      const out: Array<number> = []
      for (const { branch, from } of to.incoming) {
        if (results[from]?.status !== "succeeded") continue
        const branches = chosen[from]
        if (branches === undefined || branches.has(branch)) out.push(from)
      }
      return out
    }

    const received = (p: PlanNode): unknown => {
      if (p.node.kind === "join" && p.node.mode === "any") {
        const from = trigger[p.index]!
        return { from: nodes[from]!.node.name, output: outputs[nodes[from]!.node.name] }
      }
      if (p.parents.length === 0) return input
      const sources = active(p)
      if (sources.length === 1 && p.node.kind !== "join") return outputs[nodes[sources[0]!]!.node.name]
      return Object.fromEntries(sources.map((s) => [nodes[s]!.node.name, outputs[nodes[s]!.node.name]]))
    }

    // ---- node bodies -------------------------------------------------------------------------------------------

    const started = (p: PlanNode, item?: number) =>
      emit === undefined
        ? Effect.void
        : Effect.flatMap(Clock.currentTimeMillis, (at) => emit({ ...tagOf(p, item), type: "node-started", kind: p.node.kind, at }))

    const unit = (p: PlanNode, key: string, request: UnitRequest, tag: Tag) =>
      journal.unit(key, request, runWork({ node: p, received: request.received, scope: request.scope, tag, emit }))

    const timed = (body: Effect.Effect<Omit<Outcome, "startedAt" | "finishedAt" | "attempts">, never, any>) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const outcome = yield* body
        return { ...outcome, attempts: 1, startedAt: start, finishedAt: yield* Clock.currentTimeMillis } as Outcome
      })

    const body = (p: PlanNode): Effect.Effect<Outcome, never, any> => {
      const node = p.node
      const key = prefix + node.id
      switch (node.kind) {
        case "agent":
        case "transform":
        case "condition": {
          const value = p.from === undefined ? received(p) : Template.render(p.from, scope)
          const request: UnitRequest = { path: [...ctx.path, node.id], item: undefined, received: value, scope }
          return withPermits(limits, node.kind, Effect.andThen(started(p), unit(p, key, request, tagOf(p))))
        }
        case "join":
          return Effect.andThen(started(p), timed(Effect.sync(() => ({ ok: true, output: received(p) }))))
        case "delay":
          return Effect.andThen(
            started(p),
            timed(Effect.as(journal.sleep(key, node.duration), { ok: true, output: received(p) }))
          )
        case "signal":
          return Effect.andThen(
            started(p),
            timed(Effect.flatMap(journal.signal(key, node), (value) =>
              // The value is checked against the node's Schema in its JSON form, and kept in that form.
              p.input === undefined ? Effect.succeed({ ok: true, output: value }) : p.input.decode(value).pipe(
                Effect.as({ ok: true, output: value }),
                Effect.catch((e) => Effect.succeed({ ok: false, error: errorMessage(e) }))
              )))
          )
        case "map":
          return Effect.andThen(started(p), timed(runMap(p, key)))
        case "subworkflow":
          return Effect.andThen(started(p), timed(runSub(p, key)))
      }
    }

    const runMap = (p: PlanNode, key: string) =>
      Effect.gen(function*() {
        const node = p.node as WorkflowNode.MapNode
        const each = p.each!
        const items = Template.render(p.items!, scope)
        if (!Array.isArray(items)) {
          return { ok: false, error: `map ${node.name}: items is not a list (${typeof items})` }
        }
        let usageIn = 0
        let usageOut = 0
        const run = Effect.forEach(items, (item, index) => {
          const itemScope: Template.Scope = { input, outputs, vars, item, index }
          const value = each.from === undefined ? item : Template.render(each.from, itemScope)
          const request: UnitRequest = { path: [...ctx.path, node.id], item: index, received: value, scope: itemScope }
          const tag = tagOf(p, index)
          return withPermits(
            limits,
            each.node.kind,
            Effect.gen(function*() {
              if (emit !== undefined) {
                yield* emit({ ...tag, type: "node-started", kind: each.node.kind, at: yield* Clock.currentTimeMillis })
              }
              const outcome = yield* journal.unit(
                `${key}/${index}`,
                request,
                runWork({ node: each, received: value, scope: itemScope, tag, emit })
              )
              if (emit !== undefined) {
                yield* emit(
                  outcome.ok
                    ? {
                      ...tag,
                      type: "node-finished",
                      kind: each.node.kind,
                      result: {
                        id: each.node.id,
                        name: each.node.name,
                        kind: each.node.kind,
                        status: "succeeded",
                        ...(outcome.output === undefined ? {} : { output: outcome.output }),
                        attempts: outcome.attempts,
                        startedAt: outcome.startedAt,
                        finishedAt: outcome.finishedAt,
                        durationMs: outcome.finishedAt - outcome.startedAt,
                        ...(outcome.usage === undefined ? {} : { usage: outcome.usage })
                      }
                    }
                    : { ...tag, type: "node-failed", kind: each.node.kind, error: outcome.error ?? "failed", attempts: outcome.attempts }
                )
              }
              if (!outcome.ok) return yield* Effect.fail(`item ${index}: ${outcome.error}`)
              usageIn += outcome.usage?.inputTokens ?? 0
              usageOut += outcome.usage?.outputTokens ?? 0
              return outcome.output
            })
          )
        }, { concurrency: node.concurrency ?? limits.mapConcurrency })
        return yield* run.pipe(
          Effect.map((output) => ({ ok: true, output, usage: { inputTokens: usageIn, outputTokens: usageOut } })),
          Effect.catch((error) => Effect.succeed({ ok: false, error: `map ${node.name}: ${error}` }))
        )
      })

    const runSub = (p: PlanNode, key: string) =>
      Effect.gen(function*() {
        const sub = p.sub!
        const value = p.from === undefined ? received(p) : Template.render(p.from, scope)
        const result = yield* runPlan(sub, value, {
          ...ctx,
          prefix: `${key}/`,
          path: [...ctx.path, p.node.id],
          vars: undefined,
          emit: emit === undefined
            ? undefined
            : (event) => (event.type === "run-started" || event.type === "run-finished" ? Effect.void : emit(event))
        })
        const usage = result.usage
        return result.state === "succeeded"
          ? { ok: true, output: result.output, usage }
          : {
            ok: false,
            error: `subworkflow ${sub.workflow.name} failed: ${
              Object.values(result.nodes).filter((r) => r.status === "failed").map((r) => `${r.name}: ${r.error}`).join("; ")
            }`,
            usage
          }
      })

    // ---- scheduling --------------------------------------------------------------------------------------------

    const toStart: Array<number> = []
    const events: Array<WorkflowEvent> = []

    const settle = (i: number, result: NodeResult, event: WorkflowEvent | undefined) => {
      results[i] = result
      state[i] = SETTLED
      settled++
      if (event !== undefined && emit !== undefined) events.push(event)
      // Children are decided with an explicit work list: a chain of skipped nodes would overflow a recursion.
      const work = [i]
      while (work.length > 0) {
        const parent = work.pop()!
        for (const c of nodes[parent]!.children) {
          remaining[c]!--
          if (state[c] !== PENDING) continue
          const child = nodes[c]!
          const isAny = child.node.kind === "join" && child.node.mode === "any"
          if (isAny && results[parent]!.status === "succeeded" && active(child).includes(parent)) {
            trigger[c] = parent
            state[c] = QUEUED
            toStart.push(c)
            continue
          }
          if (remaining[c] !== 0) continue
          const upstreamFailed = child.parents.some((q) => {
            const s = results[q]!.status
            return s === "failed" || s === "interrupted" || (s === "skipped" && results[q]!.skipReason === "upstream-failed")
          })
          const sources = active(child)
          const reason: SkipReason | undefined = upstreamFailed && !isAny
            ? "upstream-failed"
            : sources.length === 0
            ? (upstreamFailed ? "upstream-failed" : "branch-not-taken")
            : undefined
          if (reason === undefined) {
            state[c] = QUEUED
            toStart.push(c)
            continue
          }
          results[c] = skippedResult(child, reason)
          state[c] = SETTLED
          settled++
          if (emit !== undefined) events.push({ ...tagOf(child), type: "node-skipped", kind: child.node.kind, reason })
          work.push(c)
        }
      }
    }

    const skippedResult = (p: PlanNode, reason: SkipReason): NodeResult => ({
      id: p.node.id,
      name: p.node.name,
      kind: p.node.kind,
      status: "skipped",
      skipReason: reason,
      attempts: 0
    })

    const flush = Effect.suspend(() => {
      if (emit === undefined || events.length === 0) return Effect.void
      const batch = events.splice(0, events.length)
      return Effect.forEach(batch, emit, { discard: true })
    })

    // Each node is a span `workflow.node <name>` (its status an attribute) and counts in the node metric.
    const traced = (p: PlanNode) =>
      body(p).pipe(
        Effect.tap((outcome) =>
          Effect.gen(function*() {
            const status = outcome.ok ? "succeeded" : "failed"
            yield* Effect.annotateCurrentSpan(GenAi.attributes.workflowNodeStatus, status)
            yield* Metric.update(
              Metric.withAttributes(Telemetry.metrics.workflowNodes, { workflow, kind: p.node.kind, status }),
              1
            )
          })
        ),
        Effect.withSpan(GenAi.spanNames.workflowNode(prefix + p.node.name), {
          attributes: {
            [GenAi.attributes.workflowName]: workflow,
            [GenAi.attributes.workflowRunId]: runId,
            [GenAi.attributes.workflowNode]: prefix + p.node.name,
            [GenAi.attributes.workflowNodeKind]: p.node.kind
          }
        })
      )

    const startQueued = Effect.suspend(() => {
      if (toStart.length === 0) return Effect.void
      const batch = toStart.splice(0, toStart.length)
      return Effect.forEach(batch, (i) =>
        Effect.map(
          Effect.forkChild(Effect.flatMap(Effect.exit(traced(nodes[i]!)), (exit) => Queue.offer(completions, { index: i, exit }))),
          (fiber) => {
            running.set(i, fiber as Fiber.Fiber<void>)
          }
        ), { discard: true })
    })

    const complete = (i: number, outcome: Outcome) => {
      const p = nodes[i]!
      const name = p.node.name
      const result: NodeResult = {
        id: p.node.id,
        name,
        kind: p.node.kind,
        status: outcome.ok ? "succeeded" : "failed",
        ...(outcome.ok ? (outcome.output === undefined ? {} : { output: outcome.output }) : { error: outcome.error ?? "failed" }),
        ...(outcome.branches === undefined ? {} : { branches: outcome.branches }),
        attempts: outcome.attempts,
        startedAt: outcome.startedAt,
        finishedAt: outcome.finishedAt,
        durationMs: outcome.finishedAt - outcome.startedAt,
        ...(outcome.usage === undefined ? {} : { usage: outcome.usage })
      }
      if (outcome.usage !== undefined) {
        inputTokens += outcome.usage.inputTokens
        outputTokens += outcome.usage.outputTokens
      }
      if (outcome.ok) {
        outputs[name] = outcome.output
        if (p.node.id !== name) outputs[p.node.id] = outcome.output
        if (outcome.vars !== undefined) Object.assign(vars, outcome.vars)
        if (p.node.saveAs !== undefined) vars[p.node.saveAs] = outcome.output
        if (outcome.branches !== undefined) chosen[i] = new Set(outcome.branches)
      } else {
        failed = true
      }
      settle(
        i,
        result,
        emit === undefined ? undefined : outcome.ok
          ? { ...tagOf(p), type: "node-finished", kind: p.node.kind, result }
          : { ...tagOf(p), type: "node-failed", kind: p.node.kind, error: result.error!, attempts: outcome.attempts }
      )
    }

    // Fail-fast: interrupt what runs, skip what has not started.
    const stop = Effect.gen(function*() {
      stopped = true
      // Nodes that finished before the stop keep their results.
      for (const { exit, index } of yield* Queue.clear(completions)) {
        if (!running.has(index) || !Exit.isSuccess(exit)) continue
        running.delete(index)
        complete(index, exit.value)
      }
      const fibers = [...running.entries()]
      running.clear()
      yield* Fiber.interruptAll(fibers.map(([, f]) => f))
      for (const [i] of fibers) {
        const p = nodes[i]!
        results[i] = { id: p.node.id, name: p.node.name, kind: p.node.kind, status: "interrupted", attempts: 1 }
        state[i] = SETTLED
        settled++
        if (emit !== undefined) events.push({ ...tagOf(p), type: "node-interrupted", kind: p.node.kind })
      }
      toStart.length = 0
      for (let i = 0; i < n; i++) {
        if (state[i] === SETTLED) continue
        results[i] = skippedResult(nodes[i]!, "run-stopped")
        state[i] = SETTLED
        settled++
        if (emit !== undefined) events.push({ ...tagOf(nodes[i]!), type: "node-skipped", kind: nodes[i]!.node.kind, reason: "run-stopped" })
      }
    })

    if (emit !== undefined && prefix === "") yield* emit({ type: "run-started", runId, workflow, at: startedAt })
    for (const i of plan.entry) {
      state[i] = QUEUED
      toStart.push(i)
    }
    // Entry nodes that are not roots are started by the loop too; non-entry roots never run (validation rejects them).
    yield* startQueued
    while (settled < n) {
      const { exit, index } = yield* Queue.take(completions)
      if (!running.has(index)) continue // interrupted by `stop`
      running.delete(index)
      if (Exit.isFailure(exit)) {
        if (Cause.hasInterruptsOnly(exit.cause)) {
          // Not our doing: the run is being interrupted, or a durable run suspends (a signal, a long delay).
          yield* Fiber.interruptAll([...running.values()])
          return yield* Effect.interrupt
        }
        complete(index, { ok: false, error: errorMessage(Cause.squash(exit.cause)), attempts: 1, startedAt: 0, finishedAt: 0 })
      } else {
        complete(index, exit.value)
      }
      if (failed && ctx.failurePolicy === "failFast" && !stopped) yield* stop
      yield* flush
      if (!stopped) yield* startQueued
    }
    yield* flush

    const finishedAt = yield* Clock.currentTimeMillis
    const byName: Record<string, NodeResult> = {}
    for (const r of results) byName[r!.name] = r!
    const output = plan.outputNode !== undefined
      ? outputs[nodes[plan.outputNode]!.node.name]
      : plan.sinks.length === 1
      ? outputs[nodes[plan.sinks[0]!]!.node.name]
      : Object.fromEntries(
        plan.sinks.filter((s) => results[s]!.status === "succeeded").map((s) => [nodes[s]!.node.name, outputs[nodes[s]!.node.name]])
      )
    const result: WorkflowResult = {
      workflow,
      runId,
      state: failed ? "failed" : "succeeded",
      nodes: byName,
      ...(output === undefined ? {} : { output }),
      variables: Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined)),
      usage: { inputTokens, outputTokens },
      startedAt,
      finishedAt,
      durationMs: finishedAt - startedAt
    }
    if (emit !== undefined && prefix === "") {
      yield* emit({
        type: "run-finished",
        runId,
        workflow,
        state: result.state,
        durationMs: result.durationMs,
        usage: result.usage,
        result
      })
    }
    return result
  }).pipe((self) =>
    ctx.prefix === ""
      ? Effect.withSpan(self, GenAi.spanNames.workflowRun(plan.workflow.name), {
        attributes: { [GenAi.attributes.workflowName]: plan.workflow.name, [GenAi.attributes.workflowRunId]: ctx.runId }
      })
      : self
  )
