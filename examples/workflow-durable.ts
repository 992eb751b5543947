/**
 * A durable workflow: a report written by agents on the local model, journaled in PostgreSQL. Kill the process in
 * the middle of the run (Ctrl-C, or kill -9), start it again with the same key, and the run resumes: the nodes that
 * had finished are not run again (their results come from the journal), the rest run now.
 *
 * Run: EFFECT_LLAMA_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/db node examples/workflow-durable.ts [--key report-1]
 *      node examples/workflow-durable.ts       without a database: the embedded engine (nothing survives the process)
 *
 * The cluster tables (cluster_*) are created in that database on the first run.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"
import type { WorkflowEngine } from "effect/workflow"
import { DurableWorkflow, LlamaLanguageModel, Native, Workflow, WorkflowNode } from "../src/index.ts"
import type { WorkflowEvent } from "../src/index.ts"
import { isRandomModel, modelPath } from "./model.ts"

const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback
}
const key = flag("key", "report-1")
const topic = flag("topic", "durable execution")
const databaseUrl = process.env.EFFECT_LLAMA_DATABASE_URL

const Report = Workflow.make("report", { input: Schema.Struct({ topic: Schema.String }) }).pipe(
  Workflow.add(
    WorkflowNode.agent("outline", { prompt: "Outline a short report on {{input.topic}}." }),
    // Time to kill the process. A durable timer: up to a minute it is an activity that sleeps (run again after a
    // restart), longer ones are scheduled by the engine and wait after a restart only for what is left.
    WorkflowNode.delay("pause", { duration: "3 seconds" }),
    WorkflowNode.map("sections", {
      items: ["background", "findings", "next steps"],
      concurrency: 2,
      each: WorkflowNode.agent("section", {
        prompt: "Write the {{item}} section of the report on {{input.topic}}, following: {{nodes.outline.output}}"
      })
    }),
    WorkflowNode.transform("assemble", {
      input: Schema.Array(Schema.String),
      run: (sections) => Effect.succeed(sections.map((s, i) => `## ${i + 1}\n${s.trim()}`).join("\n\n"))
    })
  ),
  Workflow.chain("outline", "pause", "sections", "assemble")
)

// Nodes that streamed text in this process ran here; an agent node that finished without any came from the journal.
const talked = new Set<string>()
let runStarted = false
const label = (e: { readonly name: string; readonly item?: number }) => (e.item === undefined ? e.name : `${e.name}#${e.item}`)

const show = (event: WorkflowEvent.WorkflowEvent): Effect.Effect<void> => {
  switch (event.type) {
    case "run-started":
      runStarted = true
      return Console.log(`[run started: ${event.runId}]`)
    case "node-started":
      return Console.log(`[${label(event)} started]`)
    case "agent-text-delta":
      talked.add(label(event))
      return Effect.void
    case "node-finished": {
      const journaled = event.kind === "agent" && !talked.has(label(event))
      return Console.log(`[${label(event)} finished${journaled ? " (from the journal)" : ""}]`)
    }
    default:
      return Effect.void
  }
}

const Durable = DurableWorkflow.make(Report, { onEvent: show })

const program = Effect.gen(function*() {
  if (isRandomModel) yield* Console.log("NOTE: the generated random-weight test model: its text is noise.")
  yield* Console.log(
    databaseUrl === undefined
      ? "No EFFECT_LLAMA_DATABASE_URL: the embedded engine, so nothing survives this process."
      : `Journal: PostgreSQL. Kill this process (pid ${process.pid}) mid-run and start it again with --key ${key}.`
  )
  const result = yield* Durable.execute({ topic }, { key })
  if (!runStarted) yield* Console.log(`[the run ${key} had finished before: its journaled result]`)
  yield* Console.log(`[run finished: ${result.state}, ${Object.keys(result.nodes).length} nodes]`)
  yield* Console.log(String(result.output).slice(0, 400))
})

const Local = LlamaLanguageModel.layerModel({
  path: modelPath,
  context: { contextSize: 8192, sequences: 2 },
  config: { maxTokens: isRandomModel ? 24 : 400 }
}).pipe(Layer.provide(Native.layer))

// The PostgreSQL engine comes from its own module, which needs @effect/sql-pg; the embedded one needs nothing.
const Engine: Layer.Layer<WorkflowEngine.WorkflowEngine> = databaseUrl === undefined
  ? DurableWorkflow.layerMemory
  : Layer.orDie(
    (await import("../src/workflow/WorkflowPostgres.ts")).layer({ url: databaseUrl, sharding: { entityMessagePollInterval: "1 second" } })
  )

NodeRuntime.runMain(program.pipe(Effect.provide(Durable.layer.pipe(Layer.provideMerge(Engine), Layer.provide(Local)))))
