/**
 * The server's Prometheus metrics (`GET /metrics` renders every Effect metric, the local model's own included).
 *
 * @internal
 */
import { Metric } from "effect"

const seconds = Metric.exponentialBoundaries({ start: 0.005, factor: 2, count: 14 })

/** @internal */
export const serverMetrics = {
  requests: Metric.counter("effect_llama_server_requests_total", { description: "HTTP requests by route and status" }),
  promptTokens: Metric.counter("effect_llama_server_prompt_tokens_total", { description: "prompt tokens of completed requests" }),
  completionTokens: Metric.counter("effect_llama_server_completion_tokens_total", {
    description: "generated tokens of completed requests"
  }),
  rejected: Metric.counter("effect_llama_server_rejected_total", { description: "requests refused because the queue was full" }),
  disconnects: Metric.counter("effect_llama_server_client_disconnects_total", {
    description: "requests whose client went away before the answer was complete"
  }),
  queueDepth: Metric.gauge("effect_llama_server_queue_depth", { description: "requests waiting for a slot" }),
  slotsBusy: Metric.gauge("effect_llama_server_slots_busy", { description: "slots generating now" }),
  slots: Metric.gauge("effect_llama_server_slots", { description: "slots (parallel generations)" }),
  latency: Metric.histogram("effect_llama_server_request_duration_seconds", {
    description: "time from request to the end of its answer",
    boundaries: seconds
  }),
  timeToFirstToken: Metric.histogram("effect_llama_server_time_to_first_token_seconds", {
    description: "time from request to the first generated content",
    boundaries: seconds
  })
}
