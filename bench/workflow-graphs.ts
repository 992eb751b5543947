/**
 * The graphs of the workflow benchmark, as plain lists of nodes and edges that each contender builds its own way:
 * a 10,000-node chain, a 1,000-wide fan-out/fan-in (a source, 1,000 nodes, a sink), and a 100x100 layered DAG
 * (100 layers of 100 nodes; each node after the first layer depends on the nodes i-1, i, i+1 of the layer before).
 */

export interface Graph {
  readonly name: string
  readonly nodes: ReadonlyArray<string>
  readonly edges: ReadonlyArray<readonly [string, string]>
}

export const chain = (n: number): Graph => {
  const nodes = Array.from({ length: n }, (_, i) => `n${i}`)
  return { name: `chain ${n}`, nodes, edges: nodes.slice(1).map((to, i) => [nodes[i]!, to] as const) }
}

export const fan = (width: number): Graph => {
  const mids = Array.from({ length: width }, (_, i) => `m${i}`)
  return {
    name: `fan-out/fan-in ${width}`,
    nodes: ["source", ...mids, "sink"],
    edges: [...mids.map((m) => ["source", m] as const), ...mids.map((m) => [m, "sink"] as const)]
  }
}

export const layered = (layers: number, width: number): Graph => {
  const id = (l: number, i: number) => `l${l}_${i}`
  const nodes: Array<string> = []
  const edges: Array<readonly [string, string]> = []
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      nodes.push(id(l, i))
      if (l === 0) continue
      for (const p of [i - 1, i, i + 1]) if (p >= 0 && p < width) edges.push([id(l - 1, p), id(l, i)])
    }
  }
  return { name: `layered ${layers}x${width}`, nodes, edges }
}

export const graphs: Record<string, () => Graph> = {
  chain: () => chain(10_000),
  fan: () => fan(1_000),
  layered: () => layered(100, 100)
}

/** Parents of each node. */
export const parentsOf = (graph: Graph): Map<string, Array<string>> => {
  const parents = new Map(graph.nodes.map((n) => [n, [] as Array<string>]))
  for (const [from, to] of graph.edges) parents.get(to)!.push(from)
  return parents
}
