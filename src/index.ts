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
