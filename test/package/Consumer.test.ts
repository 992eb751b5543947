// effect-llama as a dependency of another app: the packed tarball and a platform package (made from this
// checkout's addon, as `npm run prebuild -- --from` does) install into an empty app with nothing compiled; the
// consumer program type-checks against the installed declarations (NodeNext and Bundler) and runs a generation
// and an embedding on a generated model.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { ensureModel } from "../../scripts/models.ts"
import { candidatePaths } from "../../src/native/Native.ts"

const root = new URL("../../", import.meta.url).pathname
const fixture = new URL("../fixtures/consumer/", import.meta.url).pathname
const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
const exec = promisify(execFile)

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  Effect.promise(() =>
    exec(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 })
      .then(({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }))
      .catch((e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` }))
  )

const withTempDir = <A, E, R>(use: (dir: string) => Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "effect-llama-consumer-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("package", () => {
  it.live("installs from its tarball beside a prebuilt platform package, type-checks and runs in a fresh app", () =>
    withTempDir((dir) =>
      Effect.gen(function*() {
        const model = yield* Effect.promise(() => ensureModel("tiny-qwen2"))
        const addonDir = candidatePaths()[0]!.replace(/\/effect_llama\.node$/, "")
        const pack = yield* run("npm", ["pack", "--silent", "--pack-destination", dir], root)
        assert.strictEqual(pack.code, 0, pack.output)
        const prebuild = yield* run(process.execPath, [join(root, "scripts", "prebuild.mjs"), "--from", addonDir, "--out", dir], root)
        assert.strictEqual(prebuild.code, 0, prebuild.output)
        const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"))
        const main = tarballs.find((f) => f.startsWith("effect-llama-0"))!
        const platform = tarballs.find((f) => f.startsWith("effect-llama-linux") || f.startsWith("effect-llama-darwin"))!
        assert.isDefined(main, tarballs.join(", "))
        assert.isDefined(platform, tarballs.join(", "))

        const app = join(dir, "app")
        yield* run("mkdir", ["-p", app], dir)
        writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer-app", private: true, type: "module" }))
        for (const file of ["consumer.ts", "tsconfig.json", "tsconfig.bundler.json"]) copyFileSync(join(fixture, file), join(app, file))
        const install = yield* run("npm", [
          "install", "--prefer-offline", "--no-audit", "--no-fund", "--foreground-scripts",
          join(dir, main), join(dir, platform), "effect@4.1.0", "@effect/platform-node@4.1.0", "@types/node@24.19.2"
        ], app)
        assert.strictEqual(install.code, 0, install.output)
        assert.include(install.output, "using the prebuilt binary")
        assert.notInclude(install.output, "building from source")

        for (const config of ["tsconfig.json", "tsconfig.bundler.json"]) {
          const check = yield* run(process.execPath, [tsc, "-p", config], app)
          assert.strictEqual(check.code, 0, `${config}: ${check.output}`)
        }
        const help = yield* run("npx", ["--no-install", "effect-llama", "--help"], app)
        assert.strictEqual(help.code, 0, help.output)
        assert.include(help.output, "serve")
        const info = yield* run("npx", ["--no-install", "effect-llama", "info", model], app)
        assert.match(info.output, /^architecture\s+qwen2$/m)
        const consumer = yield* run(process.execPath, ["consumer.ts"], app, { MODEL_PATH: model, EFFECT_LLAMA_ADDON: "" })
        assert.strictEqual(consumer.code, 0, consumer.output)
        const result = JSON.parse(consumer.output.trim().split("\n").at(-1)!) as {
          outputTokens: number
          dimensions: number
          binary: string
          cpuVariant: string
        }
        assert.isAbove(result.outputTokens, 0)
        assert.strictEqual(result.dimensions, 64)
        assert.include(result.binary, join("node_modules", "@effect-llama"))
        assert.isNotEmpty(result.cpuVariant)
      })
    ), 600_000)
})
