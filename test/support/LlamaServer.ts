/**
 * llama.cpp's own llama-server for tests and benches: built from vendor/llama.cpp when missing
 * (scripts/build-llama-tools.ts, the addon's flags; the first build takes minutes), started on 127.0.0.1 with a
 * random free port and a generated model, ready once `/health` says ok, stopped when the scope closes.
 *
 *   const server = yield* LlamaServer.start({ model: "tiny-qwen2", args: ["--metrics"] })   // in a Scope
 *   server.baseUrl           // "http://127.0.0.1:PORT" (the OpenAI API is under /v1)
 *
 *   layer(LlamaServer.layer({ args: ["--embeddings"] }), { timeout: LlamaServer.startTimeout })("...", (it) => {
 *     it.effect("...", () => Effect.gen(function*() { const { baseUrl } = yield* LlamaServer.LlamaServer }))
 *   })
 */
import { Context, type Duration, Effect, Layer, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { ensureLlamaTools } from "../../scripts/build-llama-tools.ts"
import { ensureModel, type ModelName } from "../../scripts/models.ts"

/** A running server. */
export interface Server {
  /** `http://127.0.0.1:<port>`, without `/v1`. */
  readonly baseUrl: string
  readonly port: number
  readonly modelPath: string
  /** The server's output so far (for failure messages). */
  readonly output: () => string
}

export interface Options {
  /** A catalog model (default `tiny-qwen2`) or the path of a GGUF file. */
  readonly model?: ModelName | (string & {})
  /** Context size; default 2048. */
  readonly contextSize?: number
  /** Slots (`-np`); default 2. */
  readonly parallel?: number
  /** Threads; default 2. */
  readonly threads?: number
  /** More flags, e.g. `["--metrics"]`, `["--embeddings", "--pooling", "mean"]`. */
  readonly args?: ReadonlyArray<string>
}

/** Enough for a first build of llama-server on a busy 2-core machine, then the start. */
export const startTimeout: Duration.Input = "40 minutes"

/** The llama-server binary, built first when missing or outdated. */
export const binary: Effect.Effect<string> = Effect.promise(() => ensureLlamaTools(["llama-server"])).pipe(
  Effect.map((paths) => paths["llama-server"])
)

const freePort = Effect.callback<number, Error>((resume) => {
  const probe = createServer()
  probe.once("error", (error) => resume(Effect.fail(error)))
  probe.listen(0, "127.0.0.1", () => {
    const address = probe.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    probe.close(() => resume(Effect.succeed(port)))
  })
})

const healthy = (baseUrl: string) =>
  Effect.tryPromise(async () => {
    const response = await fetch(`${baseUrl}/health`)
    return response.status === 200 && ((await response.json()) as { status?: string }).status === "ok"
  }).pipe(Effect.orElseSucceed(() => false))

const pause = Effect.promise(() => new Promise<void>((done) => setTimeout(done, 100)))

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const kill = setTimeout(() => child.kill("SIGKILL"), 5000)
    child.once("exit", () => {
      clearTimeout(kill)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

const launch = (binaryPath: string, modelPath: string, options: Options) =>
  Effect.gen(function*() {
    const port = yield* freePort
    const args = [
      "-m", modelPath,
      "--host", "127.0.0.1",
      "--port", String(port),
      "-c", String(options.contextSize ?? 2048),
      "-np", String(options.parallel ?? 2),
      "-t", String(options.threads ?? 2),
      "--no-ui",
      ...(options.args ?? [])
    ]
    let output = ""
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(binaryPath, args, { stdio: ["ignore", "pipe", "pipe"] })
        const keep = (chunk: Buffer) => {
          output = (output + chunk.toString()).slice(-20_000)
        }
        child.stdout.on("data", keep)
        child.stderr.on("data", keep)
        // If this process ends without closing the scope (a killed test worker), take the server with it.
        const orphan = () => child.kill("SIGKILL")
        process.once("exit", orphan)
        child.once("exit", () => process.removeListener("exit", orphan))
        return child
      }),
      stop
    )
    const baseUrl = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 60_000
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        return yield* Effect.fail(new Error(`llama-server exited (${child.exitCode ?? child.signalCode}):\n${output}`))
      }
      if (yield* healthy(baseUrl)) break
      if (Date.now() > deadline) return yield* Effect.fail(new Error(`llama-server did not become healthy:\n${output}`))
      yield* pause // real time: the layer may be built under a TestClock
    }
    return { baseUrl, port, modelPath, output: () => output } satisfies Server
  })

/**
 * Starts a server for the life of the current scope. A port taken between the probe and the start is retried.
 */
export const start = (options: Options = {}): Effect.Effect<Server, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const binaryPath = yield* binary
    const name = options.model ?? "tiny-qwen2"
    const modelPath = name.endsWith(".gguf") ? name : yield* Effect.promise(() => ensureModel(name))
    return yield* launch(binaryPath, modelPath, options).pipe(Effect.retry({ times: 2 }))
  })

/** The server of a `layer`. */
export class LlamaServer extends Context.Service<LlamaServer, Server>()("effect-llama/test/LlamaServer") {}

/** A server for a whole `layer(...)` block of tests. */
export const layer = (options: Options = {}): Layer.Layer<LlamaServer, Error> =>
  Layer.effect(LlamaServer, start(options))
