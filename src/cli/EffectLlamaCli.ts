/**
 * The `effect-llama` command on `effect/cli`: `chat`, `complete`, `embed`, `serve`, `info`, `bench`, `models`,
 * `pull`, `mcp` (the built-in tools as an MCP server: `McpCommand`). `runMain` runs it as a process: Ctrl-C goes
 * to what is running (a reply, a server) before it interrupts the command, every failure is one line on stderr, and
 * the exit code tells the kinds apart (`CliFailure.exitCodes`).
 *
 * @since 0.2.0
 */
import { NodeServices } from "@effect/platform-node"
import { Cause, Effect, Exit, Layer } from "effect"
import { CliOutput, Command } from "effect/cli"
import { createRequire } from "node:module"
import * as McpCommand from "../mcp/McpCommand.ts"
import { exitCodes, fromCause } from "./CliFailure.ts"
import { chat } from "./internal/chat.ts"
import { bench, complete, embed } from "./internal/generate.ts"
import { info } from "./internal/info.ts"
import { routeSignal } from "./internal/output.ts"
import { models, pull } from "./internal/pull.ts"
import { serve } from "./internal/serve.ts"

/**
 * The package version (from package.json).
 *
 * @category constants
 * @since 0.2.0
 */
export const version: string = (createRequire(import.meta.url)("../../package.json") as { version: string }).version

/**
 * The root command.
 *
 * @category constructors
 * @since 0.2.0
 */
export const command = Command.make("effect-llama").pipe(
  Command.withDescription(
    "Local LLMs on llama.cpp: chat, complete, embed, serve an OpenAI-compatible API or tools over MCP, inspect and pull models"
  ),
  Command.withSubcommands([chat, complete, embed, serve, info, bench, models, pull, McpCommand.command])
)

// Help and version as effect/cli prints them; an invalid invocation is left to `runMain`'s one line.
const presenter: CliOutput.Presenter = {
  present: (event) => (event._tag === "InvalidInvocation" ? Effect.void : CliOutput.defaultPresenter.present(event))
}

/**
 * Runs the command on `argv` (without the node and script paths).
 *
 * @category constructors
 * @since 0.2.0
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<void, unknown> =>
  Command.runWith(command, { version })(argv).pipe(
    Effect.provide(Layer.mergeAll(NodeServices.layer, CliOutput.layerPresenter(presenter)))
  )

const usageLine = (error: { readonly commandPath: ReadonlyArray<string>; readonly errors: ReadonlyArray<{ readonly message: string }> }) => {
  const path = error.commandPath.join(" ")
  return `${error.errors[0]!.message} (see: ${path === "" ? "effect-llama" : path} --help)`
}

/**
 * The exit code and the line to print for how a run ended.
 *
 * @category constructors
 * @since 0.2.0
 */
export const outcome = (exit: Exit.Exit<unknown, unknown>): { readonly code: number; readonly message?: string } => {
  if (Exit.isSuccess(exit)) return { code: 0 }
  const fail = exit.cause.reasons.find(Cause.isFailReason)?.error as { _tag?: string } | undefined
  if (fail?._tag === "ShowHelp") {
    const help = fail as unknown as { commandPath: ReadonlyArray<string>; errors: ReadonlyArray<{ message: string }> }
    return help.errors.length === 0 ? { code: exitCodes.Usage } : { code: exitCodes.Usage, message: usageLine(help) }
  }
  const failure = fromCause(exit.cause)
  if (failure === undefined) return { code: exitCodes.Interrupted }
  return { code: exitCodes[failure.kind], message: failure.message }
}

/**
 * Runs the command as the process: signals, one-line errors, exit codes.
 *
 * @category constructors
 * @since 0.2.0
 */
export const runMain = (argv: ReadonlyArray<string> = process.argv.slice(2)): void => {
  const fiber = Effect.runFork(run(argv))
  const onSignal = () => {
    if (!routeSignal()) fiber.interruptUnsafe()
  }
  process.on("SIGINT", onSignal)
  process.on("SIGTERM", onSignal)
  fiber.addObserver((exit) => {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
    const { code, message } = outcome(exit)
    if (message !== undefined) process.stderr.write(`effect-llama: ${message}\n`)
    process.exitCode = code
    // Exit even if something (stdin, a socket) still holds the event loop, once output is flushed.
    setTimeout(() => process.exit(code), 2000).unref()
  })
}
