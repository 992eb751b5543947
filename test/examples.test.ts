// Every example runs to completion on the generated model (a smoke test: exit code and a sign of real output).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"

const run = (file: string) =>
  Effect.callback<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, [new URL(`../examples/${file}`, import.meta.url).pathname], {
      env: { ...process.env, LLAMA_MODEL_PATH: "" }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => child.kill())
  })

const examples: ReadonlyArray<readonly [string, RegExp]> = [
  ["generate.ts", /finish: length, tokens in\/out: \d+\/48/],
  ["stream.ts", /\[finish: length, 128 tokens\]|\[stopped after 2 seconds\]/],
  ["chat-with-tools.ts", /tool GetWeather -> \{"celsius":(12|4|19)\}/],
  ["generate-object.ts", /\{ city: '(Paris|Oslo|Lima)', rain: (true|false), celsius: -?\d+ \}/],
  ["embeddings.ts", /^-?\d\.\d{3} {2}The cat sleeps on the sofa\.$/m],
  ["agent.ts", /\[tool result\] (GetWeather|ToFahrenheit) -> .*\n[\s\S]*\[finished: stop after 2 steps/],
  ["server.ts", /serving effect-llama-tiny-qwen2 on http:\/\/127\.0\.0\.1:\d+[\s\S]*finish: length, 24 tokens/],
  ["pull.ts", /verified .*tiny-qwen2\.gguf: sha256 [0-9a-f]{64}\ndone: /]
]

describe("examples", () => {
  for (const [file, expected] of examples) {
    it.live(file, () =>
      Effect.gen(function*() {
        const { code, stdout, stderr } = yield* run(file)
        assert.strictEqual(code, 0, stderr)
        assert.match(stdout, expected)
        assert.include(stderr, "its output is noise") // the examples say so plainly
      }), 120_000)
  }
})
