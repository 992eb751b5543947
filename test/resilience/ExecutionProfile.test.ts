import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect } from "effect"
import * as ExecutionProfile from "../../src/resilience/ExecutionProfile.ts"

describe("ExecutionProfile", () => {
  it.effect("Balanced is the default", () =>
    Effect.gen(function*() {
      const profile = yield* ExecutionProfile.CurrentExecutionProfile
      assert.strictEqual(profile.name, "Balanced")
    }))

  it.effect("a layer replaces the profile for what runs under it", () =>
    Effect.gen(function*() {
      const profile = yield* ExecutionProfile.CurrentExecutionProfile
      assert.strictEqual(profile.name, "LowLatency")
      assert.isTrue(Duration.isLessThanOrEqualTo(profile.deadline, Duration.seconds(30)))
      assert.isAtMost(profile.retry.times, 1)
    }).pipe(Effect.provide(ExecutionProfile.layer(ExecutionProfile.LowLatency))))

  it.effect("the presets order as documented", () =>
    Effect.sync(() => {
      const { Balanced, HighThroughput, LowLatency, MemoryOptimized } = ExecutionProfile
      assert.strictEqual(HighThroughput.concurrency, 4 * Balanced.concurrency)
      assert.strictEqual(MemoryOptimized.concurrency, 1)
      assert.isTrue(Duration.isLessThan(LowLatency.deadline, Balanced.deadline))
      assert.isTrue(Duration.isGreaterThan(HighThroughput.attemptTimeout, Balanced.attemptTimeout))
    }))
})

describe("ExecutionProfile layers", () => {
  it.effect("each preset has a layer, and names its profile", () =>
    Effect.gen(function*() {
      const names = yield* Effect.forEach(
        [
          ExecutionProfile.layerBalanced,
          ExecutionProfile.layerHighThroughput,
          ExecutionProfile.layerLowLatency,
          ExecutionProfile.layerMemoryOptimized
        ],
        (layer) => Effect.map(Effect.service(ExecutionProfile.CurrentExecutionProfile), (p) => p.name).pipe(Effect.provide(layer))
      )
      assert.deepStrictEqual(names, ["Balanced", "HighThroughput", "LowLatency", "MemoryOptimized"])
    }))
})
