// The graph and its semantics on a scripted model: a 6-node workflow with a condition and a join (order, skipped
// set, outputs, variables, the exact event sequence), and `validate` reporting every kind of problem at once.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Latch, Schema } from "effect"
import { TestClock } from "effect/testing"
import * as Workflow from "../../src/workflow/Workflow.ts"
import * as WorkflowExecutor from "../../src/workflow/WorkflowExecutor.ts"
import * as WorkflowJson from "../../src/workflow/WorkflowJson.ts"
import * as WorkflowNode from "../../src/workflow/WorkflowNode.ts"
import * as WorkflowResult from "../../src/workflow/WorkflowResult.ts"
import { modelReplying, recorder, summary } from "./support.ts"

const Question = Schema.Struct({ topic: Schema.String, urgent: Schema.Boolean })

// plan -> route (condition: quick | thorough) -> fast | deep;  plan -> facts (1 s);  fast, deep, facts -> merge
// `facts` opens `sleeping` as it starts its sleep, so the test knows when to move the test clock.
const sleeping = Latch.makeUnsafe(false)
const Triage = Workflow.make("triage", { input: Question, vars: { team: "research" } }).pipe(
  Workflow.add(
    WorkflowNode.transform("plan", {
      input: Question,
      output: Question,
      run: (q, ctx) =>
        Effect.sync(() => {
          ctx.setVar("topic", q.topic.toUpperCase())
          return q
        })
    }),
    WorkflowNode.condition("route", { input: Question, decide: (q) => (q.urgent ? "quick" : "thorough") }),
    WorkflowNode.agent("fast", { prompt: "Quick answer about {{nodes.plan.output.topic}} for {{vars.team}}", saveAs: "answer" }),
    WorkflowNode.agent("deep", { prompt: "Thorough answer about {{input.topic}}" }),
    WorkflowNode.transform("facts", {
      output: Schema.Struct({ facts: Schema.Int }),
      run: () => Effect.andThen(sleeping.open, Effect.as(Effect.sleep("1 second"), { facts: 3 }))
    }),
    WorkflowNode.join("merge")
  ),
  Workflow.connect("plan", ["route", "facts"]),
  Workflow.connect("route", "fast", { branch: "quick" }),
  Workflow.connect("route", "deep", { branch: "thorough" }),
  Workflow.connect("fast", "merge"),
  Workflow.connect("deep", "merge"),
  Workflow.connect("facts", "merge")
)

describe("Workflow", () => {
  it.effect("a condition and a join: order, skipped set, outputs, variables, events", () => {
    sleeping.closeUnsafe()
    const model = modelReplying((prompt) => ({ text: prompt.startsWith("Quick") ? "use the cache" : "read everything" }))
    return Effect.gen(function*() {
      const { events, onEvent } = yield* recorder
      const fiber = yield* WorkflowExecutor.execute(Triage, { topic: "caching", urgent: true }, { onEvent }).pipe(
        Effect.forkChild
      )
      yield* sleeping.await
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)

      assert.strictEqual(result.state, "succeeded")
      assert.deepStrictEqual(WorkflowResult.nodesWith(result, "skipped"), ["deep"])
      assert.strictEqual(result.nodes.deep!.skipReason, "branch-not-taken")
      assert.deepStrictEqual(WorkflowResult.outputs(result), {
        plan: { topic: "caching", urgent: true },
        route: { topic: "caching", urgent: true },
        fast: "use the cache",
        facts: { facts: 3 },
        merge: { fast: "use the cache", facts: { facts: 3 } }
      })
      assert.deepStrictEqual(result.nodes.route!.branches, ["quick"])
      assert.deepStrictEqual(result.output, { fast: "use the cache", facts: { facts: 3 } })
      assert.deepStrictEqual(result.variables, { team: "research", topic: "CACHING", answer: "use the cache" })
      assert.deepStrictEqual(result.usage, { inputTokens: 10, outputTokens: 5 })
      assert.strictEqual(model.requests.length, 1)
      const user = model.requests[0]!.prompt.content.find((m) => m.role === "user")!
      assert.deepStrictEqual(user.content.map((p) => (p.type === "text" ? p.text : p.type)), [
        "Quick answer about caching for research"
      ])

      // Order constraints, from the recorded times (the clock is the test clock: facts took exactly 1 s).
      const n = result.nodes
      assert.isAtMost(n.plan!.finishedAt!, n.route!.startedAt!)
      assert.isAtMost(n.plan!.finishedAt!, n.facts!.startedAt!)
      assert.isAtMost(n.route!.finishedAt!, n.fast!.startedAt!)
      assert.strictEqual(n.facts!.durationMs, 1000)
      assert.isAtMost(Math.max(n.fast!.finishedAt!, n.facts!.finishedAt!), n.merge!.startedAt!)

      assert.deepStrictEqual((yield* events).map(summary), [
        "run-started",
        "started plan",
        "finished plan",
        "started route",
        "started facts",
        "finished route",
        "skipped deep (branch-not-taken)",
        "started fast",
        "delta fast use the",
        "delta fast  cache",
        "finished fast",
        "finished facts",
        "started merge",
        "finished merge",
        "run-finished succeeded"
      ])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("the other branch: deep runs, fast and what only it leads to are skipped", () => {
    sleeping.closeUnsafe()
    const model = modelReplying(() => ({ text: "long answer" }))
    return Effect.gen(function*() {
      const fiber = yield* WorkflowExecutor.execute(Triage, { topic: "caching", urgent: false }).pipe(Effect.forkChild)
      yield* sleeping.await
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(WorkflowResult.nodesWith(result, "skipped"), ["fast"])
      assert.deepStrictEqual(result.nodes.merge!.output, { deep: "long answer", facts: { facts: 3 } })
      assert.notProperty(result.variables, "answer")
      const user = model.requests[0]!.prompt.content.find((m) => m.role === "user")!
      assert.deepStrictEqual(user.content.map((p) => (p.type === "text" ? p.text : p.type)), ["Thorough answer about caching"])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("validate reports all seven kinds of problem in one call", () =>
    Effect.gen(function*() {
      const definition = {
        format: "effect-llama/workflow@1",
        name: "broken",
        input: "broken.input",
        entry: ["start"],
        nodes: [
          { kind: "transform", name: "start", ref: "id" },
          { kind: "transform", name: "a", ref: "id" },
          { kind: "transform", name: "b", ref: "id" },
          { kind: "transform", name: "b", ref: "id" }, // duplicate name
          { kind: "condition", name: "route", ref: "always" }, // no outgoing edges
          { kind: "transform", name: "island", ref: "id" }, // not reachable from the entry
          {
            kind: "agent",
            name: "writer",
            prompt: "Use {{nodes.ghost.output}} and {{input.missing}} and {{nodes.later.output}} and {{whatever}}"
          },
          { kind: "transform", name: "later", ref: "id" }
        ],
        edges: [
          { from: "start", to: "a" },
          { from: "a", to: "b" },
          { from: "b", to: "a" }, // cycle a <-> b
          { from: "start", to: "nowhere" }, // dangling
          { from: "start", to: "route" },
          { from: "start", to: "writer" },
          { from: "start", to: "writer" }, // duplicate
          { from: "writer", to: "later" }
        ]
      }
      const registry = WorkflowJson.registry({
        functions: { id: (x: unknown) => Effect.succeed(x), always: () => "x" },
        schemas: { "broken.input": Schema.Struct({ topic: Schema.String }) }
      })
      const workflow = yield* WorkflowJson.fromJson(JSON.stringify(definition), registry)
      const problems = Workflow.validate(workflow)
      const kinds = new Set(problems.map((p) => p._tag))
      assert.deepStrictEqual([...kinds].sort(), [
        "ConditionWithoutBranches",
        "Cycle",
        "DanglingEdge",
        "DuplicateEdge",
        "DuplicateName",
        "UnknownReference",
        "UnreachableNode"
      ])
      assert.deepInclude(problems, { _tag: "Cycle", nodes: ["a", "b"] })
      assert.deepInclude(problems, { _tag: "DanglingEdge", from: "start", to: "nowhere", missing: ["nowhere"] })
      assert.deepInclude(problems, { _tag: "DuplicateEdge", from: "start", to: "writer", count: 2 })
      assert.deepInclude(problems, { _tag: "DuplicateName", name: "b", key: "name", count: 2 })
      assert.deepInclude(problems, { _tag: "UnreachableNode", node: "island" })
      assert.deepInclude(problems, { _tag: "ConditionWithoutBranches", node: "route" })
      const references = problems.filter((p) => p._tag === "UnknownReference")
      assert.deepStrictEqual(references.map((r) => [r.reference, r.scope, r.reason]), [
        ["whatever", "template", "unknown"],
        ["nodes.ghost.output", "nodes", "unknown"],
        ["input.missing", "input", "unknown"],
        ["nodes.later.output", "nodes", "not-upstream"]
      ])

      // Running it fails before any node starts, with the same problems.
      const error = yield* Effect.flip(WorkflowExecutor.execute(workflow, { topic: "x" }))
      assert.strictEqual(error.reason, "InvalidWorkflow")
      assert.deepStrictEqual(error.problems, problems)
    }))

  it("the builder checks node names at compile time", () => {
    const two = Workflow.make("typed").pipe(Workflow.add(WorkflowNode.join("a"), WorkflowNode.join("b", { id: "b1" })))
    Workflow.connect("a", "b1")(two)
    Workflow.chain("a", "b")(two)
    // @ts-expect-error: "c" is no node of the workflow
    Workflow.connect("a", "c")(two)
    // @ts-expect-error: nor is "d"
    Workflow.entry("d")(two)
    assert.strictEqual(two.nodes.length, 2)
  })

  it.effect("a valid workflow has no problems; a bad input is refused", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(Workflow.validate(Triage), [])
      const error = yield* Effect.flip(WorkflowExecutor.execute(Triage, { topic: 3 } as never))
      assert.strictEqual(error.reason, "InvalidInput")
    }).pipe(Effect.provide(modelReplying(() => ({ text: "unused" })).layer)))

  it.effect("JSON: code by registered name; written, read back, it runs the same", () => {
    const model = modelReplying((prompt) => ({ text: prompt.startsWith("Quick") ? "use the cache" : "read everything" }))
    return Effect.gen(function*() {
      const json = WorkflowJson.toJson(Triage, 2)
      const definition = JSON.parse(json) as WorkflowJson.Definition
      assert.strictEqual(definition.format, "effect-llama/workflow@1")
      assert.strictEqual(definition.input, "triage.input")
      assert.deepStrictEqual(definition.nodes.map((n) => [n.kind, n.name]), [
        ["transform", "plan"],
        ["condition", "route"],
        ["agent", "fast"],
        ["agent", "deep"],
        ["transform", "facts"],
        ["join", "merge"]
      ])
      assert.deepStrictEqual(definition.nodes[0], {
        kind: "transform",
        name: "plan",
        input: "plan.input",
        output: "plan.output"
      })
      assert.deepStrictEqual(definition.edges[1], { from: "plan", to: "facts" })
      assert.deepStrictEqual(definition.edges[2], { from: "route", to: "fast", branch: "quick" })

      const registry = WorkflowJson.registryOf(Triage)
      assert.deepStrictEqual([...registry.functions.keys()].sort(), ["facts", "plan", "route"])
      const loaded = yield* WorkflowJson.fromJson<Workflow.Services<typeof Triage>>(json, registry)
      assert.strictEqual(WorkflowJson.toJson(loaded, 2), json)
      sleeping.closeUnsafe()
      const fiber = yield* WorkflowExecutor.execute(loaded, { topic: "caching", urgent: true }).pipe(Effect.forkChild)
      yield* sleeping.await
      yield* TestClock.adjust("1 second")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result.nodes.merge!.output, { fast: "use the cache", facts: { facts: 3 } })

      // A registry without the code: every missing name at once.
      const error = yield* Effect.flip(
        WorkflowJson.fromJson(json, WorkflowJson.registry({ functions: { plan: () => Effect.void } }))
      )
      assert.strictEqual(error.reason, "InvalidDefinition")
      for (const name of ["functions: route", "functions: facts", "schemas: triage.input", "schemas: plan.output"]) {
        assert.include(error.description, name)
      }
      const malformed = yield* Effect.flip(WorkflowJson.fromJson("{\"format\":\"other\"}", registry))
      assert.strictEqual(malformed.reason, "InvalidDefinition")
    }).pipe(Effect.provide(model.layer))
  })
})
