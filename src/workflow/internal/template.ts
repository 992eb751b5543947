/** @internal Templates: `{{input.x}}`, `{{nodes.<name>.output.<path>}}`, `{{vars.<k>}}`, `{{item}}`, `{{index}}`. */
import type { TemplateValue } from "../WorkflowNode.ts"

/** @internal */
export interface Ref {
  readonly scope: "input" | "nodes" | "vars" | "item" | "index"
  /** For `nodes`: the node's name or id. */
  readonly node: string | undefined
  readonly path: ReadonlyArray<string>
  readonly source: string
}

/** @internal A compiled template value: a constant, a reference, text with references, or a structure of them. */
export type Compiled =
  | { readonly type: "const"; readonly value: unknown }
  | { readonly type: "ref"; readonly ref: Ref }
  | { readonly type: "text"; readonly parts: ReadonlyArray<string | Ref> }
  | { readonly type: "array"; readonly items: ReadonlyArray<Compiled> }
  | { readonly type: "object"; readonly entries: ReadonlyArray<readonly [string, Compiled]> }

/** @internal What templates read. */
export interface Scope {
  readonly input: unknown
  readonly outputs: Readonly<Record<string, unknown>>
  readonly vars: Readonly<Record<string, unknown>>
  readonly item?: unknown
  readonly index?: number | undefined
}

const pattern = /\{\{\s*([^{}]+?)\s*\}\}/g

/** @internal `undefined` when the expression is not a reference this module knows; the validator reports it. */
export const parseRef = (expression: string): Ref | undefined => {
  const segments = expression.split(".")
  const [head, ...rest] = segments
  switch (head) {
    case "input":
    case "vars":
    case "item":
      return { scope: head, node: undefined, path: rest, source: expression }
    case "index":
      return rest.length === 0 ? { scope: "index", node: undefined, path: [], source: expression } : undefined
    case "nodes": {
      const [node, output, ...path] = rest
      if (node === undefined || node === "" || (output !== undefined && output !== "output")) return undefined
      return { scope: "nodes", node, path, source: expression }
    }
    default:
      return undefined
  }
}

/** @internal Compiles a string; `onUnknown` hears of every `{{...}}` that is not a known reference. */
export const compileString = (text: string, onUnknown: (expression: string) => void): Compiled => {
  const parts: Array<string | Ref> = []
  let last = 0
  for (const match of text.matchAll(pattern)) {
    const ref = parseRef(match[1]!)
    if (ref === undefined) {
      onUnknown(match[1]!)
      continue
    }
    if (match.index > last) parts.push(text.slice(last, match.index))
    parts.push(ref)
    last = match.index + match[0].length
  }
  if (parts.length === 0) return { type: "const", value: text }
  if (last < text.length) parts.push(text.slice(last))
  if (parts.length === 1 && typeof parts[0] !== "string") return { type: "ref", ref: parts[0]! }
  return { type: "text", parts }
}

/** @internal */
export const compile = (value: TemplateValue, onUnknown: (expression: string) => void = () => {}): Compiled => {
  if (typeof value === "string") return compileString(value, onUnknown)
  if (Array.isArray(value)) return { type: "array", items: value.map((v) => compile(v, onUnknown)) }
  if (value !== null && typeof value === "object") {
    return {
      type: "object",
      entries: Object.entries(value as Record<string, TemplateValue>).map(([k, v]) => [k, compile(v, onUnknown)] as const)
    }
  }
  return { type: "const", value }
}

/** @internal Every reference in a compiled template. */
export const refs = (compiled: Compiled): ReadonlyArray<Ref> => {
  switch (compiled.type) {
    case "const":
      return []
    case "ref":
      return [compiled.ref]
    case "text":
      return compiled.parts.filter((p): p is Ref => typeof p !== "string")
    case "array":
      return compiled.items.flatMap(refs)
    case "object":
      return compiled.entries.flatMap(([, v]) => refs(v))
  }
}

const walk = (value: unknown, path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

/** @internal */
export const lookup = (ref: Ref, scope: Scope): unknown => {
  switch (ref.scope) {
    case "input":
      return walk(scope.input, ref.path)
    case "vars":
      return walk(scope.vars, ref.path)
    case "item":
      return walk(scope.item, ref.path)
    case "index":
      return scope.index
    case "nodes":
      return walk(scope.outputs[ref.node!], ref.path)
  }
}

const text = (value: unknown): string =>
  value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value)

/** @internal Renders a compiled template against a scope (missing values render as nothing). */
export const render = (compiled: Compiled, scope: Scope): unknown => {
  switch (compiled.type) {
    case "const":
      return compiled.value
    case "ref":
      return lookup(compiled.ref, scope)
    case "text":
      return compiled.parts.map((p) => (typeof p === "string" ? p : text(lookup(p, scope)))).join("")
    case "array":
      return compiled.items.map((item) => render(item, scope))
    case "object":
      return Object.fromEntries(compiled.entries.map(([k, v]) => [k, render(v, scope)]))
  }
}

/** @internal Renders as text (prompts). */
export const renderText = (compiled: Compiled, scope: Scope): string => text(render(compiled, scope))
