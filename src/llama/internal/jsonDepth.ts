/**
 * How deep a JSON value nests, found without recursion (a value nested 100,000 levels deep must not overflow the
 * stack of the check that rejects it). The native addon applies the same limit to JSON text.
 *
 * @internal
 */

/** Deepest nesting of arrays and objects accepted in messages, tools and schemas (addon/chat-limits.h). @internal */
export const MAX_JSON_DEPTH = 64

/**
 * True when `value` nests arrays and objects more than `limit` levels deep (a cycle nests without end).
 *
 * @internal
 */
export const exceedsDepth = (value: unknown, limit: number = MAX_JSON_DEPTH): boolean => {
  // Shared sub-values are visited again only when reached deeper than before: no blow-up on DAGs.
  const seen = new Map<object, number>()
  const stack: Array<readonly [unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== "object") continue
    if (depth + 1 > limit) return true
    const before = seen.get(node)
    if (before !== undefined && before >= depth) continue
    seen.set(node, depth)
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1])
    }
  }
  return false
}
