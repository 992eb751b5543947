/**
 * effect-llama: local LLM inference on llama.cpp for Effect 4 programs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as LlamaContext from "./llama/LlamaContext.ts"
/** @since 0.1.0 */
export * as LlamaEmbeddingModel from "./ai/LlamaEmbeddingModel.ts"
/** @since 0.1.0 */
export * as LlamaError from "./llama/LlamaError.ts"
/** @since 0.1.0 */
export * as LlamaLanguageModel from "./ai/LlamaLanguageModel.ts"
/** @since 0.1.0 */
export * as LlamaLogger from "./llama/LlamaLogger.ts"
/** @since 0.1.0 */
export * as LlamaModel from "./llama/LlamaModel.ts"
/** @since 0.1.0 */
export * as Native from "./native/Native.ts"
/** @since 0.2.0 */
export * as Reranker from "./llama/Reranker.ts"
/** @since 0.2.0 */
export * as LlamaChat from "./ai/LlamaChat.ts"
/** @since 0.1.0 */
export * as Sampling from "./llama/Sampling.ts"
/** @since 0.1.0 */
export * as Gguf from "./gguf/index.ts"
/** @since 0.1.0 */
export * as Agent from "./agent/Agent.ts"
/** @since 0.1.0 */
export * as AgentError from "./agent/AgentError.ts"
/** @since 0.1.0 */
export * as AgentEvent from "./agent/AgentEvent.ts"
/** @since 0.1.0 */
export * as ContextBudget from "./agent/ContextBudget.ts"
/** @since 0.1.0 */
export * as TokenCounter from "./agent/TokenCounter.ts"
/** @since 0.1.0 */
export * as AgentTool from "./tools/AgentTool.ts"
/** @since 0.1.0 */
export * as JsonStore from "./tools/JsonStore.ts"
/** @since 0.1.0 */
export * as NotesTools from "./tools/NotesTools.ts"
/** @since 0.1.0 */
export * as TodoTools from "./tools/TodoTools.ts"
/** @since 0.1.0 */
export * as ToolRegistry from "./tools/ToolRegistry.ts"
/** @since 0.1.0 */
export * as ToolRegistryError from "./tools/ToolRegistryError.ts"
/** @since 0.2.0 */
export * as ExecutionProfile from "./resilience/ExecutionProfile.ts"
/** @since 0.2.0 */
export * as Workflow from "./workflow/Workflow.ts"
/** @since 0.2.0 */
export * as WorkflowNode from "./workflow/WorkflowNode.ts"
/** @since 0.2.0 */
export * as WorkflowExecutor from "./workflow/WorkflowExecutor.ts"
/** @since 0.2.0 */
export * as WorkflowEvent from "./workflow/WorkflowEvent.ts"
/** @since 0.2.0 */
export * as WorkflowResult from "./workflow/WorkflowResult.ts"
/** @since 0.2.0 */
export * as WorkflowError from "./workflow/WorkflowError.ts"
/** @since 0.2.0 */
export * as WorkflowJson from "./workflow/WorkflowJson.ts"
/** @since 0.2.0 */
export * as WorkflowStats from "./workflow/WorkflowStats.ts"
/**
 * Durable runs on effect/workflow. The PostgreSQL engines are in `effect-llama/workflow/WorkflowPostgres` (not
 * re-exported here: that module needs the optional `@effect/sql-pg`).
 *
 * @since 0.2.0
 */
export * as DurableWorkflow from "./workflow/DurableWorkflow.ts"
export * as Policy from "./resilience/Policy.ts"
/** @since 0.2.0 */
export * as Rejection from "./resilience/Rejection.ts"
/** @since 0.2.0 */
export * as Resilience from "./resilience/Resilience.ts"
/** @since 0.2.0 */
export * as OpenAiCompat from "./providers/OpenAiCompat.ts"
/** @since 0.2.0 */
export * as OpenAiCompatEmbeddingModel from "./providers/OpenAiCompatEmbeddingModel.ts"
/** @since 0.2.0 */
export * as OpenAiPresets from "./providers/OpenAiPresets.ts"
/** @since 0.2.0 */
export * as Anthropic from "./providers/Anthropic.ts"
/** @since 0.2.0 */
export * as Ollama from "./providers/Ollama.ts"
/** @since 0.2.0 */
export * as OllamaEmbeddingModel from "./providers/OllamaEmbeddingModel.ts"
/** @since 0.2.0 */
export * as HuggingFaceEmbeddingModel from "./providers/HuggingFaceEmbeddingModel.ts"
/** @since 0.2.0 */
export * as LlmClient from "./client/LlmClient.ts"
/** @since 0.2.0 */
export * as EmbeddingClient from "./client/EmbeddingClient.ts"
/** @since 0.2.0 */
export * as ToolDefinition from "./tools/ToolDefinition.ts"
/** @since 0.2.0 */
export * as ToolCallError from "./tools/ToolCallError.ts"
/** @since 0.2.0 */
export * as ToolLimits from "./tools/ToolLimits.ts"
/** @since 0.2.0 */
export * as LlamaResources from "./llama/LlamaResources.ts"
/** @since 0.2.0 */
export * as EffectLlama from "./system/EffectLlama.ts"
/** @since 0.2.0 */
export * as HealthCheck from "./system/HealthCheck.ts"
/** @since 0.2.0 */
export * as HealthChecks from "./system/HealthChecks.ts"
/** @since 0.2.0 */
export * as Lifecycle from "./system/Lifecycle.ts"
/** @since 0.2.0 */
export * as ShutdownError from "./system/ShutdownError.ts"
/** @since 0.2.0 */
export * as SystemInfo from "./system/SystemInfo.ts"
/** @since 0.2.0 */
export * as Version from "./system/Version.ts"
/** @since 0.2.0 */
export * as GenAi from "./telemetry/GenAi.ts"
/** @since 0.2.0 */
export * as OtlpExport from "./telemetry/OtlpExport.ts"
/** @since 0.2.0 */
export * as Prometheus from "./telemetry/Prometheus.ts"
/** @since 0.2.0 */
export * as Telemetry from "./telemetry/Telemetry.ts"
/** @since 0.2.0 */
export * as McpToolServer from "./mcp/McpToolServer.ts"
/** @since 0.2.0 */
export * as McpTools from "./mcp/McpTools.ts"
/** @since 0.2.0 */
export * as McpToolError from "./mcp/McpToolError.ts"
/** @since 0.2.0 */
export * as McpCommand from "./mcp/McpCommand.ts"
/** @since 0.2.0 */
export * as OpenAiServer from "./server/OpenAiServer.ts"
/** @since 0.2.0 */
export * as OpenAiApi from "./server/OpenAiApi.ts"
/** @since 0.2.0 */
export * as OpenAiSchema from "./server/OpenAiSchema.ts"
/** @since 0.2.0 */
export * as ServerError from "./server/ServerError.ts"
/** @since 0.2.0 */
export * as ChatPage from "./server/ChatPage.ts"
/** @since 0.2.0 */
export * as EffectLlamaCli from "./cli/EffectLlamaCli.ts"
/** @since 0.2.0 */
export * as CliFailure from "./cli/CliFailure.ts"
/** @since 0.2.0 */
export * as ModelPull from "./cli/ModelPull.ts"
/** @since 0.2.0 */
export * as ModelCache from "./cli/ModelCache.ts"
