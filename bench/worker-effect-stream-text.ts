/**
 * ============================================================================================================
 *  SLOT: contender "effect-llama streamText" -- effect-llama through the Effect `LanguageModel.streamText` path.
 *  TO BE FILLED IN once src/ai lands (src/ai/LlamaLanguageModel.ts). Until that file exists, run.ts does not
 *  start this worker and prints a note instead. Once it exists, fill in `createStreamText` below and set
 *  `streamTextFilledIn` to true; until then run.ts prints a note that the slot is empty and goes on.
 * ============================================================================================================
 *
 * What to implement: `createStreamText(settings)` builds the LanguageModel layer over settings.modelPath with
 * the same context options as worker-effect-llama.ts (settings.contextSize, batchSize, ubatchSize, threads for
 * both, flashAttention, 1 sequence), then returns a Contender whose `handle` answers two requests, greedy
 * (temperature 0), end-of-generation ignored, prompts given as raw tokens:
 *   - { kind: "tg", tokens, count }: stream `count` tokens; return { tokensPerSecond: (count - 1) / seconds from
 *     the first text delta to the end of the stream } (like worker-effect-llama.ts).
 *   - { kind: "ttft", tokens }: return { milliseconds: from the streamText call to the first text delta }.
 * Return undefined for every other kind (the orchestrator skips them). A text prompt (LanguageModel takes
 * messages) can be made with the model's detokenize; the chat template then adds a few tokens: fine for tg,
 * state it in `info` for ttft. Keep one ManagedRuntime for the whole worker, so no layer is built inside a timing.
 */
import { existsSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import type { Settings } from "./settings.ts"
import { type Contender, runWorker } from "./worker-harness.ts"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/** The file whose existence turns this contender on. */
export const streamTextSource = join(root, "src", "ai", "LlamaLanguageModel.ts")

export const streamTextAvailable = (): boolean => existsSync(streamTextSource)

/** Set to true once `createStreamText` is filled in. */
export const streamTextFilledIn = false

const createStreamText = async (_settings: Settings): Promise<Contender> => {
  // TODO(src/ai): replace this with the LanguageModel.streamText contender described above.
  throw new Error("bench/worker-effect-stream-text.ts: the streamText contender is not filled in yet")
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runWorker(createStreamText)
}
