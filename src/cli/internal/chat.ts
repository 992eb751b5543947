/**
 * `effect-llama chat`: an interactive chat on a local model. Replies stream to stdout; the history is kept;
 * `/reset` clears it, `/system <text>` sets the system prompt (and clears it), `/exit` (or end of input) leaves.
 * Ctrl-C stops a reply without leaving; at the prompt it leaves. Reads piped stdin too (one message per line);
 * `--json` prints one JSON line per reply.
 *
 * @internal
 */
import { Effect, Exit, Fiber, Layer, Option, Stream } from "effect"
import { LanguageModel, type Prompt } from "effect/ai"
import { Command, Flag } from "effect/cli"
import { createInterface } from "node:readline"
import * as LlamaLanguageModel from "../../ai/LlamaLanguageModel.ts"
import { fromUnknown } from "../CliFailure.ts"
import * as Flags from "./flags.ts"
import { json, onSignal, out, status } from "./output.ts"

const help = "commands: /reset (clear the history), /system <text> (set the system prompt), /exit"

/** @internal */
export const chat = Command.make("chat", {
  model: Flags.model,
  system: Flag.String("system").pipe(Flag.withAlias("s"), Flag.withDescription("the system prompt"), Flag.optional),
  maxTokens: Flags.maxTokens(512),
  temperature: Flags.temperature,
  seed: Flags.seed,
  ctxSize: Flags.ctxSize(8192),
  threads: Flags.threads,
  gpuLayers: Flags.gpuLayers,
  json: Flags.json
}, (flags) =>
  Effect.gen(function*() {
    const model = yield* LanguageModel.LanguageModel
    const terminal = process.stdin.isTTY === true && process.stdout.isTTY === true
    const rl = yield* Effect.acquireRelease(
      Effect.sync(() => createInterface({ input: process.stdin, ...(terminal ? { output: process.stdout } : {}), terminal })),
      (rl) => Effect.sync(() => rl.close())
    )
    // On a terminal, readline takes Ctrl-C: hand it to the same routing as the process signal.
    rl.on("SIGINT", () => void process.emit("SIGINT" as never))
    rl.setPrompt("> ")
    const lines = rl[Symbol.asyncIterator]()
    if (terminal) yield* status(`chatting with ${flags.model}; ${help}; Ctrl-C stops a reply`)
    let system = Option.getOrUndefined(flags.system)
    let history: Array<Prompt.MessageEncoded> = []
    for (;;) {
      if (terminal) rl.prompt()
      const next = yield* Effect.promise(() => lines.next())
      if (next.done === true) break
      const line = String(next.value).trim()
      if (line === "") continue
      if (line === "/exit" || line === "/quit") break
      if (line === "/reset") {
        history = []
        yield* status("(history cleared)")
        continue
      }
      if (line === "/system" || line.startsWith("/system ")) {
        const text = line.slice("/system".length).trim()
        system = text === "" ? undefined : text
        history = []
        yield* status(system === undefined ? "(system prompt removed, history cleared)" : "(system prompt set, history cleared)")
        continue
      }
      if (line.startsWith("/")) {
        yield* status(`unknown command ${line.split(" ")[0]}; ${help}`)
        continue
      }
      history.push({ role: "user", content: line })
      const prompt: Array<Prompt.MessageEncoded> = system === undefined ? [...history] : [{ role: "system", content: system }, ...history]
      let reply = ""
      let finish: { reason: string; inputTokens: number | undefined; outputTokens: number | undefined } | undefined
      const generation = yield* model.streamText({ prompt }).pipe(
        Stream.runForEach((part) => {
          if (part.type === "text-delta") {
            reply += part.delta
            return flags.json ? Effect.void : out(part.delta)
          }
          if (part.type === "finish") {
            finish = { reason: part.reason, inputTokens: part.usage.inputTokens.total, outputTokens: part.usage.outputTokens.total }
          }
          return Effect.void
        }),
        Effect.forkChild
      )
      // Ctrl-C during the reply stops it; the chat goes on.
      const exit = yield* Effect.scoped(Effect.andThen(
        onSignal(() => {
          generation.interruptUnsafe()
          return true
        }),
        Fiber.await(generation)
      ))
      const stopped = Exit.isFailure(exit) && exit.cause.reasons.every((r) => r._tag === "Interrupt")
      if (Exit.isFailure(exit) && !stopped) {
        history.pop()
        const failure = fromUnknown(exit.cause.reasons.find((r) => r._tag === "Fail")?.error ?? "the reply failed")
        if (!flags.json && reply !== "") yield* out("\n")
        yield* status(`effect-llama: ${failure.message}`)
        if (flags.json) yield* json({ role: "assistant", error: failure.message })
        continue
      }
      history.push({ role: "assistant", content: reply })
      if (flags.json) {
        yield* json({
          role: "assistant",
          content: reply,
          stopped,
          finishReason: stopped ? "stopped" : finish?.reason ?? "unknown",
          usage: { inputTokens: finish?.inputTokens ?? null, outputTokens: finish?.outputTokens ?? null }
        })
      } else {
        yield* out(stopped ? " [stopped]\n" : "\n")
      }
    }
  }).pipe(Effect.scoped, Flags.withModel(
    flags.model,
    LlamaLanguageModel.layer({ maxTokens: flags.maxTokens, sampling: Flags.samplingOf(flags) }).pipe(
      Layer.provide(Flags.localContext(flags, { contextSize: flags.ctxSize, sequences: 1 }))
    )
  ))).pipe(Command.withDescription("Chat with a local model (streamed replies, history, /reset, /system, /exit)"))
