/**
 * What the node contenders are asked to do, and what they answer. The orchestrator (run.ts) makes every input,
 * so both workers get the very same tokens and texts in a round; each round gets new random prompts so that
 * no contender can reuse the KV cache of an earlier run (effect-llama keeps a sequence's prefix).
 */

/** Ordinary BPE tokens of the Qwen2 vocabulary (control tokens start at 151643). */
const vocabularyEnd = 151_643

/** mulberry32: a small deterministic generator, so that a round's workload is the same for every contender. */
const generator = (seed: number) => {
  let a = seed >>> 0
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const randomTokens = (seed: number, count: number): Array<number> => {
  const next = generator(seed)
  return Array.from({ length: count }, () => Math.floor(next() * vocabularyEnd))
}

const subjects = ["The cat", "A small robot", "My neighbour", "The old library", "A red bicycle", "The river", "Our team"]
const verbs = ["watches", "repairs", "describes", "remembers", "paints", "follows", "explains"]
const objects = ["the morning train", "a broken clock", "the quiet garden", "an empty room", "the winter sky",
  "a long letter", "the last chapter"]

/** Short sentences (about 6 to 8 tokens each), different in every round. */
export const shortTexts = (seed: number, count: number): Array<string> => {
  const next = generator(seed)
  const pick = (list: ReadonlyArray<string>) => list[Math.floor(next() * list.length)]!
  return Array.from({ length: count }, () => `${pick(subjects)} ${pick(verbs)} ${pick(objects)}.`)
}

export type Request =
  /** Evaluate `tokens` as a prompt on a fresh sequence. */
  | { readonly kind: "pp"; readonly tokens: ReadonlyArray<number> }
  /** From the one-token prompt `tokens`, generate `count` tokens greedily, ignoring end-of-generation. */
  | { readonly kind: "tg"; readonly tokens: ReadonlyArray<number>; readonly count: number }
  /** Time from the request to the first generated token, prompt `tokens` on a fresh sequence. */
  | { readonly kind: "ttft"; readonly tokens: ReadonlyArray<number> }
  /**
   * Like llama-batched-bench: phase 1 evaluates every sequence's prompt at once (S_PP); phase 2 feeds each
   * sequence one more token (`next[i]`) and generates `count` tokens on all sequences at once (S_TG).
   * `warmup`: tokens to evaluate first, untimed, as llama-batched-bench does before its first test.
   */
  | {
    readonly kind: "parallel"
    readonly warmup?: ReadonlyArray<number>
    readonly prompts: ReadonlyArray<ReadonlyArray<number>>
    readonly next: ReadonlyArray<number>
    readonly count: number
  }
  /** Embed `texts` (one request: as many at once as the contender's API allows). */
  | { readonly kind: "embed"; readonly texts: ReadonlyArray<string> }
  /**
   * Two busy contexts in one process: generate `count` tokens from `tokens` on one context alone, embed `texts`
   * on another alone, then both at once. `ratio`: the time together over the sum of the two alone.
   */
  | { readonly kind: "contend"; readonly tokens: ReadonlyArray<number>; readonly count: number; readonly texts: ReadonlyArray<string> }

/** Named figures of one run, e.g. `{ tokensPerSecond: 31.2 }`. */
export type Measurement = Readonly<Record<string, number>>

export type ToWorker =
  | { readonly type: "request"; readonly id: number; readonly request: Request }
  | { readonly type: "exit" }

export type FromWorker =
  | { readonly type: "ready"; readonly info: Readonly<Record<string, unknown>> }
  /** `cpuMs`: CPU time (all threads, user + system) the worker used for the request. */
  | { readonly type: "result"; readonly id: number; readonly measurement: Measurement; readonly cpuMs: number }
  | { readonly type: "error"; readonly id: number; readonly message: string }
  | { readonly type: "unsupported"; readonly id: number; readonly message: string }
