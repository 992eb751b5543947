// Durable runs on the embedded engine (effect/workflow's in-memory WorkflowEngine): the same definition as the
// executor gives the same outputs, a run is identified by its key (executing again returns the journaled result
// without running a node), and a signal node suspends the run until the signal arrives.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Option, Schema } from "effect"
import * as DurableWorkflow from "../../src/workflow/DurableWorkflow.ts"
import * as Workflow from "../../src/workflow/Workflow.ts"
import * as WorkflowExecutor from "../../src/workflow/WorkflowExecutor.ts"
import * as WorkflowNode from "../../src/workflow/WorkflowNode.ts"
import * as WorkflowResult from "../../src/workflow/WorkflowResult.ts"

const runs = new Map<string, number>()
const counted = (name: string, f: (x: any) => unknown) =>
  WorkflowNode.transform(name, {
    run: (x: unknown) =>
      Effect.sync(() => {
        runs.set(name, (runs.get(name) ?? 0) + 1)
        return f(x)
      })
  })

const Pipeline = Workflow.make("durable-pipeline", { input: Schema.Struct({ words: Schema.Array(Schema.String) }) }).pipe(
  Workflow.add(
    counted("split", (x: { words: ReadonlyArray<string> }) => x.words),
    WorkflowNode.map("lengths", {
      items: "{{nodes.split.output}}",
      concurrency: 2,
      each: WorkflowNode.transform("length", { input: Schema.String, run: (w) => Effect.succeed(w.length) })
    }),
    WorkflowNode.condition("size", {
      input: Schema.Array(Schema.Int),
      decide: (ls) => (ls.reduce((a, b) => a + b, 0) > 10 ? "long" : "short")
    }),
    counted("long", () => "long text"),
    counted("short", () => "short text"),
    WorkflowNode.join("done")
  ),
  Workflow.chain("split", "lengths", "size"),
  Workflow.connect("size", ["long", "short"]),
  Workflow.connect("long", "done"),
  Workflow.connect("short", "done")
)

describe("DurableWorkflow (embedded engine)", () => {
  it.effect("same outputs as the executor; the key identifies the run, so running it again runs no node", () =>
    Effect.gen(function*() {
      runs.clear()
      const input = { words: ["durable", "workflows", "resume"] }
      const plain = yield* WorkflowExecutor.execute(Pipeline, input)
      assert.deepStrictEqual(runs.get("split"), 1)

      const durable = DurableWorkflow.make(Pipeline)
      const result = yield* durable.execute(input, { key: "job-1" }).pipe(Effect.provide(durable.layer))
      assert.deepStrictEqual(WorkflowResult.outputs(result), WorkflowResult.outputs(plain))
      assert.deepStrictEqual(WorkflowResult.nodesWith(result, "skipped"), ["short"])
      assert.strictEqual(result.runId, yield* durable.executionId("job-1"))
      assert.strictEqual(runs.get("split"), 2)

      const again = yield* durable.execute(input, { key: "job-1" }).pipe(Effect.provide(durable.layer))
      assert.deepStrictEqual(again, result)
      assert.strictEqual(runs.get("split"), 2)
      assert.strictEqual(runs.get("long"), 2)
    }).pipe(Effect.provide(DurableWorkflow.layerMemory)))

  it.effect("a signal node suspends the run until the signal is sent", () =>
    Effect.gen(function*() {
      runs.clear()
      const waiting = yield* Deferred.make<void>()
      const Approval = Workflow.make("durable-approval").pipe(
        Workflow.add(
          counted("draft", () => "the draft"),
          WorkflowNode.signal("approve", { schema: Schema.Struct({ by: Schema.String }) }),
          counted("publish", (a: { by: string }) => `published, approved by ${a.by}`)
        ),
        Workflow.chain("draft", "approve", "publish")
      )
      const durable = DurableWorkflow.make(Approval, {
        onEvent: (e) => (e.type === "node-started" && e.name === "approve" ? Deferred.succeed(waiting, undefined) : Effect.void)
      })
      yield* Effect.gen(function*() {
        const id = yield* durable.start(undefined, { key: "doc-7" })
        yield* Deferred.await(waiting)
        assert.isTrue(Option.isNone(yield* durable.poll(id)))
        assert.isUndefined(runs.get("publish"))
        yield* durable.signal({ executionId: id, node: "approve", value: { by: "ana" } })
        const result = yield* durable.execute(undefined, { key: "doc-7" })
        assert.strictEqual(result.nodes.publish!.output, "published, approved by ana")
        assert.strictEqual(runs.get("draft"), 1) // the draft ran once, before and after the wait
        const polled = yield* durable.poll(id)
        assert.isTrue(Option.isSome(polled))
      }).pipe(Effect.provide(durable.layer))
    }).pipe(Effect.provide(DurableWorkflow.layerMemory)))

  it.effect("an invalid input is refused before the engine sees it", () =>
    Effect.gen(function*() {
      const durable = DurableWorkflow.make(Pipeline)
      const error = yield* Effect.flip(durable.execute({ words: 3 } as never, { key: "bad" }))
      assert.strictEqual(error.reason, "InvalidInput")
    }).pipe(Effect.provide(Layer.empty), Effect.provide(DurableWorkflow.layerMemory)))
})
