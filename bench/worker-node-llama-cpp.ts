/**
 * Contender "node-llama-cpp" (3.22.1, which ships the same llama.cpp release as vendor/llama.cpp): its prebuilt
 * CPU binary from npm (@node-llama-cpp/linux-x64 and the like), never a download or a build
 * (`getLlama({ gpu: false, build: "never", skipDownload: true })`). Its low-level sequence API is used, the
 * closest to the raw native API of effect-llama: `evaluate` (greedy) and `evaluateWithoutGeneratingNewTokens`.
 */
import { readFileSync } from "node:fs"
import { getLlama, type LlamaContext, type LlamaContextSequence, LlamaLogLevel, type Token } from "node-llama-cpp"
import type { Settings } from "./settings.ts"
import { type Contender, now, runWorker, type WorkerOptions } from "./worker-harness.ts"
import type { Request } from "./workloads.ts"

/** The native files this process mapped: which addon and which CPU variant of ggml node-llama-cpp loaded. */
const loadedNativeFiles = (): Array<string> => {
  try {
    const lines = readFileSync("/proc/self/maps", "utf8").split("\n")
    const files = lines.map((line) => line.split(/\s+/)[5] ?? "").filter((f) => /llama-addon\.node|libggml|libllama/.test(f))
    return [...new Set(files)]
  } catch {
    return []
  }
}

const asTokens = (tokens: ReadonlyArray<number>): Array<Token> => tokens as Array<Token>

const create = async (settings: Settings, options: WorkerOptions): Promise<Contender> => {
  const llama = await getLlama({
    gpu: false,
    build: "never",
    skipDownload: true,
    usePrebuiltBinaries: true,
    progressLogs: false,
    logLevel: LlamaLogLevel.error,
    maxThreads: settings.threads
  })
  const model = await llama.loadModel({ modelPath: settings.modelPath, gpuLayers: 0 })
  const flashAttention = settings.flashAttention === "auto" ? "auto" : settings.flashAttention === "on"
  const threads = { ideal: settings.threads, min: settings.threads }

  // node-llama-cpp's contextSize is per sequence: the native context gets contextSize * sequences cells.
  const open = (sequences: number): Promise<LlamaContext> =>
    model.createContext({
      contextSize: settings.contextSize / sequences,
      sequences,
      batchSize: settings.batchSize,
      threads,
      flashAttention,
      ignoreMemorySafetyChecks: true,
      failedCreationRemedy: false
    })
  const contexts = new Map<string, Promise<LlamaContext>>()
  const context = (key: string, sequences: number) => {
    if (!contexts.has(key)) contexts.set(key, open(sequences))
    return contexts.get(key)!
  }
  let single: LlamaContextSequence | undefined
  const singleSequence = async () => (single ??= (await context("single", 1)).getSequence())
  const parallelSequences: Array<LlamaContextSequence> = []
  const maxSequences = Math.max(...settings.parallelSequences)
  let embeddingContext: ReturnType<typeof model.createEmbeddingContext> | undefined
  const embedding = () =>
    (embeddingContext ??= model.createEmbeddingContext({
      contextSize: settings.contextSize,
      batchSize: settings.batchSize,
      threads: settings.threads
    }))

  // Generates `count` tokens greedily after `tokens`; returns when the first and the last came out.
  const generate = async (sequence: LlamaContextSequence, tokens: ReadonlyArray<number>, count: number) => {
    let firstTokenAt = 0
    let n = 0
    for await (const _token of sequence.evaluate(asTokens(tokens), { temperature: 0 })) {
      if (n++ === 0) firstTokenAt = now()
      if (n >= count) break
    }
    return { firstTokenAt, doneAt: now(), tokens: n }
  }

  const handle = async (request: Request) => {
    switch (request.kind) {
      case "pp": {
        const sequence = await singleSequence()
        await sequence.clearHistory()
        const start = now()
        await sequence.evaluateWithoutGeneratingNewTokens(asTokens(request.tokens))
        return { tokensPerSecond: request.tokens.length / ((now() - start) / 1000) }
      }
      case "tg": {
        const sequence = await singleSequence()
        await sequence.clearHistory()
        const run = await generate(sequence, request.tokens, request.count)
        return { tokensPerSecond: (request.count - 1) / ((run.doneAt - run.firstTokenAt) / 1000) }
      }
      case "ttft": {
        const sequence = await singleSequence()
        await sequence.clearHistory()
        const start = now()
        const run = await generate(sequence, request.tokens, 1)
        return { milliseconds: run.firstTokenAt - start }
      }
      case "parallel": {
        const ctx = await context("parallel", maxSequences)
        while (parallelSequences.length < maxSequences) parallelSequences.push(ctx.getSequence())
        const sequences = parallelSequences.slice(0, request.prompts.length)
        if (request.warmup !== undefined) await sequences[0]!.evaluateWithoutGeneratingNewTokens(asTokens(request.warmup))
        await Promise.all(sequences.map((s) => s.clearHistory()))
        const ppStart = now()
        await Promise.all(sequences.map((s, i) => s.evaluateWithoutGeneratingNewTokens(asTokens(request.prompts[i]!))))
        const ppSeconds = (now() - ppStart) / 1000
        const tgStart = now()
        await Promise.all(sequences.map((s, i) => generate(s, [request.next[i]!], request.count)))
        const tgSeconds = (now() - tgStart) / 1000
        const promptTokens = sequences.length * request.prompts[0]!.length
        const genTokens = sequences.length * request.count
        return {
          ppTokensPerSecond: promptTokens / ppSeconds,
          tgTokensPerSecond: genTokens / tgSeconds,
          tokensPerSecond: (promptTokens + genTokens) / (ppSeconds + tgSeconds)
        }
      }
      case "embed": {
        const embedder = await embedding()
        const start = now()
        // Its API embeds one text per call and serializes the calls; all are queued at once anyway.
        const vectors = await Promise.all(request.texts.map((text) => embedder.getEmbeddingFor(text)))
        if (vectors.length !== request.texts.length) throw new Error("embed: missing vectors")
        return { textsPerSecond: request.texts.length / ((now() - start) / 1000) }
      }
    }
  }

  if (options.extraContext) {
    await generate((await context("extra", 1)).getSequence(), [1000, 1001, 1002], 4)
  }
  const ctx = await context("single", 1)
  return {
    info: {
      binary: `${llama.buildType} (gpu: ${String(llama.gpu)})`,
      llamaCpp: `${llama.llamaCppRelease.release} (${llama.llamaCppRelease.repo})`,
      loaded: loadedNativeFiles().join(", "),
      systemInfo: llama.systemInfo,
      context: `threads ${ctx.currentThreads} (ideal ${ctx.idealThreads}), ctx ${ctx.contextSize}, batch ${ctx.batchSize}, ` +
        `flashAttention ${String(ctx.flashAttention)}`
    },
    handle,
    dispose: async () => {
      for (const c of contexts.values()) await (await c).dispose()
      if (embeddingContext !== undefined) await (await embeddingContext).dispose()
      await model.dispose()
      await llama.dispose()
    }
  }
}

await runWorker(create)
