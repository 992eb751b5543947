// The parity features through the Effect services: warmup, KV state (LlamaChat save/restore), Reranker, LoRA,
// speculative decoding and image parts of effect/ai prompts, each with its typed errors.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Stream } from "effect"
import { Chat, LanguageModel } from "effect/ai"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaChat from "../../src/ai/LlamaChat.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as LlamaContext from "../../src/llama/LlamaContext.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Reranker from "../../src/llama/Reranker.ts"
import * as Native from "../../src/native/Native.ts"
import { png } from "../support/png.ts"

const tinyQwen = await ensureModel("tiny-qwen2")
const draftQwen = await ensureModel("tiny-qwen2-draft")
const reranker = await ensureModel("tiny-qwen3-reranker")
const lora = await ensureModel("tiny-qwen2-lora")
const projector = await ensureModel("tiny-qwen2-mmproj")

const greedy = { temperature: 0 } as const

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-parity-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

const Llama = (context: LlamaContext.Options = {}, model: Omit<LlamaModel.Options, "path"> = {}) =>
  LlamaContext.layer({ contextSize: 2048, sequences: 2, ...context }).pipe(
    Layer.provideMerge(LlamaModel.layer({ ...model, path: tinyQwen })),
    Layer.provideMerge(Native.layer)
  )

const Chatting = LlamaLanguageModel.layer({ maxTokens: 16, sampling: greedy }).pipe(Layer.provideMerge(Llama()))

const reasonOf = <A, R>(effect: Effect.Effect<A, { readonly reason: { readonly _tag: string } }, R>) =>
  Effect.map(Effect.flip(effect), (e) => e.reason._tag)

describe("parity features through the services", () => {
  it.effect("warmup: LlamaModel.warmup runs, and a context made with warmup reports its decode", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      yield* model.warmup
      const ctx = yield* LlamaContext.LlamaContext
      const warmup = ctx.info.warmup
      assert.isNotNull(warmup)
      assert.isAtLeast(warmup!.tokens, 1)
    }).pipe(Effect.provide(Llama({ warmup: true }))))

  it.effect("LlamaChat: a chat saved after its first turn and restored elsewhere answers as if it never stopped", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "chat.state")
      const first = "Tell me about foxes."
      const second = "And wolves?"
      const reference = yield* Effect.gen(function*() {
        const chat = yield* Chat.empty
        yield* chat.generateText({ prompt: first })
        return yield* chat.generateText({ prompt: second })
      }).pipe(Effect.provide(Chatting))
      yield* Effect.gen(function*() {
        const chat = yield* Chat.empty
        yield* chat.generateText({ prompt: first })
        yield* LlamaChat.save(chat, file)
      }).pipe(Effect.provide(Chatting))
      const resumed = yield* Effect.gen(function*() {
        const chat = yield* LlamaChat.restore(file)
        return yield* chat.generateText({ prompt: second })
      }).pipe(Effect.provide(Chatting))
      assert.strictEqual(resumed.text, reference.text)
      assert.isAbove(resumed.usage.inputTokens.cacheRead ?? 0, 0)
      assert.strictEqual(resumed.usage.inputTokens.cacheRead, reference.usage.inputTokens.cacheRead)
    }))

  it.effect("restoreState: a damaged state is InvalidState, another model's is StateMismatch", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = join(dir, "seq.state")
      const prompt = "Once upon a time there was ".repeat(40)
      yield* Effect.gen(function*() {
        const ctx = yield* LlamaContext.LlamaContext
        yield* ctx.generateText({ prompt, maxTokens: 4, sampling: greedy })
        yield* ctx.saveState({ prefix: prompt, path: file })
        assert.strictEqual(yield* reasonOf(ctx.restoreState({ data: new Uint8Array(32) })), "InvalidState")
        assert.strictEqual(yield* reasonOf(ctx.saveState({ prefix: "nothing cached starts like this" })), "InvalidRequest")
      }).pipe(Effect.provide(Llama()))
      const other = LlamaContext.layer({ contextSize: 2048 }).pipe(
        Layer.provideMerge(LlamaModel.layer({ path: draftQwen })),
        Layer.provideMerge(Native.layer)
      )
      const reason = yield* Effect.flatMap(LlamaContext.LlamaContext, (ctx) => reasonOf(ctx.restoreState({ path: file }))).pipe(
        Effect.provide(other)
      )
      assert.strictEqual(reason, "StateMismatch")
    }))

  it.effect("Reranker: sorted by score, stable, concurrent calls batched with the same scores as one by one", () =>
    Effect.gen(function*() {
      const rr = yield* Reranker.Reranker
      const documents = ["Cats purr.", "Paris is in France.", "Kittens are young cats.", "Stocks fell."]
      const ranked = yield* rr.rank("what are cats?", documents)
      assert.deepStrictEqual([...ranked.map((r) => r.index)].sort(), [0, 1, 2, 3])
      for (let i = 1; i < ranked.length; i++) assert.isAtLeast(ranked[i - 1]!.score, ranked[i]!.score)
      const alone = yield* Effect.forEach(documents, (d) => rr.score("what are cats?", [d]))
      for (const r of ranked) assert.approximately(r.score, alone[r.index]![0]!, 1e-5)
      // Equal scores keep their input order.
      assert.deepStrictEqual(Reranker.sortRanked(["a", "b", "c"], [0.5, 0.9, 0.5]).map((r) => r.index), [1, 0, 2])
    }).pipe(Effect.provide(Reranker.layerModel({ path: reranker }).pipe(Layer.provide(Native.layer)))))

  it.effect("LoRA: loadLora, scale 0 is the base, scale 1 differs, setLora per context; a bad adapter is AdapterError", () =>
    Effect.gen(function*() {
      const model = yield* LlamaModel.LlamaModel
      const ctx = yield* LlamaContext.LlamaContext
      const adapter = yield* model.loadLora(lora)
      const request = { prompt: "Once upon a time", maxTokens: 12, ignoreEog: true, sampling: greedy }
      const base = yield* ctx.generateText(request)
      const zero = yield* ctx.generateText({ ...request, lora: [{ adapter, scale: 0 }] })
      const one = yield* ctx.generateText({ ...request, lora: [{ adapter, scale: 1 }] })
      assert.deepStrictEqual(zero.tokens, base.tokens)
      assert.notDeepEqual(one.tokens, base.tokens)
      yield* ctx.setLora([{ adapter }])
      assert.deepStrictEqual((yield* ctx.generateText(request)).tokens, one.tokens)
      yield* ctx.setLora([])
      assert.deepStrictEqual((yield* ctx.generateText(request)).tokens, base.tokens)
      assert.strictEqual(yield* reasonOf(model.loadLora(tinyQwen)), "AdapterError")
    }).pipe(Effect.scoped, Effect.provide(Llama())))

  it.effect("speculative: a draft model gives plain greedy's tokens; the done event and finish metadata report the drafting", () =>
    Effect.gen(function*() {
      const plain = yield* LlamaContext.LlamaContext
      const draft = yield* LlamaModel.make({ path: draftQwen })
      const model = yield* LlamaModel.LlamaModel
      const spec = yield* LlamaContext.make({ contextSize: 2048, speculative: { type: "draft", model: draft, draftTokens: 4 } }).pipe(
        Effect.provideService(LlamaModel.LlamaModel, model)
      )
      const request = { prompt: "The quick brown fox", maxTokens: 16, ignoreEog: true, sampling: greedy }
      const expected = yield* plain.generateText(request)
      const events = yield* Stream.runCollect(spec.generate(request))
      const tokens = events.flatMap((e) => (e.type === "token" ? [e.token] : []))
      assert.deepStrictEqual(tokens, [...expected.tokens])
      const done = events.at(-1)!
      assert.strictEqual(done.type, "done")
      if (done.type === "done") {
        assert.isDefined(done.speculative)
        assert.isAbove(done.speculative!.drafted, 0)
        assert.strictEqual(done.speculative!.acceptanceRate, done.speculative!.accepted / done.speculative!.drafted)
      }
      const response = yield* LanguageModel.generateText({ prompt: "The quick brown fox" }).pipe(
        Effect.provide(LlamaLanguageModel.layer({ maxTokens: 8, sampling: greedy })),
        Effect.provideService(LlamaContext.LlamaContext, spec)
      )
      const finish = response.content.find((p) => p.type === "finish")
      const metadata = finish?.metadata["llama.cpp"] as { readonly speculative?: { readonly acceptanceRate: number } } | undefined
      assert.isNumber(metadata?.speculative?.acceptanceRate)
    }).pipe(Effect.scoped, Effect.provide(Llama())))

  it.effect("vision: an image part of an effect/ai prompt counts its image tokens; without a projector, a typed error", () =>
    Effect.gen(function*() {
      const prompt = [{
        role: "user" as const,
        content: [{ type: "file" as const, mediaType: "image/png", data: png(24, 16) }, { type: "text" as const, text: "What is this?" }]
      }]
      const vision = LlamaLanguageModel.layer({ maxTokens: 4, sampling: greedy }).pipe(
        Layer.provideMerge(Llama({ contextSize: 1024 }, { projector }))
      )
      const seen = yield* Effect.gen(function*() {
        const response = yield* LanguageModel.generateText({ prompt })
        const text = yield* LanguageModel.generateText({ prompt: "What is this?" })
        const finish = response.content.find((p) => p.type === "finish")
        return { response, text, imageTokens: (finish?.metadata["llama.cpp"] as { readonly imageTokens: number }).imageTokens }
      }).pipe(Effect.provide(vision))
      assert.strictEqual(seen.imageTokens, 16) // 32x32 after resizing, 8x8 patches
      assert.isAtLeast(seen.response.usage.inputTokens.total!, seen.text.usage.inputTokens.total! + 16)
      // No projector: the LanguageModel fails with an invalid request, the context with VisionUnsupported.
      const plain = LlamaLanguageModel.layer({ maxTokens: 4 }).pipe(Layer.provideMerge(Llama({ contextSize: 1024 })))
      yield* Effect.gen(function*() {
        const error = yield* Effect.flip(LanguageModel.generateText({ prompt }))
        assert.strictEqual(error.reason._tag, "InvalidRequestError")
        assert.match(error.message, /vision projector/)
        const ctx = yield* LlamaContext.LlamaContext
        const reason = yield* reasonOf(ctx.generateText({ prompt: { parts: [{ image: png(8, 8) }] }, maxTokens: 2 }))
        assert.strictEqual(reason, "VisionUnsupported")
      }).pipe(Effect.provide(plain))
    }))
})
