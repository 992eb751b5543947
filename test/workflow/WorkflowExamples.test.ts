// examples/workflow-durable.ts does what it says: killed (SIGKILL) during its run, started again with the same key,
// it resumes on PostgreSQL without running its finished agent node again. (test/examples.test.ts runs it once
// without a database, on the embedded engine.)
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { spawn } from "node:child_process"
import { database } from "./postgres-support.ts"

const example = new URL("../../examples/workflow-durable.ts", import.meta.url).pathname

// Runs the example; resolves with its output when `until` appears in it (then kills it) or when it exits.
const run = (url: string, key: string, until?: string) =>
  Effect.callback<{ readonly output: string; readonly code: number | null }>((resume) => {
    const child = spawn(process.execPath, [example, "--key", key], {
      env: { PATH: process.env.PATH ?? "", EFFECT_LLAMA_DATABASE_URL: url }
    })
    let output = ""
    const onData = (d: Buffer) => {
      output += d
      if (until !== undefined && output.includes(until)) child.kill("SIGKILL")
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("close", (code) => resume(Effect.succeed({ output, code })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(
    Effect.timeoutOrElse({
      duration: Duration.minutes(2),
      orElse: () => Effect.die(new Error(`examples/workflow-durable.ts --key ${key} did not finish`))
    })
  )

describe("examples/workflow-durable.ts", () => {
  it.live("killed mid-run and started again, it resumes from the journal", () =>
    Effect.gen(function*() {
      const url = yield* database("wf_example")
      const key = `example-${process.pid}-${Date.now().toString(36)}`
      const first = yield* run(url, key, "[pause started]")
      assert.include(first.output, "[outline finished]")
      assert.notInclude(first.output, "[run finished")
      const second = yield* run(url, key)
      assert.strictEqual(second.code, 0, second.output)
      assert.include(second.output, "[outline finished (from the journal)]")
      assert.match(second.output, /\[sections#2 finished\]/)
      assert.include(second.output, "[run finished: succeeded, 4 nodes]")
      const third = yield* run(url, key)
      assert.include(third.output, `[the run ${key} had finished before: its journaled result]`)
    }), 300_000)
})
