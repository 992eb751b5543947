/**
 * One effect/ai call -> one native generation request: the prompt rendered by the model's chat template (with
 * the offered tools, their grammar and stops), message contents kept apart from control tokens, and the call's
 * settings checked.
 *
 * @internal
 */
import { Effect } from "effect"
import { AiError, type LanguageModel } from "effect/ai"
import type * as LlamaContext from "../../llama/LlamaContext.ts"
import type * as LlamaModel from "../../llama/LlamaModel.ts"
import type { AppliedChat } from "../../native/NativeBinding.ts"
import type { Config } from "../LlamaLanguageModel.ts"
import { LlamaError, VisionUnsupported } from "../../llama/LlamaError.ts"
import type { PromptPart } from "../../native/NativeBinding.ts"
import { markContents, tokenizeMarked } from "./ContentSpans.ts"
import { toAiError } from "./errors.ts"
import { closedJsonSchema, toMessages, toolChoiceOf, toTools } from "./messages.ts"

const MODULE = "LlamaLanguageModel"

const invalidSetting = (method: string, parameter: string, description: string) =>
  AiError.make({ module: MODULE, method, reason: new AiError.InvalidRequestError({ parameter, description }) })

const checkSettings = (settings: Config, method: string): Effect.Effect<void, AiError.AiError> => {
  const { maxTokens } = settings
  if (maxTokens !== undefined && !(Number.isSafeInteger(maxTokens) && maxTokens >= 1)) {
    return Effect.fail(invalidSetting(method, "maxTokens", `maxTokens must be a positive integer, got ${maxTokens}`))
  }
  return Effect.void
}

// The tools a call offers: `toolChoice: { tool }` names one, which must exist.
const offeredTools = (options: LanguageModel.ProviderOptions, method: string) => {
  const choice = options.toolChoice
  if (typeof choice !== "object" || !("tool" in choice)) return Effect.succeed(options.tools)
  const named = options.tools.filter((t) => t.name === choice.tool)
  return named.length > 0 ? Effect.succeed(named) : Effect.fail(AiError.make({
    module: MODULE,
    method,
    reason: new AiError.ToolNotFoundError({ toolName: choice.tool, availableTools: options.tools.map((t) => t.name) })
  }))
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

// The rendered prompt as parts: template text (control tokens parsed), marked contents (plain text), images.
const multimodalParts = (
  prompt: string,
  spans: ReadonlyMap<string, string>,
  images: ReadonlyMap<string, Uint8Array>,
  method: string
): Effect.Effect<{ readonly parts: ReadonlyArray<PromptPart> }, AiError.AiError> => {
  const pieces: Array<{ readonly text: string; readonly special: boolean }> = spans.size === 0
    ? [{ text: prompt, special: true }]
    : prompt.split(new RegExp(`(${[...spans.keys()].map(escapeRegExp).join("|")})`)).map((piece) => {
      const span = spans.get(piece)
      return span === undefined ? { text: piece, special: true } : { text: span, special: false }
    })
  const imagePattern = new RegExp(`(${[...images.keys()].map(escapeRegExp).join("|")})`)
  const parts: Array<PromptPart> = []
  let seen = 0
  for (const piece of pieces) {
    for (const text of piece.text.split(imagePattern)) {
      const image = images.get(text)
      if (image !== undefined) {
        parts.push({ image })
        seen++
      } else if (text !== "") parts.push({ text, parseSpecial: piece.special })
    }
  }
  return seen === images.size ? Effect.succeed({ parts }) : Effect.fail(AiError.make({
    module: MODULE,
    method,
    reason: new AiError.InvalidRequestError({
      description: `the chat template did not render the prompt's ${images.size} image(s) where they were (${seen} found)`
    })
  }))
}

/** @internal */
export interface Prepared {
  readonly applied: AppliedChat
  readonly request: LlamaContext.GenerateRequest
}

/** @internal */
export const prepare = (
  model: LlamaModel.Service,
  settings: Config,
  options: LanguageModel.ProviderOptions,
  method: string
): Effect.Effect<Prepared, AiError.AiError> =>
  Effect.gen(function*() {
    const onError = toAiError(MODULE, method)
    yield* checkSettings(settings, method)
    // Images become markers in the messages; the rendered prompt is split at them into text and image parts.
    const nonce = Math.random().toString(36).slice(2, 10)
    const images = new Map<string, Uint8Array>()
    const messages = yield* toMessages(options.prompt, (bytes) => {
      const marker = `ELLAMAIMAGE${nonce}N${images.size}X`
      images.set(marker, bytes)
      return marker
    })
    if (images.size > 0 && !model.info.vision) {
      return yield* onError(new LlamaError({
        module: "LlamaModel",
        method: "prompt",
        reason: new VisionUnsupported({
          message: `the prompt holds ${images.size} image(s) and the model was loaded without a vision projector (LlamaModel projector option)`
        })
      }))
    }
    const tools = yield* offeredTools(options, method)
    const choice = tools.length === 0 ? "auto" : toolChoiceOf(options.toolChoice)
    const offered = choice === "none" ? [] : tools
    // Structured output: the chat prompt, then a pure JSON grammar for the answer (no prefill of the template's
    // generation prompt, which some vocabularies cannot tokenize the way the template wrote it).
    const objectGrammar = options.responseFormat.type === "json"
      ? yield* model.jsonSchemaToGrammar(closedJsonSchema(options.responseFormat.schema)).pipe(Effect.mapError(onError))
      : undefined
    const render = (messagesJson: string) =>
      model.applyChat({
        messages: messagesJson,
        ...(offered.length === 0 ? {} : { tools: JSON.stringify(toTools(offered)), toolChoice: choice }),
        // A weak model may never leave the free text common/chat allows before a required call.
        forceToolCall: offered.length > 0 && choice === "required",
        parallelToolCalls: settings.parallelToolCalls ?? true,
        enableThinking: objectGrammar === undefined && (settings.enableThinking ?? true),
        ...(settings.templateOverride === undefined ? {} : { templateOverride: settings.templateOverride })
      }).pipe(Effect.mapError(onError))
    const applied = yield* render(JSON.stringify(messages))
    if (offered.length > 0 && !applied.toolCalls.supported) {
      // never generate as if the tools were there: the template did not show them and nothing would parse a call
      return yield* invalidSetting(
        method,
        "tools",
        `this model's chat template (${applied.toolCalls.family}) has no tool-call format; ` +
          "set templateOverride to a tool-capable template (docs/tool-call-formats.md)"
      )
    }
    // Contents holding control-token text are tokenized as plain text (unless allowed), the markup as it is.
    const marked = settings.allowSpecialTokensInContent === true ? undefined : markContents(messages, model.info.controlTokens)
    const prompt = images.size > 0
      ? yield* Effect.flatMap(
        marked === undefined ? Effect.succeed(applied) : render(JSON.stringify(marked.messages)),
        (withMarkers) => multimodalParts(withMarkers.prompt, marked?.spans ?? new Map(), images, method)
      )
      : marked === undefined
      ? applied.prompt
      : yield* Effect.flatMap(render(JSON.stringify(marked.messages)), (withMarkers) =>
        tokenizeMarked(model, withMarkers, marked.spans, onError))
    const request: LlamaContext.GenerateRequest = {
      prompt,
      ...(settings.sampling === undefined ? {} : { sampling: settings.sampling }),
      ...(objectGrammar !== undefined ? { grammar: { gbnf: objectGrammar, type: "user" as const } } : applied.grammar === "" ? {} : {
        grammar: {
          gbnf: applied.grammar,
          type: applied.grammarType === "none" ? "user" : applied.grammarType,
          lazy: applied.grammarLazy,
          triggers: applied.grammarTriggers,
          preservedTokens: applied.preservedTokens,
          generationPrompt: applied.generationPrompt
        }
      }),
      ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
      stop: [...applied.additionalStops, ...(settings.stop ?? [])]
    }
    options.span.attribute("llama.chat_format", applied.parser.formatName)
    return { applied, request }
  })
