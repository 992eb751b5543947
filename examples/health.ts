/**
 * The one-line init and the health check: `EffectLlama.layer` loads the addon, sets the Logger, routes llama.cpp's
 * logs into it and contributes the built-in checks (addon, every model and context, free memory); a provider check
 * is added by a Layer of its own (here a loopback port nothing listens on, so it fails: not critical, the verdict
 * is "degraded"). Also prints `version` and `systemInfo`.
 * Run: node examples/health.ts
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { createServer } from "node:net"
import { EffectLlama, HealthCheck, HealthChecks, LlamaLanguageModel, SystemInfo, Version } from "../src/index.ts"
import { modelPath } from "./model.ts"

const program = Effect.gen(function*() {
  const version = yield* Version.version
  yield* Console.log(`effect-llama ${version.library}, llama.cpp ${version.llamaCpp.tag} (${version.llamaCpp.commit.slice(0, 8)}), effect ${version.effect}, node ${version.node}`)
  const info = yield* SystemInfo.systemInfo
  const backends = info.addon.loaded ? info.addon.backends.join(", ") : `not loaded: ${info.addon.error}`
  yield* Console.log(`${info.platform}/${info.arch}, ${info.cpu.model}, ${info.cpu.cores} cores, backends: ${backends}`)

  const health = yield* HealthCheck.HealthCheck
  const report = yield* health.run({ timeout: "2 seconds" })
  for (const check of report.checks) {
    yield* Console.log(`  ${check.status.padEnd(4)} ${check.name}${check.reason === undefined ? "" : `: ${check.reason}`}`)
  }
  yield* Console.log(`overall: ${report.overall} in ${report.durationMs} ms`)
})

// A loopback port that was free a moment ago: nothing listens there, so the probe is refused.
const freePort = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as { readonly port: number }
    server.close(() => resolve(port))
  })
})

const Provider = HealthCheck.contribute(HealthChecks.provider({
  name: "local-openai",
  url: `http://127.0.0.1:${freePort}/v1/models`,
  probeTimeout: "500 millis",
  critical: false
}))

const App = Provider.pipe(Layer.provideMerge(EffectLlama.layer({
  logLevel: "Warn",
  // The generated model makes llama.cpp warn about its tokens at every load; show its errors only.
  llamaLogLevel: "error",
  models: LlamaLanguageModel.layerModel({ path: modelPath })
})))

NodeRuntime.runMain(program.pipe(Effect.provide(App)))
