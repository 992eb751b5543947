/**
 * The resilience policies as one value, applied to an effect or a stream: an overall deadline, a bulkhead (at
 * most `concurrency` calls in flight, `queue` waiting, then `Busy`), retries with exponential backoff and jitter on
 * retryable `AiError` reasons only (honouring `retryAfter`, capped), a per-attempt timeout, a circuit breaker per
 * key (effect/persistence `CircuitBreaker`) and a rate limit on requests and tokens (effect/persistence
 * `RateLimiter`). `Resilience` wraps model layers with it; anything else (a workflow activity) can use it directly.
 *
 * Per call, from the outside in: deadline > bulkhead > retry > circuit > rate limit > attempt timeout > attempt.
 * Streams: the attempt timeout bounds the wait for each part, and a failed stream is retried only when it had
 * emitted nothing, so a consumer never sees text twice. Interruption is never retried.
 *
 * @since 0.2.0
 */
import { Cause, Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Metric, Option, Schedule, Semaphore, Stream } from "effect"
import type { Scope } from "effect"
import { AiError } from "effect/ai"
import { CircuitBreaker, RateLimiter } from "effect/persistence"
import type { CircuitSettings, ExecutionProfile, RetrySettings } from "./ExecutionProfile.ts"
import { aiErrorOf, type Rejection, rejectionError, rejectionOf } from "./Rejection.ts"

// ============================================================================
// Settings
// ============================================================================

/**
 * Requests and tokens allowed per window for one key; `delay` (the default) waits for room, `fail` rejects with
 * a `RateLimited` rejection. Tokens are estimated from the prompt before a call and corrected from the reported
 * usage after it.
 *
 * @category models
 * @since 0.2.0
 */
export interface RateLimit {
  readonly requests?: { readonly limit: number; readonly window: Duration.Input } | undefined
  readonly tokens?: { readonly limit: number; readonly window: Duration.Input } | undefined
  readonly onExceeded?: "delay" | "fail" | undefined
  readonly algorithm?: "fixed-window" | "token-bucket" | undefined
}

/**
 * Policy options: any field left out comes from the execution profile (`CurrentExecutionProfile`, `Balanced`
 * unless a layer provides another).
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** Circuit and rate-limit key, e.g. `openai/gpt-4o-mini`. Default: the model's provider/name, else `default`. */
  readonly key?: string | undefined
  readonly profile?: ExecutionProfile | undefined
  readonly concurrency?: number | undefined
  readonly queue?: number | undefined
  readonly attemptTimeout?: Duration.Input | undefined
  readonly deadline?: Duration.Input | undefined
  /** `false`: no retries. */
  readonly retry?: {
    readonly times?: number | undefined
    readonly base?: Duration.Input | undefined
    readonly max?: Duration.Input | undefined
    readonly jitter?: boolean | undefined
  } | false | undefined
  /** `false`: no circuit breaker. */
  readonly circuit?: {
    readonly failureThreshold?: number | undefined
    readonly resetAfter?: Duration.Input | undefined
  } | false | undefined
  /** The longest `retryAfter` honoured; longer waits are cut to it. Default 60 seconds. */
  readonly retryAfterCap?: Duration.Input | undefined
  readonly rateLimit?: RateLimit | undefined
}

/**
 * Options resolved against a profile.
 *
 * @category models
 * @since 0.2.0
 */
export interface Settings {
  readonly key: string
  readonly concurrency: number
  readonly queue: number
  readonly attemptTimeout: Duration.Duration
  readonly deadline: Duration.Duration
  readonly retry: RetrySettings
  readonly circuit: CircuitSettings | undefined
  readonly retryAfterCap: Duration.Duration
  readonly rateLimit: RateLimit | undefined
}

/**
 * Fills in what `options` leaves out from `profile`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const resolve = (options: Options, profile: ExecutionProfile, key: string): Settings => ({
  key: options.key ?? key,
  concurrency: Math.max(1, options.concurrency ?? profile.concurrency),
  queue: Math.max(0, options.queue ?? profile.queue),
  attemptTimeout: Duration.fromInputUnsafe(options.attemptTimeout ?? profile.attemptTimeout),
  deadline: Duration.fromInputUnsafe(options.deadline ?? profile.deadline),
  retry: options.retry === false ? { ...profile.retry, times: 0 } : {
    times: options.retry?.times ?? profile.retry.times,
    base: Duration.fromInputUnsafe(options.retry?.base ?? profile.retry.base),
    max: Duration.fromInputUnsafe(options.retry?.max ?? profile.retry.max),
    jitter: options.retry?.jitter ?? profile.retry.jitter
  },
  circuit: options.circuit === false ? undefined : {
    failureThreshold: options.circuit?.failureThreshold ?? profile.circuit.failureThreshold,
    resetAfter: Duration.fromInputUnsafe(options.circuit?.resetAfter ?? profile.circuit.resetAfter)
  },
  retryAfterCap: Duration.fromInputUnsafe(options.retryAfterCap ?? Duration.seconds(60)),
  rateLimit: options.rateLimit
})

// ============================================================================
// Metrics
// ============================================================================

/**
 * Retries and rejections, by key (attribute `key`) and, for rejections, kind (attribute `kind`).
 *
 * @category metrics
 * @since 0.2.0
 */
export const metrics = {
  retries: Metric.counter("effect_llama_resilience_retries_total", { description: "attempts repeated after a retryable failure" }),
  rejections: Metric.counter("effect_llama_resilience_rejections_total", {
    description: "calls failed by a policy: circuit open, busy, rate limited, timed out"
  })
}

// ============================================================================
// Policy
// ============================================================================

/**
 * What the circuit of a key is doing.
 *
 * @category models
 * @since 0.2.0
 */
export type CircuitState = "Closed" | "Open" | "HalfOpen" | "Disabled"

/**
 * Per-call hints: a name for errors, the estimated tokens (rate limit), the tokens a result really used.
 *
 * @category models
 * @since 0.2.0
 */
export interface CallInfo<A> {
  readonly method: string
  readonly tokens?: number | undefined
  readonly usage?: ((value: A) => number | undefined) | undefined
}

/**
 * The policies of one key.
 *
 * @category models
 * @since 0.2.0
 */
export interface Policy {
  readonly settings: Settings
  readonly run: <A, E, R>(self: Effect.Effect<A, E, R>, info: CallInfo<A>) => Effect.Effect<A, E | AiError.AiError, R>
  readonly stream: <A, E, R>(self: Stream.Stream<A, E, R>, info: CallInfo<A>) => Stream.Stream<A, E | AiError.AiError, R>
  readonly circuitState: Effect.Effect<CircuitState>
  /** Circuit transitions of this key (empty when the circuit is disabled). */
  readonly transitions: Stream.Stream<CircuitBreaker.Transition>
  /** Retries made so far. */
  readonly retries: Effect.Effect<number>
}

const isRetryable = (error: unknown): boolean => {
  const ai = aiErrorOf(error)
  if (ai === undefined) return false
  const rejected = rejectionOf(ai)
  if (Option.isSome(rejected)) return rejected.value._tag === "AttemptTimeout"
  return ai.isRetryable
}

// A store of the caller's when there is one (Redis: shared across processes), else one in memory.
const storeOf = <I, S>(tag: Context.Key<I, S>, memory: Layer.Layer<I>) =>
  Effect.gen(function*() {
    const existing = yield* Effect.serviceOption(tag)
    if (Option.isSome(existing)) return Context.make(tag, existing.value)
    return yield* Layer.build(memory)
  })

/**
 * Builds the policies for `settings`; the circuit and limiter state live as long as the scope.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (settings: Settings): Effect.Effect<Policy, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { key } = settings
    const keyed = <A extends Metric.Metric<any, any>>(metric: A) => Metric.withAttributes(metric, { key })
    let retries = 0

    const reject = (rejection: Rejection, method: string) =>
      Metric.update(Metric.withAttributes(metrics.rejections, { key, kind: rejection._tag }), 1).pipe(
        Effect.andThen(Effect.fail(rejectionError(rejection, method)))
      )

    // -- circuit breaker ------------------------------------------------------
    const breaker = settings.circuit === undefined ? undefined : yield* CircuitBreaker.make({
      tripPolicy: CircuitBreaker.consecutive(Math.max(1, settings.circuit.failureThreshold)),
      openDuration: settings.circuit.resetAfter
    }).pipe(Effect.provide(yield* storeOf(CircuitBreaker.CircuitBreakerStore, CircuitBreaker.layerStoreMemory())))

    // Retryable failures count against the provider; other answers show it is up; our own rejections and
    // non-AI failures (a tool handler's) say nothing about it.
    const classify = (exit: Exit.Exit<unknown, unknown>): CircuitBreaker.Outcome => {
      if (Exit.isSuccess(exit)) return CircuitBreaker.success
      const error = Cause.findErrorOption(exit.cause)
      if (Option.isNone(error)) return CircuitBreaker.ignored
      const ai = aiErrorOf(error.value)
      if (ai === undefined) return CircuitBreaker.ignored
      const rejected = rejectionOf(ai)
      if (Option.isSome(rejected)) return rejected.value._tag === "AttemptTimeout" ? CircuitBreaker.failure() : CircuitBreaker.ignored
      return ai.isRetryable ? CircuitBreaker.failure({ retryAfter: ai.retryAfter }) : CircuitBreaker.success
    }

    const circuitRejection = (error: CircuitBreaker.CircuitBreakerError): Rejection | undefined =>
      error.reason._tag === "CircuitOpen"
        ? { _tag: "CircuitOpen", key, retryAfter: error.reason.retryAfter }
        : error.reason._tag === "CircuitHalfOpen"
        ? { _tag: "CircuitHalfOpen", key }
        : undefined

    const guard = <A, E, R>(self: Effect.Effect<A, E, R>, method: string): Effect.Effect<A, E | AiError.AiError, R> =>
      breaker === undefined ? self : breaker.execute(self, { key, classify }).pipe(
        Effect.catchIf(
          (e): e is CircuitBreaker.CircuitBreakerError => e instanceof CircuitBreaker.CircuitBreakerError,
          (e) => {
            const rejection = circuitRejection(e)
            return rejection === undefined ? Effect.die(e) : reject(rejection, method)
          }
        )
      ) as Effect.Effect<A, E | AiError.AiError, R>

    // A stream is admitted once, and its end is recorded as the call's outcome.
    const guardStream = <A, E, R>(self: Stream.Stream<A, E, R>, method: string): Stream.Stream<A, E | AiError.AiError, R> =>
      breaker === undefined ? self : Stream.unwrap(Effect.gen(function*() {
        const admitted = yield* Deferred.make<void, AiError.AiError>()
        const outcome = yield* Deferred.make<void, unknown>()
        const fiber = yield* guard(Deferred.succeed(admitted, undefined).pipe(Effect.andThen(Deferred.await(outcome))), method).pipe(
          Effect.catch((error) => Deferred.fail(admitted, error as AiError.AiError)),
          Effect.forkScoped
        )
        yield* Deferred.await(admitted)
        return self.pipe(Stream.onExit((exit) =>
          Deferred.done(outcome, Exit.asVoid(exit)).pipe(Effect.andThen(Fiber.await(fiber)), Effect.asVoid)
        ))
      }))

    // -- rate limit -----------------------------------------------------------
    const limiter = settings.rateLimit === undefined ? undefined : yield* RateLimiter.make.pipe(
      Effect.provide(yield* storeOf(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory))
    )
    const limits = settings.rateLimit
    const consume = (which: "requests" | "tokens", tokens: number, wait: boolean, method: string) =>
      Effect.gen(function*() {
        const limit = limits?.[which]
        if (limiter === undefined || limit === undefined || tokens <= 0) return
        const result = yield* limiter.consume({
          key: `${key}:${which}`,
          limit: limit.limit,
          window: limit.window,
          tokens: Math.min(tokens, limit.limit),
          algorithm: limits?.algorithm ?? "fixed-window",
          onExceeded: wait && limits?.onExceeded === "fail" ? "fail" : "delay"
        }).pipe(Effect.catch((error) =>
          error.reason._tag === "RateLimitExceeded"
            ? reject({ _tag: "RateLimited", key, retryAfter: error.reason.retryAfter }, method)
            : Effect.die(error)
        ))
        if (wait && Duration.isGreaterThan(result.delay, Duration.zero)) yield* Effect.sleep(result.delay)
      })
    const admit = (tokens: number | undefined, method: string) =>
      limiter === undefined
        ? Effect.void
        : consume("requests", 1, true, method).pipe(Effect.andThen(consume("tokens", tokens ?? 0, true, method)))
    // Afterwards: the tokens the call used beyond the estimate (recorded, never waited for).
    const settle = (estimate: number | undefined, used: number | undefined, method: string) =>
      limiter === undefined || used === undefined ? Effect.void : consume("tokens", used - (estimate ?? 0), false, method)

    // -- retry ----------------------------------------------------------------
    const { retry } = settings
    const schedule = Schedule.exponential(retry.base, 2).pipe(
      Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, retry.max))),
      (s) => retry.jitter ? Schedule.jittered(s) : s,
      Schedule.setInputType<unknown>(),
      Schedule.while(({ input }) => isRetryable(input)),
      Schedule.modifyDelay(({ input, duration }) => {
        const after = aiErrorOf(input)?.retryAfter
        return Effect.succeed(after === undefined ? duration : Duration.min(after, settings.retryAfterCap))
      }),
      Schedule.upTo({ times: Math.max(0, retry.times) }),
      Schedule.tap(() => Effect.sync(() => retries++).pipe(Effect.andThen(Metric.update(keyed(metrics.retries), 1))))
    )

    // -- bulkhead -------------------------------------------------------------
    const semaphore = yield* Semaphore.make(settings.concurrency)
    let active = 0
    let waiting = 0
    const acquire = (method: string) => Effect.suspend(() => {
      if (active >= settings.concurrency && waiting >= settings.queue) {
        return reject({ _tag: "Busy", key, concurrency: settings.concurrency, queue: settings.queue }, method)
      }
      waiting++
      return Semaphore.take(semaphore, 1).pipe(
        Effect.onExit(() => Effect.sync(() => waiting--)),
        Effect.tap(() => Effect.sync(() => active++))
      )
    })
    const release = Effect.suspend(() => {
      active--
      return Semaphore.release(semaphore, 1)
    })
    const bulkhead = <A, E, R>(self: Effect.Effect<A, E, R>, method: string) =>
      Effect.acquireUseRelease(acquire(method), () => self, () => release)

    // -- timeouts -------------------------------------------------------------
    const attemptTimeout = <A, E, R>(self: Effect.Effect<A, E, R>, method: string) =>
      Effect.timeoutOrElse(self, {
        duration: settings.attemptTimeout,
        orElse: () => reject({ _tag: "AttemptTimeout", key, timeout: settings.attemptTimeout }, method)
      })
    const deadline = <A, E, R>(self: Effect.Effect<A, E, R>, method: string) =>
      Effect.timeoutOrElse(self, {
        duration: settings.deadline,
        orElse: () => reject({ _tag: "DeadlineExceeded", key, deadline: settings.deadline }, method)
      })

    const run = <A, E, R>(self: Effect.Effect<A, E, R>, info: CallInfo<A>): Effect.Effect<A, E | AiError.AiError, R> =>
      admit(info.tokens, info.method).pipe(
        Effect.andThen(attemptTimeout(self, info.method)),
        (attempt) => guard(attempt, info.method),
        Effect.retry(schedule),
        Effect.tap((value) => settle(info.tokens, info.usage?.(value), info.method)),
        (call) => bulkhead(call, info.method),
        (call) => deadline(call, info.method)
      )

    const stream = <A, E, R>(self: Stream.Stream<A, E, R>, info: CallInfo<A>): Stream.Stream<A, E | AiError.AiError, R> =>
      Stream.unwrap(Effect.gen(function*() {
        const { method } = info
        yield* Effect.acquireRelease(acquire(method), () => release)
        let emitted = false
        const idle = () => Stream.fromEffect(reject({ _tag: "AttemptTimeout", key, timeout: settings.attemptTimeout }, method))
        // The rate limit's wait comes before the attempt's clock starts.
        const attempt = Stream.unwrap(Effect.as(
          admit(info.tokens, method),
          guardStream(self, method).pipe(Stream.timeoutOrElse({ duration: settings.attemptTimeout, orElse: idle }))
        ))
        const deadlineReached = Effect.sleep(settings.deadline).pipe(
          Effect.andThen(reject({ _tag: "DeadlineExceeded", key, deadline: settings.deadline }, method))
        )
        return attempt.pipe(
          Stream.mapArray((parts) => {
            emitted = true
            return parts
          }),
          Stream.retry(Schedule.while(schedule, () => !emitted)),
          Stream.tap((part) => {
            const used = info.usage?.(part)
            return used === undefined ? Effect.void : settle(info.tokens, used, method)
          }),
          Stream.interruptWhen(deadlineReached)
        )
      }))

    const circuitState: Effect.Effect<CircuitState> = breaker === undefined
      ? Effect.succeed("Disabled")
      : breaker.state(key).pipe(
        Effect.map((state) => state._tag),
        Effect.orElseSucceed((): CircuitState => "Closed")
      )

    return {
      settings,
      run,
      stream,
      circuitState,
      transitions: breaker === undefined ? Stream.empty : Stream.filter(breaker.transitions, (t) => t.key === key),
      retries: Effect.sync(() => retries)
    } satisfies Policy
  })
