// Runs fuzz cases in child processes (child.ts): a few workers, each child taking a batch of cases. A child is
// restarted only after it died (a signal or a non-zero exit) or hung on a case (no "end" line within the time
// limit; it is killed), and goes on with the cases after the one it died on.
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"

export type Outcome = "ok" | "typed" | "untyped" | "crash" | "hang"

export interface Result {
  readonly index: number
  readonly outcome: Outcome
  readonly reason?: string
  readonly message?: string
}

export interface RunOptions {
  /** What each case is: a damaged copy of a base model (mutate) or a file (files). */
  readonly source:
    | { readonly mode: "mutate"; readonly base: string; readonly path: string; readonly seed: number; readonly tmp: string }
    | { readonly mode: "files"; readonly files: ReadonlyArray<string> }
  readonly indices: ReadonlyArray<number>
  readonly workers: number
  /** Cases per child process. */
  readonly batch: number
  /** A case with no end line after this long is a hang. */
  readonly caseTimeoutMs: number
  readonly env?: NodeJS.ProcessEnv
}

const child = new URL("./child.ts", import.meta.url).pathname

interface Run {
  readonly results: Array<Result>
  /** Indices not yet run when the child ended: the one it died on is already in `results`. */
  readonly rest: ReadonlyArray<number>
}

const runChild = (options: RunOptions, indices: ReadonlyArray<number>): Promise<Run> =>
  new Promise((resolve) => {
    const proc = spawn(process.execPath, [child, JSON.stringify({ ...options.source, indices })], {
      stdio: ["ignore", "pipe", "pipe"],
      env: options.env ?? process.env
    })
    const results: Array<Result> = []
    let current: number | undefined
    let done = 0
    let hung = false
    let stderr = ""
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        hung = true
        proc.kill("SIGKILL")
      }, options.caseTimeoutMs)
    }
    proc.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)))
    createInterface({ input: proc.stdout }).on("line", (line) => {
      let msg: { start?: number; end?: number; outcome?: Outcome; reason?: string; message?: string }
      try {
        msg = JSON.parse(line)
      } catch {
        return // not ours (a stray print)
      }
      if (msg.start !== undefined) {
        current = msg.start
        arm()
      } else if (msg.end !== undefined) {
        clearTimeout(timer)
        results.push({
          index: msg.end,
          outcome: msg.outcome ?? "untyped",
          ...(msg.reason === undefined ? {} : { reason: msg.reason }),
          ...(msg.message === undefined ? {} : { message: msg.message })
        })
        current = undefined
        done++
      }
    })
    proc.on("close", (code, signal) => {
      clearTimeout(timer)
      if (current !== undefined) {
        const outcome: Outcome = hung ? "hang" : "crash"
        const how = hung ? `no result within ${options.caseTimeoutMs} ms` : `exit code ${code}, signal ${signal}`
        results.push({ index: current, outcome, message: `${how}; stderr: ${stderr.slice(-1500)}` })
        done++
      } else if (done < indices.length && (code !== 0 || signal !== null)) {
        // died between cases (at start-up): charge it to the next case so the run cannot loop forever
        results.push({ index: indices[done]!, outcome: "crash", message: `exit code ${code}, signal ${signal} before the case; stderr: ${stderr}` })
        done++
      }
      resolve({ results, rest: indices.slice(done) })
    })
  })

const runWorker = async (options: RunOptions, indices: ReadonlyArray<number>): Promise<Array<Result>> => {
  const results: Array<Result> = []
  let pending = indices
  while (pending.length > 0) {
    const batch = pending.slice(0, options.batch)
    const run = await runChild(options, batch)
    results.push(...run.results)
    pending = [...run.rest, ...pending.slice(batch.length)]
  }
  return results
}

export const runCases = async (options: RunOptions): Promise<Array<Result>> => {
  const shares = Array.from({ length: options.workers }, (_, w) => options.indices.filter((_, i) => i % options.workers === w))
  const all = await Promise.all(shares.map((share) => runWorker(options, share)))
  return all.flat().sort((a, b) => a.index - b.index)
}
