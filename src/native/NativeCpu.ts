/**
 * Whether this CPU can run an addon built with `-march=native`. The build records what the compiler resolved
 * "native" to (its predefined macros, `effect_llama.cpu.txt` beside the `.node`); loading that addon on a CPU that
 * lacks one of those instruction sets would end the process with SIGILL at the first such instruction, so the
 * loader compares the record with the running CPU's flags first and fails with a typed error instead.
 *
 * @since 0.2.0
 */
import { existsSync, readFileSync } from "node:fs"

// Compiler macro -> the flag Linux lists in /proc/cpuinfo for the same instructions.
const instructionSets: ReadonlyArray<readonly [macro: string, flag: string]> = [
  ["__SSE3__", "pni"], ["__SSSE3__", "ssse3"], ["__SSE4_1__", "sse4_1"], ["__SSE4_2__", "sse4_2"],
  ["__SSE4A__", "sse4a"], ["__POPCNT__", "popcnt"], ["__AVX__", "avx"], ["__AVX2__", "avx2"], ["__FMA__", "fma"], ["__F16C__", "f16c"],
  ["__BMI__", "bmi1"], ["__BMI2__", "bmi2"], ["__LZCNT__", "abm"], ["__MOVBE__", "movbe"], ["__AES__", "aes"],
  ["__PCLMUL__", "pclmulqdq"], ["__SHA__", "sha_ni"], ["__GFNI__", "gfni"], ["__VAES__", "vaes"],
  ["__VPCLMULQDQ__", "vpclmulqdq"], ["__AVXVNNI__", "avx_vnni"], ["__AVX512F__", "avx512f"],
  ["__AVX512CD__", "avx512cd"], ["__AVX512DQ__", "avx512dq"], ["__AVX512BW__", "avx512bw"],
  ["__AVX512VL__", "avx512vl"], ["__AVX512IFMA__", "avx512ifma"], ["__AVX512VBMI__", "avx512vbmi"],
  ["__AVX512VBMI2__", "avx512_vbmi2"], ["__AVX512VNNI__", "avx512_vnni"], ["__AVX512BITALG__", "avx512_bitalg"],
  ["__AVX512VPOPCNTDQ__", "avx512_vpopcntdq"], ["__AVX512BF16__", "avx512_bf16"], ["__AVX512FP16__", "avx512_fp16"],
  ["__AVX512VP2INTERSECT__", "avx512_vp2intersect"], ["__AMX_TILE__", "amx_tile"], ["__AMX_INT8__", "amx_int8"],
  ["__AMX_BF16__", "amx_bf16"], ["__AMX_FP16__", "amx_fp16"]
]

/**
 * The instruction sets (as /proc/cpuinfo names them) that a compiler's predefined macros say the code may use
 * and that `cpuFlags` lacks.
 *
 * @category constructors
 * @since 0.2.0
 */
export const missingInstructions = (compilerMacros: string, cpuFlags: ReadonlySet<string>): Array<string> => {
  const defined = new Set(compilerMacros.split("\n").map((line) => /^#define (\w+)/.exec(line)?.[1]).filter((m) => m !== undefined))
  return instructionSets.filter(([macro, flag]) => defined.has(macro) && !cpuFlags.has(flag)).map(([, flag]) => flag)
}

/**
 * The running CPU's flags from /proc/cpuinfo; `undefined` where there is no such file (not Linux).
 *
 * @category constructors
 * @since 0.2.0
 */
export const cpuFlags = (cpuinfo = "/proc/cpuinfo"): ReadonlySet<string> | undefined => {
  if (!existsSync(cpuinfo)) return undefined
  const line = readFileSync(cpuinfo, "utf8").split("\n").find((l) => /^flags\s*:/.test(l))
  return line === undefined ? undefined : new Set(line.replace(/^flags\s*:/, "").trim().split(/\s+/))
}

/**
 * Why the addon at `addonPath` cannot run on this CPU, or `undefined` when it can (or when there is no record to
 * compare: a portable build, another platform).
 *
 * @category constructors
 * @since 0.2.0
 */
export const cpuMismatch = (addonPath: string, flags = cpuFlags()): string | undefined => {
  const record = addonPath.replace(/\.node$/, ".cpu.txt")
  if (flags === undefined || !existsSync(record)) return undefined
  const missing = missingInstructions(readFileSync(record, "utf8"), flags)
  if (missing.length === 0) return undefined
  return `it was compiled with -march=native on a CPU with ${missing.join(", ")}, which this CPU lacks ` +
    `(the build was copied from another machine, or a build cache was shared between machines), and would crash ` +
    `with SIGILL. Rebuild it on this machine: \`npm rebuild effect-llama\` (or \`npm run build:native\` in a checkout), ` +
    `or build with EFFECT_LLAMA_PORTABLE=1 for a binary that runs on any CPU of the architecture`
}
