// For the PostgreSQL tests: a database of their own on the suite's server (test/support/postgresSetup.ts), child
// processes running fixtures/process.ts, and waits that poll for progress instead of sleeping a fixed time.
import { Duration, Effect, Layer, Schedule, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { inject } from "vitest"
import * as WorkflowPostgres from "../../src/workflow/WorkflowPostgres.ts"
import type { WorkflowResult } from "../../src/workflow/WorkflowResult.ts"
import * as Postgres from "../support/Postgres.ts"
import { createTable } from "./fixtures/workflows.ts"

const fixture = new URL("./fixtures/process.ts", import.meta.url).pathname

/** The suite's server, or a failure saying why there is none. */
export const serverUrl: Effect.Effect<string> = Effect.suspend(() => {
  const url = inject("databaseUrl")
  return url === "" ? Effect.die(new Error(`no PostgreSQL for the tests: ${inject("databaseError")}`)) : Effect.succeed(url)
})

const admin = (url: string) => WorkflowPostgres.layerSql({ url, maxConnections: 1 })

/** A fresh database with the node-runs table, dropped when the scope closes; its URL. */
export const database = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.gen(function*() {
    const server = yield* serverUrl
    const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`
    const run = (statement: string) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(statement)).pipe(Effect.provide(admin(server)), Effect.orDie)
    yield* Effect.acquireRelease(
      run(`CREATE DATABASE ${name}`),
      () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    )
    const url = Postgres.withDatabase(server, name)
    yield* Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(createTable)).pipe(Effect.provide(admin(url)), Effect.orDie)
    return url
  })

/** A client of the test database, for the test's own queries. */
export const sqlLayer = (url: string): Layer.Layer<SqlClient.SqlClient> =>
  Layer.orDie(WorkflowPostgres.layerSql({ url, maxConnections: 2 }))

export interface NodeRun {
  readonly run: string
  readonly node: string
  readonly pid: number
  readonly phase: "start" | "end"
}

export const nodeRuns: Effect.Effect<ReadonlyArray<NodeRun>, never, SqlClient.SqlClient> = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<NodeRun>`SELECT run, node, pid, phase FROM wf_node_runs ORDER BY id`
).pipe(Effect.orDie)

/** Re-runs `query` every 100 ms until `done` holds (failing after `timeout`, which is generous: a busy machine). */
export const pollUntil = <A, R>(
  query: Effect.Effect<A, never, R>,
  done: (a: A) => boolean,
  what: string,
  timeout: Duration.Input = "90 seconds"
): Effect.Effect<A, never, R> =>
  query.pipe(
    Effect.repeat({ schedule: Schedule.spaced("100 millis"), until: done }),
    Effect.timeoutOrElse({
      duration: timeout,
      orElse: () => Effect.die(new Error(`timed out waiting for ${what}`))
    })
  )

export interface Child {
  readonly process: ChildProcess
  readonly pid: number
  readonly output: () => string
  /** Waits for a line starting with `marker`; its rest (JSON, if any). */
  readonly line: (marker: string, timeout?: Duration.Input) => Effect.Effect<string>
  readonly exit: Effect.Effect<number | null>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
}

/** Runs fixtures/process.ts with these arguments; killed (SIGKILL) when the scope closes if still running. */
export const child = (args: ReadonlyArray<string>): Effect.Effect<Child, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      // A clean environment: effect/cluster reads HOST, PORT, SHARDS_PER_GROUP, ... from it.
      const proc = spawn(process.execPath, [fixture, ...args], {
        env: { PATH: process.env.PATH ?? "" },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let out = ""
      const listeners = new Set<() => void>()
      const notify = () => listeners.forEach((l) => l())
      proc.stdout.on("data", (d) => {
        out += d
        notify()
      })
      proc.stderr.on("data", (d) => {
        out += d
        notify()
      })
      let code: number | null | undefined
      proc.on("exit", (c) => {
        code = c
        notify()
      })
      const find = (marker: string) => out.split("\n").find((l) => l === marker || l.startsWith(`${marker} `))
      const line = (marker: string, timeout: Duration.Input = "90 seconds") =>
        Effect.callback<string>((resume) => {
          const check = () => {
            const found = find(marker)
            if (found !== undefined) {
              listeners.delete(check)
              resume(Effect.succeed(found.slice(marker.length).trim()))
            } else if (code !== undefined) {
              listeners.delete(check)
              resume(Effect.die(new Error(`process ${args[0]} exited (${code}) before ${marker}:\n${out}`)))
            }
          }
          listeners.add(check)
          check()
          return Effect.sync(() => listeners.delete(check))
        }).pipe(
          Effect.timeoutOrElse({
            duration: timeout,
            orElse: () => Effect.die(new Error(`no ${marker} from ${args[0]} in ${Duration.format(Duration.fromInputUnsafe(timeout))}:\n${out}`))
          })
        )
      const exit = Effect.callback<number | null>((resume) => {
        if (code !== undefined) return resume(Effect.succeed(code))
        proc.once("exit", (c) => resume(Effect.succeed(c)))
      })
      return {
        process: proc,
        pid: proc.pid!,
        output: () => out,
        line,
        exit,
        kill: (signal) =>
          Effect.suspend(() => {
            if (code !== undefined) return Effect.void
            proc.kill(signal)
            return Effect.asVoid(exit)
          })
      }
    }),
    (c) => c.kill("SIGKILL")
  )

export const result = (c: Child): Effect.Effect<WorkflowResult> =>
  Effect.map(c.line("RESULT", "120 seconds"), (json) => JSON.parse(json) as WorkflowResult)

export const freePort: Effect.Effect<number> = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})
