// A CPU feature must never kill the host process (issue: SIGILL on AMX CPUs). On every machine: quantized models
// prefill a 64-token prompt in a child process and it exits cleanly; ggml's AMX kernels, compiled for Sapphire
// Rapids, load their tile config from static storage; the escape hatch really turns the extra buffer types off;
// an addon built for instructions this CPU lacks is refused with a typed error instead of being loaded.
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { compileForSapphireRapids, tileConfigLoads, tileConfigProblems } from "../../scripts/amx-codegen.ts"
import { ensureModel } from "../../scripts/models.ts"
import * as LlamaModel from "../../src/llama/LlamaModel.ts"
import * as Native from "../../src/native/Native.ts"
import { cpuMismatch, missingInstructions } from "../../src/native/NativeCpu.ts"

const child = new URL("../fixtures/cpu/prefill-child.ts", import.meta.url).pathname
const stackConfig = new URL("../fixtures/cpu/stack-tile-config.cpp", import.meta.url).pathname

interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const runChild = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.callback<ChildResult>((resume) => {
    const proc = spawn(process.execPath, [child, ...args], { env: { ...process.env, ...env } })
    let stdout = ""
    let stderr = ""
    proc.stdout.on("data", (d) => (stdout += d))
    proc.stderr.on("data", (d) => (stderr += d))
    proc.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
    return Effect.sync(() => proc.kill("SIGKILL"))
  })

interface Prefill {
  readonly promptTokens: number
  readonly completionTokens: number
  readonly buffers: ReadonlyArray<string>
  readonly extraBufferTypesEnabled: boolean
}

const results = (out: ChildResult): Array<Prefill> => out.stdout.trim().split("\n").map((l) => JSON.parse(l) as Prefill)

const models = Effect.promise(() => Promise.all([ensureModel("tiny-qwen2"), ensureModel("tiny-qwen2-q4_0")]))

const withTempDir = <A, E>(f: (dir: string) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-cpu-"))),
    f,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("quantized models on this CPU", () => {
  it.live("q8_0 and q4_0 models prefill 64 tokens in a child process, which exits cleanly", () =>
    Effect.gen(function*() {
      const out = yield* runChild(yield* models)
      assert.strictEqual(out.signal, null, `the child died with ${out.signal}: ${out.stderr}`)
      assert.strictEqual(out.code, 0, out.stderr)
      const [q8, q4] = results(out)
      assert.strictEqual(q8!.promptTokens, 64)
      assert.strictEqual(q8!.completionTokens, 8)
      assert.strictEqual(q4!.promptTokens, 64)
      assert.strictEqual(q4!.completionTokens, 8)
    }), 120_000)

  it.live("EFFECT_LLAMA_EXTRA_BUFFER_TYPES=0 loads every model into plain CPU buffers", () =>
    Effect.gen(function*() {
      const native = yield* Native.load
      const extra = native.systemInfo().cpuBackend.extraBufferTypes
      const out = yield* runChild(yield* models, { EFFECT_LLAMA_EXTRA_BUFFER_TYPES: "0" })
      assert.strictEqual(out.code, 0, out.stderr)
      for (const result of results(out)) {
        assert.isFalse(result.extraBufferTypesEnabled)
        assert.deepStrictEqual(result.buffers.filter((b) => extra.includes(b)), [])
        assert.strictEqual(result.completionTokens, 8)
      }
    }), 120_000)
})

layer(Native.layer)("extra buffer types", (it) => {
  it.effect("systemInfo names the CPU backend's extra buffer types and whether AMX is compiled in", () =>
    Effect.gen(function*() {
      const info = (yield* Native.Native).systemInfo()
      assert.strictEqual(info.cpuBackend.amx, "AMX_INT8" in info.cpuFeatures)
      assert.isTrue(info.cpuBackend.extraBufferTypesEnabled)
      // Every x86-64 build with AVX2 repacks q4_0; AMX builds add the AMX type in front.
      assert.include(info.cpuBackend.extraBufferTypes, "CPU_REPACK")
      assert.strictEqual(info.cpuBackend.extraBufferTypes.includes("AMX"), info.cpuBackend.amx)
    }))

  it.effect("a q4_0 model's weights go to an extra buffer type, unless extraBufferTypes is false", () =>
    Effect.gen(function*() {
      const path = yield* Effect.promise(() => ensureModel("tiny-qwen2-q4_0"))
      const extra = (yield* Native.Native).systemInfo().cpuBackend.extraBufferTypes
      const on = yield* LlamaModel.make({ path })
      const off = yield* LlamaModel.make({ path, extraBufferTypes: false })
      assert.isTrue(on.info.extraBufferTypes)
      assert.isAbove(on.info.buffers.filter((b) => extra.includes(b.type)).length, 0)
      assert.isFalse(off.info.extraBufferTypes)
      assert.deepStrictEqual(off.info.buffers.filter((b) => extra.includes(b.type)), [])
      for (const b of [...on.info.buffers, ...off.info.buffers]) assert.isTrue(Number.isInteger(b.bytes) && b.bytes > 0)
    }))
})

describe("AMX code generation", () => {
  it.live("ggml's AMX kernels, built for Sapphire Rapids, load the tile config from static storage", () =>
    withTempDir((dir) =>
      Effect.sync(() => {
        const loads = tileConfigLoads(compileForSapphireRapids(dir))
        assert.isAbove(loads.length, 0)
        assert.deepStrictEqual(tileConfigProblems(loads), [])
      })
    ), 120_000)

  it.live("the check flags a tile config built on the stack (the pattern before the patch)", () =>
    withTempDir((dir) =>
      Effect.sync(() => {
        const problems = tileConfigProblems(tileConfigLoads(compileForSapphireRapids(dir, stackConfig)))
        assert.strictEqual(problems.length, 1)
        assert.match(problems[0]!, /built at run time/)
      })
    ), 120_000)
})

describe("an addon built for another CPU", () => {
  const macros = "#define __AVX2__ 1\n#define __AVX512F__ 1\n#define __AMX_TILE__ 1\n"

  it("lists the instruction sets the CPU lacks", () => {
    assert.deepStrictEqual(missingInstructions(macros, new Set(["avx2", "avx512f", "amx_tile"])), [])
    assert.deepStrictEqual(missingInstructions(macros, new Set(["avx2"])), ["avx512f", "amx_tile"])
  })

  it.effect("is refused with a NativeLoadError that says why and how to rebuild", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const addon = join(dir, "effect_llama.node")
        writeFileSync(addon, "not loaded: the CPU check comes first")
        // No CPU has both AMD's SSE4a and Intel's AMX, so one of them is missing here, whatever this machine is.
        writeFileSync(join(dir, "effect_llama.cpu.txt"), "#define __SSE4A__ 1\n#define __AMX_TILE__ 1\n")
        assert.match(cpuMismatch(addon, new Set(["avx2"]))!, /sse4a, amx_tile, which this CPU lacks/)
        const error = yield* Effect.flip(Native.loadFrom([addon]))
        assert.strictEqual(error._tag, "NativeLoadError")
        assert.match(error.message, /cannot run on this CPU: .*(sse4a|amx_tile).*npm rebuild effect-llama/)
      })
    ))
})
