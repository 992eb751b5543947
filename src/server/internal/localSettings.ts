/**
 * Request settings -> the local model's per-call configuration (`LlamaLanguageModel.ConfigOverride`), for Effects
 * and Streams. Fields a request leaves out keep the model's configured values; sampling merges field by field and
 * stop strings add (as `LlamaLanguageModel.mergeConfig`).
 *
 * @internal
 */
import { Effect, Stream } from "effect"
import * as LlamaLanguageModel from "../../ai/LlamaLanguageModel.ts"
import type { Sampling } from "../../llama/Sampling.ts"
import type { Settings } from "./chatRequest.ts"

/** The sampling part of the settings, as the local model's `Sampling`. @internal */
export const samplingOf = (settings: Settings): Sampling => ({
  ...(settings.temperature === undefined ? {} : { temperature: settings.temperature }),
  ...(settings.topP === undefined ? {} : { topP: settings.topP }),
  ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  ...(settings.presencePenalty === undefined ? {} : { presencePenalty: settings.presencePenalty }),
  ...(settings.frequencyPenalty === undefined ? {} : { frequencyPenalty: settings.frequencyPenalty }),
  ...(settings.logitBias === undefined ? {} : { logitBias: settings.logitBias })
})

// The request's settings as a Config override: merged as every override is (mergeConfig), so sampling merges field
// by field and a request's `stop` strings add to the model's configured ones instead of dropping them.
const merge = (current: LlamaLanguageModel.Config, settings: Settings): LlamaLanguageModel.Config => {
  const sampling = samplingOf(settings)
  return LlamaLanguageModel.mergeConfig(current, {
    ...(Object.keys(sampling).length === 0 ? {} : { sampling }),
    ...(settings.maxTokens === undefined ? {} : { maxTokens: settings.maxTokens }),
    ...(settings.stop === undefined ? {} : { stop: settings.stop }),
    ...(settings.parallelToolCalls === undefined ? {} : { parallelToolCalls: settings.parallelToolCalls })
  })
}

/** @internal */
export const localSettings = {
  effect: <A, E, R>(self: Effect.Effect<A, E, R>, settings: Settings): Effect.Effect<A, E, R> =>
    Effect.gen(function*() {
      const current = yield* LlamaLanguageModel.ConfigOverride
      return yield* Effect.provideService(self, LlamaLanguageModel.ConfigOverride, merge(current, settings))
    }),
  stream: <A, E, R>(self: Stream.Stream<A, E, R>, settings: Settings): Stream.Stream<A, E, R> =>
    Stream.unwrap(Effect.gen(function*() {
      const current = yield* LlamaLanguageModel.ConfigOverride
      return Stream.provideService(self, LlamaLanguageModel.ConfigOverride, merge(current, settings))
    }))
}
