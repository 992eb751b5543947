/**
 * One contender of the workflow benchmark on one graph, in a fresh process (so peak RSS is its own):
 *   node bench/workflow-worker.ts <effect-llama|langgraph> <chain|fan|layered> <warm runs>
 *   node bench/workflow-worker.ts durable <memory|postgres-url> <chain|fan> <nodes> <runs>
 * Prints one JSON line: the first run (building and compiling the graph included), the warm runs, peak RSS in KiB,
 * and how many node executions the last run counted (a check that every node ran).
 */
import { Effect, Layer } from "effect"
import * as DurableWorkflow from "../src/workflow/DurableWorkflow.ts"
import * as Workflow from "../src/workflow/Workflow.ts"
import * as WorkflowExecutor from "../src/workflow/WorkflowExecutor.ts"
import * as WorkflowNode from "../src/workflow/WorkflowNode.ts"
import { chain, fan, type Graph, graphs, parentsOf } from "./workflow-graphs.ts"

let executed = 0

const effectLlama = (graph: Graph) => {
  const workflow = Workflow.make(graph.name).pipe(
    Workflow.add(...graph.nodes.map((n) => WorkflowNode.transform(n, { run: () => Effect.sync(() => void executed++) }))),
    Workflow.connectAll(graph.edges)
  )
  return () => Effect.runPromise(WorkflowExecutor.execute(workflow, undefined)).then((r) => {
    if (r.state !== "succeeded") throw new Error(`run ${r.state}`)
  })
}

const langGraph = async (graph: Graph) => {
  const { Annotation, END, START, StateGraph } = await import("@langchain/langgraph")
  const State = Annotation.Root({ n: Annotation<number>() })
  const builder: any = new StateGraph(State)
  for (const n of graph.nodes) {
    builder.addNode(n, () => {
      executed++
      return {}
    })
  }
  const parents = parentsOf(graph)
  const hasChildren = new Set(graph.edges.map(([from]) => from))
  for (const n of graph.nodes) {
    const ps = parents.get(n)!
    if (ps.length === 0) builder.addEdge(START, n)
    else if (ps.length === 1) builder.addEdge(ps[0], n)
    else builder.addEdge(ps, n) // waits for all of them
    if (!hasChildren.has(n)) builder.addEdge(n, END)
  }
  const app = builder.compile()
  return () => app.invoke({ n: 0 }, { recursionLimit: 1_000_000 }) as Promise<unknown>
}

const durable = async (engine: string, graph: Graph) => {
  const workflow = Workflow.make(`durable ${graph.name}`).pipe(
    Workflow.add(...graph.nodes.map((n) => WorkflowNode.transform(n, { run: () => Effect.sync(() => void executed++) }))),
    Workflow.connectAll(graph.edges)
  )
  const made = DurableWorkflow.make(workflow, { concurrency: 1_000 })
  const engineLayer = engine === "memory"
    ? DurableWorkflow.layerMemory
    : Layer.orDie((await import("../src/workflow/WorkflowPostgres.ts")).layer({ url: engine }))
  const layer = made.layer.pipe(Layer.provideMerge(engineLayer))
  const { ManagedRuntime } = await import("effect")
  const runtime = ManagedRuntime.make(layer)
  let key = 0
  const run = () => runtime.runPromise(made.execute(undefined, { key: `bench-${process.pid}-${++key}` }))
  return { run, dispose: () => runtime.dispose() }
}

const main = async () => {
  const [contender, ...args] = process.argv.slice(2)
  const times: Array<number> = []
  let coldMs: number
  let dispose = async () => {}
  if (contender === "durable") {
    const [engine, shape, nodes, runs] = args as [string, string, string, string]
    const graph = shape === "chain" ? chain(Number(nodes)) : fan(Number(nodes) - 2)
    const d = await durable(engine, graph)
    dispose = d.dispose
    const t0 = performance.now()
    await d.run() // the engine's start (tables, shards) is in the first run
    coldMs = performance.now() - t0
    for (let i = 0; i < Number(runs); i++) {
      executed = 0
      const t = performance.now()
      await d.run()
      times.push(performance.now() - t)
    }
  } else {
    const [shape, runs] = args as [string, string]
    const graph = graphs[shape]!()
    const t0 = performance.now()
    const run = contender === "effect-llama" ? effectLlama(graph) : await langGraph(graph)
    executed = 0
    await run()
    coldMs = performance.now() - t0
    for (let i = 0; i < Number(runs); i++) {
      executed = 0
      const t = performance.now()
      await run()
      times.push(performance.now() - t)
    }
  }
  const maxRssKb = process.resourceUsage().maxRSS
  await dispose()
  console.log(JSON.stringify({ coldMs, warmMs: times, maxRssKb, executed }))
}

main().then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
