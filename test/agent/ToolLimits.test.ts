// Per-run tool limits on the scripted model: a tool past its time limit is reported as timed out and the run goes on
// or stops as configured; maxToolCalls stops a model that keeps calling; the same limits on a workflow agent node.
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as Agent from "../../src/agent/Agent.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as Workflow from "../../src/workflow/Workflow.ts"
import * as WorkflowExecutor from "../../src/workflow/WorkflowExecutor.ts"
import * as WorkflowNode from "../../src/workflow/WorkflowNode.ts"
import * as ScriptedModel from "./ScriptedModel.ts"

const Slow = AgentTool.make("Slow", {
  description: "Takes a minute",
  success: Schema.String,
  handler: () => Effect.as(Effect.sleep("1 minute"), "late")
})
const Fast = AgentTool.make("Fast", {
  description: "Answers at once",
  success: Schema.String,
  handler: () => Effect.succeed("quick")
})
let pings = 0
const Ping = AgentTool.make("Ping", {
  description: "Pong",
  success: Schema.Int,
  handler: () => Effect.sync(() => ++pings)
})

const slowThenFast = ScriptedModel.sequence(
  { calls: [{ name: "Slow", params: {} }, { name: "Fast", params: {} }] },
  { text: "done" }
)

// Runs an agent while moving the test clock past the tool limit.
const runWithClock = (agent: Agent.Service, advance: Duration.Input) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(Stream.runCollect(agent.stream("go")))
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const results = (events: ReadonlyArray<Agent.AgentEvent>) =>
  events.flatMap((e) => (e.type === "tool-result" ? [e] : []))

describe("tool limits", () => {
  it.effect("a tool past its time limit is reported as timed out; onError continue: the run goes on", () => {
    const model = ScriptedModel.make(slowThenFast)
    return Effect.gen(function*() {
      const agent = yield* Agent.make({
        tools: yield* AgentTool.toolkit(Slow, Fast),
        toolLimits: { timeout: "5 seconds", onError: "continue" }
      })
      const events = yield* runWithClock(agent, "5 seconds")
      const [slow, fast] = results(events)
      assert.isTrue(slow!.isFailure)
      assert.deepStrictEqual(slow!.result, {
        _tag: "ToolCallError",
        tool: "Slow",
        reason: "Timeout",
        description: "timed out after 5s"
      })
      assert.strictEqual(slow!.durationMs, 5000)
      assert.isFalse(fast!.isFailure)
      assert.strictEqual(fast!.result, "quick")
      const finished = events.at(-1)!
      assert.deepStrictEqual(finished.type === "finished" && [finished.reason, finished.steps, finished.text], ["stop", 2, "done"])
      assert.strictEqual(model.requests.length, 2) // the model saw the timeout and answered
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("onError stop: the run ends after the failed step, the step's remaining calls are not made", () => {
    const model = ScriptedModel.make(slowThenFast)
    return Effect.gen(function*() {
      const agent = yield* Agent.make({
        tools: yield* AgentTool.toolkit(Slow, Fast),
        toolLimits: { timeout: "5 seconds", onError: "stop" }
      })
      const events = yield* runWithClock(agent, "5 seconds")
      const [slow, fast] = results(events)
      assert.strictEqual((slow!.result as { reason: string }).reason, "Timeout")
      assert.strictEqual((fast!.result as { reason: string }).reason, "Skipped")
      const finished = events.at(-1)!
      assert.deepStrictEqual(finished.type === "finished" && [finished.reason, finished.steps], ["tool-error", 1])
      assert.strictEqual(model.requests.length, 1)
      // The history holds the step whole: a result for each call.
      const history = yield* agent.history
      assert.deepStrictEqual(history.content.map((m) => m.role), ["user", "assistant", "tool"])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("a failing handler with onError stop ends the run with tool-error", () => {
    const Broken = AgentTool.make("Broken", { description: "Always dies", handler: () => Effect.die("boom") })
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Broken", params: {} }] }, { text: "never" }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ tools: yield* AgentTool.toolkit(Broken), toolLimits: { onError: "stop" } })
      const result = yield* agent.generate("go")
      assert.strictEqual(result.reason, "tool-error")
      assert.isTrue(result.toolCalls[0]!.isFailure)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("maxToolCalls stops a model that keeps calling", () => {
    pings = 0
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Ping", params: {} }] }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ tools: yield* AgentTool.toolkit(Ping), maxSteps: 20, toolLimits: { maxToolCalls: 3 } })
      const result = yield* agent.generate("ping forever")
      assert.strictEqual(result.reason, "max-tool-calls")
      assert.strictEqual(result.steps, 4)
      assert.strictEqual(pings, 3, "three calls were made")
      assert.deepStrictEqual(result.toolCalls.map((c) => c.isFailure), [false, false, false, true])
      assert.strictEqual((result.toolCalls[3]!.result as { reason: string }).reason, "LimitReached")
      assert.strictEqual(model.requests.length, 4)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("maxToolCalls within one step: calls past the limit are not made", () => {
    pings = 0
    const model = ScriptedModel.make(ScriptedModel.sequence({
      calls: [{ name: "Ping", params: {} }, { name: "Ping", params: {} }, { name: "Ping", params: {} }]
    }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ tools: yield* AgentTool.toolkit(Ping), toolLimits: { maxToolCalls: 2 } })
      const result = yield* agent.generate("go")
      assert.strictEqual(result.reason, "max-tool-calls")
      assert.strictEqual(result.steps, 1)
      assert.strictEqual(pings, 2)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("a workflow agent node: onError stop fails the node, continue lets it finish", () => {
    const model = ScriptedModel.make((_, i) => (i % 2 === 0 ? { calls: [{ name: "Slow", params: {} }] } : { text: "answered" }))
    const flow = (onError: "stop" | "continue") =>
      Workflow.make(`limits-${onError}`).pipe(
        Workflow.add(WorkflowNode.agent("ask", {
          prompt: "go",
          tools: AgentTool.toolkit(Slow),
          toolLimits: { timeout: "1 second", onError },
          retry: { times: 0 }
        }))
      )
    return Effect.gen(function*() {
      const run = (onError: "stop" | "continue") =>
        Effect.gen(function*() {
          const fiber = yield* Effect.forkChild(WorkflowExecutor.execute(flow(onError), undefined))
          yield* TestClock.adjust("1 second")
          return yield* Fiber.join(fiber)
        })
      const stopped = yield* run("stop")
      assert.strictEqual(stopped.state, "failed")
      assert.include(stopped.nodes.ask!.error, "tool Slow failed")
      const continued = yield* run("continue")
      assert.strictEqual(continued.state, "succeeded")
      assert.strictEqual(continued.output, "answered")
    }).pipe(Effect.provide(model.layer))
  })
})
