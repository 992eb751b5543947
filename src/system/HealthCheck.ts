/**
 * `HealthCheck`: one service that any Layer contributes checks to, and that answers with a verdict. Each check
 * says `pass`, `warn` or `fail` with a reason; `run` runs them all at once, each within its own time limit and all
 * within the run's, and reports `healthy`, `degraded` (a warning, or a non-critical check failed) or `unhealthy`
 * (a critical check failed), with the reason of every failed check. A check that does not answer in time fails
 * with "no answer within ..."; a run never takes longer than its timeout.
 *
 *   const App = MyServer.pipe(
 *     Layer.provide(HealthCheck.contribute(HealthChecks.provider({ name: "openai", url }))),
 *     Layer.provide(HealthCheck.layer())          // addon, every model and context, free memory
 *   )
 *
 * @since 0.2.0
 */
import { Cause, Clock, Context, Duration, Effect, Fiber, Layer, Option, Ref, type Scope } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"

// ============================================================================
// Models
// ============================================================================

/**
 * What one check found.
 *
 * @category models
 * @since 0.2.0
 */
export interface Outcome {
  readonly status: "pass" | "warn" | "fail"
  /** Why it warns or fails (required for those). */
  readonly reason?: string
  readonly details?: Readonly<Record<string, unknown>>
}

/**
 * A check: a name, an Effect that finds an `Outcome` (its failures and defects count as `fail`, with their
 * message as the reason), its own time limit, and whether a failure makes the whole verdict `unhealthy`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Check {
  readonly name: string
  readonly run: Effect.Effect<Outcome, unknown>
  /** Default: the run's timeout. */
  readonly timeout?: Duration.Input
  /** Default true. A failed non-critical check makes the verdict `degraded`. */
  readonly critical?: boolean
}

/**
 * One check's result in a report.
 *
 * @category models
 * @since 0.2.0
 */
export interface CheckResult extends Outcome {
  readonly name: string
  readonly critical: boolean
  readonly durationMs: number
}

/**
 * The verdict.
 *
 * @category models
 * @since 0.2.0
 */
export type Overall = "healthy" | "degraded" | "unhealthy"

/**
 * What `run` returns.
 *
 * @category models
 * @since 0.2.0
 */
export interface Report {
  readonly overall: Overall
  /** The failed (and warning) checks with their reasons, as `name: reason`. */
  readonly reasons: ReadonlyArray<string>
  readonly checks: ReadonlyArray<CheckResult>
  readonly durationMs: number
  /** When the run started, milliseconds since the epoch. */
  readonly at: number
}

/**
 * Options of `layer`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Options {
  /** The limit of a whole run. Default 5 seconds. */
  readonly timeout?: Duration.Input
}

/**
 * @category models
 * @since 0.2.0
 */
export interface Service {
  /** Adds a check for the life of the Scope. A name used twice replaces the older check while the newer lives. */
  readonly register: (check: Check) => Effect.Effect<void, never, Scope.Scope>
  /** Runs every check (or those named) concurrently. Never fails and never runs past `timeout`. */
  readonly run: (options?: { readonly timeout?: Duration.Input; readonly only?: ReadonlyArray<string> }) => Effect.Effect<Report>
  /** The names of the registered checks. */
  readonly names: Effect.Effect<ReadonlyArray<string>>
}

/**
 * The health check service.
 *
 * @category services
 * @since 0.2.0
 */
export class HealthCheck extends Context.Service<HealthCheck, Service>()("effect-llama/HealthCheck") {}

// ============================================================================
// Outcomes
// ============================================================================

/**
 * A passing outcome.
 *
 * @category constructors
 * @since 0.2.0
 */
export const pass = (details?: Readonly<Record<string, unknown>>): Outcome =>
  details === undefined ? { status: "pass" } : { status: "pass", details }

/**
 * A warning: the verdict becomes at most `degraded`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const warn = (reason: string, details?: Readonly<Record<string, unknown>>): Outcome =>
  details === undefined ? { status: "warn", reason } : { status: "warn", reason, details }

/**
 * A failing outcome.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fail = (reason: string, details?: Readonly<Record<string, unknown>>): Outcome =>
  details === undefined ? { status: "fail", reason } : { status: "fail", reason, details }

// ============================================================================
// Constructors
// ============================================================================

const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof Error) return error.message === "" ? error.name : error.message
  if (typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message
  }
  return String(error)
}

const verdict = (results: ReadonlyArray<CheckResult>): Overall =>
  results.some((r) => r.status === "fail" && r.critical)
    ? "unhealthy"
    : results.some((r) => r.status !== "pass")
    ? "degraded"
    : "healthy"

interface Registered {
  readonly id: number
  readonly check: Check
}

/**
 * Builds a health check service with no checks.
 *
 * @category constructors
 * @since 0.2.0
 */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const defaultTimeout = Duration.fromInputUnsafe(options.timeout ?? "5 seconds")
    const checks = yield* Ref.make<ReadonlyArray<Registered>>([])
    let nextId = 0

    const register: Service["register"] = (check) =>
      Effect.acquireRelease(
        Effect.sync(() => ++nextId).pipe(
          Effect.tap((id) => Ref.update(checks, (all) => [...all, { id, check }]))
        ),
        (id) => Ref.update(checks, (all) => all.filter((r) => r.id !== id))
      ).pipe(Effect.asVoid)

    // The newest registration of each name.
    const current = Effect.map(Ref.get(checks), (all) => {
      const byName = new Map<string, Check>()
      for (const { check } of all) byName.set(check.name, check)
      return Array.from(byName.values())
    })

    // Runs one check in a fiber of its own, so a check that ignores interruption cannot hold the report back.
    const runOne = (check: Check, limit: Duration.Duration): Effect.Effect<CheckResult> =>
      Effect.gen(function*() {
        const critical = check.critical ?? true
        const own = check.timeout === undefined ? limit : Duration.min(Duration.fromInputUnsafe(check.timeout), limit)
        const start = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.forkDetach(check.run)
        const exit = yield* Effect.timeoutOption(Fiber.await(fiber), own)
        const durationMs = (yield* Clock.currentTimeMillis) - start
        if (Option.isNone(exit)) {
          yield* Effect.forkDetach(Fiber.interrupt(fiber))
          return { name: check.name, critical, durationMs, status: "fail", reason: `no answer within ${Duration.format(own)}` }
        }
        const outcome: Outcome = exit.value._tag === "Success"
          ? exit.value.value
          : { status: "fail", reason: messageOf(exit.value.cause) }
        return {
          name: check.name,
          critical,
          durationMs,
          ...outcome,
          ...(outcome.status !== "pass" && outcome.reason === undefined ? { reason: outcome.status } : {})
        }
      })

    const run: Service["run"] = (runOptions) =>
      Effect.gen(function*() {
        const limit = runOptions?.timeout === undefined ? defaultTimeout : Duration.fromInputUnsafe(runOptions.timeout)
        const at = yield* Clock.currentTimeMillis
        const selected = (yield* current).filter((c) => runOptions?.only === undefined || runOptions.only.includes(c.name))
        const results = yield* Effect.forEach(selected, (check) => runOne(check, limit), { concurrency: "unbounded" })
        return {
          overall: verdict(results),
          reasons: results.filter((r) => r.status !== "pass").map((r) => `${r.name}: ${r.reason ?? r.status}`),
          checks: results,
          durationMs: (yield* Clock.currentTimeMillis) - at,
          at
        }
      })

    return HealthCheck.of({ register, run, names: Effect.map(current, (all) => all.map((c) => c.name)) })
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * A `HealthCheck` without checks; add them with `contribute` (or `HealthChecks.layerDefaults` for the built-in
 * ones: addon, models and contexts, memory).
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (options: Options = {}): Layer.Layer<HealthCheck> => Layer.effect(HealthCheck, make(options))

/**
 * A Layer that adds `check` to the `HealthCheck` in context while it lives. `check` may be an Effect building the
 * check from services (a model, a provider's resilience wrapper).
 *
 * @category layers
 * @since 0.2.0
 */
export const contribute = <E = never, R = never>(
  check: Check | Effect.Effect<Check, E, R>
): Layer.Layer<never, E, HealthCheck | Exclude<R, Scope.Scope>> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const health = yield* HealthCheck
    const built = Effect.isEffect(check) ? yield* check : check
    yield* health.register(built)
  })) as never

/**
 * A `GET` route (default `/health`) answering the report as JSON: 200 when healthy or degraded, 503 when
 * unhealthy.
 *
 * @category layers
 * @since 0.2.0
 */
export const route = (path: HttpRouter.PathInput = "/health"): Layer.Layer<never, never, HttpRouter.HttpRouter | HealthCheck> =>
  Layer.unwrap(Effect.map(Effect.service(HealthCheck), (health) =>
    HttpRouter.add(
      "GET",
      path,
      Effect.map(health.run(), (report) =>
        HttpServerResponse.jsonUnsafe(report, { status: report.overall === "unhealthy" ? 503 : 200 }))
    )))
