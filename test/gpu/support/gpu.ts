// Helpers of the GPU suite (npm run test:gpu): the GPU addon under test is the one EFFECT_LLAMA_ADDON names; the
// CPU build it is compared with (EFFECT_LLAMA_CPU_ADDON, default build/Release) runs in a child process.
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Reference, ReferenceResult } from "./cpu-reference.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..")

export const cpuAddon = (): string =>
  resolve(process.env.EFFECT_LLAMA_CPU_ADDON ?? join(root, "build", "Release", "effect_llama.node"))

/**
 * Runs `reference` on the CPU build (or on `addon`, with `env` added to the environment; a variable set to
 * undefined is removed) and returns its tokens and vectors.
 */
export const cpuReference = (
  reference: Reference,
  addon: string = cpuAddon(),
  env: Record<string, string | undefined> = {}
): Effect.Effect<ReferenceResult> =>
  Effect.promise(() =>
    new Promise<ReferenceResult>((ok, fail) => {
      execFile(process.execPath, [join(root, "test", "gpu", "support", "cpu-reference.ts"), JSON.stringify(reference)], {
        env: Object.fromEntries(
          Object.entries({ ...process.env, ...env, EFFECT_LLAMA_ADDON: addon }).filter(([, v]) => v !== undefined)
        ) as Record<string, string>,
        maxBuffer: 64 * 1024 * 1024,
        timeout: 300_000
      }, (error, stdout, stderr) => {
        if (error !== null) fail(new Error(`cpu reference failed: ${error.message}\n${stderr}`))
        else ok(JSON.parse(stdout) as ReferenceResult)
      })
    })
  )

export const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return dot / Math.sqrt(na * nb)
}

/** The first index where two token lists differ, or -1 when one is a prefix of the other. */
export const firstDivergence = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i
  return -1
}

/**
 * Greedy decoding is an argmax, so two builds (or two batch layouts) whose arithmetic differs in the last bits pick
 * different tokens where two logits (nearly) tie. This measures whether they do: after `prefix`, greedy picks
 * `winner`; with a bias of +delta on `loser` it picks `loser` exactly when logit(winner) - logit(loser) < delta.
 */
export const tiesWithin = (
  generateOne: (tokens: ReadonlyArray<number>, bias: ReadonlyArray<{ token: number; bias: number }>) => Effect.Effect<number, unknown>,
  prefix: ReadonlyArray<number>,
  winner: number,
  loser: number,
  delta: number
): Effect.Effect<boolean, unknown> =>
  Effect.gen(function*() {
    const plain = yield* generateOne(prefix, [{ token: 0, bias: 0 }])
    if (plain !== winner) return false
    return (yield* generateOne(prefix, [{ token: loser, bias: delta }])) === loser
  })
