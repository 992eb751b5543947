/**
 * A research pipeline as a workflow on the local model: three agents research a topic from three angles at the
 * same time (a fan-out), a join collects their notes, a fourth agent summarizes them. The run's events are printed
 * as they come: nodes starting and finishing, and the agents' text as it streams, tagged with its node.
 *
 * Run: node examples/workflow.ts ["a topic"]               the generated random-weight model: its text is noise
 *      LLAMA_MODEL_PATH=/path/to/model.gguf node examples/workflow.ts "a topic"
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema, Stream } from "effect"
import { LlamaLanguageModel, Native, Workflow, WorkflowExecutor, WorkflowNode } from "../src/index.ts"
import type { WorkflowEvent } from "../src/index.ts"
import { isRandomModel, modelPath } from "./model.ts"

const topic = process.argv[2] ?? "local LLM inference"

const angle = (name: string, question: string) =>
  WorkflowNode.agent(name, {
    system: "You are a careful researcher. Answer in two sentences.",
    prompt: `${question} Topic: {{input.topic}}`
  })

const Research = Workflow.make("research", { input: Schema.Struct({ topic: Schema.String }) }).pipe(
  Workflow.add(
    angle("facts", "What are the key facts?"),
    angle("risks", "What are the main risks?"),
    angle("outlook", "What is the outlook for the next years?"),
    WorkflowNode.join("notes"),
    WorkflowNode.agent("summary", {
      system: "You write short executive summaries.",
      prompt: "Summarize these notes on {{input.topic}} in three sentences:\n" +
        "Facts: {{nodes.notes.output.facts}}\nRisks: {{nodes.notes.output.risks}}\nOutlook: {{nodes.notes.output.outlook}}"
    })
  ),
  Workflow.connect("facts", "notes"),
  Workflow.connect("risks", "notes"),
  Workflow.connect("outlook", "notes"),
  Workflow.connect("notes", "summary")
)

let streaming: string | undefined
const line = (text: string) =>
  Effect.sync(() => {
    if (streaming !== undefined) process.stdout.write("\n")
    streaming = undefined
    console.log(text)
  })

const show = (event: WorkflowEvent.WorkflowEvent): Effect.Effect<void> => {
  switch (event.type) {
    case "run-started":
      return line(`[run started: ${event.workflow}]`)
    case "node-started":
      return line(`[${event.name} started]`)
    case "agent-text-delta":
      return Effect.sync(() => {
        // Three agents stream at once: each switch of node starts a new line with its name.
        if (streaming !== event.name) process.stdout.write(`${streaming === undefined ? "" : "\n"}  ${event.name}> `)
        streaming = event.name
        process.stdout.write(event.delta.replace(/\s+/g, " "))
      })
    case "node-finished":
      return line(`[${event.name} finished in ${event.result.durationMs} ms]`)
    case "node-failed":
      return line(`[${event.name} failed: ${event.error}]`)
    case "run-finished":
      return line(
        `[run finished: ${event.state} in ${event.durationMs} ms, tokens in/out ` +
          `${event.usage.inputTokens}/${event.usage.outputTokens}]`
      )
    default:
      return Effect.void
  }
}

const program = Effect.gen(function*() {
  if (isRandomModel) yield* Console.log("NOTE: the generated random-weight test model: its text is noise.\n")
  yield* WorkflowExecutor.stream(Research, { topic }).pipe(Stream.runForEach(show))
})

// Three sequences: the three research agents generate at the same time, batched on one context.
const Local = LlamaLanguageModel.layerModel({
  path: modelPath,
  context: { contextSize: 8192, sequences: 3 },
  config: { maxTokens: isRandomModel ? 32 : 256 }
}).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
