// A test worker killed by a signal makes the run fail loudly: a non-zero exit, the dead file named, and a closing
// line that counts the tests it never ran as failed (vitest's own summary would say "passed" for what ran).
import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"

const root = new URL("../../", import.meta.url).pathname
const vitest = new URL("../../node_modules/vitest/vitest.mjs", import.meta.url).pathname

it.live("a dead worker fails the run and its unrun tests count as failed", () =>
  Effect.gen(function*() {
    const out = yield* Effect.callback<{ code: number | null; output: string }>((resume) => {
      const proc = spawn(process.execPath, [vitest, "run", "--config", "test/fixtures/worker-death/vitest.config.ts"], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" }
      })
      let output = ""
      proc.stdout.on("data", (d) => (output += d))
      proc.stderr.on("data", (d) => (output += d))
      proc.on("close", (code) => resume(Effect.succeed({ code, output })))
      return Effect.sync(() => proc.kill("SIGKILL"))
    })
    assert.notStrictEqual(out.code, 0)
    assert.match(out.output, /^TEST WORKERS DIED: 1 file/m)
    assert.match(out.output, /dies\.fixture\.ts: its test worker died \(signal SIGILL\); [23] tests never ran/)
    // The first test may or may not have reported before the worker died; the other two never pass.
    const [, passed, failed] = /^tests: (\d+) passed, (\d+) failed$/m.exec(out.output) ?? []
    assert.strictEqual(Number(passed) + Number(failed), 3)
    assert.isAtLeast(Number(failed), 2)
  }), 60_000)
