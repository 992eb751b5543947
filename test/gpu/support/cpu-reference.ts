// Runs generations and embeddings on the CPU build of the addon, in a process of its own (two builds of llama.cpp
// do not share a process), and prints their results as JSON: the reference the GPU tests compare against.
// Usage: EFFECT_LLAMA_ADDON=<cpu addon> node test/gpu/support/cpu-reference.ts '<Reference JSON>'
import { Effect } from "effect"
import type { ContextOptions, EmbedRequest, GenerateRequest } from "../../../src/native/NativeBinding.ts"
import { binding, embed, generate, loadModel, openContext } from "../../support/native.ts"

export interface Reference {
  readonly model: string
  readonly context: ContextOptions
  readonly generate?: ReadonlyArray<GenerateRequest>
  readonly embed?: EmbedRequest
}

export interface ReferenceResult {
  readonly gpu: string
  /** systemInfo().warnings of the addon that ran, and what its model load did. */
  readonly warnings: ReadonlyArray<string>
  readonly gpuLayers: number
  readonly gpuWarning: string | null
  readonly tokens: ReadonlyArray<ReadonlyArray<number>>
  readonly vectors: ReadonlyArray<ReadonlyArray<number>>
}

const input = JSON.parse(process.argv[2] ?? "{}") as Reference

const program = Effect.gen(function*() {
  const native = yield* Effect.orDie(binding)
  const model = yield* loadModel(input.model)
  const ctx = yield* openContext(model, input.context)
  const tokens: Array<ReadonlyArray<number>> = []
  for (const request of input.generate ?? []) tokens.push((yield* generate(ctx, request)).tokens)
  const vectors = input.embed === undefined ? [] : (yield* embed(ctx, input.embed)).map((v) => Array.from(v))
  const system = native.systemInfo()
  const info = model.info()
  const result: ReferenceResult = {
    gpu: system.gpu,
    warnings: system.warnings,
    gpuLayers: info.gpuLayers,
    gpuWarning: info.gpuWarning ?? null,
    tokens,
    vectors
  }
  process.stdout.write(JSON.stringify(result))
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
