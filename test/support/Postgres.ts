// A throwaway PostgreSQL for the durable and distributed workflow tests, or the user's own server.
//
// EFFECT_LLAMA_TEST_DATABASE_URL (e.g. postgres://user:pass@127.0.0.1:5432/postgres) points the tests at a server
// of your own; the role needs CREATEDB, since every test file works in a database of its own that it drops at the end.
// Without it, `start` runs initdb into .cache/postgres/<run>/ and a postmaster on 127.0.0.1 on a free port, with
// fsync off (the data is thrown away), and `stop` shuts it down and deletes the folder. initdb refuses to run as
// root: as root, the cluster is owned by and runs as the `postgres` system user (Debian's package creates it), or
// `nobody`. Binaries come from PATH, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout).
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { chownSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { delimiter, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

export const urlVariable = "EFFECT_LLAMA_TEST_DATABASE_URL"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..")
const cacheDir = join(root, ".cache", "postgres")

export interface Server {
  readonly url: string
  /** How the server came about, for logs. */
  readonly description: string
  readonly stop: () => Promise<void>
}

const onPath = (name: string): string | undefined => {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, name)
    if (dir !== "" && existsSync(candidate)) return candidate
  }
  return undefined
}

/** The folder holding initdb and postgres, or undefined when PostgreSQL is not installed. */
export const binaries = (): string | undefined => {
  const initdb = onPath("initdb")
  if (initdb !== undefined && onPath("postgres") !== undefined) return dirname(initdb)
  const debian = "/usr/lib/postgresql"
  if (!existsSync(debian)) return undefined
  const versions = readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))
  for (const v of versions) {
    const bin = join(debian, v, "bin")
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "postgres"))) return bin
  }
  return undefined
}

const freePort = (): Promise<number> =>
  new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => typeof address === "object" && address !== null ? resolvePort(address.port) : reject(new Error("no port")))
    })
  })

interface Account {
  readonly uid: number
  readonly gid: number
}

// As root: the account the cluster runs as.
const serviceAccount = (): Account | undefined => {
  if (process.getuid?.() !== 0) return undefined
  const passwd = readFileSync("/etc/passwd", "utf8").split("\n").map((line) => line.split(":"))
  const entry = passwd.find((f) => f[0] === "postgres") ?? passwd.find((f) => f[0] === "nobody")
  if (entry === undefined) throw new Error("running as root, but there is neither a postgres nor a nobody account")
  return { uid: Number(entry[2]), gid: Number(entry[3]) }
}

// Whether every folder above `path` lets others through (the service account is "others" to root's folders).
const traversable = (path: string): boolean => {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Folders of earlier runs whose server is gone (a killed test run) are removed; live ones are left alone.
const removeStale = (): void => {
  if (!existsSync(cacheDir)) return
  for (const name of readdirSync(cacheDir)) {
    const dir = join(cacheDir, name)
    const pidFile = join(dir, "data", "postmaster.pid")
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").split("\n")[0]) : NaN
    if (Number.isFinite(pid) && alive(pid)) continue
    rmSync(dir, { recursive: true, force: true })
  }
}

// PostgreSQL's environment: ours without the sanitizer runtimes that `npm run test:sanitize` preloads for Node
// (under them initdb's `postgres -V` never returns).
const serverEnv = (): NodeJS.ProcessEnv => {
  const { LD_PRELOAD: _preload, ASAN_OPTIONS: _asan, UBSAN_OPTIONS: _ubsan, ...env } = process.env
  return { ...env, LC_ALL: "C" }
}

const run = (file: string, args: ReadonlyArray<string>, account: Account | undefined): void => {
  execFileSync(file, args, {
    stdio: ["ignore", "pipe", "pipe"],
    ...(account === undefined ? {} : { uid: account.uid, gid: account.gid }),
    env: serverEnv()
  })
}

const waitReady = (child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> =>
  new Promise((resolveReady, reject) => {
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`postgres did not become ready in ${timeoutMs} ms:\n${log()}`))
    }, timeoutMs)
    const onData = () => {
      if (log().includes("ready to accept connections")) {
        cleanup()
        resolveReady()
      }
    }
    const onExit = (code: number | null) => {
      cleanup()
      reject(new Error(`postgres exited (${code}) before it was ready:\n${log()}`))
    }
    const cleanup = () => {
      clearTimeout(timer)
      child.stderr?.off("data", onData)
      child.off("exit", onExit)
    }
    child.stderr?.on("data", onData)
    child.on("exit", onExit)
  })

/** Starts a throwaway cluster (initdb + postmaster on 127.0.0.1), or uses EFFECT_LLAMA_TEST_DATABASE_URL. */
export const start = async (): Promise<Server> => {
  const fromEnv = process.env[urlVariable]
  if (fromEnv !== undefined && fromEnv !== "") {
    return { url: fromEnv, description: `${urlVariable}`, stop: async () => {} }
  }
  const bin = binaries()
  if (bin === undefined) {
    throw new Error(
      `PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin). Install it ` +
        `(Debian: apt-get install postgresql) or set ${urlVariable} to a server of your own.`
    )
  }
  const account = serviceAccount()
  removeStale()
  mkdirSync(cacheDir, { recursive: true })
  let base = mkdtempSync(join(cacheDir, "run-"))
  if (account !== undefined && !traversable(base)) {
    // The service account cannot reach .cache here (e.g. a checkout under /root): use the temp folder instead.
    rmSync(base, { recursive: true, force: true })
    base = mkdtempSync(join(tmpdir(), "effect-llama-pg-"))
  }
  const data = join(base, "data")
  mkdirSync(data, { mode: 0o700 })
  if (account !== undefined) {
    chownSync(base, account.uid, account.gid)
    chownSync(data, account.uid, account.gid)
  }
  const started = performance.now()
  run(join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"], account)
  const port = await freePort()
  const child = spawn(join(bin, "postgres"), [
    "-D", data, "-p", String(port), "-k", base,
    "-c", "listen_addresses=127.0.0.1",
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    "-c", "max_connections=300", "-c", "shared_buffers=32MB"
  ], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(account === undefined ? {} : { uid: account.uid, gid: account.gid }),
    env: serverEnv()
  })
  let log = ""
  child.stdout?.on("data", (d) => (log += d))
  child.stderr?.on("data", (d) => (log += d))
  try {
    await waitReady(child, () => log, 60_000)
  } catch (error) {
    child.kill("SIGKILL")
    rmSync(base, { recursive: true, force: true })
    throw error
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r))
      child.kill("SIGINT") // fast shutdown: disconnects clients, no checkpoint wait
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(base, { recursive: true, force: true })
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    description: `throwaway PostgreSQL (${bin}) on 127.0.0.1:${port}, data in ${data}, started in ${seconds} s`,
    stop
  }
}

/** `url` with another database name. */
export const withDatabase = (url: string, database: string): string => {
  const parsed = new URL(url)
  parsed.pathname = `/${database}`
  return parsed.toString()
}
