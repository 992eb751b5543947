// The agent loop on a scripted model: events, history, maxSteps, failures as tool results, nesting, interruption.
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, Schema, Stream } from "effect"
import type { Prompt } from "effect/ai"
import * as Agent from "../../src/agent/Agent.ts"
import type { AgentEvent } from "../../src/agent/AgentEvent.ts"
import * as AgentTool from "../../src/tools/AgentTool.ts"
import * as ScriptedModel from "./ScriptedModel.ts"

class CityNotFound extends Schema.TaggedError<CityNotFound>()("CityNotFound", { city: Schema.String }) {}

const Lookup = AgentTool.make("Lookup", {
  description: "Temperature in a city",
  parameters: Schema.Struct({ city: Schema.Literals(["Oslo", "Atlantis"]) }),
  success: Schema.Struct({ celsius: Schema.Int }),
  failure: CityNotFound,
  handler: ({ city }) => (city === "Atlantis" ? Effect.fail(new CityNotFound({ city })) : Effect.succeed({ celsius: 4 }))
})

// Step 1: a call that fails in the handler. Step 2: an argument outside the schema, an unknown tool, a good call.
// Step 3: the answer.
const threeSteps = ScriptedModel.sequence(
  { calls: [{ name: "Lookup", params: { city: "Atlantis" } }] },
  {
    calls: [
      { name: "Lookup", params: { city: "Paris" } },
      { name: "Teleport", params: {} },
      { name: "Lookup", params: { city: "Oslo" } }
    ]
  },
  { text: "Oslo is 4C." }
)

const summary = (e: AgentEvent): string => {
  switch (e.type) {
    case "tool-call":
      return `${e.step} call ${e.name}`
    case "tool-result":
      return `${e.step} result ${e.name} ${e.isFailure ? "failed" : "ok"}`
    case "step-finished":
      return `${e.step} step ${e.finishReason} ${e.toolCalls}`
    case "finished":
      return `finished ${e.reason} ${e.steps} ${e.text} ${e.usage.inputTokens}/${e.usage.outputTokens}`
    case "text-delta":
      return `${e.step} text ${e.delta}`
    default:
      return `${e.type}`
  }
}

const toolResults = (history: Prompt.Prompt) =>
  history.content.flatMap((m) => (m.role === "tool" ? m.content.flatMap((p) => (p.type === "tool-result" ? [p] : [])) : []))

describe("Agent", () => {
  it.effect("three steps: a failing tool, bad arguments, an unknown tool, then the answer", () => {
    const model = ScriptedModel.make(threeSteps)
    return Effect.gen(function*() {
      const tools = yield* AgentTool.toolkit(Lookup)
      const agent = yield* Agent.make({ system: "Use the tools.", tools, maxSteps: 5 })
      const events = yield* Stream.runCollect(agent.stream("Weather?"))
      assert.deepStrictEqual(events.map(summary), [
        "1 call Lookup",
        "1 result Lookup failed",
        "1 step tool-calls 1",
        "2 call Lookup",
        "2 call Teleport",
        "2 call Lookup",
        "2 result Lookup failed",
        "2 result Teleport failed",
        "2 result Lookup ok",
        "2 step tool-calls 3",
        "3 text Oslo i",
        "3 text s 4C.",
        "3 step stop 0",
        "finished stop 3 Oslo is 4C. 30/15"
      ])
      const results = events.filter((e) => e.type === "tool-result")
      assert.deepStrictEqual(results[0]!.result, { _tag: "CityNotFound", city: "Atlantis" })
      const invalid = results[1]!.result as { _tag: string; reason: { _tag: string } }
      assert.strictEqual(invalid.reason._tag, "ToolParameterValidationError")
      const unknown = results[2]!.result as { _tag: string; reason: { _tag: string } }
      assert.strictEqual(unknown.reason._tag, "ToolNotFoundError")
      assert.deepStrictEqual(results[3]!.result, { celsius: 4 })

      const history = yield* agent.history
      assert.deepStrictEqual(history.content.map((m) => m.role), [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant"
      ])
      // Each call has exactly one result, in the history and in what the model saw next.
      const recorded = toolResults(history)
      assert.deepStrictEqual(recorded.map((r) => r.id), ["call_0_0", "call_1_0", "call_1_1", "call_1_2"])
      assert.deepStrictEqual(recorded.map((r) => r.isFailure), [true, true, true, false])
      assert.strictEqual(toolResults(model.requests[2]!.prompt).length, 4)
      assert.deepStrictEqual(model.requests[1]!.roles, ["system", "user", "assistant", "tool"])
      assert.deepStrictEqual(model.requests.map((r) => r.tools), [["Lookup"], ["Lookup"], ["Lookup"]])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("generate returns the result; maxSteps stops a model that calls tools forever", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Lookup", params: { city: "Oslo" } }] }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ tools: yield* AgentTool.toolkit(Lookup), maxSteps: 3 })
      const result = yield* agent.generate("Loop")
      assert.strictEqual(result.reason, "max-steps")
      assert.strictEqual(result.steps, 3)
      assert.strictEqual(result.toolCalls.length, 3)
      assert.isTrue(result.toolCalls.every((c) => !c.isFailure && c.name === "Lookup"))
      assert.strictEqual(model.requests.length, 3)
      const history = yield* agent.history
      assert.strictEqual(history.content.filter((m) => m.role === "tool").length, 3)
      assert.strictEqual(toolResults(history).length, 3)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("toolChoice per step: the first call is required, later ones are the model's choice", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Lookup", params: { city: "Oslo" } }] }, { text: "done" }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({
        tools: yield* AgentTool.toolkit(Lookup),
        toolChoice: (step) => (step === 1 ? "required" : "auto")
      })
      const result = yield* agent.generate("Go")
      assert.strictEqual(result.reason, "stop")
      assert.deepStrictEqual(model.requests.map((r) => r.toolChoice), ["required", "auto"])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("history: add, clear, export and import round-trip", () => {
    const model = ScriptedModel.make(threeSteps)
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ system: "Be brief.", tools: yield* AgentTool.toolkit(Lookup) })
      yield* agent.addMessages([{ role: "user", content: "Earlier question" }, { role: "assistant", content: "Earlier answer" }])
      yield* agent.generate("Weather?")
      const json = yield* agent.exportJson
      const copy = yield* Agent.make({ system: "ignored: the import brings its own" })
      yield* copy.importJson(json)
      assert.strictEqual(yield* copy.exportJson, json)
      assert.deepStrictEqual((yield* copy.history).content.length, 9)
      yield* agent.clear
      assert.deepStrictEqual((yield* agent.history).content.map((m) => m.role), ["system"])
      const bad = yield* Effect.flip(copy.importJson("{\"content\": 3}"))
      assert.strictEqual(bad.reason, "InvalidHistory")
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("a tool that runs another agent on the same model completes", () => {
    const model = ScriptedModel.make((request) =>
      request.system === "You are the expert."
        ? { text: "42" }
        : request.roles.includes("tool")
        ? { text: "The expert says 42." }
        : { calls: [{ name: "AskExpert", params: { topic: "life" } }] }
    )
    return Effect.gen(function*() {
      const expert = yield* Agent.make({ system: "You are the expert." })
      const AskExpert = AgentTool.make("AskExpert", {
        description: "Ask the expert agent",
        parameters: Schema.Struct({ topic: Schema.Literals(["life", "sea"]) }),
        success: Schema.Struct({ answer: Schema.String }),
        handler: ({ topic }) =>
          expert.generate(`About ${topic}?`).pipe(
            Effect.map((r) => ({ answer: r.text })),
            Effect.orDie
          )
      })
      const boss = yield* Agent.make({ system: "Delegate.", tools: yield* AgentTool.toolkit(AskExpert) })
      const result = yield* boss.generate("Meaning of life?")
      assert.strictEqual(result.text, "The expert says 42.")
      assert.deepStrictEqual(result.toolCalls.map((c) => c.result), [{ answer: "42" }])
      assert.strictEqual((yield* expert.history).content.length, 3)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("a tool calling back into its own agent gets a failed result, not a deadlock", () => {
    const model = ScriptedModel.make((request) =>
      request.roles.includes("tool") ? { text: "ok" } : { calls: [{ name: "Recurse", params: {} }] }
    )
    return Effect.gen(function*() {
      const self = yield* Ref.make<Agent.Service | undefined>(undefined)
      const Recurse = AgentTool.make("Recurse", {
        description: "Calls the agent again",
        success: Schema.String,
        failure: Schema.Struct({ _tag: Schema.Literal("AgentError"), reason: Schema.String }),
        handler: () =>
          Effect.flatMap(Ref.get(self), (agent) => agent!.generate("again")).pipe(
            Effect.map((r) => r.text),
            Effect.mapError((e) => ({ _tag: "AgentError" as const, reason: e._tag === "AgentError" ? e.reason : e._tag }))
          )
      })
      const agent = yield* Agent.make({ tools: yield* AgentTool.toolkit(Recurse), maxSteps: 2 })
      yield* Ref.set(self, agent)
      const result = yield* agent.generate("start")
      assert.deepStrictEqual(result.toolCalls.map((c) => [c.isFailure, c.result]), [[true, { _tag: "AgentError", reason: "Reentrant" }]])
      assert.strictEqual(result.text, "ok")
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("interrupting a run drops the unfinished step; the agent runs again afterwards", () => {
    const model = ScriptedModel.make((request) =>
      request.roles.at(-1) === "tool" ? { text: "done" } : { calls: [{ name: "Slow", params: {} }] }
    )
    return Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const hang = yield* Ref.make(true)
      const Slow = AgentTool.make("Slow", {
        description: "Waits",
        success: Schema.String,
        handler: () =>
          Effect.flatMap(Ref.get(hang), (h) => h ? Effect.andThen(Deferred.succeed(started, undefined), Effect.never) : Effect.succeed("fast"))
      })
      const agent = yield* Agent.make({ system: "s", tools: yield* AgentTool.toolkit(Slow) })
      const fiber = yield* Effect.forkChild(agent.generate("first"))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual((yield* agent.history).content.map((m) => m.role), ["system"])
      yield* Ref.set(hang, false)
      const result = yield* agent.generate("second")
      assert.strictEqual(result.text, "done")
      assert.deepStrictEqual((yield* agent.history).content.map((m) => m.role), ["system", "user", "assistant", "tool", "assistant"])
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("tools given as an Effect are resolved before every step", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Lookup", params: { city: "Oslo" } }] }, { text: "done" }))
    return Effect.gen(function*() {
      const resolved = yield* Ref.make(0)
      const tools = Effect.andThen(Ref.update(resolved, (n) => n + 1), AgentTool.toolkit(Lookup))
      const agent = yield* Agent.make({ tools })
      yield* agent.generate("Go")
      assert.strictEqual(yield* Ref.get(resolved), 2)
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("a defect in a tool is a failed result for the model, not a crash", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ calls: [{ name: "Broken", params: {} }] }, { text: "sorry" }))
    return Effect.gen(function*() {
      const Broken = AgentTool.make("Broken", { description: "Throws", handler: () => Effect.die(new Error("bug")) })
      const result = yield* (yield* Agent.make({ tools: yield* AgentTool.toolkit(Broken) })).generate("Try")
      assert.deepStrictEqual(result.toolCalls.map((c) => [c.isFailure, c.result]), [[true, { _tag: "ToolDefect", message: "Error: bug" }]])
      assert.strictEqual(result.text, "sorry")
    }).pipe(Effect.provide(model.layer))
  })

  it.effect("maxSteps below 1 is a typed error", () => {
    const model = ScriptedModel.make(ScriptedModel.sequence({ text: "x" }))
    return Effect.gen(function*() {
      const agent = yield* Agent.make({ maxSteps: 0 })
      const error = yield* Effect.flip(agent.generate("x"))
      assert.strictEqual(error._tag, "AgentError")
      if (error._tag === "AgentError") assert.strictEqual(error.reason, "InvalidOptions")
    }).pipe(Effect.provide(model.layer))
  })
})
