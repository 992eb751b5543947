/**
 * `Agent`: a system prompt, a `LanguageModel`, tools and a history (an effect/ai `Chat`), with a tool loop bounded
 * by `maxSteps`. `stream` reports text deltas as the model produces them (from `LanguageModel.streamText`), tool
 * calls and results, and the end of each step and of the run; `generate` runs the same loop and returns the result.
 *
 * **Details**
 *
 * - Arguments that fail the tool's Schema, unknown tool names and tool failures (typed failures and defects) go
 *   back to the model as failed tool results; they never end the run.
 * - Each step is committed to the history whole (assistant message, then one tool message with one result per
 *   call), so an interrupted run leaves no call without its result.
 * - Tools run after the model's turn has ended, so the model's sequence is free again while they run: a tool may
 *   run another agent on the same model. On a local model each agent or model call running at the same time needs
 *   its own context sequence: give the context `sequences` >= nesting depth + 1 (more when tools run in parallel).
 * - A tool calling back into the agent that runs it fails fast (`AgentError` "Reentrant", which the model sees as a
 *   failed tool result) instead of waiting for itself.
 * - `toolLimits` bounds the run's tool calls: a time limit per call, a most number of calls, stop or go on after a
 *   failed call (see `ToolLimits`); the run then ends with reason `max-tool-calls` or `tool-error`.
 * - Each run is a span `invoke_agent <name>`, each step a child span `agent.step <n>` holding the model call's span
 *   and one `execute_tool <tool>` span per call, with the GenAI attributes (`GenAi`); runs, steps and tool calls are
 *   counted in `Telemetry.metrics`.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Context, Duration, Effect, identity, Layer, Metric, Option, Queue, Ref, Schema, Semaphore, Stream } from "effect"
import { AiError, Chat, LanguageModel, Prompt, type Response, Tool, Toolkit } from "effect/ai"
import * as GenAi from "../telemetry/GenAi.ts"
import * as Telemetry from "../telemetry/Telemetry.ts"
import * as ToolCallError from "../tools/ToolCallError.ts"
import * as ToolLimits from "../tools/ToolLimits.ts"
import { AgentError } from "./AgentError.ts"
import type { AgentEvent, FinishReason, Usage } from "./AgentEvent.ts"
import * as ContextBudget from "./ContextBudget.ts"

/** @since 0.1.0 */
export type { AgentEvent, FinishReason, Usage } from "./AgentEvent.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * Tools with handlers: a `Toolkit.WithHandler` (e.g. from `AgentTool.toolkit`), or an Effect producing one (run
 * before every step, e.g. `registry.toolkit()`, so tools enabled or disabled mid-run are seen).
 *
 * @category models
 * @since 0.1.0
 */
export type Tools<R = never> =
  | Toolkit.WithHandler<any>
  | Effect.Effect<Toolkit.WithHandler<any>, never, R>

/**
 * Which tools the model may or must call; a function chooses per step (from 1).
 *
 * @category models
 * @since 0.1.0
 */
export type ToolChoice = LanguageModel.ToolChoice<string> | ((step: number) => LanguageModel.ToolChoice<string>)

/**
 * @category models
 * @since 0.1.0
 */
export interface Options<R = never> {
  /** The agent's name in spans and metrics. Default: its id (`agent-<n>`). */
  readonly name?: string
  readonly system?: string
  readonly tools?: Tools<R>
  /** Model calls per run, at least 1. Default 10. */
  readonly maxSteps?: number
  /** Default "auto". `(step) => step === 1 ? "required" : "auto"` forces a first tool call. */
  readonly toolChoice?: ToolChoice
  /** How many tool calls of one step run at once. Default 1 (in order). */
  readonly toolConcurrency?: number | "unbounded"
  /** Summarize the oldest turns when the history passes a share of the model's context. */
  readonly contextBudget?: ContextBudget.Options
  /**
   * Wraps the model call of each step (not its tools), e.g. per-step provider settings:
   * `(step) => LlamaLanguageModel.withConfigOverride({ maxTokens: step === 1 ? 200 : 64 })`.
   */
  readonly aroundStep?: (step: number) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Per-run limits on tool calls: a time limit per call, the most calls, stop or go on after a failure. */
  readonly toolLimits?: ToolLimits.ToolLimits
}

/**
 * A tool call of a run and its (encoded) result.
 *
 * @category models
 * @since 0.1.0
 */
export interface ToolCallRecord {
  readonly step: number
  readonly id: string
  readonly name: string
  readonly params: unknown
  readonly isFailure: boolean
  readonly result: unknown
  /** How long the call took (0 for a call that was not made). */
  readonly durationMs: number
}

/**
 * What `generate` returns: the last step's text, why the run ended, and its calls and usage.
 *
 * @category models
 * @since 0.1.0
 */
export interface AgentResult {
  readonly text: string
  readonly reason: FinishReason
  readonly steps: number
  readonly usage: Usage
  readonly toolCalls: ReadonlyArray<ToolCallRecord>
}

/**
 * @category models
 * @since 0.1.0
 */
export interface Service {
  readonly id: string
  /** The history. Prefer the methods below to writing `chat.history` while a run is in progress. */
  readonly chat: Chat.Chat
  readonly stream: (prompt: Prompt.RawInput) => Stream.Stream<AgentEvent, AgentError | AiError.AiError>
  readonly generate: (prompt: Prompt.RawInput) => Effect.Effect<AgentResult, AgentError | AiError.AiError>
  readonly history: Effect.Effect<Prompt.Prompt>
  readonly addMessages: (input: Prompt.RawInput) => Effect.Effect<void, AgentError>
  /** Back to the system prompt alone. */
  readonly clear: Effect.Effect<void, AgentError>
  readonly exportJson: Effect.Effect<string, AgentError>
  /** Replaces the history with an exported one (which holds its own system prompt). */
  readonly importJson: (json: string) => Effect.Effect<void, AgentError>
}

/**
 * An agent as a service, for programs that provide one with `layer`.
 *
 * @category services
 * @since 0.1.0
 */
export class Agent extends Context.Service<Agent, Service>()("effect-llama/Agent") {}

// ============================================================================
// Constructors
// ============================================================================

// The agents running in the current fiber's ancestry, to catch a tool calling back into its own agent.
const Running = Context.Reference<ReadonlySet<string>>("effect-llama/Agent/Running", { defaultValue: () => new Set() })

let agentCounter = 0

interface Call {
  readonly id: string
  readonly name: string
  readonly params: unknown
}
interface Outcome {
  readonly isFailure: boolean
  readonly result: unknown
  readonly modelOutput?: ReadonlyArray<Prompt.TextPartEncoded | Prompt.FilePartEncoded> | undefined
  readonly durationMs?: number
}

const encodeAiError = (error: AiError.AiError) =>
  Schema.encodeUnknownEffect(AiError.AiError)(error).pipe(Effect.orElseSucceed(() => ({ error: error.message })))

// A failed call as the model sees it: AiErrors and the tool's failures in their schema's encoding.
const encodeFailure = (tool: Tool.Any | undefined, cause: Cause.Cause<unknown>): Effect.Effect<unknown> => {
  const found = Cause.findErrorOption(cause)
  if (Option.isNone(found)) return Effect.succeed({ _tag: "ToolDefect", message: String(Cause.squash(cause)) })
  const error = found.value
  if (AiError.isAiError(error)) return encodeAiError(error)
  if (tool === undefined) return Effect.succeed({ error: String(error) })
  return Schema.encodeUnknownEffect(Tool.failureResultSchema(tool))(error).pipe(
    Effect.orElseSucceed(() => ({ error: String(error) }))
  ) as Effect.Effect<unknown>
}

const runCall = (toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>, call: Call): Effect.Effect<Outcome> =>
  toolkit.handle(call.name, call.params as never, call.id).pipe(
    Effect.flatMap((stream) => Stream.runLast(Stream.filter(stream, (r) => !r.preliminary))),
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeed<Outcome>({ isFailure: true, result: { error: "the tool returned no result" } }),
      onSome: (r) =>
        Effect.succeed<Outcome>({
          isFailure: r.isFailure,
          result: r.encodedResult,
          ...(r.modelOutput === undefined ? {} : { modelOutput: r.modelOutput as never })
        })
    })),
    Effect.catchCause((cause) =>
      Cause.hasInterrupts(cause)
        ? Effect.failCause(cause as Cause.Cause<never>)
        : Effect.map(encodeFailure(toolkit.tools[call.name], cause), (result): Outcome => ({ isFailure: true, result }))
    )
  ) as Effect.Effect<Outcome>

const notMade = (call: Call, reason: "LimitReached" | "Skipped", description: string): Outcome => ({
  isFailure: true,
  result: ToolCallError.encode(new ToolCallError.ToolCallError({ tool: call.name, reason, description })),
  durationMs: 0
})

// One call under the run's time limit, as a span `execute_tool <name>`, counted in the metrics.
const runLimited = (
  toolkit: Toolkit.WithHandler<Record<string, Tool.Any>>,
  call: Call,
  limits: ReturnType<typeof ToolLimits.resolve>
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const timeout = limits.timeout
    const outcome = timeout === undefined ? yield* runCall(toolkit, call) : yield* Effect.timeoutOrElse(runCall(toolkit, call), {
      duration: timeout,
      orElse: () =>
        Effect.succeed<Outcome>({
          isFailure: true,
          result: ToolCallError.encode(
            new ToolCallError.ToolCallError({ tool: call.name, reason: "Timeout", description: `timed out after ${Duration.format(timeout)}` })
          )
        })
    })
    const durationMs = (yield* Clock.currentTimeMillis) - start
    const outcomeLabel = outcome.isFailure ? "failure" : "success"
    yield* Effect.annotateCurrentSpan(GenAi.attributes.toolOutcome, outcomeLabel)
    yield* Metric.update(Metric.withAttributes(Telemetry.metrics.toolCalls, { tool: call.name, outcome: outcomeLabel }), 1)
    yield* Metric.update(Metric.withAttributes(Telemetry.metrics.toolDuration, { tool: call.name }), durationMs)
    return { ...outcome, durationMs }
  }).pipe(
    Effect.withSpan(GenAi.spanNames.tool(call.name), {
      attributes: {
        [GenAi.attributes.operationName]: GenAi.operations.executeTool,
        [GenAi.attributes.toolName]: call.name,
        [GenAi.attributes.toolCallId]: call.id,
        [GenAi.attributes.toolType]: "function"
      }
    })
  )

// One step as history: the assistant message, then one tool message with a result per call.
const stepMessages = (
  text: string,
  reasoning: string,
  calls: ReadonlyArray<Call>,
  outcomes: ReadonlyArray<Outcome>
): Prompt.Prompt => {
  const content: Array<Prompt.AssistantMessagePartEncoded> = []
  if (reasoning !== "") content.push({ type: "reasoning", text: reasoning })
  if (text !== "" || calls.length === 0) content.push({ type: "text", text })
  for (const c of calls) {
    content.push({ type: "tool-call", id: c.id, name: c.name, params: c.params, providerExecuted: false })
  }
  const messages: Array<Prompt.MessageEncoded> = [{ role: "assistant", content }]
  if (calls.length > 0) {
    messages.push({
      role: "tool",
      content: calls.map((c, i) => ({
        type: "tool-result",
        id: c.id,
        name: c.name,
        isFailure: outcomes[i]!.isFailure,
        result: outcomes[i]!.result,
        ...(outcomes[i]!.modelOutput === undefined ? {} : { modelOutput: outcomes[i]!.modelOutput })
      }))
    })
  }
  return Prompt.make(messages)
}

type Part = Response.StreamPart<Record<string, Tool.Any>, "deferred">

const emptyResult = (): AgentResult => ({
  text: "",
  reason: "stop",
  steps: 0,
  usage: { inputTokens: 0, outputTokens: 0 },
  toolCalls: []
})

// Folds the events of a run into its result.
const collect = (acc: AgentResult, event: AgentEvent): AgentResult => {
  switch (event.type) {
    case "tool-call": {
      const { id, name, params, step } = event
      return {
        ...acc,
        toolCalls: [...acc.toolCalls, { step, id, name, params, isFailure: false, result: undefined, durationMs: 0 }]
      }
    }
    case "tool-result": {
      const { durationMs, id, isFailure, result } = event
      return { ...acc, toolCalls: acc.toolCalls.map((c) => (c.id === id ? { ...c, isFailure, result, durationMs } : c)) }
    }
    case "finished":
      return { ...acc, text: event.text, reason: event.reason, steps: event.steps, usage: event.usage }
    default:
      return acc
  }
}

const addUsage = (a: Usage, b: Usage): Usage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens
})

/**
 * Builds an agent on the `LanguageModel` in context (captured now, as are the services of an Effect `tools`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = <R = never>(options: Options<R> = {}): Effect.Effect<Service, never, LanguageModel.LanguageModel | R> =>
  Effect.gen(function*() {
    const model = yield* LanguageModel.LanguageModel
    const captured = yield* Effect.context<R>()
    const id = `agent-${++agentCounter}`
    const name = options.name ?? id
    const maxSteps = options.maxSteps ?? 10
    const limits = ToolLimits.resolve(options.toolLimits)
    const systemPrompt: Prompt.RawInput = options.system === undefined ? [] : [{ role: "system", content: options.system }]
    const chat = yield* Chat.fromPrompt(systemPrompt)
    const lock = yield* Semaphore.make(1)

    const resolveTools: Effect.Effect<Toolkit.WithHandler<Record<string, Tool.Any>>> = options.tools === undefined
      ? Toolkit.empty as never
      : Effect.isEffect(options.tools)
      ? Effect.updateContext(options.tools, (current: Context.Context<never>) => Context.merge(captured, current))
      : Effect.succeed(options.tools)

    // Runs `body` holding the agent; a call from inside its own run fails instead of waiting for itself.
    const exclusive = <A, E, R2>(body: Effect.Effect<A, E, R2>): Effect.Effect<A, E | AgentError, R2> =>
      Effect.gen(function*() {
        const running = yield* Running
        if (running.has(id)) {
          return yield* new AgentError({ reason: "Reentrant", description: `${id} was called from one of its own tools` })
        }
        return yield* Semaphore.withPermit(lock, body).pipe(Effect.provideService(Running, new Set([...running, id])))
      })

    type Finished = Extract<AgentEvent, { type: "finished" }>

    const run = (input: Prompt.RawInput, emit: (event: AgentEvent) => Effect.Effect<void>) =>
      Effect.gen(function*() {
        if (!(maxSteps >= 1)) {
          return yield* new AgentError({ reason: "InvalidOptions", description: "maxSteps must be at least 1" })
        }
        // The turn is built here and committed step by step, so an interruption drops only the unfinished step.
        let working = Prompt.concat(yield* Ref.get(chat.history), input)
        let total: Usage = { inputTokens: 0, outputTokens: 0 }
        let made = 0 // tool calls made in this run (for maxToolCalls)

        // One model call and its tool calls; the run's end if this step ends it.
        const runStep = (step: number) =>
          Effect.gen(function*() {
            if (options.contextBudget !== undefined) {
              const compaction = yield* ContextBudget.compact(working, options.contextBudget)
              if (Option.isSome(compaction)) {
                const { messages, prompt, tokensAfter, tokensBefore } = compaction.value
                working = prompt
                yield* emit({ type: "summarized", step, messages, tokensBefore, tokensAfter })
              }
            }
            const toolkit = yield* resolveTools
            const choice = typeof options.toolChoice === "function" ? options.toolChoice(step) : options.toolChoice ?? "auto"
            let text = ""
            let reasoning = ""
            let finishReason: Response.FinishReason = "unknown"
            let usage: Usage = { inputTokens: 0, outputTokens: 0 }
            const calls: Array<Call> = []
            yield* LanguageModel.streamText({
              prompt: working,
              toolkit,
              toolChoice: choice,
              disableToolCallResolution: true,
              toolCallValidation: "deferred"
            } as never).pipe(
              Stream.runForEach((part: Part): Effect.Effect<void, AgentError> => {
                switch (part.type) {
                  case "text-delta":
                    text += part.delta
                    return emit({ type: "text-delta", step, delta: part.delta })
                  case "reasoning-delta":
                    reasoning += part.delta
                    return emit({ type: "reasoning-delta", step, delta: part.delta })
                  case "tool-call":
                    if (part.providerExecuted === true) return Effect.void
                    calls.push({ id: part.id, name: part.name, params: part.params })
                    return emit({ type: "tool-call", step, id: part.id, name: part.name, params: part.params })
                  case "finish":
                    finishReason = part.reason
                    usage = {
                      inputTokens: part.usage.inputTokens.total ?? 0,
                      outputTokens: part.usage.outputTokens.total ?? 0
                    }
                    return Effect.void
                  case "error":
                    return Effect.fail(new AgentError({ reason: "ModelError", description: String(part.error) }))
                  default:
                    return Effect.void
                }
              }),
              Effect.provideService(LanguageModel.LanguageModel, model),
              options.aroundStep === undefined ? identity : options.aroundStep(step)
            ) as Effect.Effect<void, AgentError | AiError.AiError>
            // The run's limits: a call past maxToolCalls is not made; with onError "stop", a failure skips the rest.
            const limit: { ended: "max-tool-calls" | "tool-error" | undefined } = { ended: undefined }
            const outcomes = yield* Effect.forEach(
              calls,
              (call) =>
                Effect.suspend((): Effect.Effect<Outcome> => {
                  if (limit.ended === "tool-error") {
                    return Effect.succeed(notMade(call, "Skipped", "not made: an earlier call of this step failed"))
                  }
                  if (limits.maxToolCalls !== undefined && made >= limits.maxToolCalls) {
                    limit.ended ??= "max-tool-calls"
                    return Effect.succeed(
                      notMade(call, "LimitReached", `not made: the run's ${limits.maxToolCalls} tool calls are spent`)
                    )
                  }
                  made++
                  return Effect.tap(runLimited(toolkit, call, limits), (outcome) =>
                    Effect.sync(() => {
                      if (outcome.isFailure && limits.stopOnError) limit.ended = "tool-error"
                    }))
                }).pipe(
                  Effect.tap(({ durationMs, isFailure, result }) =>
                    emit({ type: "tool-result", step, id: call.id, name: call.name, isFailure, result, durationMs: durationMs ?? 0 })
                  )
                ),
              { concurrency: options.toolConcurrency ?? 1 }
            )
            working = Prompt.concat(working, stepMessages(text, reasoning, calls, outcomes))
            yield* Ref.set(chat.history, working)
            total = addUsage(total, usage)
            yield* Effect.annotateCurrentSpan({
              [GenAi.attributes.toolCalls]: calls.length,
              [GenAi.attributes.finishReasons]: [finishReason],
              [GenAi.attributes.inputTokens]: usage.inputTokens,
              [GenAi.attributes.outputTokens]: usage.outputTokens
            })
            yield* Metric.update(Metric.withAttributes(Telemetry.metrics.agentSteps, { agent: name }), 1)
            yield* emit({ type: "step-finished", step, finishReason, toolCalls: calls.length, usage })
            if (calls.length === 0) {
              // finishReason is set by the stream callback above, which TypeScript cannot see.
              const reason = (finishReason as Response.FinishReason) === "length" ? "length" : "stop"
              return Option.some<Finished>({ type: "finished", reason, steps: step, text, usage: total })
            }
            if (limit.ended !== undefined) {
              return Option.some<Finished>({ type: "finished", reason: limit.ended, steps: step, text, usage: total })
            }
            if (step === maxSteps) {
              return Option.some<Finished>({ type: "finished", reason: "max-steps", steps: step, text, usage: total })
            }
            return Option.none<Finished>()
          }).pipe(Effect.withSpan(GenAi.spanNames.step(step), { attributes: { [GenAi.attributes.agentStep]: step } }))

        for (let step = 1; step <= maxSteps; step++) {
          const end = yield* runStep(step)
          if (Option.isSome(end)) {
            yield* Effect.annotateCurrentSpan({
              [GenAi.attributes.agentFinishReason]: end.value.reason,
              [GenAi.attributes.inputTokens]: end.value.usage.inputTokens,
              [GenAi.attributes.outputTokens]: end.value.usage.outputTokens
            })
            yield* Metric.update(Metric.withAttributes(Telemetry.metrics.agentRuns, { agent: name, reason: end.value.reason }), 1)
            return yield* emit(end.value)
          }
        }
      }).pipe(
        Effect.withSpan(GenAi.spanNames.agent(name), {
          attributes: {
            [GenAi.attributes.operationName]: GenAi.operations.invokeAgent,
            [GenAi.attributes.agentId]: id,
            [GenAi.attributes.agentName]: name
          }
        }),
        Effect.provideService(LanguageModel.LanguageModel, model)
      )

    const stream = (input: Prompt.RawInput): Stream.Stream<AgentEvent, AgentError | AiError.AiError> =>
      Stream.callback<AgentEvent, AgentError | AiError.AiError>(
        (queue) =>
          exclusive(run(input, (event) => Effect.asVoid(Queue.offer(queue, event)))).pipe(
            Effect.andThen(Queue.end(queue))
          ),
        { bufferSize: 64, strategy: "suspend" }
      )

    const generate = (input: Prompt.RawInput): Effect.Effect<AgentResult, AgentError | AiError.AiError> =>
      Stream.runFold(stream(input), emptyResult, collect)

    return Agent.of({
      id,
      chat,
      stream,
      generate,
      history: Ref.get(chat.history),
      addMessages: (input) => exclusive(Ref.update(chat.history, (h) => Prompt.concat(h, input))),
      clear: exclusive(Ref.set(chat.history, Prompt.make(systemPrompt))),
      exportJson: chat.exportJson.pipe(
        Effect.mapError((e) => new AgentError({ reason: "InvalidHistory", description: e.message }))
      ),
      importJson: (json) =>
        exclusive(
          Chat.fromJson(json).pipe(
            Effect.flatMap((imported) => Ref.get(imported.history)),
            Effect.flatMap((history) => Ref.set(chat.history, history)),
            Effect.mapError((e) => new AgentError({ reason: "InvalidHistory", description: e.message }))
          )
        )
    })
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * Provides an `Agent` built with `options` on the `LanguageModel` in context.
 *
 * @category layers
 * @since 0.1.0
 */
export const layer = <R = never>(options: Options<R> = {}): Layer.Layer<Agent, never, LanguageModel.LanguageModel | R> =>
  Layer.effect(Agent, make(options))
