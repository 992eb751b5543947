/**
 * Presets for OpenAI-compatible servers: each is a base URL plus the defaults that server needs (its API key
 * variable, whether it knows `tool_choice` or `json_schema`), and no code. Spread one into
 * `OpenAiCompat.layer({ ...OpenAiPresets.groq, model: "llama-3.3-70b-versatile", apiKey })`, or pass it as
 * `preset` to `OpenAiCompat.layerConfig` to read the key from its variable.
 *
 * @since 0.2.0
 */
import type { Config, Options } from "./OpenAiCompat.ts"

/**
 * A server's base URL and defaults.
 *
 * @category models
 * @since 0.2.0
 */
export interface Preset extends Omit<Options, "model" | "apiKey" | "baseUrl" | "config"> {
  readonly name: string
  readonly baseUrl: string
  /** The environment variable `layerConfig` reads the API key from. */
  readonly apiKeyVariable?: string | undefined
  readonly config?: Config | undefined
}

/**
 * api.openai.com (`OPENAI_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const openai: Preset = { name: "openai", baseUrl: "https://api.openai.com/v1", apiKeyVariable: "OPENAI_API_KEY" }

/**
 * Ollama's OpenAI-compatible API. Its `/v1` has no `tool_choice`; the base URL is yours to set (a remote Ollama,
 * another port): `{ ...OpenAiPresets.ollama, baseUrl: "http://gpu-box:11434/v1" }`. For its native API see `Ollama`.
 *
 * @category constants
 * @since 0.2.0
 */
export const ollama: Preset = {
  name: "ollama",
  baseUrl: "http://localhost:11434/v1",
  apiKeyVariable: "OLLAMA_API_KEY",
  toolChoice: false,
  strictJsonSchema: false
}

/**
 * llama.cpp's llama-server (`--port 8080` by default; `--api-key` keys as Bearer tokens). Any JSON Schema becomes a
 * grammar, so schemas are sent as they are (not rewritten to OpenAI's strict subset); its `tool_choice` is a string
 * only, so a named tool is sent as `"required"` with that tool alone.
 *
 * @category constants
 * @since 0.2.0
 */
export const llamaServer: Preset = {
  name: "llama-server",
  baseUrl: "http://127.0.0.1:8080/v1",
  apiKeyVariable: "LLAMA_API_KEY",
  strictJsonSchema: false,
  namedToolChoice: false
}

/**
 * vLLM's OpenAI-compatible server (`vllm serve`, port 8000).
 *
 * @category constants
 * @since 0.2.0
 */
export const vllm: Preset = { name: "vllm", baseUrl: "http://localhost:8000/v1", apiKeyVariable: "VLLM_API_KEY", strictJsonSchema: false }

/**
 * LM Studio's local server (port 1234).
 *
 * @category constants
 * @since 0.2.0
 */
export const lmStudio: Preset = { name: "lmstudio", baseUrl: "http://localhost:1234/v1", apiKeyVariable: "LMSTUDIO_API_KEY", strictJsonSchema: false }

/**
 * OpenRouter (`OPENROUTER_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const openRouter: Preset = { name: "openrouter", baseUrl: "https://openrouter.ai/api/v1", apiKeyVariable: "OPENROUTER_API_KEY" }

/**
 * DeepSeek (`DEEPSEEK_API_KEY`); `deepseek-reasoner` streams its thinking as `reasoning_content`.
 *
 * @category constants
 * @since 0.2.0
 */
export const deepSeek: Preset = {
  name: "deepseek",
  baseUrl: "https://api.deepseek.com/v1",
  apiKeyVariable: "DEEPSEEK_API_KEY",
  structuredOutput: "json_object"
}

/**
 * Mistral (`MISTRAL_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const mistral: Preset = { name: "mistral", baseUrl: "https://api.mistral.ai/v1", apiKeyVariable: "MISTRAL_API_KEY" }

/**
 * xAI (`XAI_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const xai: Preset = { name: "xai", baseUrl: "https://api.x.ai/v1", apiKeyVariable: "XAI_API_KEY" }

/**
 * Together AI (`TOGETHER_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const together: Preset = { name: "together", baseUrl: "https://api.together.xyz/v1", apiKeyVariable: "TOGETHER_API_KEY" }

/**
 * Fireworks AI (`FIREWORKS_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const fireworks: Preset = {
  name: "fireworks",
  baseUrl: "https://api.fireworks.ai/inference/v1",
  apiKeyVariable: "FIREWORKS_API_KEY"
}

/**
 * Groq (`GROQ_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const groq: Preset = { name: "groq", baseUrl: "https://api.groq.com/openai/v1", apiKeyVariable: "GROQ_API_KEY" }

/**
 * Google Gemini's OpenAI-compatible endpoint (`GEMINI_API_KEY`).
 *
 * @category constants
 * @since 0.2.0
 */
export const gemini: Preset = {
  name: "gemini",
  baseUrl: "https://generativelanguage.googleapis.com/v1beta/openai",
  apiKeyVariable: "GEMINI_API_KEY"
}

/**
 * Azure OpenAI: the deployment's URL (the model is the deployment), its `api-version` as a query parameter and
 * the key in an `api-key` header (`AZURE_OPENAI_API_KEY`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const azure = (options: {
  /** The resource name: `https://<resource>.openai.azure.com`. */
  readonly resource: string
  readonly deployment: string
  /** Default `2024-10-21`. */
  readonly apiVersion?: string | undefined
}): Preset => ({
  name: "azure-openai",
  baseUrl: `https://${options.resource}.openai.azure.com/openai/deployments/${encodeURIComponent(options.deployment)}`,
  apiKeyVariable: "AZURE_OPENAI_API_KEY",
  apiKeyHeader: "api-key",
  queryParams: { "api-version": options.apiVersion ?? "2024-10-21" },
  maxTokensField: "max_completion_tokens"
})
