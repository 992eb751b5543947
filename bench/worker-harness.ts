/**
 * The child-process side shared by the node contenders (worker-effect-llama.ts, worker-node-llama-cpp.ts).
 * A worker loads the model once and answers the orchestrator's requests one at a time over the IPC channel.
 * Started with `rss-probe` instead, it loads the model, evaluates one prompt, generates one token and prints its
 * peak resident set size: each contender's memory is measured in a process of its own.
 *
 * argv: node worker-X.ts '<settings JSON>' [serve|serve-extra-context|rss-probe]
 * serve-extra-context: before serving, the contender generates a few tokens on a second context and keeps it.
 */
import type { Settings } from "./settings.ts"
import { randomTokens, type FromWorker, type Measurement, type Request, type ToWorker } from "./workloads.ts"

export interface Contender {
  /** Which binary, build and options this contender runs with; printed with the results. */
  readonly info: Readonly<Record<string, unknown>>
  /** Runs one request; undefined when this contender has no way to do it. */
  readonly handle: (request: Request) => Promise<Measurement | undefined>
  readonly dispose: () => Promise<void>
}

export const now = (): number => performance.now()

const send = (message: FromWorker): void => {
  process.send?.(message)
}

export interface WorkerOptions {
  /** Generate a few tokens on a second context first, and keep it open. */
  readonly extraContext: boolean
}

export const runWorker = async (
  create: (settings: Settings, options: WorkerOptions) => Promise<Contender>
): Promise<void> => {
  const settings = JSON.parse(process.argv[2] ?? "{}") as Settings
  const mode = process.argv[3] ?? "serve"
  const contender = await create(settings, { extraContext: mode === "serve-extra-context" })

  if (mode === "rss-probe") {
    await contender.handle({ kind: "ttft", tokens: randomTokens(0x5eed, settings.ttftPromptTokens) })
    const maxRssKb = process.resourceUsage().maxRSS
    await contender.dispose()
    console.log(JSON.stringify({ maxRssKb }))
    process.exit(0)
  }

  send({ type: "ready", info: contender.info })
  // One request at a time: the orchestrator waits for each answer before it sends the next.
  process.on("message", (message: ToWorker) => {
    if (message.type === "exit") {
      void contender.dispose().finally(() => process.exit(0))
      return
    }
    const { id, request } = message
    const cpu = process.cpuUsage()
    contender.handle(request).then(
      (measurement) => {
        const used = process.cpuUsage(cpu)
        send(
          measurement === undefined
            ? { type: "unsupported", id, message: `${request.kind} is not supported by this contender` }
            : { type: "result", id, measurement, cpuMs: (used.user + used.system) / 1000 }
        )
      },
      (error: unknown) => send({ type: "error", id, message: error instanceof Error ? error.stack ?? error.message : String(error) })
    )
  })
}
