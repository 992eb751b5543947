// Stress: 320 generate streams on one context with 8 sequences, 64 at a time; a third are interrupted at random
// points (before the first token, mid-prefill of a long prompt, mid-decode), some use grammars, some stop strings.
// A watchdog fails the test on a deadlock. Afterwards every sequence is back in the pool (8 requests at once all
// finish), the next request works, and RSS after the last round is close to RSS after the first.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"
import { rng } from "../fuzz/Mutator.ts"

const path = await ensureModel("tiny-qwen2")
const ROUNDS = 5
const PER_ROUND = 64
const SEQUENCES = 8

const words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex a jovial sphinx".split(" ")

type Kind = "complete" | "grammar" | "stop" | "before-first-token" | "mid-prefill" | "mid-decode"

const run = (context: LlamaContext.Service, kind: Kind, r: ReturnType<typeof rng>) => {
  const long = kind === "mid-prefill" || r.next() < 0.2
  const prompt = Array.from({ length: long ? 300 : 4 + r.int(12) }, () => r.pick(words)).join(" ")
  const request: LlamaContext.GenerateRequest = {
    prompt,
    maxTokens: 8 + r.int(24),
    sampling: r.next() < 0.5 ? { temperature: 0 } : { temperature: 0.9, seed: r.int(1000) },
    ...(kind === "grammar" ? { grammar: { gbnf: "root ::= [a-z ]{1,40}" } } : {}),
    ...(kind === "stop" ? { stop: [" the", "e"] } : {})
  }
  const events = context.generate(request)
  switch (kind) {
    case "before-first-token":
      return Effect.timeout(Stream.runDrain(events), "0 millis").pipe(Effect.ignore)
    case "mid-prefill":
      return Effect.timeout(Stream.runDrain(events), `${1 + r.int(5)} millis`).pipe(Effect.ignore)
    case "mid-decode":
      return Stream.runDrain(Stream.take(events, 1 + r.int(6)))
    default:
      return Effect.map(Stream.runCollect(events), (all) => {
        const done = all[all.length - 1]!
        assert.strictEqual(done.type, "done", kind)
      })
  }
}

const kinds: ReadonlyArray<Kind> = ["complete", "grammar", "stop", "before-first-token", "mid-prefill", "mid-decode"]
const rssMb = () => process.memoryUsage().rss / 2 ** 20

describe("stress", () => {
  it.live(`${ROUNDS * PER_ROUND} streams, ${PER_ROUND} at a time on ${SEQUENCES} sequences, a third interrupted`, () =>
    Effect.gen(function*() {
      const context = yield* LlamaContext.LlamaContext
      const r = rng(42, 0)
      const rss: Array<number> = []
      const counts: Record<string, number> = {}
      for (let round = 0; round < ROUNDS; round++) {
        const jobs = Array.from({ length: PER_ROUND }, () => {
          const kind = r.pick(kinds)
          counts[kind] = (counts[kind] ?? 0) + 1
          return run(context, kind, rng(round, r.int(1 << 30)))
        })
        // the watchdog: a round that deadlocks fails the test with its number
        yield* Effect.forEach(jobs, (job) => job, { concurrency: PER_ROUND, discard: true }).pipe(
          Effect.timeoutOrElse({ duration: "120 seconds", orElse: () => Effect.die(new Error(`round ${round} did not finish: deadlock`)) })
        )
        rss.push(rssMb())
      }
      // every sequence is back in the pool: as many requests as sequences all run at once and finish
      const full = yield* Effect.forEach(
        Array.from({ length: SEQUENCES }, (_, i) => i),
        (i) => context.generateText({ prompt: `again ${i}`, maxTokens: 4, sampling: { temperature: 0 } }),
        { concurrency: SEQUENCES }
      ).pipe(Effect.timeoutOrElse({ duration: "60 seconds", orElse: () => Effect.die(new Error("a sequence never came back")) }))
      assert.deepStrictEqual(full.map((g) => g.done.reason), Array(SEQUENCES).fill("length"))
      const next = yield* context.generateText({ prompt: "the end", maxTokens: 6, sampling: { temperature: 0 } })
      assert.strictEqual(next.tokens.length, 6)
      // interrupted a third of the time, of every kind
      const interrupted = (counts["before-first-token"] ?? 0) + (counts["mid-prefill"] ?? 0) + (counts["mid-decode"] ?? 0)
      assert.isAbove(interrupted, ROUNDS * PER_ROUND * 0.3)
      yield* Effect.log(`stress: ${JSON.stringify(counts)}; RSS by round (MB): ${rss.map((x) => x.toFixed(0)).join(", ")}`)
      // RSS: flat after the first round (the allocator keeps what the first round grew)
      assert.isBelow(rss[rss.length - 1]! - rss[0]!, 48, `RSS by round (MB): ${rss.map((x) => x.toFixed(0)).join(", ")}`)
    }).pipe(
      Effect.provide(LlamaContext.layer({ contextSize: SEQUENCES * 512, sequences: SEQUENCES, batchSize: 64, threads: 1 }).pipe(
        Layer.provideMerge(LlamaModel.layer({ path })),
        Layer.provide(Native.layer)
      ))
    ), 600_000)
})
