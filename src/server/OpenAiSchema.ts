/**
 * The OpenAI wire format the server speaks, as Schemas: chat completions (messages with tool calls and tool
 * results, tools, response formats, sampling), text completions, embeddings, models, errors, and llama-server's
 * tokenize/detokenize. Requests are decoded leniently (unknown fields are ignored, `null` means absent) and the
 * Schemas document the API (`GET /openapi.json`).
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

const optional = <S extends Schema.Top>(schema: S) => Schema.optionalKey(Schema.NullOr(schema))
const between = (minimum: number, maximum: number) => Schema.Finite.check(Schema.isBetween({ minimum, maximum }))
const positiveInt = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))

// ============================================================================
// Chat completions: request
// ============================================================================

/**
 * A content part of a message: text, or an image (which a text-only model refuses).
 *
 * @category schemas
 * @since 0.2.0
 */
export const ContentPart = Schema.Union([
  Schema.Struct({ type: Schema.Literal("text"), text: Schema.String }),
  Schema.Struct({
    type: Schema.Literal("image_url"),
    image_url: Schema.Struct({ url: Schema.String, detail: Schema.optionalKey(Schema.String) })
  }),
  Schema.Struct({ type: Schema.Literal("refusal"), refusal: Schema.String })
])

/**
 * A message's content: a string or a list of parts.
 *
 * @category schemas
 * @since 0.2.0
 */
export const Content = Schema.Union([Schema.String, Schema.Array(ContentPart)])

/**
 * A tool call the assistant made.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ToolCall = Schema.Struct({
  id: Schema.String,
  type: Schema.optionalKey(Schema.Literal("function")),
  function: Schema.Struct({ name: Schema.String, arguments: Schema.String })
})

/**
 * One chat message (system, developer, user, assistant with tool calls, tool result).
 *
 * @category schemas
 * @since 0.2.0
 */
export const ChatMessage = Schema.Struct({
  role: Schema.Literals(["system", "developer", "user", "assistant", "tool"]),
  content: optional(Content),
  name: optional(Schema.String),
  tool_calls: optional(Schema.Array(ToolCall)),
  tool_call_id: optional(Schema.String),
  reasoning_content: optional(Schema.String)
})

/**
 * A function the model may call; `parameters` is a JSON Schema.
 *
 * @category schemas
 * @since 0.2.0
 */
export const FunctionTool = Schema.Struct({
  type: Schema.Literal("function"),
  function: Schema.Struct({
    name: Schema.String.check(Schema.isPattern(/^[a-zA-Z0-9_-]{1,64}$/)),
    description: optional(Schema.String),
    parameters: optional(Schema.Record(Schema.String, Schema.Unknown)),
    strict: optional(Schema.Boolean)
  })
})

/**
 * `none`, `auto`, `required`, or one named function.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ToolChoice = Schema.Union([
  Schema.Literals(["none", "auto", "required"]),
  Schema.Struct({ type: Schema.Literal("function"), function: Schema.Struct({ name: Schema.String }) })
])

/**
 * Plain text, any JSON object, or JSON matching a JSON Schema.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ResponseFormat = Schema.Union([
  Schema.Struct({ type: Schema.Literal("text") }),
  Schema.Struct({ type: Schema.Literal("json_object") }),
  Schema.Struct({
    type: Schema.Literal("json_schema"),
    json_schema: Schema.Struct({
      name: Schema.String,
      description: optional(Schema.String),
      schema: optional(Schema.Record(Schema.String, Schema.Unknown)),
      strict: optional(Schema.Boolean)
    })
  })
])

const samplingFields = {
  model: optional(Schema.String),
  stream: optional(Schema.Boolean),
  stream_options: optional(Schema.Struct({ include_usage: optional(Schema.Boolean) })),
  stop: optional(Schema.Union([Schema.String, Schema.Array(Schema.String)])),
  max_tokens: optional(positiveInt),
  temperature: optional(between(0, 2)),
  top_p: optional(between(0, 1)),
  seed: optional(Schema.Int),
  presence_penalty: optional(between(-2, 2)),
  frequency_penalty: optional(between(-2, 2)),
  logit_bias: optional(Schema.Record(Schema.String, between(-100, 100))),
  n: optional(Schema.Int),
  user: optional(Schema.String)
}

/**
 * `POST /v1/chat/completions`.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ChatCompletionRequest = Schema.Struct({
  ...samplingFields,
  messages: Schema.Array(ChatMessage),
  max_completion_tokens: optional(positiveInt),
  tools: optional(Schema.Array(FunctionTool)),
  tool_choice: optional(ToolChoice),
  parallel_tool_calls: optional(Schema.Boolean),
  response_format: optional(ResponseFormat),
  logprobs: optional(Schema.Boolean)
})

/**
 * @category models
 * @since 0.2.0
 */
export type ChatCompletionRequest = typeof ChatCompletionRequest.Type

/**
 * `POST /v1/completions`: plain text continuation (no chat template on the local model).
 *
 * @category schemas
 * @since 0.2.0
 */
export const CompletionRequest = Schema.Struct({
  ...samplingFields,
  prompt: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  echo: optional(Schema.Boolean),
  suffix: optional(Schema.String)
})

/**
 * @category models
 * @since 0.2.0
 */
export type CompletionRequest = typeof CompletionRequest.Type

/**
 * `POST /v1/embeddings`.
 *
 * @category schemas
 * @since 0.2.0
 */
export const EmbeddingRequest = Schema.Struct({
  model: optional(Schema.String),
  input: Schema.Union([Schema.String, Schema.Array(Schema.String)]),
  encoding_format: optional(Schema.Literals(["float", "base64"])),
  dimensions: optional(positiveInt),
  user: optional(Schema.String)
})

/**
 * @category models
 * @since 0.2.0
 */
export type EmbeddingRequest = typeof EmbeddingRequest.Type

/**
 * `POST /tokenize` (llama-server's shape).
 *
 * @category schemas
 * @since 0.2.0
 */
export const TokenizeRequest = Schema.Struct({
  content: Schema.String,
  add_special: optional(Schema.Boolean),
  parse_special: optional(Schema.Boolean),
  with_pieces: optional(Schema.Boolean)
})

/**
 * `POST /detokenize` (llama-server's shape).
 *
 * @category schemas
 * @since 0.2.0
 */
export const DetokenizeRequest = Schema.Struct({
  tokens: Schema.Array(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})

// ============================================================================
// Responses
// ============================================================================

/**
 * Token counts of a request.
 *
 * @category schemas
 * @since 0.2.0
 */
export const Usage = Schema.Struct({
  prompt_tokens: Schema.Int,
  completion_tokens: Schema.Int,
  total_tokens: Schema.Int,
  prompt_tokens_details: Schema.optionalKey(Schema.Struct({ cached_tokens: Schema.Int }))
})

const FinishReason = Schema.NullOr(Schema.Literals(["stop", "length", "tool_calls", "content_filter"]))

/**
 * The answer of a non-streamed chat completion.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ChatCompletion = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion"),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(Schema.Struct({
    index: Schema.Int,
    message: Schema.Struct({
      role: Schema.Literal("assistant"),
      content: Schema.NullOr(Schema.String),
      reasoning_content: Schema.optionalKey(Schema.String),
      tool_calls: Schema.optionalKey(Schema.Array(ToolCall))
    }),
    finish_reason: FinishReason,
    logprobs: Schema.Null
  })),
  usage: Usage
})

/**
 * One `data:` event of a streamed chat completion.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ChatCompletionChunk = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("chat.completion.chunk"),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(Schema.Struct({
    index: Schema.Int,
    delta: Schema.Struct({
      role: Schema.optionalKey(Schema.Literal("assistant")),
      content: Schema.optionalKey(Schema.String),
      reasoning_content: Schema.optionalKey(Schema.String),
      tool_calls: Schema.optionalKey(Schema.Array(Schema.Struct({
        index: Schema.Int,
        id: Schema.optionalKey(Schema.String),
        type: Schema.optionalKey(Schema.Literal("function")),
        function: Schema.Struct({ name: Schema.optionalKey(Schema.String), arguments: Schema.String })
      })))
    }),
    finish_reason: FinishReason,
    logprobs: Schema.Null
  })),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})

/**
 * @category models
 * @since 0.2.0
 */
export type ChatCompletionChunk = typeof ChatCompletionChunk.Encoded

/**
 * The answer of a text completion (streamed chunks have the same shape).
 *
 * @category schemas
 * @since 0.2.0
 */
export const Completion = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("text_completion"),
  created: Schema.Int,
  model: Schema.String,
  choices: Schema.Array(Schema.Struct({
    index: Schema.Int,
    text: Schema.String,
    finish_reason: FinishReason,
    logprobs: Schema.Null
  })),
  usage: Schema.optionalKey(Schema.NullOr(Usage))
})

/**
 * Embeddings, one per input, as floats or base64 (little-endian float32).
 *
 * @category schemas
 * @since 0.2.0
 */
export const EmbeddingList = Schema.Struct({
  object: Schema.Literal("list"),
  model: Schema.String,
  data: Schema.Array(Schema.Struct({
    object: Schema.Literal("embedding"),
    index: Schema.Int,
    embedding: Schema.Union([Schema.Array(Schema.Number), Schema.String])
  })),
  usage: Schema.Struct({ prompt_tokens: Schema.Int, total_tokens: Schema.Int })
})

/**
 * One served model.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ModelObject = Schema.Struct({
  id: Schema.String,
  object: Schema.Literal("model"),
  created: Schema.Int,
  owned_by: Schema.String
})

/**
 * `GET /v1/models`.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ModelList = Schema.Struct({ object: Schema.Literal("list"), data: Schema.Array(ModelObject) })

/**
 * `POST /tokenize`'s answer.
 *
 * @category schemas
 * @since 0.2.0
 */
export const TokenizeResponse = Schema.Struct({
  tokens: Schema.Array(Schema.Union([Schema.Int, Schema.Struct({ id: Schema.Int, piece: Schema.String })]))
})

/**
 * `POST /detokenize`'s answer.
 *
 * @category schemas
 * @since 0.2.0
 */
export const DetokenizeResponse = Schema.Struct({ content: Schema.String })

/**
 * `GET /health`: `ok` once the model is loaded (503 with an error body before).
 *
 * @category schemas
 * @since 0.2.0
 */
export const Health = Schema.Struct({ status: Schema.Literal("ok") })

/**
 * OpenAI's error body.
 *
 * @category schemas
 * @since 0.2.0
 */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    message: Schema.String,
    type: Schema.String,
    param: Schema.NullOr(Schema.String),
    code: Schema.NullOr(Schema.String)
  })
})
