// A scripted stand-in for the native addon: a Context whose jobs emit the given events on timers, recording
// generate/abort/ack calls, so the Effect layer can be tested without llama.cpp.
import { Layer } from "effect"
import { Native } from "../../src/native/Native.ts"
import type {
  ContextOptions,
  GenerateRequest,
  JobEvent,
  ModelInfo,
  NativeBinding,
  NativeContext,
  NativeModel
} from "../../src/native/NativeBinding.ts"

export type ScriptEvent = JobEvent extends infer E ? E extends JobEvent ? Omit<E, "job"> : never : never
export type Script = (request: GenerateRequest) => ReadonlyArray<ScriptEvent>

export interface FakeLog {
  readonly generated: Array<GenerateRequest>
  readonly aborted: Array<number>
  readonly acked: Array<number>
  active: number
}

const info = { name: "fake", path: "/fake.gguf", architecture: "fake", embeddingSize: 4 } as unknown as ModelInfo

export const make = (script: Script, options: { readonly stepMs?: number } = {}): { layer: Layer.Layer<Native>; log: FakeLog } => {
  const log: FakeLog = { generated: [], aborted: [], acked: [], active: 0 }
  const stepMs = options.stepMs ?? 1
  class FakeModel implements NativeModel {
    disposed = false
    load = async () => {}
    abortLoad = () => {}
    info = () => info
    tokenize = async (text: string) => Int32Array.from(text, (c) => c.charCodeAt(0))
    detokenize = async (tokens: Int32Array | ReadonlyArray<number>) => String.fromCharCode(...tokens)
    applyChat = async () => { throw new Error("not scripted") }
    parseChat = () => ({ content: "", reasoningContent: "", toolCalls: [] })
    loadLora = async () => ({ id: 1, alpha: 1 })
    unloadLora = () => true
    dispose = async () => {
      this.disposed = true
    }
  }
  class FakeContext implements NativeContext {
    disposed = false
    private onEvents: (events: ReadonlyArray<JobEvent>) => void = () => {}
    private next = 1
    private readonly timers = new Map<number, ReturnType<typeof setTimeout>>()
    private readonly options: ContextOptions
    constructor(_model: NativeModel, options: ContextOptions = {}) {
      this.options = options
    }
    init = async (onEvents: (events: ReadonlyArray<JobEvent>) => void) => {
      this.onEvents = onEvents
    }
    generate = (request: GenerateRequest) => {
      const job = this.next++
      log.generated.push(request)
      log.active++
      const events = script(request)
      let i = 0
      const tick = () => {
        const event = events[i++]
        if (event === undefined) return
        this.onEvents([{ ...event, job } as JobEvent])
        if (event.type === "done" || event.type === "error") {
          log.active--
          this.timers.delete(job)
        } else this.timers.set(job, setTimeout(tick, stepMs))
      }
      this.timers.set(job, setTimeout(tick, stepMs))
      return job
    }
    embed = () => {
      throw Object.assign(new Error("not an embedding context"), { code: "NOT_EMBEDDING_CONTEXT" })
    }
    abort = (job: number) => {
      const timer = this.timers.get(job)
      if (timer === undefined) return false
      clearTimeout(timer)
      this.timers.delete(job)
      log.aborted.push(job)
      log.active--
      setTimeout(() => this.onEvents([done(job, "abort")]), stepMs)
      return true
    }
    ack = (_job: number, events: number) => {
      log.acked.push(events)
    }
    rank = () => {
      throw Object.assign(new Error("not a rank context"), { code: "NOT_RANK_CONTEXT" })
    }
    saveState = async () => ({ size: 0, data: new Uint8Array() })
    loadState = async () => ({ tokens: new Int32Array(), metadata: "" })
    setLora = () => {}
    info = () => ({
      contextSize: 1024, sequenceContextSize: 1024, batchSize: 512, ubatchSize: 512,
      sequences: this.options.sequences ?? 1, threads: 1, threadsBatch: 1, embeddings: false,
      kvUnified: false, kvCacheType: "f16", pooling: "none" as const, warmup: null, speculative: "none" as const
    })
    dispose = async () => {
      this.disposed = true
    }
  }
  const binding: NativeBinding = {
    systemInfo: () => { throw new Error("fake") },
    setLogger: () => {},
    jsonSchemaToGrammar: () => "root ::= \"x\"",
    Model: FakeModel,
    Context: FakeContext
  }
  return { layer: Layer.succeed(Native, binding), log }
}

export const token = (token: number, text: string): ScriptEvent => ({ type: "token", token, text })

export const done = (job: number, reason: "eog" | "length" | "abort" | "stop", completionTokens = 0): JobEvent => ({
  job,
  type: "done",
  reason,
  text: "",
  usage: { promptTokens: 3, cachedTokens: 0, completionTokens, imageTokens: 0 },
  timings: { prefillMs: 1, generateMs: 1 }
})
