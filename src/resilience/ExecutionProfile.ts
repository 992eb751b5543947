/**
 * Execution profiles: named presets of the resilience and concurrency settings that model calls (the resilience
 * wrapper, `LlmClient`) and workflow runs (the executor) read from the context. Provide one as a Layer to change
 * how everything below it behaves; the default is `Balanced`.
 *
 * @since 0.2.0
 */
import { Context, Duration, Layer } from "effect"
import { availableParallelism } from "node:os"

// ============================================================================
// Models
// ============================================================================

/**
 * Retries of a failed attempt: exponential backoff from `base`, capped at `max`, with up to 25% jitter when
 * `jitter` is on. Only retryable failures are retried (see the resilience wrapper).
 *
 * @category models
 * @since 0.2.0
 */
export interface RetrySettings {
  /** Retries after the first attempt; 0 means one attempt only. */
  readonly times: number
  readonly base: Duration.Duration
  readonly max: Duration.Duration
  readonly jitter: boolean
}

/**
 * Circuit breaking per provider and model: after `failureThreshold` consecutive failures the circuit opens and
 * calls fail at once for `resetAfter`; then one probe call decides whether it closes again.
 *
 * @category models
 * @since 0.2.0
 */
export interface CircuitSettings {
  readonly failureThreshold: number
  readonly resetAfter: Duration.Duration
}

/**
 * One execution profile.
 *
 * @category models
 * @since 0.2.0
 */
export interface ExecutionProfile {
  readonly name: string
  /** Requests (or workflow nodes) in flight at once. */
  readonly concurrency: number
  /** Requests allowed to wait for a free slot before new ones are rejected as busy. */
  readonly queue: number
  /** Time limit of one attempt. */
  readonly attemptTimeout: Duration.Duration
  /** Time limit of a whole call, retries and their waits included. */
  readonly deadline: Duration.Duration
  readonly retry: RetrySettings
  readonly circuit: CircuitSettings
}

// ============================================================================
// Presets
// ============================================================================

const cores = Math.max(1, availableParallelism())

/**
 * The default: as many concurrent calls as cores, two minutes an attempt, three retries.
 *
 * @category constructors
 * @since 0.2.0
 */
export const Balanced: ExecutionProfile = {
  name: "Balanced",
  concurrency: cores,
  queue: 64 * cores,
  attemptTimeout: Duration.minutes(2),
  deadline: Duration.minutes(5),
  retry: { times: 3, base: Duration.millis(500), max: Duration.seconds(8), jitter: true },
  circuit: { failureThreshold: 5, resetAfter: Duration.seconds(30) }
}

/**
 * Batch work: four times as many concurrent calls as cores, long timeouts, patient retries.
 *
 * @category constructors
 * @since 0.2.0
 */
export const HighThroughput: ExecutionProfile = {
  name: "HighThroughput",
  concurrency: 4 * cores,
  queue: 256 * cores,
  attemptTimeout: Duration.minutes(5),
  deadline: Duration.minutes(15),
  retry: { times: 5, base: Duration.seconds(1), max: Duration.seconds(30), jitter: true },
  circuit: { failureThreshold: 10, resetAfter: Duration.seconds(60) }
}

/**
 * Interactive work: 30 seconds for the whole call, at most one retry, a circuit that opens early.
 *
 * @category constructors
 * @since 0.2.0
 */
export const LowLatency: ExecutionProfile = {
  name: "LowLatency",
  concurrency: cores,
  queue: 8 * cores,
  attemptTimeout: Duration.seconds(15),
  deadline: Duration.seconds(30),
  retry: { times: 1, base: Duration.millis(100), max: Duration.seconds(1), jitter: true },
  circuit: { failureThreshold: 3, resetAfter: Duration.seconds(10) }
}

/**
 * Small machines: one call at a time, a short queue, so at most one model context and one response are in memory.
 *
 * @category constructors
 * @since 0.2.0
 */
export const MemoryOptimized: ExecutionProfile = {
  name: "MemoryOptimized",
  concurrency: 1,
  queue: 16,
  attemptTimeout: Duration.minutes(2),
  deadline: Duration.minutes(5),
  retry: { times: 2, base: Duration.millis(500), max: Duration.seconds(8), jitter: true },
  circuit: { failureThreshold: 5, resetAfter: Duration.seconds(30) }
}

// ============================================================================
// Service Identifier
// ============================================================================

/**
 * The profile in effect; `Balanced` unless a layer provides another.
 *
 * @category services
 * @since 0.2.0
 */
export const CurrentExecutionProfile: Context.Reference<ExecutionProfile> = Context.Reference<ExecutionProfile>(
  "effect-llama/ExecutionProfile",
  { defaultValue: () => Balanced }
)

// ============================================================================
// Layers
// ============================================================================

/**
 * Provides `profile` (a preset, or a preset with some fields changed) to everything built on this layer.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (profile: ExecutionProfile): Layer.Layer<never> => Layer.succeed(CurrentExecutionProfile, profile)

/**
 * `Balanced` as a layer (the default, for symmetry with the others).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerBalanced: Layer.Layer<never> = layer(Balanced)

/**
 * `HighThroughput` as a layer: batch work, four calls in flight per core, long timeouts, patient retries.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerHighThroughput: Layer.Layer<never> = layer(HighThroughput)

/**
 * `LowLatency` as a layer: 30 seconds for a whole call, at most one retry, an early circuit.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerLowLatency: Layer.Layer<never> = layer(LowLatency)

/**
 * `MemoryOptimized` as a layer: one call at a time, a short queue.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerMemoryOptimized: Layer.Layer<never> = layer(MemoryOptimized)
