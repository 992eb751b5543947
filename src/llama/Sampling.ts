/**
 * Sampling options as a Schema: every value is checked before any work starts, and a bad one becomes a
 * `LlamaError` with reason `InvalidSampling`. The fields are those of llama.cpp's sampler chain.
 *
 * @since 0.1.0
 */
import { Effect, Schema } from "effect"
import type { SamplingOptions } from "../native/NativeBinding.ts"
import { InvalidSampling, LlamaError } from "./LlamaError.ts"

const unit = Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 }))
const nonNegative = Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))
const count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
const lastN = Schema.Int.check(Schema.isGreaterThanOrEqualTo(-1))

/**
 * The sampling options (all optional; llama.cpp's defaults apply). `temperature: 0` samples greedily.
 *
 * @category schemas
 * @since 0.1.0
 */
export const Sampling = Schema.Struct({
  temperature: Schema.optionalKey(nonNegative),
  topK: Schema.optionalKey(count),
  topP: Schema.optionalKey(unit),
  minP: Schema.optionalKey(unit),
  typicalP: Schema.optionalKey(unit),
  topNSigma: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(-1))),
  repeatPenalty: Schema.optionalKey(nonNegative),
  frequencyPenalty: Schema.optionalKey(Schema.Finite),
  presencePenalty: Schema.optionalKey(Schema.Finite),
  penaltyLastN: Schema.optionalKey(lastN),
  dryMultiplier: Schema.optionalKey(nonNegative),
  dryBase: Schema.optionalKey(nonNegative),
  dryAllowedLength: Schema.optionalKey(count),
  dryPenaltyLastN: Schema.optionalKey(lastN),
  drySequenceBreakers: Schema.optionalKey(Schema.Array(Schema.String)),
  xtcProbability: Schema.optionalKey(unit),
  xtcThreshold: Schema.optionalKey(unit),
  mirostat: Schema.optionalKey(Schema.Literals([0, 1, 2])),
  mirostatTau: Schema.optionalKey(nonNegative),
  mirostatEta: Schema.optionalKey(unit),
  minKeep: Schema.optionalKey(count),
  seed: Schema.optionalKey(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 0xffffffff }))),
  logitBias: Schema.optionalKey(Schema.Array(Schema.Struct({ token: count, bias: Schema.Number })))
})

/**
 * @category models
 * @since 0.1.0
 */
export type Sampling = typeof Sampling.Type

/**
 * Greedy sampling: always the most likely token.
 *
 * @category constructors
 * @since 0.1.0
 */
export const greedy: Sampling = { temperature: 0 }

/**
 * Checks sampling options, failing with `InvalidSampling` and the Schema's explanation.
 *
 * @category constructors
 * @since 0.1.0
 */
export const validate = (module: string, method: string) => (input: unknown): Effect.Effect<SamplingOptions, LlamaError> =>
  Schema.decodeUnknownEffect(Sampling)(input, { onExcessProperty: "error" }).pipe(
    Effect.mapError((issue) =>
      new LlamaError({ module, method, reason: new InvalidSampling({ message: `invalid sampling options: ${issue.message}` }) })
    )
  )
