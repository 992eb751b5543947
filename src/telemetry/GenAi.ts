/**
 * OpenTelemetry's GenAI semantic conventions as effect-llama uses them: the attribute names, the span names of
 * model calls (`chat <model>`, which effect/ai names `LanguageModel.generateText` / `streamText`), agent runs
 * (`invoke_agent <name>`), tool calls (`execute_tool <name>`), and a span transformer that puts the model, token
 * counts and finish reasons on effect/ai's model-call spans.
 *
 * @since 0.2.0
 */
import { Context, Layer } from "effect"
import { Telemetry } from "effect/ai"

// ============================================================================
// Attributes
// ============================================================================

/**
 * The attribute names (OpenTelemetry semantic conventions for generative AI, plus a few of effect-llama's own
 * under `effect_llama.`).
 *
 * @category constants
 * @since 0.2.0
 */
export const attributes = {
  operationName: "gen_ai.operation.name",
  providerName: "gen_ai.provider.name",
  requestModel: "gen_ai.request.model",
  requestMaxTokens: "gen_ai.request.max_tokens",
  responseModel: "gen_ai.response.model",
  responseId: "gen_ai.response.id",
  finishReasons: "gen_ai.response.finish_reasons",
  inputTokens: "gen_ai.usage.input_tokens",
  outputTokens: "gen_ai.usage.output_tokens",
  agentId: "gen_ai.agent.id",
  agentName: "gen_ai.agent.name",
  toolName: "gen_ai.tool.name",
  toolCallId: "gen_ai.tool.call.id",
  toolType: "gen_ai.tool.type",
  agentStep: "effect_llama.agent.step",
  toolCalls: "effect_llama.agent.tool_calls",
  agentFinishReason: "effect_llama.agent.finish_reason",
  toolOutcome: "effect_llama.tool.outcome",
  workflowName: "effect_llama.workflow.name",
  workflowRunId: "effect_llama.workflow.run_id",
  workflowNode: "effect_llama.workflow.node",
  workflowNodeKind: "effect_llama.workflow.node.kind",
  workflowNodeStatus: "effect_llama.workflow.node.status"
} as const

/**
 * The `gen_ai.operation.name` values used.
 *
 * @category constants
 * @since 0.2.0
 */
export const operations = {
  chat: "chat",
  embeddings: "embeddings",
  invokeAgent: "invoke_agent",
  executeTool: "execute_tool"
} as const

/**
 * Span names: `invoke_agent <agent>`, `execute_tool <tool>`, `agent.step <n>`, `workflow.node <name>`.
 *
 * @category constants
 * @since 0.2.0
 */
export const spanNames = {
  agent: (name: string) => `${operations.invokeAgent} ${name}`,
  tool: (name: string) => `${operations.executeTool} ${name}`,
  step: (step: number) => `agent.step ${step}`,
  workflowRun: (name: string) => `workflow.run ${name}`,
  workflowNode: (name: string) => `workflow.node ${name}`
} as const

// ============================================================================
// Model-call spans
// ============================================================================

interface UsageLike {
  readonly inputTokens?: { readonly total?: number | undefined } | undefined
  readonly outputTokens?: { readonly total?: number | undefined } | undefined
}

/**
 * What a model's response says for telemetry: the model, the response id, the finish reasons and the token counts.
 *
 * @category accessors
 * @since 0.2.0
 */
export const summarize = (parts: ReadonlyArray<{ readonly type: string }>) => {
  let model: string | undefined
  let id: string | undefined
  let inputTokens = 0
  let outputTokens = 0
  let sawUsage = false
  const finishReasons: Array<string> = []
  for (const part of parts) {
    if (part.type === "response-metadata") {
      const meta = part as unknown as { readonly modelId?: string | undefined; readonly id?: string | undefined }
      model = meta.modelId ?? model
      id = meta.id ?? id
    } else if (part.type === "finish") {
      const finish = part as unknown as { readonly reason: string; readonly usage: UsageLike }
      finishReasons.push(finish.reason)
      inputTokens += finish.usage.inputTokens?.total ?? 0
      outputTokens += finish.usage.outputTokens?.total ?? 0
      sawUsage = true
    }
  }
  return { model, id, finishReasons, inputTokens, outputTokens, sawUsage }
}

/**
 * Puts `gen_ai.operation.name`, the response model and id, the finish reasons and the token counts on the span of
 * each effect/ai model call, when it ends.
 *
 * @category constructors
 * @since 0.2.0
 */
export const spanTransformer: Telemetry.SpanTransformer = (options) => {
  const summary = summarize(options.response)
  const span = options.span
  span.attribute(attributes.operationName, operations.chat)
  if (summary.model !== undefined) {
    span.attribute(attributes.responseModel, summary.model)
    // Providers that do not name the requested model get the one that answered.
    if (!span.attributes.has(attributes.requestModel)) span.attribute(attributes.requestModel, summary.model)
  }
  if (summary.id !== undefined) span.attribute(attributes.responseId, summary.id)
  if (summary.finishReasons.length > 0) span.attribute(attributes.finishReasons, summary.finishReasons)
  if (summary.sawUsage) {
    span.attribute(attributes.inputTokens, summary.inputTokens)
    span.attribute(attributes.outputTokens, summary.outputTokens)
  }
}

/**
 * Provides `spanTransformer` to every effect/ai model call in the app.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer: Layer.Layer<Telemetry.CurrentSpanTransformer> = Layer.succeed(
  Telemetry.CurrentSpanTransformer,
  spanTransformer
)

/**
 * The span transformer as a Context, for `Effect.provideContext`-style use.
 *
 * @category constructors
 * @since 0.2.0
 */
export const context: Context.Context<Telemetry.CurrentSpanTransformer> = Context.make(
  Telemetry.CurrentSpanTransformer,
  spanTransformer
)
