// Durable and distributed runs on a real PostgreSQL (the suite's throwaway server, or EFFECT_LLAMA_TEST_DATABASE_URL),
// with real processes: a run killed with SIGKILL resumes in a new process without re-running finished nodes; a
// node waiting for a signal survives a restart; two runners share a fan-out and one of them dies mid-run.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { child, database, freePort, type NodeRun, nodeRuns, pollUntil, result, sqlLayer } from "./postgres-support.ts"

const count = (runs: ReadonlyArray<NodeRun>, node: string, phase: NodeRun["phase"]) =>
  runs.filter((r) => r.node === node && r.phase === phase).length

describe("WorkflowPostgres", () => {
  it.live("a 10-node run killed (SIGKILL) after node 4 finished resumes in a new process; finished nodes ran once", () =>
    Effect.gen(function*() {
      const url = yield* database("wf_durable")
      yield* Effect.gen(function*() {
        // n5 blocks in the first process, so it is killed with n0..n4 journaled and n5 running.
        const first = yield* child(["chain", url, "order-1", "n5"])
        yield* pollUntil(nodeRuns, (runs) => count(runs, "n5", "start") === 1, "n5 to start")
        yield* first.kill("SIGKILL")
        const before = yield* nodeRuns
        assert.deepStrictEqual([...new Set(before.map((r) => r.pid))], [first.pid])
        for (const n of ["n0", "n1", "n2", "n3", "n4"]) assert.strictEqual(count(before, n, "end"), 1, n)
        assert.strictEqual(count(before, "n6", "start"), 0)

        // The same execution (same key) in a new process.
        const second = yield* child(["chain", url, "order-1"])
        const resumed = yield* result(second)
        assert.strictEqual(resumed.state, "succeeded")
        // The same execution: the nodes of the first process recorded the id the result carries.
        assert.deepStrictEqual([...new Set(before.map((r) => r.run))], [resumed.runId])
        const runs = yield* nodeRuns
        for (let i = 0; i < 10; i++) {
          const node = resumed.nodes[`n${i}`]!
          assert.strictEqual(node.status, "succeeded")
          const output = node.output as { readonly node: string; readonly pid: number }
          assert.strictEqual(output.node, `n${i}`)
          // Finished before the kill: ran once, in the first process, and its journaled output is the result.
          if (i < 5) {
            assert.strictEqual(count(runs, `n${i}`, "start"), 1)
            assert.strictEqual(output.pid, first.pid)
          } else {
            assert.strictEqual(output.pid, second.pid)
            assert.strictEqual(count(runs, `n${i}`, "end"), 1)
          }
        }
        // n5 was running when the first process died: activities are at-least-once, it ran again.
        assert.strictEqual(count(runs, "n5", "start"), 2)
        yield* second.exit
      }).pipe(Effect.scoped, Effect.provide(sqlLayer(url)))
    }), 180_000)

  it.live("a node waiting for a signal survives a restart and resumes when the signal is sent", () =>
    Effect.gen(function*() {
      const url = yield* database("wf_signal")
      yield* Effect.gen(function*() {
        const first = yield* child(["approval-start", url, "doc-1"])
        yield* first.line("WAITING")
        yield* first.kill("SIGKILL")
        // A new process: the run replays to the signal node and waits again, unfinished, until the signal.
        const second = yield* child(["approval-resume", url, "doc-1", "ana"])
        assert.strictEqual(yield* second.line("FINISHED-BEFORE-SIGNAL"), "false")
        const done = yield* result(second)
        assert.strictEqual(done.state, "succeeded")
        assert.strictEqual(done.nodes.publish!.output, "published, approved by ana")
        assert.deepStrictEqual(done.nodes.approve!.output, { by: "ana" })
        const runs = yield* nodeRuns
        assert.deepStrictEqual(runs.filter((r) => r.node === "draft").map((r) => r.pid), [first.pid, first.pid])
        assert.deepStrictEqual(runs.filter((r) => r.node === "publish").map((r) => r.pid), [second.pid])
      }).pipe(Effect.scoped, Effect.provide(sqlLayer(url)))
    }), 180_000)

  it.live("two runners share 20 parallel nodes; one killed mid-run, the run completes on the other", () =>
    Effect.gen(function*() {
      const url = yield* database("wf_cluster")
      yield* Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const [portA, portB] = [yield* freePort, yield* freePort]
        const a = yield* child(["runner", url, String(portA), "3000"])
        const b = yield* child(["runner", url, String(portB), "3000"])
        yield* a.line("READY")
        yield* b.line("READY")
        // Both registered and holding shards (one advisory lock per shard, taken on connections of their own).
        yield* pollUntil(
          sql<{ runners: number; holders: number }>`SELECT
            (SELECT count(*)::int FROM cluster_runners WHERE healthy) AS runners,
            (SELECT count(DISTINCT pid)::int FROM pg_locks WHERE locktype = 'advisory') AS holders`.pipe(Effect.orDie),
          ([row]) => row!.runners === 2 && row!.holders >= 2,
          "both runners to hold shards"
        )
        const client = yield* child(["client", url, "fan-1"])
        // Work reaches both runners; then one dies while its nodes run.
        const started = yield* pollUntil(
          nodeRuns,
          (runs) => new Set(runs.filter((r) => r.phase === "start").map((r) => r.pid)).size === 2,
          "nodes to start on both runners"
        )
        yield* b.kill("SIGKILL")
        const atKill = yield* nodeRuns
        const onB = atKill.filter((r) => r.pid === b.pid && r.phase === "start").map((r) => r.node)
        const finishedOnB = atKill.filter((r) => r.pid === b.pid && r.phase === "end").map((r) => r.node)
        assert.isAbove(started.filter((r) => r.pid === a.pid).length, 0)
        assert.isAbove(onB.length, 0)

        const done = yield* result(client)
        assert.strictEqual(done.state, "succeeded")
        const names = Array.from({ length: 20 }, (_, i) => `w${i}`)
        assert.deepStrictEqual(Object.keys(done.nodes).sort(), [...names, "all"].sort())
        const runs = yield* nodeRuns
        for (const n of names) {
          assert.strictEqual(done.nodes[n]!.status, "succeeded")
          assert.isAtLeast(count(runs, n, "end"), 1, n)
          // A node that finished before the kill is not run again.
          if (finishedOnB.includes(n)) assert.strictEqual(count(runs, n, "start"), 1, n)
        }
        // The nodes that were in flight on the dead runner were run again by the survivor.
        for (const n of onB.filter((n) => !finishedOnB.includes(n))) {
          assert.strictEqual((done.nodes[n]!.output as { readonly pid: number }).pid, a.pid, n)
        }
        const join = done.nodes.all!.output as Readonly<Record<string, unknown>>
        assert.deepStrictEqual(Object.keys(join).sort(), [...names].sort())
      }).pipe(Effect.scoped, Effect.provide(sqlLayer(url)))
    }), 240_000)
})
