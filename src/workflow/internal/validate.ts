/** @internal Resolving a workflow's references, and every problem of its graph. */
import type { Workflow } from "../Workflow.ts"
import type { Problem } from "../WorkflowError.ts"
import type * as WorkflowNode from "../WorkflowNode.ts"
import * as Template from "./template.ts"

/** @internal A workflow with its edges resolved to node indices. */
export interface Resolved {
  readonly nodes: ReadonlyArray<WorkflowNode.Node>
  /** name or id -> index (names win over ids of other nodes). */
  readonly index: ReadonlyMap<string, number>
  readonly parents: ReadonlyArray<ReadonlyArray<number>>
  readonly children: ReadonlyArray<ReadonlyArray<number>>
  /** Incoming edges per node: source index and branch label. */
  readonly incoming: ReadonlyArray<ReadonlyArray<{ readonly from: number; readonly branch: string }>>
  readonly entry: ReadonlyArray<number>
}

/** @internal The templates of a node, with where they are, and the nested map node. */
export const templatesOf = (node: WorkflowNode.Node): ReadonlyArray<WorkflowNode.TemplateValue> => {
  switch (node.kind) {
    case "agent":
      return node.system === undefined ? [node.prompt] : [node.prompt, node.system]
    case "transform":
    case "condition":
    case "subworkflow":
      return node.from === undefined ? [] : [node.from]
    case "map":
      return [node.items]
    default:
      return []
  }
}

/** @internal */
export const resolve = (workflow: Pick<Workflow, "nodes" | "edges" | "entry">): Resolved & {
  readonly problems: Array<Problem>
} => {
  const problems: Array<Problem> = []
  const nodes = workflow.nodes
  const index = new Map<string, number>()
  const byName = new Map<string, number>()
  const names = new Map<string, number>()
  const ids = new Map<string, number>()
  nodes.forEach((node, i) => {
    names.set(node.name, (names.get(node.name) ?? 0) + 1)
    if (node.id !== node.name) ids.set(node.id, (ids.get(node.id) ?? 0) + 1)
    if (!byName.has(node.name)) byName.set(node.name, i)
  })
  for (const [name, count] of names) if (count > 1) problems.push({ _tag: "DuplicateName", name, key: "name", count })
  for (const [id, count] of ids) if (count > 1) problems.push({ _tag: "DuplicateName", name: id, key: "id", count })
  nodes.forEach((node, i) => {
    if (!index.has(node.id)) index.set(node.id, i)
  })
  for (const [name, i] of byName) index.set(name, i)

  const parents: Array<Array<number>> = nodes.map(() => [])
  const children: Array<Array<number>> = nodes.map(() => [])
  const incoming: Array<Array<{ from: number; branch: string }>> = nodes.map(() => [])
  const seen = new Map<string, { from: string; to: string; count: number }>()
  for (const edge of workflow.edges) {
    const from = index.get(edge.from)
    const to = index.get(edge.to)
    if (from === undefined || to === undefined) {
      const missing = [...(from === undefined ? [edge.from] : []), ...(to === undefined ? [edge.to] : [])]
      problems.push({ _tag: "DanglingEdge", from: edge.from, to: edge.to, missing })
      continue
    }
    const branch = edge.branch ?? nodes[to]!.name
    const key = `${from}\u0000${to}\u0000${branch}`
    const entry = seen.get(key)
    if (entry !== undefined) {
      entry.count++
      continue
    }
    seen.set(key, { from: nodes[from]!.name, to: nodes[to]!.name, count: 1 })
    parents[to]!.push(from)
    children[from]!.push(to)
    incoming[to]!.push({ from, branch })
  }
  for (const { count, from, to } of seen.values()) {
    if (count > 1) problems.push({ _tag: "DuplicateEdge", from, to, count })
  }

  const entry: Array<number> = []
  if (workflow.entry !== undefined) {
    for (const ref of workflow.entry) {
      const i = index.get(ref)
      if (i !== undefined) entry.push(i)
    }
  } else {
    nodes.forEach((_, i) => {
      if (parents[i]!.length === 0) entry.push(i)
    })
  }
  return { nodes, index, parents, children, incoming, entry, problems }
}

// Tarjan's strongly connected components, iteratively (graphs of 10,000 nodes would overflow a recursive one).
const cycles = (children: ReadonlyArray<ReadonlyArray<number>>): Array<Array<number>> => {
  const n = children.length
  const order = new Array<number>(n).fill(-1)
  const low = new Array<number>(n).fill(0)
  const onStack = new Array<boolean>(n).fill(false)
  const stack: Array<number> = []
  const out: Array<Array<number>> = []
  let counter = 0
  for (let root = 0; root < n; root++) {
    if (order[root] !== -1) continue
    const work: Array<[number, number]> = [[root, 0]]
    while (work.length > 0) {
      const frame = work[work.length - 1]!
      const [v, i] = frame
      if (i === 0) {
        order[v] = low[v] = counter++
        stack.push(v)
        onStack[v] = true
      }
      const next = children[v]![i]
      if (next !== undefined) {
        frame[1] = i + 1
        if (order[next] === -1) work.push([next, 0])
        else if (onStack[next]) low[v] = Math.min(low[v]!, order[next]!)
        continue
      }
      work.pop()
      const parent = work[work.length - 1]
      if (parent !== undefined) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!)
      if (low[v] === order[v]) {
        const component: Array<number> = []
        let w: number
        do {
          w = stack.pop()!
          onStack[w] = false
          component.push(w)
        } while (w !== v)
        if (component.length > 1 || children[v]!.includes(v)) out.push(component.reverse())
      }
    }
  }
  return out
}

const ancestorsOf = (parents: ReadonlyArray<ReadonlyArray<number>>, node: number): Set<number> => {
  const seen = new Set<number>()
  const work = [...parents[node]!]
  while (work.length > 0) {
    const p = work.pop()!
    if (seen.has(p)) continue
    seen.add(p)
    work.push(...parents[p]!)
  }
  return seen
}

const inputFields = (schema: unknown): ReadonlySet<string> | undefined => {
  const fields = (schema as { readonly fields?: unknown }).fields
  return typeof fields === "object" && fields !== null ? new Set(Object.keys(fields)) : undefined
}

/** @internal Every problem of a workflow. */
export const validateGraph = (workflow: Workflow<any, any, any>): Array<Problem> => {
  const resolved = resolve(workflow)
  const { children, entry, index, nodes, parents, problems } = resolved

  for (const component of cycles(children)) {
    problems.push({ _tag: "Cycle", nodes: component.map((i) => nodes[i]!.name) })
  }

  const reached = new Array<boolean>(nodes.length).fill(false)
  const work = [...entry]
  while (work.length > 0) {
    const i = work.pop()!
    if (reached[i]) continue
    reached[i] = true
    work.push(...children[i]!)
  }
  nodes.forEach((node, i) => {
    if (!reached[i]) problems.push({ _tag: "UnreachableNode", node: node.name })
  })

  const fields = inputFields(workflow.input)
  nodes.forEach((node, i) => {
    let ancestors: Set<number> | undefined
    const check = (templates: ReadonlyArray<WorkflowNode.TemplateValue>, inMap: boolean) => {
      for (const template of templates) {
        const compiled = Template.compile(template, (expression) =>
          problems.push({ _tag: "UnknownReference", node: node.name, reference: expression, scope: "template", reason: "unknown" }))
        for (const ref of Template.refs(compiled)) {
          if (ref.scope === "nodes") {
            const target = index.get(ref.node!)
            if (target === undefined) {
              problems.push({ _tag: "UnknownReference", node: node.name, reference: ref.source, scope: "nodes", reason: "unknown" })
            } else if (!(ancestors ??= ancestorsOf(parents, i)).has(target)) {
              problems.push({
                _tag: "UnknownReference",
                node: node.name,
                reference: ref.source,
                scope: "nodes",
                reason: "not-upstream"
              })
            }
          } else if (ref.scope === "input") {
            const field = ref.path[0]
            if (fields !== undefined && field !== undefined && !fields.has(field)) {
              problems.push({ _tag: "UnknownReference", node: node.name, reference: ref.source, scope: "input", reason: "unknown" })
            }
          } else if ((ref.scope === "item" || ref.scope === "index") && !inMap) {
            problems.push({ _tag: "UnknownReference", node: node.name, reference: ref.source, scope: "item", reason: "unknown" })
          }
        }
      }
    }
    check(templatesOf(node), false)
    if (node.kind === "map") check(templatesOf(node.each), true)
    if (node.kind === "condition" && children[i]!.length === 0) {
      problems.push({ _tag: "ConditionWithoutBranches", node: node.name })
    }
  })
  return problems
}
