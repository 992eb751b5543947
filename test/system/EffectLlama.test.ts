// version and systemInfo report the stack and the machine; EffectLlama.layer is the one-line init: Effect's Logger
// at the level asked, llama.cpp's logs routed into it, the built-in health checks, and OTLP export of the model
// calls (GenAI attributes) to a loopback receiver, on the real addon and the generated model.
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Logger, References, Scope } from "effect"
import { LanguageModel } from "effect/ai"
import { readFileSync } from "node:fs"
import * as Os from "node:os"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaLanguageModel from "../../src/ai/LlamaLanguageModel.ts"
import * as EffectLlama from "../../src/system/EffectLlama.ts"
import * as HealthCheck from "../../src/system/HealthCheck.ts"
import { systemInfo } from "../../src/system/SystemInfo.ts"
import { version } from "../../src/system/Version.ts"
import * as GenAi from "../../src/telemetry/GenAi.ts"
import { attrs, receiver, spansOf, sumOf } from "../telemetry/OtlpReceiver.ts"

const modelPath = await ensureModel("tiny-qwen2")
const root = new URL("../../", import.meta.url)
const readJson = (file: string) => JSON.parse(readFileSync(new URL(file, root), "utf8"))

describe("version and systemInfo", () => {
  it.effect("version: the package, the pinned llama.cpp, effect, Node", () =>
    Effect.gen(function*() {
      const v = yield* version
      const pin = readJson("vendor/llama.cpp.pin.json")
      assert.strictEqual(v.library, readJson("package.json").version)
      assert.deepStrictEqual(v.llamaCpp, { tag: pin.tag, commit: pin.commit })
      assert.strictEqual(v.effect, readJson("node_modules/effect/package.json").version)
      assert.strictEqual(v.node, process.versions.node)
    }))

  it.effect("systemInfo: the machine and the loaded addon", () =>
    Effect.gen(function*() {
      const info = yield* systemInfo
      assert.strictEqual(info.node, process.version)
      assert.strictEqual(info.cpu.cores, Os.availableParallelism())
      assert.strictEqual(info.memory.total, Os.totalmem())
      assert.isTrue(info.addon.loaded)
      if (!info.addon.loaded) return
      assert.include(info.addon.backends, "CPU")
      assert.isTrue(info.addon.binary.endsWith(".node"))
      assert.deepStrictEqual(info.cpu.features, info.addon.cpuFeatures)
      assert.isAbove(info.compute.hardwareThreads, 0)
      assert.isDefined(info.compute.budget)
    }))

  it("llamaLevelFor: llama.cpp's level is at most as chatty as warn unless asked", () => {
    assert.strictEqual(EffectLlama.llamaLevelFor("Debug"), "warn")
    assert.strictEqual(EffectLlama.llamaLevelFor("Info"), "warn")
    assert.strictEqual(EffectLlama.llamaLevelFor("Warn"), "warn")
    assert.strictEqual(EffectLlama.llamaLevelFor("Error"), "error")
    assert.strictEqual(EffectLlama.llamaLevelFor("None"), "off")
  })
})

describe("EffectLlama.layer", () => {
  it.live("logs at the level asked with llama.cpp's routed in, health checks, OTLP spans and metrics of model calls", () =>
    Effect.gen(function*() {
      const otlp = yield* receiver
      const lines: Array<{ level: string; message: string; source: unknown }> = []
      const capture = Logger.make((o) => {
        const annotations = o.fiber.getRef(References.CurrentLogAnnotations)
        lines.push({ level: o.logLevel, message: String(o.message), source: annotations.source })
      })
      const app = EffectLlama.layer({
        logLevel: "Info",
        llamaLogLevel: "info",
        serviceName: "effect-llama-test",
        tracing: { baseUrl: otlp.baseUrl, exportInterval: "1 hour", shutdownTimeout: "30 seconds" },
        metrics: { otlp: { baseUrl: otlp.baseUrl, exportInterval: "1 hour", shutdownTimeout: "30 seconds" } },
        health: { memory: { minFreeBytes: 1 } },
        models: LlamaLanguageModel.layerModel({ path: modelPath, context: { contextSize: 512, sequences: 1 } })
      }).pipe(Layer.provide(Logger.layer([capture])))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(app, scope)

      const report = yield* Context.get(context, HealthCheck.HealthCheck).run()
      assert.strictEqual(report.overall, "healthy", report.reasons.join("; "))
      assert.deepStrictEqual(report.checks.map((c) => c.name), ["addon", "llama", "memory"])

      const response = yield* LanguageModel.generateText({ prompt: "Hello" }).pipe(
        LlamaLanguageModel.withConfigOverride({ maxTokens: 4 }),
        Effect.provideContext(context)
      )
      yield* Effect.logDebug("below the level").pipe(Effect.provideContext(context))
      yield* Scope.close(scope, Exit.void)

      // llama.cpp's model load log, at info, in Effect's Logger; nothing below the level.
      const llama = lines.filter((l) => l.source === "llama.cpp")
      assert.isAbove(llama.length, 0)
      assert.isTrue(llama.some((l) => l.message.startsWith("llama_model_loader:")), llama.slice(0, 3).map((l) => l.message).join("\n"))
      assert.isFalse(lines.some((l) => l.level === "Debug" || l.level === "Trace"))
      assert.isTrue(lines.some((l) => l.message === "effect-llama: drained"))
      assert.isFalse(lines.some((l) => l.level === "Error" || l.level === "Fatal"))

      // The model call's span with the GenAI attributes, and its metrics, over OTLP.
      const [span] = spansOf(otlp.received).filter((s) => s.name === "LanguageModel.generateText")
      assert.isDefined(span)
      const tokens = response.usage.outputTokens.total!
      assert.deepInclude(attrs(span!.attributes), {
        [GenAi.attributes.operationName]: "chat",
        [GenAi.attributes.providerName]: "llama.cpp",
        [GenAi.attributes.requestModel]: "effect-llama-tiny-qwen2",
        [GenAi.attributes.outputTokens]: tokens
      })
      assert.deepStrictEqual(attrs(span!.attributes)[GenAi.attributes.finishReasons], [response.finishReason])
      const labels = { provider: "llama.cpp", model: "effect-llama-tiny-qwen2" }
      assert.strictEqual(sumOf(otlp.received, "effect_llama_model_requests_total", { ...labels, outcome: "success" }), 1)
      assert.strictEqual(sumOf(otlp.received, "effect_llama_model_tokens_total", { ...labels, type: "output" }), tokens)
    }), 120_000)
})
