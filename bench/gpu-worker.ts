/**
 * bench:gpu's effect-llama side, in a process of its own: loads the GPU addon (EFFECT_LLAMA_ADDON) with every layer
 * offloaded and prints `{ pp, tg, device }` in tokens/s, timed on the JS thread as a user sees them: pp from the
 * generate call to the end of a 1-token generation over a random prompt, tg over the tokens after the first (each
 * one decode), as llama-bench measures pp (one prompt batch) and tg (one token per decode, from an empty context).
 */
import { createRequire } from "node:module"
import { JobRouter } from "../src/native/JobRouter.ts"
import type { JobEvent, NativeBinding } from "../src/native/NativeBinding.ts"

const input = JSON.parse(process.argv[2]!) as { modelPath: string; pp: number; tg: number; batch: number }
const binding = createRequire(import.meta.url)(process.env.EFFECT_LLAMA_ADDON!) as NativeBinding
const model = new binding.Model(input.modelPath, { gpuLayers: "max" })
await model.load()
const info = model.info()
if (info.gpuLayers !== info.offloadableLayers) throw new Error(`only ${info.gpuLayers} of ${info.offloadableLayers} layers offloaded`)
const context = new binding.Context(model, { contextSize: input.pp + input.tg + 16, batchSize: input.batch, ubatchSize: input.batch })
const router = new JobRouter()
await context.init(router.dispatch)

type Done = Extract<JobEvent, { type: "done" }>
const run = (tokens: Int32Array, maxTokens: number) =>
  new Promise<{ start: number; first: number; end: number; done: Done }>((ok, fail) => {
    const start = performance.now()
    let first = 0
    const job = context.generate({ sequence: 0, tokens, maxTokens, sampling: { temperature: 0 }, ignoreEog: true })
    router.listen(job, (event) => {
      if (event.type === "token" && first === 0) first = performance.now()
      else if (event.type === "done") ok({ start, first, end: performance.now(), done: event })
      else if (event.type === "error") fail(new Error(`${event.code}: ${event.message}`))
    })
  })

// Random token ids (as llama-bench's prompt), different each run so no prefix is reused.
const vocab = info.vocabSize
const randomTokens = (n: number) => Int32Array.from({ length: n }, () => 100 + Math.floor(Math.random() * (vocab - 200)))
const pp = await run(randomTokens(input.pp), 1)
const tg = await run(randomTokens(1), input.tg + 1)
process.stdout.write(JSON.stringify({
  pp: input.pp / ((pp.end - pp.start) / 1000),
  tg: input.tg / ((tg.end - tg.first) / 1000),
  device: info.deviceMemory[0]?.description
}))
await context.dispose()
await model.dispose()
