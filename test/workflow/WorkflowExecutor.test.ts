// The executor: failure policies, map fan-out limits and order, retries and timeouts on the test clock,
// interruption reaching model calls, per-kind limits from the execution profile, signals, subworkflows, stats.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Latch, Layer, Queue, Ref, Schema, Stream } from "effect"
import { LanguageModel } from "effect/ai"
import { TestClock } from "effect/testing"
import * as ExecutionProfile from "../../src/resilience/ExecutionProfile.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as ToolRegistry from "../../src/tools/ToolRegistry.ts"
import * as Workflow from "../../src/workflow/Workflow.ts"
import type { WorkflowEvent } from "../../src/workflow/WorkflowEvent.ts"
import * as WorkflowExecutor from "../../src/workflow/WorkflowExecutor.ts"
import * as WorkflowNode from "../../src/workflow/WorkflowNode.ts"
import * as WorkflowResult from "../../src/workflow/WorkflowResult.ts"
import { modelReplying, recorder, summary } from "./support.ts"
import * as ScriptedModel from "../agent/ScriptedModel.ts"

const ok = (name: string, value: unknown = name) => WorkflowNode.transform(name, { run: () => Effect.succeed(value) })

// A model whose streamText calls count how many run at once, each taking `ms` of real time.
const countingModel = (ms: number) => {
  let current = 0
  let max = 0
  const layer = Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: () => Effect.succeed([]),
      streamText: () =>
        Stream.fromEffect(
          Effect.acquireUseRelease(
            Effect.sync(() => (max = Math.max(max, ++current))),
            () => Effect.sleep(`${ms} millis`),
            () => Effect.sync(() => current--)
          )
        ).pipe(
          Stream.flatMap(() =>
            Stream.make(
              { type: "text-delta" as const, id: "t", delta: "ok" },
              { type: "finish" as const, reason: "stop" as const, usage: { inputTokens: { total: 1 }, outputTokens: { total: 1 } } }
            )
          )
        )
    })
  )
  return { layer, max: () => max }
}

describe("WorkflowExecutor", () => {
  it.effect("failFast: a failure interrupts the running sibling and skips what has not started", () =>
    Effect.gen(function*() {
      const slowStarted = Latch.makeUnsafe(false)
      const slowInterrupted = yield* Ref.make(false)
      const workflow = Workflow.make("fail-fast").pipe(
        Workflow.add(
          WorkflowNode.transform("slow", {
            run: () =>
              Effect.andThen(slowStarted.open, Effect.never).pipe(Effect.onInterrupt(() => Ref.set(slowInterrupted, true)))
          }),
          WorkflowNode.transform("bad", { run: () => Effect.andThen(slowStarted.await, Effect.fail("boom")) }),
          ok("afterSlow"),
          ok("afterBad")
        ),
        Workflow.connect("slow", "afterSlow"),
        Workflow.connect("bad", "afterBad")
      )
      const { events, onEvent } = yield* recorder
      const result = yield* WorkflowExecutor.execute(workflow, undefined, { onEvent })
      assert.strictEqual(result.state, "failed")
      assert.strictEqual(result.nodes.bad!.status, "failed")
      assert.strictEqual(result.nodes.bad!.error, "boom")
      assert.strictEqual(result.nodes.slow!.status, "interrupted")
      assert.isTrue(yield* Ref.get(slowInterrupted))
      assert.strictEqual(result.nodes.afterSlow!.skipReason, "run-stopped")
      assert.strictEqual(result.nodes.afterBad!.skipReason, "upstream-failed")
      assert.deepStrictEqual((yield* events).map(summary), [
        "run-started",
        "started slow",
        "started bad",
        "failed bad",
        "skipped afterBad (upstream-failed)",
        "interrupted slow",
        "skipped afterSlow (run-stopped)",
        "run-finished failed"
      ])
    }))

  it.effect("continue: the failed node's dependents are skipped, the independent branch finishes", () =>
    Effect.gen(function*() {
      const workflow = Workflow.make("continue").pipe(
        Workflow.add(
          WorkflowNode.transform("bad", { run: () => Effect.fail(new Error("no data")) }),
          ok("dependent"),
          ok("alsoDependent"),
          WorkflowNode.transform("independent", { run: () => Effect.as(Effect.sleep("1 second"), 1) }),
          WorkflowNode.transform("next", { input: Schema.Int, run: (n) => Effect.succeed(n + 1) })
        ),
        Workflow.chain("bad", "dependent", "alsoDependent"),
        Workflow.chain("independent", "next")
      )
      const fiber = yield* WorkflowExecutor.execute(workflow, undefined, { failurePolicy: "continue" }).pipe(Effect.forkChild)
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.state, "failed")
      assert.strictEqual(result.nodes.bad!.error, "no data")
      assert.deepStrictEqual(WorkflowResult.nodesWith(result, "skipped"), ["dependent", "alsoDependent"])
      assert.strictEqual(result.nodes.alsoDependent!.skipReason, "upstream-failed")
      assert.deepStrictEqual(WorkflowResult.outputs(result), { independent: 1, next: 2 })
    }))

  it.live("map: 50 items, at most 4 at once, outputs in item order", () =>
    Effect.gen(function*() {
      let current = 0
      let max = 0
      const items = Array.from({ length: 50 }, (_, i) => i)
      const workflow = Workflow.make("map", { input: Schema.Struct({ items: Schema.Array(Schema.Int) }) }).pipe(
        Workflow.add(
          WorkflowNode.map("double", {
            items: "{{input.items}}",
            concurrency: 4,
            each: WorkflowNode.transform("item", {
              input: Schema.Int,
              run: (n) =>
                Effect.acquireUseRelease(
                  Effect.sync(() => (max = Math.max(max, ++current))),
                  // Later items finish sooner, so completion order differs from item order.
                  () => Effect.as(Effect.sleep(`${1 + ((50 - n) % 7)} millis`), n * 2),
                  () => Effect.sync(() => current--)
                )
            })
          })
        )
      )
      const { events, onEvent } = yield* recorder
      const result = yield* WorkflowExecutor.execute(workflow, { items }, { onEvent })
      assert.strictEqual(result.state, "succeeded")
      assert.deepStrictEqual(result.nodes.double!.output, items.map((n) => n * 2))
      assert.strictEqual(max, 4)
      const started = (yield* events).filter((e) => e.type === "node-started" && e.item !== undefined)
      assert.strictEqual(started.length, 50)
    }))

  it.effect("retry with backoff, then a timeout that fails after its retry (test clock)", () =>
    Effect.gen(function*() {
      let calls = 0
      const workflow = Workflow.make("retry").pipe(
        Workflow.add(
          WorkflowNode.transform("flaky", {
            retry: { times: 3, delay: "1 second" },
            run: () => (++calls < 3 ? Effect.fail(`attempt ${calls} failed`) : Effect.succeed(calls))
          }),
          WorkflowNode.transform("stuck", { timeout: "5 seconds", retry: { times: 1, delay: "1 second" }, run: () => Effect.never })
        ),
        Workflow.chain("flaky", "stuck")
      )
      const events = yield* Queue.unbounded<WorkflowEvent>()
      const fiber = yield* WorkflowExecutor.execute(workflow, undefined, {
        failurePolicy: "continue",
        onEvent: (e) => Effect.asVoid(Queue.offer(events, e))
      }).pipe(Effect.forkChild)
      // Moves the clock by `ms` once the event `type` of `name` was seen (the node then waits on the clock).
      const when = (type: WorkflowEvent["type"], name: string, ms: number) =>
        Effect.gen(function*() {
          while (true) {
            const e = yield* Queue.take(events)
            if (e.type === type && "name" in e && e.name === name) break
          }
          yield* TestClock.adjust(`${ms} millis`)
        })
      yield* when("node-retried", "flaky", 1000)
      yield* when("node-retried", "flaky", 2000)
      yield* when("node-started", "stuck", 5000)
      yield* when("node-retried", "stuck", 1000)
      yield* TestClock.adjust("5 seconds")
      const result = yield* Fiber.join(fiber)
      const flaky = result.nodes.flaky!
      assert.strictEqual(flaky.status, "succeeded")
      assert.strictEqual(flaky.output, 3)
      assert.strictEqual(flaky.attempts, 3)
      assert.strictEqual(flaky.durationMs, 3000) // 1 s, then 2 s of backoff
      const stuck = result.nodes.stuck!
      assert.strictEqual(stuck.status, "failed")
      assert.strictEqual(stuck.attempts, 2)
      assert.match(stuck.error!, /timed out/)
      assert.strictEqual(stuck.durationMs, 11_000) // 5 s, 1 s, 5 s
    }))

  it.effect("interrupting a run interrupts its nodes and their model calls", () =>
    Effect.gen(function*() {
      const calling = yield* Deferred.make<void>()
      const interrupted = yield* Ref.make(false)
      const model = Layer.effect(
        LanguageModel.LanguageModel,
        LanguageModel.make({
          generateText: () => Effect.succeed([]),
          streamText: () =>
            Stream.fromEffect(
              Effect.andThen(Deferred.succeed(calling, undefined), Effect.never).pipe(
                Effect.onInterrupt(() => Ref.set(interrupted, true))
              )
            )
        })
      )
      const workflow = Workflow.make("interrupt").pipe(
        Workflow.add(WorkflowNode.agent("writer", { prompt: "Write a book." }), ok("after")),
        Workflow.connect("writer", "after")
      )
      const handle = yield* WorkflowExecutor.start(workflow, undefined).pipe(Effect.provide(model))
      yield* Deferred.await(calling)
      yield* handle.interrupt
      assert.isTrue(yield* Ref.get(interrupted))
      const exit = yield* Effect.exit(handle.result)
      assert.isTrue(Exit.hasInterrupts(exit))
    }))

  it.live("agents at once follow the execution profile: MemoryOptimized one, HighThroughput all three", () =>
    Effect.gen(function*() {
      const workflow = Workflow.make("profiles").pipe(
        Workflow.add(
          ...["a", "b", "c"].map((name) => WorkflowNode.agent(name, { prompt: `Part ${name}` })),
          WorkflowNode.join("all")
        ),
        Workflow.connect("a", "all"),
        Workflow.connect("b", "all"),
        Workflow.connect("c", "all")
      )
      const small = countingModel(20)
      const r1 = yield* WorkflowExecutor.execute(workflow, undefined).pipe(
        Effect.provide([small.layer, ExecutionProfile.layer(ExecutionProfile.MemoryOptimized)])
      )
      assert.strictEqual(r1.state, "succeeded")
      assert.strictEqual(small.max(), 1)
      assert.deepStrictEqual(WorkflowExecutor.limits(ExecutionProfile.MemoryOptimized).kinds, { agent: 1 })

      const big = countingModel(20)
      yield* WorkflowExecutor.execute(workflow, undefined).pipe(
        Effect.provide([big.layer, ExecutionProfile.layer({ ...ExecutionProfile.HighThroughput, concurrency: 8 })])
      )
      assert.strictEqual(big.max(), 3)
    }))

  it.effect("a signal node waits for the value sent to the run; join any starts at the first parent", () =>
    Effect.gen(function*() {
      const workflow = Workflow.make("approval").pipe(
        Workflow.add(
          ok("draft", "text"),
          WorkflowNode.signal("approve", { schema: Schema.Struct({ approved: Schema.Boolean }) }),
          WorkflowNode.transform("publish", {
            input: Schema.Struct({ approved: Schema.Boolean }),
            run: ({ approved }) => Effect.succeed(approved ? "published" : "dropped")
          }),
          WorkflowNode.delay("timeout", { duration: "1 hour" }),
          WorkflowNode.join("first", { mode: "any" })
        ),
        Workflow.chain("draft", "approve", "publish", "first"),
        Workflow.connect("draft", "timeout"),
        Workflow.connect("timeout", "first")
      )
      const waiting = yield* Deferred.make<void>()
      const handle = yield* WorkflowExecutor.start(workflow, undefined, {
        onEvent: (e) => (e.type === "node-started" && e.name === "timeout" ? Deferred.succeed(waiting, undefined) : Effect.void)
      })
      yield* handle.signal("approve", { approved: true })
      yield* Deferred.await(waiting) // the delay node is on the clock now
      yield* TestClock.adjust("1 hour")
      const result = yield* handle.result
      assert.deepStrictEqual(result.nodes.approve!.output, { approved: true })
      assert.deepStrictEqual(result.nodes.first!.output, { from: "publish", output: "published" })
      assert.strictEqual(result.nodes.timeout!.status, "succeeded")
    }))

  it.effect("a subworkflow runs as one node, its nodes' events tagged with it", () => {
    const model = modelReplying((prompt) => ({ text: `summary of ${prompt.length} chars` }))
    return Effect.gen(function*() {
      const Summarize = Workflow.make("summarize", { input: Schema.Struct({ text: Schema.String }) }).pipe(
        Workflow.add(
          WorkflowNode.agent("write", { prompt: "Summarize: {{input.text}}" }),
          WorkflowNode.transform("shout", { input: Schema.String, run: (s) => Effect.succeed(s.toUpperCase()) })
        ),
        Workflow.chain("write", "shout")
      )
      const Outer = Workflow.make("outer").pipe(
        Workflow.add(
          ok("fetch", { text: "abcdef" }),
          WorkflowNode.subworkflow("sum", { workflow: Summarize })
        ),
        Workflow.chain("fetch", "sum")
      )
      const { events, onEvent } = yield* recorder
      const result = yield* WorkflowExecutor.execute(Outer, undefined, { onEvent })
      assert.strictEqual(result.nodes.sum!.output, "SUMMARY OF 17 CHARS")
      assert.deepStrictEqual(result.usage, { inputTokens: 10, outputTokens: 5 })
      assert.deepStrictEqual((yield* events).map(summary).filter((s) => s.includes("sum")), [
        "started sum",
        "started sum/write",
        "delta sum/write summary of",
        "delta sum/write  17 chars",
        "finished sum/write",
        "started sum/shout",
        "finished sum/shout",
        "finished sum"
      ])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("stats across runs: counts, success rate, average and p95 duration", () =>
    Effect.gen(function*() {
      const workflow = (fail: boolean) =>
        Workflow.make("stats-demo").pipe(
          Workflow.add(
            WorkflowNode.transform("work", {
              input: Schema.Int,
              run: (seconds) => Effect.andThen(Effect.sleep(`${seconds} seconds`), fail ? Effect.fail("no") : Effect.void)
            })
          )
        )
      for (const [seconds, fail] of [[1, false], [2, false], [3, true]] as const) {
        const fiber = yield* WorkflowExecutor.execute(workflow(fail), seconds as never).pipe(Effect.forkChild)
        yield* Effect.yieldNow
        yield* TestClock.adjust(`${seconds} seconds`)
        yield* Fiber.join(fiber)
      }
      const stats = yield* WorkflowExecutor.stats("stats-demo")
      assert.strictEqual(stats.total, 3)
      assert.strictEqual(stats.succeeded, 2)
      assert.strictEqual(stats.failed, 1)
      assert.closeTo(stats.successRate, 2 / 3, 1e-9)
      assert.strictEqual(stats.averageMs, 2000)
      assert.isAtLeast(stats.p95Ms, 2000)
      assert.isAtMost(stats.p95Ms, 3000)
      const all = yield* WorkflowExecutor.stats()
      assert.isAtLeast(all.total, 3)
    }))

  it.effect("agent nodes: a model of their own, a ToolRegistry, structured output; edges by id", () =>
    Effect.gen(function*() {
      // The classifier runs on its own model (a service value): the workflow needs no LanguageModel for it.
      const classifierModel = modelReplying(() => ({ text: '{"category":"billing"}' }))
      const classifier = yield* Effect.provide(Effect.service(LanguageModel.LanguageModel), classifierModel.layer)
      const registry = yield* ToolRegistry.make
      yield* registry.register(
        AgentTool.make("Refund", {
          description: "Refund an amount",
          parameters: Schema.Struct({ cents: Schema.Int }),
          success: Schema.Struct({ refunded: Schema.Int }),
          handler: ({ cents }) => Effect.succeed({ refunded: cents })
        })
      )
      // The helper calls the tool on its first turn, then answers.
      const helperModel = ScriptedModel.make(ScriptedModel.sequence(
        { calls: [{ name: "Refund", params: { cents: 500 } }] },
        { text: "Refunded 5.00." }
      ))
      const helper = yield* Effect.provide(Effect.service(LanguageModel.LanguageModel), helperModel.layer)
      const Category = Schema.Struct({ category: Schema.Literals(["billing", "other"]) })
      const workflow = Workflow.make("agent-options").pipe(
        Workflow.add(
          WorkflowNode.agentWith("classify", { id: "c1", prompt: "Classify: refund please", model: classifier, output: Category }),
          WorkflowNode.agentWith("help", {
            id: "h1",
            prompt: "Help with {{nodes.c1.output.category}}",
            model: helper,
            tools: registry,
            maxSteps: 3,
            profile: ExecutionProfile.LowLatency
          })
        ),
        Workflow.connect("c1", "h1")
      )
      const { events, onEvent } = yield* recorder
      const result = yield* WorkflowExecutor.execute(workflow, undefined, { onEvent })
      assert.strictEqual(result.state, "succeeded")
      assert.deepStrictEqual(result.nodes.classify!.output, { category: "billing" })
      assert.strictEqual(result.nodes.help!.output, "Refunded 5.00.")
      assert.deepStrictEqual(result.nodes.help!.usage, { inputTokens: 20, outputTokens: 10 })
      const user = helperModel.requests[0]!.prompt.content.find((m) => m.role === "user")!
      assert.deepStrictEqual(user.content.map((p) => (p.type === "text" ? p.text : p.type)), ["Help with billing"])
      assert.deepStrictEqual(helperModel.requests[0]!.tools, ["Refund"])
      const calls = (yield* events).filter((e) => e.type === "agent-tool-call" || e.type === "agent-tool-result")
      assert.deepStrictEqual(calls.map(summary), ["tool-call help Refund", "tool-result help Refund"])
      assert.deepStrictEqual(calls.map((e) => e.node), ["h1", "h1"])
      const toolResult = calls[1]!
      assert.deepStrictEqual(toolResult.type === "agent-tool-result" ? toolResult.result : undefined, { refunded: 500 })
      assert.strictEqual((yield* registry.metrics("Refund")).calls, 1)
    }))
})
