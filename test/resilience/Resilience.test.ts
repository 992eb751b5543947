// The resilience wrapper around a remote provider talking to a fault-injecting loopback server. Waits run on the
// TestClock (virtual time); the HTTP traffic is real, so the tests pause in real time for it where needed.
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Layer, Option, Stream } from "effect"
import { AiError, EmbeddingModel, LanguageModel } from "effect/ai"
import { TestClock } from "effect/testing"
import * as OpenAiCompat from "../../src/providers/OpenAiCompat.ts"
import * as OpenAiCompatEmbeddingModel from "../../src/providers/OpenAiCompatEmbeddingModel.ts"
import * as ExecutionProfile from "../../src/resilience/ExecutionProfile.ts"
import type * as Policy from "../../src/resilience/Policy.ts"
import * as Rejection from "../../src/resilience/Rejection.ts"
import * as Resilience from "../../src/resilience/Resilience.ts"
import * as F from "../providers/FaultServer.ts"

// Real time, for the loopback traffic (the TestClock does not move it).
const pause = (ms = 10) => Effect.promise(() => new Promise<void>((done) => setTimeout(done, ms)))

const until = (condition: Effect.Effect<boolean>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* condition) return
      yield* pause()
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

// Moves virtual time on in steps until the fiber is done (backoff waits, then real traffic).
const drive = <A, E>(fiber: Fiber.Fiber<A, E>, step: Duration.Input = "1 second") =>
  Effect.gen(function*() {
    for (let i = 0; i < 300 && fiber.pollUnsafe() === undefined; i++) {
      yield* TestClock.adjust(step)
      yield* pause(5)
    }
    return yield* Fiber.await(fiber)
  })

const noRetryJitter = { retry: { jitter: false, base: Duration.millis(500), max: Duration.seconds(4), times: 3 } }

const setup = (options: Policy.Options) =>
  Effect.gen(function*() {
    const server = yield* F.start
    const connection = { baseUrl: `${server.url}/v1`, model: "m" }
    const context = yield* Layer.build(
      Layer.mergeAll(
        OpenAiCompat.layer(connection).pipe(Resilience.languageModel({ key: "fault/m", ...options })),
        OpenAiCompatEmbeddingModel.layer(connection).pipe(Resilience.embeddingModel({ key: "fault/embed", ...options }))
      ).pipe(Layer.provide(NodeHttpClient.layerUndici))
    )
    const resilience = Context.get(context, Resilience.Resilience)
    const run = <A, E>(effect: Effect.Effect<A, E, LanguageModel.LanguageModel | EmbeddingModel.EmbeddingModel>) =>
      Effect.provide(effect, context)
    return { server, resilience, run }
  })

const generate = LanguageModel.generateText({ prompt: "hi" })
const count = (server: F.FaultServer) => Effect.map(server.requests, (r) => r.length)
const overloaded = F.json(503, F.openAiError("overloaded", "server_error"))
const ok = (text = "ok") => F.json(200, F.completion(text))

describe("Resilience around a remote provider", () => {
  it.effect("429 with retry-after: the retry waits exactly that long (TestClock), then succeeds", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup(noRetryJitter)
      yield* server.script(F.json(429, F.openAiError("slow down", "requests"), { "retry-after": "3" }), ok("after the wait"))
      const fiber = yield* run(generate).pipe(Effect.forkChild)
      yield* until(Effect.map(resilience.retries, (n) => n === 1), "the retry to be scheduled")
      yield* pause(20)
      yield* TestClock.adjust("2999 millis")
      yield* pause(50)
      assert.strictEqual(yield* count(server), 1, "no second request before retry-after")
      yield* TestClock.adjust("1 millis")
      yield* server.received(2)
      const response = yield* Fiber.join(fiber)
      assert.strictEqual(response.text, "after the wait")
    }))

  it.effect("retry-after longer than the cap waits the cap", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup({ ...noRetryJitter, retryAfterCap: "5 seconds" })
      yield* server.script(F.json(429, F.openAiError("slow down", "requests"), { "retry-after": "3600" }), ok())
      const fiber = yield* run(generate).pipe(Effect.forkChild)
      yield* until(Effect.map(resilience.retries, (n) => n === 1), "the retry")
      yield* pause(20)
      yield* TestClock.adjust("5 seconds")
      yield* server.received(2)
      assert.strictEqual((yield* Fiber.join(fiber)).text, "ok")
    }))

  it.effect("500, 503, 529, then success: three retries with backoff, one answer", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup(noRetryJitter)
      yield* server.script(F.json(500, F.openAiError("boom", "server_error")), overloaded, F.json(529, { error: "overloaded" }), ok("fine"))
      const exit = yield* drive(yield* run(generate).pipe(Effect.forkChild), "250 millis")
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(yield* count(server), 4)
      assert.strictEqual(yield* resilience.retries, 3)
    }))

  it.effect("retries stop after `times`: the last retryable error comes out", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ ...noRetryJitter, retry: { ...noRetryJitter.retry, times: 2 } })
      yield* server.script(overloaded)
      const exit = yield* drive(yield* run(generate).pipe(Effect.forkChild))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(yield* count(server), 3)
    }))

  it.effect("insufficient_quota and 401 are not retried; malformed JSON neither", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup(noRetryJitter)
      for (const [step, tag] of [
        [F.json(429, F.openAiError("quota", "insufficient_quota", "insufficient_quota")), "QuotaExhaustedError"],
        [F.json(401, F.openAiError("bad key", "invalid_request_error", "invalid_api_key")), "AuthenticationError"],
        [F.raw(200, "{\"choices\": ["), "InvalidResponseError"]
      ] as const) {
        yield* server.script(step, ok())
        const exit = yield* drive(yield* run(generate).pipe(Effect.forkChild))
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
        assert.strictEqual((error as AiError.AiError).reason._tag, tag)
        assert.strictEqual(yield* count(server), 1, tag)
      }
    }))

  it.effect("a connection reset before the headers is retried", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup(noRetryJitter)
      yield* server.script(F.reset, ok("second try"))
      const exit = yield* drive(yield* run(generate).pipe(Effect.forkChild))
      assert.deepStrictEqual(Exit.map(exit, (r) => r.text), Exit.succeed("second try"))
      assert.strictEqual(yield* count(server), 2)
    }))

  it.effect("an attempt slower than the per-attempt timeout is abandoned and retried", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ ...noRetryJitter, attemptTimeout: "5 seconds" })
      yield* server.script(F.hang, ok("fast"))
      const fiber = yield* run(generate).pipe(Effect.forkChild)
      yield* server.received(1)
      yield* TestClock.adjust("5 seconds")
      const exit = yield* drive(fiber)
      assert.deepStrictEqual(Exit.map(exit, (r) => r.text), Exit.succeed("fast"))
      assert.strictEqual(yield* count(server), 2)
    }))

  it.effect("every attempt timing out ends as an AttemptTimeout rejection; the deadline caps the whole call", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ ...noRetryJitter, attemptTimeout: "5 seconds", deadline: "8 seconds" })
      yield* server.script(F.hang)
      const exit = yield* drive(yield* run(generate).pipe(Effect.forkChild))
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
      assert.isTrue(Rejection.isRejection(error, "DeadlineExceeded"), String(error))
      assert.strictEqual(yield* count(server), 2)
    }))

  it.effect("streams: cut before the first part -> retried, the text arrives once", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup(noRetryJitter)
      const frames = F.textStream(["Hel", "lo"])
      yield* server.script(F.stream([frames[0]!.slice(0, 25)], { cut: true }), F.stream(frames))
      const fiber = yield* run(LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runCollect)).pipe(Effect.forkChild)
      const exit = yield* drive(fiber)
      assert.isTrue(Exit.isSuccess(exit))
      const parts = Exit.isSuccess(exit) ? exit.value : []
      assert.strictEqual(parts.flatMap((p) => (p.type === "text-delta" ? [p.delta] : [])).join(""), "Hello")
      assert.strictEqual(yield* count(server), 2)
    }))

  it.effect("streams: cut after parts were emitted -> a typed error, no retry, no text twice", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup(noRetryJitter)
      const frames = F.textStream(["Hel", "lo", " world"])
      yield* server.script(F.stream([frames[0]!, frames[1]!, frames[2]!.slice(0, 30)], { cut: true }), F.stream(frames))
      const seen: Array<string> = []
      const fiber = yield* run(LanguageModel.streamText({ prompt: "hi" }).pipe(
        Stream.runForEach((p) => Effect.sync(() => p.type === "text-delta" && seen.push(p.delta)))
      )).pipe(Effect.forkChild)
      const exit = yield* drive(fiber)
      const error = Exit.isFailure(exit) ? Option.getOrUndefined(Exit.findErrorOption(exit)) : undefined
      assert.strictEqual((error as AiError.AiError).reason._tag, "NetworkError")
      assert.deepStrictEqual(seen, ["Hel", "lo"])
      assert.strictEqual(yield* count(server), 1)
    }))

  it.effect("streams: a server silent past the attempt timeout is abandoned and retried; one silent mid-stream fails", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ ...noRetryJitter, attemptTimeout: "5 seconds" })
      const frames = F.textStream(["Hel", "lo"])
      yield* server.script(F.hang, F.stream(frames))
      const collect = run(LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runCollect)).pipe(Effect.forkChild)
      const fiber = yield* collect
      yield* server.received(1)
      yield* TestClock.adjust("5 seconds")
      const exit = yield* drive(fiber)
      assert.isTrue(Exit.isSuccess(exit))
      assert.strictEqual(yield* count(server), 2)
      // Headers and a first part, then silence: the idle timeout fails the stream, and it is not retried.
      const stall: F.Step = (_, response) => {
        response.writeHead(200, { "content-type": "text/event-stream" })
        response.write(frames[0]!)
      }
      yield* server.script(stall, F.stream(frames))
      const stalled = yield* run(LanguageModel.streamText({ prompt: "hi" }).pipe(Stream.runCollect)).pipe(Effect.forkChild)
      yield* server.received(1)
      yield* pause(50)
      yield* TestClock.adjust("5 seconds")
      const failed = yield* drive(stalled)
      const error = Exit.isFailure(failed) ? Option.getOrUndefined(Exit.findErrorOption(failed)) : undefined
      assert.isTrue(Rejection.isRejection(error, "AttemptTimeout"), String(error))
      assert.strictEqual(yield* count(server), 1)
    }))

  it.effect("the circuit opens after N failures, rejects at once while open, closes after a good probe", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup({ retry: false, circuit: { failureThreshold: 3, resetAfter: Duration.seconds(10) } })
      yield* server.script(overloaded)
      for (let i = 0; i < 3; i++) assert.isTrue(Exit.isFailure(yield* Effect.exit(run(generate))))
      assert.strictEqual(yield* resilience.circuitState, "Open")
      const rejected = yield* Effect.flip(run(generate))
      const rejection = Rejection.rejectionOf(rejected)
      assert.isTrue(Option.isSome(rejection) && rejection.value._tag === "CircuitOpen")
      assert.strictEqual(rejected.reason._tag, "RateLimitError")
      assert.isTrue(Duration.toMillis(rejected.retryAfter!) > 9000 && Duration.toMillis(rejected.retryAfter!) <= 10_000)
      assert.include(rejected.message, "Resilience.generateText: Rate limit exceeded. Retry after")
      assert.strictEqual(Option.getOrUndefined(rejection)?.key, "fault/m")
      assert.strictEqual(yield* count(server), 3, "an open circuit sends nothing")
      yield* TestClock.adjust("10 seconds")
      yield* server.script(ok("probe"))
      const probe = yield* run(generate)
      assert.strictEqual(probe.text, "probe")
      assert.strictEqual(yield* resilience.circuitState, "Closed")
      assert.strictEqual((yield* run(generate)).text, "probe")
    }))

  it.effect("a failed half-open probe opens the circuit again", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup({ retry: false, circuit: { failureThreshold: 2, resetAfter: Duration.seconds(5) } })
      yield* server.script(overloaded)
      yield* Effect.exit(run(generate))
      yield* Effect.exit(run(generate))
      assert.strictEqual(yield* resilience.circuitState, "Open")
      yield* TestClock.adjust("5 seconds")
      yield* Effect.exit(run(generate))
      assert.strictEqual(yield* resilience.circuitState, "Open")
      assert.strictEqual(yield* count(server), 3)
    }))

  it.effect("the bulkhead: `concurrency` in flight, `queue` waiting, the next one Busy at once", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ retry: false, concurrency: 1, queue: 1 })
      yield* server.script(F.hang)
      const first = yield* run(generate).pipe(Effect.forkChild)
      yield* server.received(1)
      const second = yield* run(generate).pipe(Effect.forkChild)
      yield* pause(20)
      const third = yield* Effect.flip(run(generate))
      assert.isTrue(Rejection.isRejection(third, "Busy"))
      assert.strictEqual(yield* count(server), 1, "the queued call waits for a permit")
      yield* Fiber.interrupt(first)
      yield* server.received(2)
      yield* Fiber.interrupt(second)
    }))

  it.effect("a rate limit in fail mode rejects past the limit; in delay mode it waits for the window", () =>
    Effect.gen(function*() {
      const failing = yield* setup({ retry: false, rateLimit: { requests: { limit: 2, window: "1 minute" }, onExceeded: "fail" } })
      yield* failing.server.script(ok())
      yield* failing.run(generate)
      yield* failing.run(generate)
      const rejected = yield* Effect.flip(failing.run(generate))
      assert.isTrue(Rejection.isRejection(rejected, "RateLimited"))
      assert.isDefined(rejected.retryAfter)
      const delaying = yield* setup({ retry: false, rateLimit: { requests: { limit: 1, window: "1 minute" } } })
      yield* delaying.server.script(ok())
      yield* delaying.run(generate)
      const fiber = yield* delaying.run(generate).pipe(Effect.forkChild)
      yield* pause(50)
      assert.strictEqual(yield* count(delaying.server), 1)
      yield* TestClock.adjust("1 minute")
      yield* delaying.server.received(2)
      assert.strictEqual((yield* Fiber.join(fiber)).text, "ok")
    }))

  it.effect("a token limit counts the reported usage: past it, calls are rejected for the retryAfter they name", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup({ retry: false, rateLimit: { tokens: { limit: 50, window: "1 minute" }, onExceeded: "fail" } })
      yield* server.script(F.json(200, F.completion("ok", { usage: { prompt_tokens: 30, completion_tokens: 10, total_tokens: 40 } })))
      yield* run(generate) // ~1 token estimated, 40 reported
      yield* run(generate) // 41 before it
      const rejected = yield* Effect.flip(run(generate)) // 81 > 50
      assert.isTrue(Rejection.isRejection(rejected, "RateLimited"))
      assert.strictEqual(yield* count(server), 2)
      yield* TestClock.adjust(rejected.retryAfter!)
      assert.strictEqual((yield* run(generate)).text, "ok")
    }))

  it.effect("an interrupted call is not retried", () =>
    Effect.gen(function*() {
      const { server, resilience, run } = yield* setup(noRetryJitter)
      yield* server.script(overloaded)
      const fiber = yield* run(generate).pipe(Effect.forkChild)
      yield* until(Effect.map(resilience.retries, (n) => n === 1), "the first retry")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 minute")
      yield* pause(50)
      assert.strictEqual(yield* count(server), 1)
    }))

  it.effect("the embedding wrapper retries a failed batch", () =>
    Effect.gen(function*() {
      const { server, run } = yield* setup(noRetryJitter)
      yield* server.script(overloaded, F.json(200, { data: [{ index: 0, embedding: [1, 0] }], usage: { prompt_tokens: 1 } }))
      const fiber = yield* run(Effect.flatMap(Effect.service(EmbeddingModel.EmbeddingModel), (m) => m.embed("x"))).pipe(Effect.forkChild)
      const exit = yield* drive(fiber)
      assert.deepStrictEqual(Exit.map(exit, (r) => r.vector), Exit.succeed([1, 0]))
      assert.strictEqual(yield* count(server), 2)
    }))

  it.effect("the profile in context sets the defaults", () =>
    Effect.gen(function*() {
      const { resilience } = yield* setup({})
      assert.strictEqual(resilience.settings.retry.times, ExecutionProfile.LowLatency.retry.times)
      assert.strictEqual(Duration.toMillis(resilience.settings.deadline), 30_000)
      assert.strictEqual(resilience.key, "fault/m")
    }).pipe(Effect.provide(ExecutionProfile.layer(ExecutionProfile.LowLatency))))
})
