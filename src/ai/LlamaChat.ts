/**
 * Persisted chats on the local model: an effect/ai `Chat`'s history and the KV cache of the context sequence that
 * holds it, saved together in one file. `restore` loads the KV cells into a free sequence and gives back the Chat,
 * so its next turn reuses the whole conversation (`cachedTokens`) instead of reading it again.
 *
 * **Gotchas** The file holds the model's KV cells: it restores only into a context on the same model with the same
 * KV cache settings (else `StateMismatch`). A chat whose history holds images cannot be saved (its cells are
 * image embeddings).
 *
 * @since 0.2.0
 */
import { Effect, Ref } from "effect"
import { AiError, Chat } from "effect/ai"
import * as LlamaContext from "../llama/LlamaContext.ts"
import * as LlamaModel from "../llama/LlamaModel.ts"
import { toAiError } from "./internal/errors.ts"
import { toMessages } from "./internal/messages.ts"

const MODULE = "LlamaChat"

/**
 * Saves the chat's history and the KV state of the sequence holding it to `path` (written atomically).
 *
 * @category encoding
 * @since 0.2.0
 */
export const save = (
  chat: Chat.Chat,
  path: string
): Effect.Effect<void, AiError.AiError, LlamaModel.LlamaModel | LlamaContext.LlamaContext> =>
  Effect.gen(function*() {
    const model = yield* LlamaModel.LlamaModel
    const context = yield* LlamaContext.LlamaContext
    const history = yield* Ref.get(chat.history)
    const exported = yield* chat.exportJson
    // The history as the chat template renders it: what the sequence that served the last turn holds, nearly.
    const rendered = yield* model.applyChat({
      messages: JSON.stringify(yield* toMessages(history)),
      addGenerationPrompt: false
    }).pipe(Effect.mapError(toAiError(MODULE, "save")))
    yield* context.saveState({ prefix: rendered.prompt, path, metadata: exported }).pipe(
      Effect.mapError(toAiError(MODULE, "save"))
    )
  }).pipe(Effect.withSpan("LlamaChat.save"))

/**
 * Restores a chat saved with `save`: its KV state goes into a free sequence of the context, and the Chat comes back
 * with its history.
 *
 * @category decoding
 * @since 0.2.0
 */
export const restore = (path: string): Effect.Effect<Chat.Chat, AiError.AiError, LlamaContext.LlamaContext> =>
  Effect.gen(function*() {
    const context = yield* LlamaContext.LlamaContext
    const restored = yield* context.restoreState({ path }).pipe(Effect.mapError(toAiError(MODULE, "restore")))
    return yield* Chat.fromJson(restored.metadata).pipe(
      Effect.mapError((cause) =>
        AiError.make({
          module: MODULE,
          method: "restore",
          reason: new AiError.InvalidRequestError({ description: `the saved chat history does not decode: ${cause.message}` })
        })
      )
    )
  }).pipe(Effect.withSpan("LlamaChat.restore"))
