/**
 * Flags the model commands share, and loading a local model with a progress bar.
 *
 * @internal
 */
import { Effect, Layer, Option } from "effect"
import { Flag } from "effect/cli"
import { stat } from "node:fs/promises"
import { basename } from "node:path"
import * as LlamaContext from "../../llama/LlamaContext.ts"
import * as LlamaModel from "../../llama/LlamaModel.ts"
import type { Sampling } from "../../llama/Sampling.ts"
import * as Native from "../../native/Native.ts"
import { CliFailure } from "../CliFailure.ts"
import { ProgressBar } from "./output.ts"

/** @internal */
export const model = Flag.String("model").pipe(Flag.withAlias("m"), Flag.withDescription("the GGUF model file"))
/** @internal */
export const threads = Flag.Int("threads").pipe(Flag.withAlias("t"), Flag.withDescription("compute threads (default: physical cores)"), Flag.optional)
/** @internal */
export const gpuLayers = Flag.Int("gpu-layers").pipe(Flag.withAlias("ngl"), Flag.withDescription("layers offloaded to the GPU (GPU builds; default all)"), Flag.optional)
/** @internal */
export const ctxSize = (fallback: number) =>
  Flag.Int("ctx-size").pipe(Flag.withAlias("c"), Flag.withDescription(`context size in tokens (default ${fallback})`), Flag.withDefault(fallback))
/** @internal */
export const maxTokens = (fallback: number) =>
  Flag.Int("max-tokens").pipe(Flag.withAlias("n"), Flag.withDescription(`most tokens to generate (default ${fallback})`), Flag.withDefault(fallback))
/** @internal */
export const temperature = Flag.Finite("temperature").pipe(Flag.withDescription("sampling temperature (0 = greedy)"), Flag.optional)
/** @internal */
export const seed = Flag.Int("seed").pipe(Flag.withDescription("sampling seed"), Flag.optional)
/** @internal */
export const json = Flag.Boolean("json").pipe(Flag.withDescription("machine-readable JSON output"), Flag.withDefault(false))

/** @internal */
export const samplingOf = (flags: { readonly temperature: Option.Option<number>; readonly seed: Option.Option<number> }): Sampling => ({
  ...Option.match(flags.temperature, { onNone: () => ({}), onSome: (temperature) => ({ temperature }) }),
  ...Option.match(flags.seed, { onNone: () => ({}), onSome: (seed) => ({ seed: seed >>> 0 }) })
})

/** Fails with a clear ModelFile error when the path is not a file. @internal */
export const checkModelFile = (path: string): Effect.Effect<void, CliFailure> =>
  Effect.flatMap(
    Effect.promise(() => stat(path).then((s) => (s.isFile() ? "file" : "other"), () => "missing")),
    (kind) =>
      kind === "file"
        ? Effect.void
        : Effect.fail(new CliFailure({ kind: "ModelFile", description: kind === "missing" ? `model file not found: ${path}` : `not a model file: ${path}` }))
  )

/** A load progress bar (on a terminal) for `path`. @internal */
export const loadProgress = (path: string) => {
  const bar = new ProgressBar(`loading ${basename(path)}`)
  return { onProgress: (progress: number) => bar.update(progress), done: () => bar.done() }
}

/** The model (with a load progress bar) and a context over it. @internal */
export const localContext = (
  flags: { readonly model: string; readonly gpuLayers: Option.Option<number>; readonly threads: Option.Option<number> },
  context: LlamaContext.Options
) => {
  const progress = loadProgress(flags.model)
  const loaded = LlamaModel.layer({
    path: flags.model,
    onProgress: progress.onProgress,
    ...Option.match(flags.gpuLayers, { onNone: () => ({}), onSome: (gpuLayers) => ({ gpuLayers }) })
  }).pipe(Layer.tap(() => Effect.sync(progress.done)), Layer.tapError(() => Effect.sync(progress.done)))
  return LlamaContext.layer({
    ...context,
    ...Option.match(flags.threads, { onNone: () => ({}), onSome: (threads) => ({ threads }) })
  }).pipe(Layer.provideMerge(loaded), Layer.provide(Native.layer))
}

/** Runs `effect` on `layer`, after checking the model file exists (a clear error before any loading). @internal */
export const withModel = <ROut, E2, A, E, R>(path: string, layer: Layer.Layer<ROut, E2>) => (effect: Effect.Effect<A, E, R>) =>
  Effect.andThen(checkModelFile(path), Effect.provide(effect, layer))
