/** @internal Running one work node (agent, transform, condition): attempts, timeout, retries, the node's code. */
import { Cause, Clock, Duration, Effect, Exit, Layer, Schema, Stream } from "effect"
import { LanguageModel, Prompt } from "effect/ai"
import * as Agent from "../../agent/Agent.ts"
import * as LlamaLanguageModel from "../../ai/LlamaLanguageModel.ts"
import { CurrentExecutionProfile, type ExecutionProfile } from "../../resilience/ExecutionProfile.ts"
import type { WorkflowEvent } from "../WorkflowEvent.ts"
import type * as WorkflowNode from "../WorkflowNode.ts"
import type { PlanNode } from "./plan.ts"
import * as Template from "./template.ts"

/** @internal What a unit of work produced; journaled as JSON on durable runs. */
export const Outcome = Schema.Struct({
  ok: Schema.Boolean,
  output: Schema.optionalKey(Schema.Unknown),
  error: Schema.optionalKey(Schema.String),
  attempts: Schema.Int,
  startedAt: Schema.Finite,
  finishedAt: Schema.Finite,
  usage: Schema.optionalKey(Schema.Struct({ inputTokens: Schema.Finite, outputTokens: Schema.Finite })),
  vars: Schema.optionalKey(Schema.Record(Schema.String, Schema.Unknown)),
  branches: Schema.optionalKey(Schema.Array(Schema.String))
})

/** @internal */
export type Outcome = typeof Outcome.Type

/** @internal The tag events of the node carry. */
export interface Tag {
  readonly runId: string
  readonly node: string
  readonly name: string
  readonly item?: number
}

/** @internal What a work node's code receives. */
export interface Work {
  readonly node: PlanNode
  /** Its input before decoding: the rendered `from`, or what its parents produced. */
  readonly received: unknown
  readonly scope: Template.Scope
  readonly tag: Tag
  readonly emit: ((event: WorkflowEvent) => Effect.Effect<void>) | undefined
}

interface Produced {
  readonly output: unknown
  readonly usage?: { readonly inputTokens: number; readonly outputTokens: number }
  readonly branches?: ReadonlyArray<string>
}

/** @internal A failure as one line. */
export const errorMessage = (error: unknown): string => {
  if (Cause.isTimeoutError(error)) return `timed out${error.message ? `: ${error.message}` : ""}`
  if (error instanceof Error) return error.message === "" ? error.name : error.message
  if (typeof error === "object" && error !== null) {
    const message = (error as { readonly message?: unknown }).message
    if (typeof message === "string" && message !== "") return message
    const tag = (error as { readonly _tag?: unknown })._tag
    try {
      return typeof tag === "string" ? `${tag}: ${JSON.stringify(error)}` : JSON.stringify(error)
    } catch {
      return String(error)
    }
  }
  return String(error)
}

const retryable = (error: unknown): boolean =>
  Cause.isTimeoutError(error) ||
  (typeof error === "object" && error !== null && (error as { readonly isRetryable?: unknown }).isRetryable === true)

interface Policy {
  readonly times: number
  readonly delay: (retry: number) => Duration.Duration
  readonly while: (error: unknown) => boolean
}

const policyOf = (node: WorkflowNode.Node, profile: ExecutionProfile): Policy | undefined => {
  if (node.retry !== undefined) {
    const { backoff = "exponential", maxDelay } = node.retry
    const base = Duration.fromInputUnsafe(node.retry.delay ?? 100)
    const cap = maxDelay === undefined ? undefined : Duration.fromInputUnsafe(maxDelay)
    return {
      times: node.retry.times,
      delay: (retry) => {
        const d = backoff === "fixed" ? base : Duration.times(base, 2 ** (retry - 1))
        return cap === undefined ? d : Duration.min(d, cap)
      },
      while: node.retry.while ?? (() => true)
    }
  }
  if (node.kind !== "agent") return undefined
  const { base, jitter, max, times } = profile.retry
  return {
    times,
    delay: (retry) => {
      const d = Duration.min(Duration.times(base, 2 ** (retry - 1)), max)
      return jitter ? Duration.times(d, 1 + Math.random() * 0.25) : d
    },
    while: retryable
  }
}

const context = (work: Work, attempt: number, vars: Record<string, unknown>): WorkflowNode.NodeContext => ({
  runId: work.tag.runId,
  node: work.node.node.name,
  input: work.scope.input,
  outputs: work.scope.outputs,
  vars: work.scope.vars,
  attempt,
  index: work.scope.index,
  setVar: (key, value) => {
    vars[key] = value
  }
})

const decode = (work: Work) => work.node.input === undefined ? Effect.succeed(work.received) : work.node.input.decode(work.received)
const encode = (work: Work, value: unknown) =>
  work.node.output === undefined ? Effect.succeed(value) : work.node.output.encode(value)

const runTransform = (work: Work, node: WorkflowNode.TransformNode, ctx: WorkflowNode.NodeContext) =>
  decode(work).pipe(
    Effect.flatMap((input) => node.run(input, ctx)),
    Effect.flatMap((value) => encode(work, value)),
    Effect.map((output): Produced => ({ output }))
  )

const runCondition = (work: Work, node: WorkflowNode.ConditionNode, ctx: WorkflowNode.NodeContext) =>
  decode(work).pipe(
    Effect.flatMap((input) => {
      const decided = node.decide(input, ctx)
      return Effect.isEffect(decided) ? decided : Effect.succeed(decided)
    }),
    Effect.flatMap((decided) => {
      const branches = typeof decided === "string" ? [decided] : [...decided]
      const unknown = branches.filter((b) => !work.node.branches.has(b))
      return unknown.length > 0
        ? Effect.fail(
          new Error(`condition ${node.name} chose ${unknown.join(", ")}; its branches are ${[...work.node.branches].join(", ")}`)
        )
        : Effect.succeed<Produced>({ output: work.received, branches })
    })
  )

const isRegistry = (tools: unknown): tools is { readonly toolkit: () => Effect.Effect<any> } =>
  typeof tools === "object" && tools !== null && "toolkit" in tools && "register" in tools

const runAgent = (work: Work, node: WorkflowNode.AgentNode) =>
  Effect.gen(function*() {
    const prompt = Template.renderText(work.node.prompt!, work.scope)
    const system = work.node.system === undefined ? undefined : Template.renderText(work.node.system, work.scope)
    if (node.output !== undefined && node.tools === undefined) {
      // Structured output without tools: one constrained call, no tool loop before it.
      const object = yield* LanguageModel.generateObject({
        prompt: Prompt.make([...(system === undefined ? [] : [{ role: "system" as const, content: system }]), {
          role: "user" as const,
          content: prompt
        }]),
        schema: node.output as Schema.Codec<Record<string, unknown>, Record<string, unknown>>,
        objectName: node.name
      })
      return {
        output: yield* encode(work, object.value),
        usage: { inputTokens: object.usage.inputTokens.total ?? 0, outputTokens: object.usage.outputTokens.total ?? 0 }
      } satisfies Produced
    }
    const tools = node.tools === undefined ? undefined : isRegistry(node.tools) ? node.tools.toolkit() : node.tools
    const agent = yield* Agent.make({
      ...(system === undefined ? {} : { system }),
      ...(tools === undefined ? {} : { tools: tools as Agent.Tools }),
      ...(node.maxSteps === undefined ? {} : { maxSteps: node.maxSteps }),
      ...(node.toolChoice === undefined ? {} : { toolChoice: node.toolChoice }),
      ...(node.aroundStep === undefined ? {} : { aroundStep: node.aroundStep }),
      ...(node.toolLimits === undefined ? {} : { toolLimits: node.toolLimits }),
      name: node.name
    })
    const { emit, tag } = work
    let text = ""
    let usage = { inputTokens: 0, outputTokens: 0 }
    let failedCall: { readonly tool: string; readonly result: unknown } | undefined
    let reason: Agent.FinishReason = "stop"
    yield* agent.stream(prompt).pipe(
      Stream.runForEach((event): Effect.Effect<void> => {
        switch (event.type) {
          case "text-delta":
            return emit === undefined ? Effect.void : emit({ ...tag, type: "agent-text-delta", step: event.step, delta: event.delta })
          case "tool-call":
            return emit === undefined ? Effect.void : emit({
              ...tag,
              type: "agent-tool-call",
              step: event.step,
              id: event.id,
              tool: event.name,
              params: event.params
            })
          case "tool-result":
            if (event.isFailure) failedCall ??= { tool: event.name, result: event.result }
            return emit === undefined ? Effect.void : emit({
              ...tag,
              type: "agent-tool-result",
              step: event.step,
              id: event.id,
              tool: event.name,
              isFailure: event.isFailure,
              result: event.result
            })
          case "finished":
            return Effect.sync(() => {
              text = event.text
              usage = event.usage
              reason = event.reason
            })
          default:
            return Effect.void
        }
      })
    )
    // reason and failedCall are set by the event handler above, which TypeScript cannot see.
    if ((reason as Agent.FinishReason) === "tool-error") {
      const failed = failedCall as { readonly tool: string; readonly result: unknown } | undefined
      return yield* Effect.fail(
        new Error(`agent ${node.name} stopped: tool ${failed?.tool ?? "?"} failed: ${JSON.stringify(failed?.result)}`)
      )
    }
    if (node.output === undefined) return { output: text, usage } satisfies Produced
    const history = yield* agent.history
    const object = yield* LanguageModel.generateObject({
      prompt: Prompt.concat(history, [{ role: "user", content: "Give the answer as JSON of the requested shape." }]),
      schema: node.output as Schema.Codec<Record<string, unknown>, Record<string, unknown>>,
      objectName: node.name
    })
    const output = yield* encode(work, object.value)
    const extra = object.usage
    return {
      output,
      usage: {
        inputTokens: usage.inputTokens + (extra.inputTokens.total ?? 0),
        outputTokens: usage.outputTokens + (extra.outputTokens.total ?? 0)
      }
    } satisfies Produced
  }).pipe(
    (self) =>
      node.model === undefined
        ? self
        : Layer.isLayer(node.model)
        ? Effect.provide(self, node.model as Layer.Layer<LanguageModel.LanguageModel>)
        : Effect.provideService(self, LanguageModel.LanguageModel, node.model as LanguageModel.LanguageModel),
    (self) => (node.config === undefined ? self : LlamaLanguageModel.withConfigOverride(self, node.config)),
    (self) => (node.profile === undefined ? self : Effect.provideService(self, CurrentExecutionProfile, node.profile))
  )

const produce = (work: Work, ctx: WorkflowNode.NodeContext): Effect.Effect<Produced, unknown, any> => {
  const node = work.node.node
  switch (node.kind) {
    case "transform":
      return runTransform(work, node, ctx)
    case "condition":
      return runCondition(work, node, ctx)
    case "agent":
      return runAgent(work, node)
    default:
      return Effect.die(new Error(`${node.kind} is not a work node`))
  }
}

/** @internal Runs a work node to its outcome (failures are outcomes); interruption propagates. */
export const runWork = (work: Work): Effect.Effect<Outcome, never, any> =>
  Effect.gen(function*() {
    const node = work.node.node
    const profile = node.kind === "agent" && node.profile !== undefined ? node.profile : yield* CurrentExecutionProfile
    const timeout = node.timeout ?? (node.kind === "agent" ? profile.attemptTimeout : undefined)
    const policy = policyOf(node, profile)
    const startedAt = yield* Clock.currentTimeMillis
    for (let attempt = 1;; attempt++) {
      const vars: Record<string, unknown> = {}
      let body = produce(work, context(work, attempt, vars))
      if (timeout !== undefined) body = Effect.timeout(body, timeout)
      const exit = yield* Effect.exit(body)
      const finishedAt = yield* Clock.currentTimeMillis
      if (Exit.isSuccess(exit)) {
        const { branches, output, usage } = exit.value
        return {
          ok: true,
          ...(output === undefined ? {} : { output }),
          attempts: attempt,
          startedAt,
          finishedAt,
          ...(usage === undefined ? {} : { usage }),
          ...(Object.keys(vars).length === 0 ? {} : { vars }),
          ...(branches === undefined ? {} : { branches })
        } satisfies Outcome
      }
      if (Cause.hasInterruptsOnly(exit.cause)) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      const error = Cause.squash(exit.cause)
      if (policy !== undefined && attempt <= policy.times && policy.while(error)) {
        const delay = policy.delay(attempt)
        if (work.emit !== undefined) {
          yield* work.emit({
            ...work.tag,
            type: "node-retried",
            attempt: attempt + 1,
            error: errorMessage(error),
            delayMs: Duration.toMillis(delay)
          })
        }
        yield* Effect.sleep(delay)
        continue
      }
      return { ok: false, error: errorMessage(error), attempts: attempt, startedAt, finishedAt } satisfies Outcome
    }
  })
