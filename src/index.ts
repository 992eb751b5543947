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
