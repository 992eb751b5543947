/**
 * Request settings -> a remote provider's per-call configuration, for a gateway: the OpenAI-style fields every
 * provider's `Config` shares (`maxTokens`, `stop`, `temperature`, ...), applied with the provider's own
 * `withConfigOverride` to Effects and Streams alike.
 *
 * @internal
 */
import type { Effect, Stream } from "effect"
import type { Settings } from "./chatRequest.ts"

/** @internal */
export interface ProviderConfig {
  readonly maxTokens?: number
  readonly stop?: ReadonlyArray<string>
  readonly temperature?: number
  readonly topP?: number
  readonly seed?: number
  readonly presencePenalty?: number
  readonly frequencyPenalty?: number
  /** Token id (as a string) -> bias. */
  readonly logitBias?: Readonly<Record<string, number>>
  readonly parallelToolCalls?: boolean
}

/** A provider's data-first `withConfigOverride`, for an Effect or a Stream. @internal */
export type ConfigOverride<C> = <Self extends Effect.Effect<any, any, any> | Stream.Stream<any, any, any>>(
  self: Self,
  config: C
) => Self

/** @internal */
export const providerConfig = (settings: Settings): ProviderConfig => {
  const out: { -readonly [K in keyof ProviderConfig]: ProviderConfig[K] } = {}
  if (settings.maxTokens !== undefined) out.maxTokens = settings.maxTokens
  if (settings.stop !== undefined) out.stop = settings.stop
  if (settings.temperature !== undefined) out.temperature = settings.temperature
  if (settings.topP !== undefined) out.topP = settings.topP
  if (settings.seed !== undefined) out.seed = settings.seed
  if (settings.presencePenalty !== undefined) out.presencePenalty = settings.presencePenalty
  if (settings.frequencyPenalty !== undefined) out.frequencyPenalty = settings.frequencyPenalty
  if (settings.logitBias !== undefined) out.logitBias = Object.fromEntries(settings.logitBias.map(({ bias, token }) => [String(token), bias]))
  if (settings.parallelToolCalls !== undefined) out.parallelToolCalls = settings.parallelToolCalls
  return out
}

/** @internal */
export const providerSettings = <C>(withConfigOverride: ConfigOverride<C>, toConfig: (settings: Settings) => C) => ({
  effect: <A, E, R>(self: Effect.Effect<A, E, R>, settings: Settings): Effect.Effect<A, E, R> =>
    withConfigOverride(self, toConfig(settings)),
  stream: <A, E, R>(self: Stream.Stream<A, E, R>, settings: Settings): Stream.Stream<A, E, R> =>
    withConfigOverride(self, toConfig(settings))
})
