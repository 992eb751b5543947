/**
 * A router: an agent classifies a support request with structured output (a Schema, so the answer always decodes,
 * even from the random-weight test model), a condition node sends it down one branch, and the other branches (and
 * everything only they lead to) are skipped.
 *
 * Run: node examples/workflow-router.ts ["the request"]
 *      LLAMA_MODEL_PATH=/path/to/model.gguf node examples/workflow-router.ts "My invoice is wrong"
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Schema } from "effect"
import { LlamaLanguageModel, Native, Workflow, WorkflowExecutor, WorkflowNode, WorkflowResult } from "../src/index.ts"
import { isRandomModel, modelPath } from "./model.ts"

const request = process.argv[2] ?? "I was charged twice for my subscription this month."

const Category = Schema.Struct({ category: Schema.Literals(["billing", "technical", "other"]) })

const reply = (name: string, team: string) =>
  WorkflowNode.agent(name, {
    system: `You are the ${team} support team. Reply in two sentences.`,
    prompt: "{{input.request}}",
    config: { maxTokens: isRandomModel ? 40 : 256 }
  })

const Support = Workflow.make("support", { input: Schema.Struct({ request: Schema.String }) }).pipe(
  Workflow.add(
    WorkflowNode.agent("classify", {
      system: "Classify support requests.",
      prompt: "Which team should handle this request? {{input.request}}",
      output: Category,
      // Structured output from a random model needs room: the grammar allows whitespace that it fills.
      config: { maxTokens: 300 }
    }),
    WorkflowNode.condition("route", { input: Category, decide: ({ category }) => category }),
    reply("billing", "billing"),
    reply("technical", "technical"),
    reply("other", "customer care"),
    WorkflowNode.transform("ticket", {
      input: Schema.String,
      run: (answer) => Effect.succeed({ status: "answered", answer: answer.slice(0, 80) })
    })
  ),
  Workflow.chain("classify", "route"),
  // The edges' branch labels default to their target's name: billing, technical, other.
  Workflow.connect("route", ["billing", "technical", "other"]),
  Workflow.connect("technical", "ticket")
)

const program = Effect.gen(function*() {
  if (isRandomModel) yield* Console.log("NOTE: the generated random-weight test model: the route it picks is random.\n")
  yield* Console.log(`> ${request}`)
  const result = yield* WorkflowExecutor.execute(Support, { request })
  yield* Console.log(`classified as: ${JSON.stringify(result.nodes.classify!.output)}`)
  yield* Console.log(`route taken: ${result.nodes.route!.branches!.join(", ")}`)
  for (const name of WorkflowResult.nodesWith(result, "skipped")) {
    yield* Console.log(`skipped: ${name} (${result.nodes[name]!.skipReason})`)
  }
  yield* Console.log(`answer: ${JSON.stringify(result.output)}`)
})

const Local = LlamaLanguageModel.layerModel({ path: modelPath }).pipe(Layer.provide(Native.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
