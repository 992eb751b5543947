// Successive partial parses become effect/ai stream parts: deltas only grow, tool calls close at the end.
import { assert, describe, it } from "@effect/vitest"
import { ChatParts, messageParts } from "../../src/ai/internal/ChatParts.ts"

const parse = (content: string, calls: ReadonlyArray<readonly [string, string]> = [], reasoning = "") => ({
  content,
  reasoningContent: reasoning,
  toolCalls: calls.map(([name, args]) => ({ id: "", name, arguments: args }))
})

describe("ChatParts", () => {
  it("emits text and reasoning deltas, then tool params and the calls at the end", () => {
    let n = 0
    const parts = new ChatParts(() => `call_${++n}`)
    const out = [
      ...parts.update(parse("", [], "thin")),
      ...parts.update(parse("", [], "thinking")),
      ...parts.update(parse("Hel", [], "thinking")),
      ...parts.update(parse("Hello", [["", ""]], "thinking")), // a call whose name is not parsed yet
      ...parts.update(parse("Hello", [["get", "{\"ci"]], "thinking")),
      ...parts.finish(parse("Hello", [["get", "{\"city\": \"Oslo\"}"]], "thinking"))
    ]
    assert.deepStrictEqual(out, [
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-delta", id: "reasoning-0", delta: "thin" },
      { type: "reasoning-delta", id: "reasoning-0", delta: "king" },
      { type: "text-start", id: "text-0" },
      { type: "text-delta", id: "text-0", delta: "Hel" },
      { type: "text-delta", id: "text-0", delta: "lo" },
      { type: "tool-params-start", id: "call_1", name: "get" },
      { type: "tool-params-delta", id: "call_1", delta: "{\"ci" },
      { type: "tool-params-delta", id: "call_1", delta: "ty\": \"Oslo\"}" },
      { type: "reasoning-end", id: "reasoning-0" },
      { type: "text-end", id: "text-0" },
      { type: "tool-params-end", id: "call_1" },
      { type: "tool-call", id: "call_1", name: "get", params: { city: "Oslo" } }
    ])
  })

  it("keeps the parser's call ids and passes malformed arguments on for the framework to reject", () => {
    const parsed = { content: "", reasoningContent: "", toolCalls: [{ id: "abc123def", name: "f", arguments: "{oops" }, { id: "", name: "g", arguments: "" }] }
    assert.deepStrictEqual(messageParts(parsed, () => "call_x"), [
      { type: "tool-call", id: "abc123def", name: "f", params: "{oops" },
      { type: "tool-call", id: "call_x", name: "g", params: {} }
    ])
  })
})
