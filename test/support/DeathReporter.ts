// A vitest reporter that makes a dead test worker impossible to miss. When a native crash (SIGILL, SIGSEGV,
// SIGABRT) kills a worker, vitest's summary still reads "N passed" for what ran and lists the death as an
// "unhandled error"; the tests the dead file never ran are counted nowhere. This reporter names each dead file and
// ends the run with one closing line that counts those tests as failed: "tests: 115 passed, 44 failed".
import type { Reporter, SerializedError, TestModule } from "vitest/node"

const deathPattern = /Worker exited unexpectedly with (?:signal (\w+)|code (\d+))[^\n]*?test file (\S+)/

interface Death {
  readonly file: string
  readonly how: string
}

const deathsOf = (errors: ReadonlyArray<SerializedError>): Array<Death> =>
  errors.flatMap((error) => {
    const text = [error.message, (error.cause as SerializedError | undefined)?.message].join("\n")
    const match = deathPattern.exec(text)
    return match === null ? [] : [{ file: match[3]!, how: match[1] !== undefined ? `signal ${match[1]}` : `exit code ${match[2]}` }]
  })

export default class DeathReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>): void {
    let passed = 0
    let failed = 0
    const deaths = deathsOf(errors)
    const lines: Array<string> = []
    for (const module of modules) {
      const tests = Array.from(module.children.allTests())
      passed += tests.filter((t) => t.result().state === "passed").length
      failed += tests.filter((t) => t.result().state === "failed").length
      const death = deaths.find((d) => d.file === module.moduleId)
      if (death !== undefined) {
        const neverRan = tests.filter((t) => t.result().state === "pending").length
        failed += neverRan
        lines.push(`${module.relativeModuleId}: its test worker died (${death.how}); ${neverRan} tests never ran`)
      }
    }
    // An unhandled error that is not a worker death still fails the run: count it.
    failed += errors.length - deaths.length
    if (deaths.length > 0) {
      lines.unshift(`TEST WORKERS DIED: ${deaths.length} file(s); their remaining tests are counted as failed`)
    }
    lines.push(`tests: ${passed} passed, ${failed} failed`)
    process.stdout.write(`\n${lines.join("\n")}\n`)
  }
}
