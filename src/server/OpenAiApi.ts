/**
 * The server's HTTP API as an `effect/http-api` `HttpApi`: every route with its request and response Schemas,
 * which is what `GET /openapi.json` renders. The handlers read their bodies themselves (so a bad field is an
 * OpenAI-style 400 naming it), which the declarations here do not change.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import * as OpenAiSchema from "./OpenAiSchema.ts"

const errors = [
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(400)),
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(401)),
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(404)),
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(413)),
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(500)),
  OpenAiSchema.ErrorBody.pipe(HttpApiSchema.status(503))
] as const

const text = (contentType: string) => Schema.String.pipe(HttpApiSchema.asText({ contentType }))

/**
 * The OpenAI-compatible routes (`/v1`).
 *
 * @category models
 * @since 0.2.0
 */
export const OpenAiGroup = HttpApiGroup.make("openai").add(
  HttpApiEndpoint.post("chatCompletions", "/v1/chat/completions", {
    payload: OpenAiSchema.ChatCompletionRequest,
    success: [OpenAiSchema.ChatCompletion, text("text/event-stream")],
    error: errors
  }).annotate(OpenApi.Description, "A chat completion; with `stream: true`, SSE `data:` chunks ending in `data: [DONE]`."),
  HttpApiEndpoint.post("completions", "/v1/completions", {
    payload: OpenAiSchema.CompletionRequest,
    success: [OpenAiSchema.Completion, text("text/event-stream")],
    error: errors
  }).annotate(OpenApi.Description, "A text completion of the prompt (no chat template)."),
  HttpApiEndpoint.post("embeddings", "/v1/embeddings", {
    payload: OpenAiSchema.EmbeddingRequest,
    success: OpenAiSchema.EmbeddingList,
    error: errors
  }),
  HttpApiEndpoint.get("models", "/v1/models", { success: OpenAiSchema.ModelList, error: errors }),
  HttpApiEndpoint.get("model", "/v1/models/:model", {
    params: { model: Schema.String },
    success: OpenAiSchema.ModelObject,
    error: errors
  })
)

/**
 * llama-server's tokenizer routes.
 *
 * @category models
 * @since 0.2.0
 */
export const TokenizerGroup = HttpApiGroup.make("tokenizer").add(
  HttpApiEndpoint.post("tokenize", "/tokenize", {
    payload: OpenAiSchema.TokenizeRequest,
    success: OpenAiSchema.TokenizeResponse,
    error: errors
  }),
  HttpApiEndpoint.post("detokenize", "/detokenize", {
    payload: OpenAiSchema.DetokenizeRequest,
    success: OpenAiSchema.DetokenizeResponse,
    error: errors
  })
)

/**
 * Health, metrics and the chat page (health and the page are never behind the API key).
 *
 * @category models
 * @since 0.2.0
 */
export const SystemGroup = HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("health", "/health", { success: OpenAiSchema.Health, error: errors })
    .annotate(OpenApi.Description, "200 once the model is loaded, 503 while it loads."),
  HttpApiEndpoint.get("metrics", "/metrics", { success: text("text/plain"), error: errors })
    .annotate(OpenApi.Description, "Prometheus text: requests, tokens, queue depth, slot use, latency."),
  HttpApiEndpoint.get("chatPage", "/", { success: text("text/html") })
    .annotate(OpenApi.Description, "A chat page that streams from /v1/chat/completions.")
)

/**
 * The whole API.
 *
 * @category models
 * @since 0.2.0
 */
export const Api = HttpApi.make("effect-llama")
  .add(OpenAiGroup)
  .add(TokenizerGroup)
  .add(SystemGroup)
  .annotate(OpenApi.Title, "effect-llama OpenAI-compatible server")
  .annotate(OpenApi.Description, "OpenAI-compatible chat, completions and embeddings over an effect/ai model; Bearer API keys.")
