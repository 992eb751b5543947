// Every example runs to completion on the generated model (a smoke test: exit code and a sign of real output).
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as LlamaServer from "./support/LlamaServer.ts"

const run = (file: string, env: Record<string, string> = {}) =>
  Effect.callback<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, [new URL(`../examples/${file}`, import.meta.url).pathname], {
      env: { ...process.env, LLAMA_MODEL_PATH: "", OPENAI_BASE_URL: "", ...env }
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
  // The run's reason is its last step's: stop, or length when that answer was cut at the token limit.
  ["agent.ts", /\[tool result\] (GetWeather|ToFahrenheit) -> .*\n[\s\S]*\[step 2: (stop|length)[^\n]*\n\[finished: \2 after 2 steps/],
  ["workflow.ts", /\[notes finished in \d+ ms\]\n\[summary started\][\s\S]*\[run finished: succeeded in \d+ ms/],
  ["workflow-router.ts", /route taken: (billing|technical|other)\n(skipped: (billing|technical|other|ticket) \([a-z-]+\)\n){2,3}/],
  ["workflow-durable.ts", /the embedded engine[\s\S]*\[sections#2 finished\][\s\S]*\[run finished: succeeded, 4 nodes\]/],
  ["fallback.ts", /answered by: effect-llama-tiny-qwen2 \(finish: length\)/],
  ["health.ts", /effect-llama \d+\.\d+\.\d+, llama\.cpp [\s\S]*pass addon\n  pass llama\n  pass memory\n  fail provider:local-openai: http:\/\/127\.0\.0\.1:\d+\/v1\/models unreachable: ECONNREFUSED\noverall: degraded/],
  ["mcp-client.ts", /tools from the server: [\s\S]*remote_Convert\nexecute remote_Convert -> \{"fahrenheit":70\.7\}[\s\S]*"reason":"InvalidArguments"[^\n]*"field":"celsius"[\s\S]*agent called remote_Convert \{"celsius":-?[\d.e+-]+\} -> \{"fahrenheit":-?[\d.e+-]+\}/],
  ["telemetry.ts", /effect_llama_model_requests_total\{[^}]*operation="streamText",outcome="success"\} 1\n[\s\S]*effect_llama_model_tokens_total\{[^}]*type="output"\} 32/],
  ["batch.ts", /#2 failed: InvalidRequestError[\s\S]*#4 ok[\s\S]*stats: 5 requests, 4 ok, 1 failed, p50 \d+ ms/],
  ["bad-input.ts", /damaged model -> refused: .*GGML_ASSERT[\s\S]*endless template -> stopped: [\s\S]*deep JSON -> refused: [\s\S]*still works/],
  ["server.ts", /serving effect-llama-tiny-qwen2 on http:\/\/127\.0\.0\.1:\d+[\s\S]*finish: length, 24 tokens/],
  ["pull.ts", /verified .*tiny-qwen2\.gguf: sha256 [0-9a-f]{64}\ndone: /],
  ["warmup.ts", /warmup: \d+ token\(s\) in [\d.]+ ms\nfirst request, first token after [\d.]+ ms/],
  ["chat-persist.ts", /turn 1: [\s\S]*turn 2: [\s\S]*restored: [1-9]\d* of \d+ prompt tokens came from the saved state/],
  ["rerank.ts", /^0\.\d{4} {2}(A cat sleeps on the sofa|Paris is the capital of France|Kittens are young cats)\.$/m],
  ["lora.ts", /scale 0: .*\(= base\)\nscale 0\.5: [\s\S]*scale 1: /],
  ["speculative.ts", /acceptance rate: [01]\.\d{2} \(\d+ of [1-9]\d* drafted tokens kept\)/],
  ["vision.ts", /prompt tokens: \d+, of which image tokens: 16/]
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

// The remote-provider examples, against llama-server (OpenAI and Anthropic APIs) on the generated model.
layer(LlamaServer.layer(), { timeout: LlamaServer.startTimeout, excludeTestServices: true })("remote examples", (it) => {
  const remote: ReadonlyArray<readonly [string, (baseUrl: string) => Record<string, string>, RegExp]> = [
    ["remote-openai.ts", (url) => ({ OPENAI_BASE_URL: `${url}/v1`, OPENAI_MODEL: "tiny-qwen2" }),
      /finish: length, tokens in\/out: \d+\/48[\s\S]*\[finish: length, 48 tokens\][\s\S]*circuit of openai-compat\/tiny-qwen2: Closed/],
    ["anthropic.ts", (url) => ({ ANTHROPIC_BASE_URL: `${url}/v1`, ANTHROPIC_API_KEY: "unused", ANTHROPIC_MODEL: "tiny-qwen2" }),
      /finish: length, tokens in\/out: \d+\/48[\s\S]*\[finish: length, 48 tokens\]/]
  ]
  for (const [file, env, expected] of remote) {
    it.effect(file, () =>
      Effect.gen(function*() {
        const { baseUrl } = yield* LlamaServer.LlamaServer
        const { code, stdout, stderr } = yield* run(file, env(baseUrl))
        assert.strictEqual(code, 0, stderr)
        assert.match(stdout, expected)
      }), 120_000)
  }
})
