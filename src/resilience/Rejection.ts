/**
 * Failures the resilience policies make themselves: the circuit is open (or half-open with a probe in flight),
 * the bulkhead is full, the rate limit refused, an attempt or the whole call took too long. They travel as
 * effect/ai `AiError`s, so a wrapped model keeps the `LanguageModel` error type: the reason is the standard one
 * that fits (RateLimitError with `retryAfter` for circuit, busy and rate-limit rejections, InternalProviderError
 * for timeouts), and `rejectionOf` reads the details back from its metadata.
 *
 * | rejection          | AiError reason          | retryable | retryAfter              |
 * | ------------------ | ----------------------- | --------- | ----------------------- |
 * | `CircuitOpen`      | `RateLimitError`        | yes       | until the circuit probes |
 * | `CircuitHalfOpen`  | `RateLimitError`        | yes       | -                       |
 * | `Busy`             | `RateLimitError`        | yes       | -                       |
 * | `RateLimited`      | `RateLimitError`        | yes       | until the window has room |
 * | `AttemptTimeout`   | `InternalProviderError` | yes       | -                       |
 * | `DeadlineExceeded` | `InternalProviderError` | yes       | -                       |
 *
 * @since 0.2.0
 */
import { Duration, Option } from "effect"
import { AiError } from "effect/ai"

/**
 * A policy's own failure.
 *
 * @category models
 * @since 0.2.0
 */
export type Rejection =
  | { readonly _tag: "CircuitOpen"; readonly key: string; readonly retryAfter: Duration.Duration }
  | { readonly _tag: "CircuitHalfOpen"; readonly key: string }
  | { readonly _tag: "Busy"; readonly key: string; readonly concurrency: number; readonly queue: number }
  | { readonly _tag: "RateLimited"; readonly key: string; readonly retryAfter: Duration.Duration }
  | { readonly _tag: "AttemptTimeout"; readonly key: string; readonly timeout: Duration.Duration }
  | { readonly _tag: "DeadlineExceeded"; readonly key: string; readonly deadline: Duration.Duration }

const namespace = "effect-llama/resilience"

const describe = (rejection: Rejection): string => {
  switch (rejection._tag) {
    case "CircuitOpen":
      return `the circuit of ${rejection.key} is open; it lets a probe through in ${Duration.format(rejection.retryAfter)}`
    case "CircuitHalfOpen":
      return `the circuit of ${rejection.key} is half-open and a probe call is in flight`
    case "Busy":
      return `${rejection.key} is busy: ${rejection.concurrency} calls in flight and ${rejection.queue} waiting`
    case "RateLimited":
      return `the rate limit of ${rejection.key} is reached; room again in ${Duration.format(rejection.retryAfter)}`
    case "AttemptTimeout":
      return `an attempt on ${rejection.key} took longer than ${Duration.format(rejection.timeout)}`
    case "DeadlineExceeded":
      return `the call on ${rejection.key} took longer than its deadline of ${Duration.format(rejection.deadline)}`
  }
}

const metadataOf = (rejection: Rejection): Record<string, string | number> => {
  const out: Record<string, string | number> = { kind: rejection._tag, key: rejection.key }
  if ("retryAfter" in rejection) out.retryAfterMillis = Duration.toMillis(rejection.retryAfter)
  if (rejection._tag === "Busy") {
    out.concurrency = rejection.concurrency
    out.queue = rejection.queue
  }
  if (rejection._tag === "AttemptTimeout") out.timeoutMillis = Duration.toMillis(rejection.timeout)
  if (rejection._tag === "DeadlineExceeded") out.deadlineMillis = Duration.toMillis(rejection.deadline)
  return out
}

/**
 * The `AiError` a rejection travels as.
 *
 * @category constructors
 * @since 0.2.0
 */
export const rejectionError = (rejection: Rejection, method = "call"): AiError.AiError => {
  const metadata = { [namespace]: metadataOf(rejection) }
  const description = describe(rejection)
  const reason = rejection._tag === "AttemptTimeout" || rejection._tag === "DeadlineExceeded"
    ? new AiError.InternalProviderError({ description, metadata })
    : new AiError.RateLimitError({
      metadata,
      ...("retryAfter" in rejection ? { retryAfter: rejection.retryAfter } : {}),
      http: { body: description }
    })
  return AiError.make({ module: "Resilience", method, reason })
}

/**
 * The `AiError` inside `error`, if it is one.
 *
 * @category getters
 * @since 0.2.0
 */
export const aiErrorOf = (error: unknown): AiError.AiError | undefined => AiError.isAiError(error) ? error : undefined

/**
 * The rejection `error` stands for, if a policy made it.
 *
 * @category getters
 * @since 0.2.0
 */
export const rejectionOf = (error: unknown): Option.Option<Rejection> => {
  const ai = aiErrorOf(error)
  const data = ai?.reason !== undefined && "metadata" in ai.reason
    ? (ai.reason.metadata as Record<string, unknown> | undefined)?.[namespace]
    : undefined
  if (typeof data !== "object" || data === null) return Option.none()
  const d = data as Record<string, unknown>
  const key = String(d.key)
  const millis = (name: string) => Duration.millis(typeof d[name] === "number" ? d[name] : 0)
  switch (d.kind) {
    case "CircuitOpen":
      return Option.some({ _tag: "CircuitOpen", key, retryAfter: millis("retryAfterMillis") })
    case "CircuitHalfOpen":
      return Option.some({ _tag: "CircuitHalfOpen", key })
    case "Busy":
      return Option.some({ _tag: "Busy", key, concurrency: Number(d.concurrency), queue: Number(d.queue) })
    case "RateLimited":
      return Option.some({ _tag: "RateLimited", key, retryAfter: millis("retryAfterMillis") })
    case "AttemptTimeout":
      return Option.some({ _tag: "AttemptTimeout", key, timeout: millis("timeoutMillis") })
    case "DeadlineExceeded":
      return Option.some({ _tag: "DeadlineExceeded", key, deadline: millis("deadlineMillis") })
    default:
      return Option.none()
  }
}

/**
 * Whether `error` is a rejection (of the given kind, when named).
 *
 * @category guards
 * @since 0.2.0
 */
export const isRejection = (error: unknown, kind?: Rejection["_tag"]): boolean => {
  const rejection = rejectionOf(error)
  return Option.isSome(rejection) && (kind === undefined || rejection.value._tag === kind)
}
