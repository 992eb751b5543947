#!/usr/bin/env node
// npm run fuzz -- --seconds N [--jobs J]: coverage-guided fuzzing of the model load path with libFuzzer (clang).
// Builds test/fuzz/libfuzzer into build-fuzz/ (llama.cpp instrumented, ASan + UBSan; never touches build/Release),
// seeds the corpus with the fixtures of test/fixtures, runs for N seconds and lists what it found under
// .cache/fuzz/findings. A finding becomes a regression file: copy it to test/fixtures/ and give it an expectation
// in test/fuzz/Regressions.test.ts. Off the default CI: it needs clang (Debian: apt-get install clang).
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const fail = (message) => {
  console.error(`fuzz: ${message}`)
  process.exit(1)
}
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback
}
const seconds = arg("seconds", 60)
const jobs = arg("jobs", 1)
if (!Number.isInteger(seconds) || seconds <= 0) fail("--seconds must be a positive integer")

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0
if (!has("clang") || !has("clang++")) fail("clang is not installed (Debian/Ubuntu: apt-get install clang)")
if (!existsSync(join(root, "vendor", "llama.cpp", "CMakeLists.txt"))) fail("vendor/llama.cpp is missing: run `npm run vendor`")

const build = join(root, "build-fuzz")
const started = Date.now()
const cmake = (args) => execFileSync("cmake", args, { cwd: root, stdio: "inherit" })
if (!existsSync(join(build, "CMakeCache.txt"))) {
  cmake([
    "-S", join(root, "test", "fuzz", "libfuzzer"), "-B", build, "-G", has("ninja") ? "Ninja" : "Unix Makefiles",
    "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++",
    ...(has("ccache") ? ["-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] : [])
  ])
}
cmake(["--build", build, "--target", "load-fuzzer", "--parallel", String(availableParallelism())])
const built = Date.now()

const work = join(root, ".cache", "fuzz")
const corpus = join(work, "corpus")
const findings = join(work, "findings")
for (const dir of [corpus, findings]) mkdirSync(dir, { recursive: true })
// GGUF's words: the magic, the keys and the tokenizer's markers, so mutations can build structure, not only bits
const dict = join(work, "gguf.dict")
const words = [
  "GGUF", "general.architecture", "general.alignment", "general.name", "llama", "qwen2", "gpt2", "tokenizer.ggml.model",
  "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
  "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.chat_template",
  "llama.block_count", "llama.embedding_length", "llama.feed_forward_length", "llama.attention.head_count",
  "llama.attention.head_count_kv", "llama.context_length", "llama.rope.dimension_count",
  "llama.attention.layer_norm_rms_epsilon", "token_embd.weight", "output.weight", "output_norm.weight",
  "blk.0.attn_q.weight", "blk.0.ffn_down.weight", "<0x0A>", "\\xe2\\x96\\x81"
]
writeFileSync(dict, words.map((w) => `"${w}"`).join("\n") + "\n")

const seeds = join(root, "test", "fixtures")
const before = new Set(readdirSync(findings))
const run = spawnSync(join(build, "load-fuzzer"), [
  corpus, seeds,
  `-max_total_time=${seconds}`, `-jobs=${jobs}`, `-workers=${jobs}`, "-max_len=262144", "-timeout=30",
  "-rss_limit_mb=4096", `-dict=${dict}`, `-artifact_prefix=${findings}/`, "-print_final_stats=1"
], {
  cwd: work,
  stdio: "inherit",
  env: {
    ...process.env,
    ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? "detect_leaks=1:allocator_may_return_null=1",
    // a UBSan report is a finding (it would only print otherwise); llama.cpp's known, benign ones are suppressed
    // in test/sanitize/ubsan.supp, each with its reason
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ??
      `halt_on_error=1:print_stacktrace=1:suppressions=${join(root, "test", "sanitize", "ubsan.supp")}`
  }
})
const fresh = readdirSync(findings).filter((f) => !before.has(f))
console.log(`fuzz: build ${((built - started) / 1000).toFixed(0)} s, fuzzing ${seconds} s, corpus ${readdirSync(corpus).length} inputs`)
if (fresh.length === 0) {
  console.log("fuzz: no new findings")
} else {
  console.log(`fuzz: ${fresh.length} new finding(s) in ${findings}:`)
  for (const f of fresh) console.log(`  ${f}   (reproduce: ${join(build, "load-fuzzer")} ${join(findings, f)})`)
}
process.exit(fresh.length > 0 ? 1 : run.status === 0 ? 0 : run.status ?? 1)
