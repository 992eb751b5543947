// Helpers for the workflow tests: a compact form of events, and a scripted model that answers by prompt.
import { Effect, Ref } from "effect"
import type { Prompt } from "effect/ai"
import type { WorkflowEvent } from "../../src/workflow/WorkflowEvent.ts"
import * as ScriptedModel from "../agent/ScriptedModel.ts"

export const summary = (e: WorkflowEvent): string => {
  switch (e.type) {
    case "run-started":
      return "run-started"
    case "run-finished":
      return `run-finished ${e.state}`
    case "node-skipped":
      return `skipped ${e.name} (${e.reason})`
    case "node-failed":
      return `failed ${e.name}`
    case "node-retried":
      return `retried ${e.name} #${e.attempt}`
    case "agent-text-delta":
      return `delta ${e.name} ${e.delta}`
    case "agent-tool-call":
      return `tool-call ${e.name} ${e.tool}`
    case "agent-tool-result":
      return `tool-result ${e.name} ${e.tool}`
    default:
      return `${e.type.slice(5)} ${e.name}${e.item === undefined ? "" : `#${e.item}`}`
  }
}

/** Collects the run's events into a Ref; the second value reads them. */
export const recorder = Effect.gen(function*() {
  const ref = yield* Ref.make<ReadonlyArray<WorkflowEvent>>([])
  return {
    onEvent: (event: WorkflowEvent) => Ref.update(ref, (es) => [...es, event]),
    events: Ref.get(ref)
  }
})

const lastUserText = (prompt: Prompt.Prompt): string => {
  for (let i = prompt.content.length - 1; i >= 0; i--) {
    const m = prompt.content[i]!
    if (m.role === "user") return m.content.map((p) => (p.type === "text" ? p.text : "")).join("")
  }
  return ""
}

/** A scripted model answering each request with `reply(last user message)`. */
export const modelReplying = (reply: (prompt: string) => ScriptedModel.Turn) =>
  ScriptedModel.make((request) => reply(lastUserText(request.prompt)))
