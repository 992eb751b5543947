/**
 * Run statistics on Effect Metrics: runs, successes and failures per workflow (and over all workflows), and the
 * run duration as a summary (quantiles over the last day, up to 1,000 runs). `get` reads them back as totals, a
 * success rate, and the average and p95 duration; the metrics themselves export like any other (Prometheus, OTLP).
 *
 * @since 0.2.0
 */
import { Effect, Metric } from "effect"
import type { WorkflowResult } from "./WorkflowResult.ts"

/**
 * The metrics. Each series carries a `workflow` attribute with the workflow's name; a series without it counts
 * every workflow.
 *
 * @category metrics
 * @since 0.2.0
 */
export const metrics = {
  runs: Metric.counter("effect_llama_workflow_runs_total", { description: "workflow runs finished" }),
  succeeded: Metric.counter("effect_llama_workflow_runs_succeeded_total", { description: "runs in which no node failed" }),
  failed: Metric.counter("effect_llama_workflow_runs_failed_total", { description: "runs in which a node failed" }),
  duration: Metric.summary("effect_llama_workflow_run_duration_ms", {
    description: "run duration in milliseconds",
    maxAge: "1 day",
    maxSize: 1000,
    quantiles: [0.5, 0.95, 0.99]
  })
}

/**
 * Statistics of the runs so far: counts, success rate (0 to 1; 0 before any run), and durations in milliseconds.
 *
 * @category models
 * @since 0.2.0
 */
export interface Stats {
  readonly total: number
  readonly succeeded: number
  readonly failed: number
  readonly successRate: number
  readonly averageMs: number
  readonly p95Ms: number
}

const series = (workflow: string | undefined) => {
  if (workflow === undefined) return metrics
  const attributes = { workflow }
  return {
    runs: Metric.withAttributes(metrics.runs, attributes),
    succeeded: Metric.withAttributes(metrics.succeeded, attributes),
    failed: Metric.withAttributes(metrics.failed, attributes),
    duration: Metric.withAttributes(metrics.duration, attributes)
  }
}

/**
 * Counts a finished run.
 *
 * @category metrics
 * @since 0.2.0
 */
export const record = (result: WorkflowResult): Effect.Effect<void> =>
  Effect.forEach([series(undefined), series(result.workflow)], (m) =>
    Effect.all([
      Metric.update(m.runs, 1),
      Metric.update(result.state === "succeeded" ? m.succeeded : m.failed, 1),
      Metric.update(m.duration, result.durationMs)
    ]), { discard: true })

/**
 * The statistics of one workflow's runs, or of all runs.
 *
 * @category getters
 * @since 0.2.0
 */
export const get = (workflow?: string): Effect.Effect<Stats> =>
  Effect.gen(function*() {
    const m = series(workflow)
    const total = (yield* Metric.value(m.runs)).count
    const succeeded = (yield* Metric.value(m.succeeded)).count
    const failed = (yield* Metric.value(m.failed)).count
    const duration = yield* Metric.value(m.duration)
    const p95 = duration.quantiles.find(([q]) => q === 0.95)?.[1]
    return {
      total,
      succeeded,
      failed,
      successRate: total === 0 ? 0 : succeeded / total,
      averageMs: duration.count === 0 ? 0 : duration.sum / duration.count,
      p95Ms: p95 ?? 0
    }
  })
