/**
 * Contender "effect-llama": the raw native API (build/Release/effect_llama.node), as src/llama drives it:
 * one Context per shape, jobs queued with `context.generate` / `context.embed`, events routed by JobRouter.
 * Times are taken on the JS thread, from the call to the event that ends the measured span: what a user sees.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { JobRouter } from "../src/native/JobRouter.ts"
import { candidatePaths } from "../src/native/Native.ts"
import type { JobEvent, NativeBinding, NativeContext } from "../src/native/NativeBinding.ts"
import { effectLlamaContextOptions, type Settings } from "./settings.ts"
import { type Contender, now, runWorker, type WorkerOptions } from "./worker-harness.ts"
import type { Request } from "./workloads.ts"

type Done = Extract<JobEvent, { type: "done" }>

interface Handle {
  readonly context: NativeContext
  readonly router: JobRouter
}

interface Run {
  readonly firstTokenAt: number
  readonly doneAt: number
  readonly done: Done
  readonly tokens: number
}

const greedy = { temperature: 0 } as const

const create = async (settings: Settings, options: WorkerOptions): Promise<Contender> => {
  const addonPath = candidatePaths().find((path) => existsSync(path))
  if (addonPath === undefined) throw new Error(`the addon is not built (looked in ${candidatePaths().join(", ")})`)
  const binding = createRequire(import.meta.url)(addonPath) as NativeBinding
  binding.setLogger((_level, text) => process.stderr.write(`[effect-llama] ${text}`), 4)
  const model = new binding.Model(settings.modelPath)
  await model.load()

  const open = async (options: { sequences: number; embeddings?: boolean }): Promise<Handle> => {
    const context = new binding.Context(model, { ...effectLlamaContextOptions(settings), ...options })
    const router = new JobRouter()
    await context.init(router.dispatch)
    return { context, router }
  }
  // Contexts are made on first use, before the timer starts: the warm-up run pays for them.
  const handles = new Map<string, Promise<Handle>>()
  const handle = (key: string, options: { sequences: number; embeddings?: boolean }) => {
    if (!handles.has(key)) handles.set(key, open(options))
    return handles.get(key)!
  }

  const generate = (h: Handle, sequence: number, tokens: ReadonlyArray<number>, maxTokens: number): Promise<Run> =>
    new Promise((resolve, reject) => {
      let firstTokenAt = 0
      let count = 0
      const job = h.context.generate({
        sequence,
        tokens: Int32Array.from(tokens),
        maxTokens,
        sampling: greedy,
        ignoreEog: true
      })
      h.router.listen(job, (event) => {
        if (event.type === "token") {
          if (count++ === 0) firstTokenAt = now()
        } else if (event.type === "done") {
          resolve({ firstTokenAt, doneAt: now(), done: event, tokens: count })
        } else if (event.type === "error") {
          reject(new Error(`${event.code}: ${event.message}`))
        }
      })
    })

  const embed = (h: Handle, texts: ReadonlyArray<string>): Promise<number> =>
    new Promise((resolve, reject) => {
      let vectors = 0
      const job = h.context.embed({ texts })
      h.router.listen(job, (event) => {
        if (event.type === "embeddings") vectors += event.vectors.length
        else if (event.type === "done") resolve(vectors)
        else if (event.type === "error") reject(new Error(`${event.code}: ${event.message}`))
      })
    })

  const maxSequences = Math.max(...settings.parallelSequences)
  const handleRequest = async (request: Request) => {
    switch (request.kind) {
      case "pp": {
        const h = await handle("single", { sequences: 1 })
        const start = now()
        const run = await generate(h, 0, request.tokens, 1)
        const seconds = (run.doneAt - start) / 1000
        return {
          tokensPerSecond: request.tokens.length / seconds,
          nativeTokensPerSecond: request.tokens.length / (run.done.timings.prefillMs / 1000)
        }
      }
      case "tg": {
        const h = await handle("single", { sequences: 1 })
        const run = await generate(h, 0, request.tokens, request.count)
        if (run.tokens !== request.count) throw new Error(`tg: ${run.tokens} tokens instead of ${request.count}`)
        // The first token comes out of the prompt's decode; the other count - 1 each take one decode.
        return {
          tokensPerSecond: (request.count - 1) / ((run.doneAt - run.firstTokenAt) / 1000),
          nativeTokensPerSecond: (request.count - 1) / (run.done.timings.generateMs / 1000)
        }
      }
      case "ttft": {
        const h = await handle("single", { sequences: 1 })
        const start = now()
        const run = await generate(h, 0, request.tokens, 1)
        return { milliseconds: run.firstTokenAt - start }
      }
      case "parallel": {
        const h = await handle("parallel", { sequences: maxSequences })
        const n = request.prompts.length
        if (request.warmup !== undefined) await generate(h, 0, request.warmup, 1)
        // Phase 1: every prompt at once; one token is sampled from each (the scheduler always samples).
        const ppStart = now()
        await Promise.all(request.prompts.map((prompt, seq) => generate(h, seq, prompt, 1)))
        const ppSeconds = (now() - ppStart) / 1000
        // Phase 2: the prompts are cached (prefix reuse); each sequence evaluates one more token, then generates.
        const tgStart = now()
        const runs = await Promise.all(
          request.prompts.map((prompt, seq) => generate(h, seq, [...prompt, request.next[seq]!], request.count))
        )
        const tgSeconds = (now() - tgStart) / 1000
        for (const run of runs) {
          if (run.done.usage.cachedTokens !== request.prompts[0]!.length) {
            throw new Error(`parallel: the prompt was not reused (${run.done.usage.cachedTokens} cached tokens)`)
          }
        }
        const promptTokens = n * request.prompts[0]!.length
        const genTokens = n * request.count
        return {
          ppTokensPerSecond: promptTokens / ppSeconds,
          tgTokensPerSecond: genTokens / tgSeconds,
          tokensPerSecond: (promptTokens + genTokens) / (ppSeconds + tgSeconds)
        }
      }
      case "contend": {
        const lm = await handle("single", { sequences: 1 })
        const em = await handle("embed", { sequences: request.texts.length, embeddings: true })
        const timed = async (work: () => Promise<unknown>) => {
          const start = now()
          await work()
          return now() - start
        }
        const gen = () => generate(lm, 0, request.tokens, request.count)
        const emb = () => embed(em, request.texts)
        const genMs = await timed(gen)
        const embedMs = await timed(emb)
        const bothMs = await timed(() => Promise.all([gen(), emb()]))
        return { genMs, embedMs, bothMs, ratio: bothMs / (genMs + embedMs) }
      }
      case "embed": {
        const h = await handle("embed", { sequences: request.texts.length, embeddings: true })
        const start = now()
        const vectors = await embed(h, request.texts)
        if (vectors !== request.texts.length) throw new Error(`embed: ${vectors} vectors for ${request.texts.length} texts`)
        return { textsPerSecond: request.texts.length / ((now() - start) / 1000) }
      }
    }
  }

  if (options.extraContext) {
    await generate(await handle("extra", { sequences: 1 }), 0, [1000, 1001, 1002], 4)
  }
  const info = binding.systemInfo()
  const single = await handle("single", { sequences: 1 })
  const contextInfo = single.context.info()
  return {
    info: {
      binary: addonPath,
      llamaCpp: `${info.llamaCpp.tag} (${info.llamaCpp.commit.slice(0, 12)})`,
      gpu: info.gpu,
      backends: info.backends.join(", "),
      cpuFeatures: Object.keys(info.cpuFeatures).join(" "),
      context: `threads ${contextInfo.threads}/${contextInfo.threadsBatch}, ctx ${contextInfo.contextSize}, ` +
        `batch ${contextInfo.batchSize}/${contextInfo.ubatchSize}, kv ${contextInfo.kvCacheType}, ` +
        `kvUnified ${contextInfo.kvUnified}, flashAttention ${settings.flashAttention}`
    },
    handle: handleRequest,
    dispose: async () => {
      for (const h of handles.values()) await (await h).context.dispose()
      await model.dispose()
    }
  }
}

await runWorker(create)
