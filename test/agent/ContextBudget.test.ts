// Summarization of the oldest turns at the budget threshold, directly and inside an agent run.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import { Prompt } from "effect/ai"
import * as Agent from "../../src/agent/Agent.ts"
import * as ContextBudget from "../../src/agent/ContextBudget.ts"
import * as TokenCounter from "../../src/agent/TokenCounter.ts"
import * as ScriptedModel from "./ScriptedModel.ts"

const long = (label: string) => `${label} ${"x".repeat(200)}`

const conversation = Prompt.make([
  { role: "system", content: "You are terse." },
  { role: "user", content: long("q1") },
  { role: "assistant", content: [{ type: "text", text: long("a1") }] },
  { role: "user", content: long("q2") },
  { role: "assistant", content: [{ type: "text", text: long("a2") }] },
  { role: "user", content: "q3" }
])

const summarizer = ScriptedModel.make((request) => ({ text: request.system === ContextBudget.defaultInstruction ? "SUMMARY" : "answer" }))

describe("ContextBudget", () => {
  it.effect("summarizes only above the threshold, keeping the system prompt", () =>
    Effect.gen(function*() {
      const tokens = yield* ContextBudget.measure(conversation)
      // threshold * contextTokens === tokens: within budget.
      const within = yield* ContextBudget.compact(conversation, { contextTokens: tokens / 0.75 })
      assert.isTrue(Option.isNone(within))
      assert.strictEqual(summarizer.requests.length, 0)

      const over = yield* ContextBudget.compact(conversation, { contextTokens: (tokens - 1) / 0.75 })
      assert.isTrue(Option.isSome(over))
      const { messages, prompt, tokensAfter, tokensBefore } = Option.getOrThrow(over)
      assert.strictEqual(tokensBefore, tokens)
      assert.isBelow(tokensAfter, tokensBefore)
      const first = prompt.content[0]!
      assert.strictEqual(first.role, "system")
      assert.strictEqual(first.role === "system" ? first.content : "", "You are terse.")
      const summary = prompt.content[1]!
      assert.strictEqual(summary.role, "user")
      if (summary.role === "user") {
        const part = summary.content[0]!
        assert.strictEqual(part.type === "text" ? part.text : "", `${ContextBudget.summaryPrefix}SUMMARY`)
      }
      // The recent turns that fit in keepRatio (40%) stay verbatim; the cut falls on a user message.
      assert.deepStrictEqual(prompt.content.map((m) => m.role), ["system", "user", "assistant", "user", "assistant", "user"])
      assert.strictEqual(messages, 2)
      // The summarizer saw the old turns, not the system prompt.
      const request = summarizer.requests[0]!
      assert.strictEqual(request.method, "generateText")
      const transcript = request.prompt.content[1]!
      const text = transcript.role === "user" && transcript.content[0]!.type === "text" ? transcript.content[0]!.text : ""
      assert.include(text, "q1")
      assert.include(text, "a1")
      assert.notInclude(text, "q2")
      assert.notInclude(text, "You are terse.")

      // Still over budget with only the summary before the last question: no second summary of the summary.
      const again = yield* ContextBudget.compact(prompt.pipe(Prompt.concat(long("q4"))), { contextTokens: 100, keepRatio: 0 })
      assert.isTrue(Option.isSome(again)) // q2, a2 and q3 are summarized with the old summary
      const twice = yield* ContextBudget.compact(Option.getOrThrow(again).prompt, { contextTokens: 10 })
      assert.isTrue(Option.isNone(twice))
    }).pipe(Effect.provide(summarizer.layer)))

  it.effect("an agent summarizes its history once it passes 75% of the context", () => {
    const model = ScriptedModel.make((request) => ({
      text: request.system === ContextBudget.defaultInstruction ? "SUMMARY" : "answer"
    }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({
        system: "You are terse.",
        contextBudget: { contextTokens: 300, keepRatio: 0.1, countTokens: TokenCounter.estimate }
      })
      yield* agent.addMessages(conversation.content.slice(1, 5))
      const events = yield* Stream.runCollect(agent.stream("q3"))
      const summarized = events.filter((e) => e.type === "summarized")
      assert.strictEqual(summarized.length, 1)
      assert.deepStrictEqual(events.map((e) => e.type).slice(0, 2), ["summarized", "text-delta"])
      const history = yield* agent.history
      assert.deepStrictEqual(history.content.map((m) => m.role), ["system", "user", "assistant", "user", "assistant"])
      const first = history.content[0]!
      assert.strictEqual(first.role === "system" ? first.content : "", "You are terse.")
      assert.deepStrictEqual(model.requests.map((r) => r.method), ["generateText", "streamText"])
    }).pipe(Effect.provide(model.layer))
  })
})
