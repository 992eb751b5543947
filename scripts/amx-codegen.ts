/**
 * Checks, in generated machine code, that every AMX `ldtilecfg` loads a valid tile configuration from read-only
 * storage. ggml used to build the config on the stack and GCC dropped the stores of its rows and columns, so the
 * first tile instruction raised SIGILL (patches/0002-amx-tile-config-in-static-storage.patch). The check works on any
 * x86-64 machine, AMX or not: it compiles ggml's AMX kernels for Sapphire Rapids and reads the object code.
 *
 * Usage:
 *   node scripts/amx-codegen.ts              compile vendor/llama.cpp's AMX kernels and check them
 *   node scripts/amx-codegen.ts FILE...      check existing objects or shared libraries (e.g. a CPU variant)
 *
 * @since 0.2.0
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const ggml = join(root, "vendor", "llama.cpp", "ggml")

/**
 * The 64 bytes ggml's AMX kernels must load: palette 1; tiles 0-1 (B) 8 rows of 64 bytes, 2-3 (A) 16 x 32,
 * 4-7 (C) 16 x 64 (see ggml-cpu/amx/mmq.cpp).
 *
 * @category constants
 * @since 0.2.0
 */
export const expectedTileConfig: Uint8Array = (() => {
  const config = new Uint8Array(64)
  config[0] = 1
  const colsb = [64, 64, 32, 32, 64, 64, 64, 64]
  const rows = [8, 8, 16, 16, 16, 16, 16, 16]
  colsb.forEach((c, i) => {
    config[16 + 2 * i] = c & 0xff
    config[17 + 2 * i] = c >> 8
  })
  rows.forEach((r, i) => (config[48 + i] = r))
  return config
})()

/**
 * One `ldtilecfg` in the code: where its operand points and, when that is static data, the 64 bytes there.
 *
 * @category models
 * @since 0.2.0
 */
export interface TileConfigLoad {
  readonly at: string
  /** "static": a fixed address in the file's data; "register": computed at run time (the stack, a pointer). */
  readonly source: "static" | "register"
  readonly operand: string
  readonly bytes?: Uint8Array
}

const tool = (name: string, args: ReadonlyArray<string>): string =>
  execFileSync(name, args, { encoding: "utf8", maxBuffer: 512 * 1024 * 1024 })

interface Section {
  readonly name: string
  readonly vma: bigint
  readonly size: bigint
  readonly fileOffset: bigint
}

const sectionsOf = (file: string): Array<Section> =>
  tool("objdump", ["-h", file]).split("\n").flatMap((line) => {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(line)
    return m === null ? [] : [{ name: m[1]!, size: BigInt(`0x${m[2]}`), vma: BigInt(`0x${m[3]}`), fileOffset: BigInt(`0x${m[4]}`) }]
  })

const symbolOf = (file: string, name: string): { section: string; value: bigint } | undefined => {
  for (const line of tool("objdump", ["-t", file]).split("\n")) {
    const m = /^([0-9a-f]+)\s.*\s(\S+)\s+[0-9a-f]+\s+(\S+)$/.exec(line)
    if (m !== null && m[3] === name) return { section: m[2]!, value: BigInt(`0x${m[1]}`) }
  }
  return undefined
}

// Reads 64 bytes at an offset into a section (objects, with relocations) or at a virtual address (linked files).
const readAt = (file: string, where: { section: string; offset: bigint } | { vma: bigint }): Uint8Array | undefined => {
  const data = readFileSync(file)
  const sections = sectionsOf(file)
  const section = "section" in where
    ? sections.find((s) => s.name === where.section)
    : sections.find((s) => where.vma >= s.vma && where.vma < s.vma + s.size)
  if (section === undefined) return undefined
  const offset = "section" in where ? where.offset : where.vma - section.vma
  const start = Number(section.fileOffset + offset)
  return new Uint8Array(data.subarray(start, start + 64))
}

/**
 * Every `ldtilecfg` in `file` (an object or a shared library), with the bytes it loads where they are static.
 *
 * @category constructors
 * @since 0.2.0
 */
export const tileConfigLoads = (file: string): Array<TileConfigLoad> => {
  const lines = tool("objdump", ["-dr", "--no-show-raw-insn", file]).split("\n")
  const loads: Array<TileConfigLoad> = []
  lines.forEach((line, i) => {
    const m = /^\s*([0-9a-f]+):\s+ldtilecfg\s+(\S+)(?:\s+#\s+([0-9a-f]+))?/.exec(line)
    if (m === null) return
    const [, at, operand, comment] = m as unknown as [string, string, string, string | undefined]
    if (!operand.endsWith("(%rip)")) {
      loads.push({ at, source: "register", operand })
      return
    }
    // In an object the displacement is a PC32 relocation (addend + 4 = offset into the target); linked, objdump
    // prints the absolute address as a comment.
    const reloc = /R_X86_64_PC32\s+([^\s+-]+)([+-]0x[0-9a-f]+)?/.exec(lines[i + 1] ?? "")
    let bytes: Uint8Array | undefined
    if (reloc !== null) {
      const addend = BigInt(reloc[2]?.replace("+", "") ?? "0") + 4n
      const target = reloc[1]!
      const symbol = target.startsWith(".") ? { section: target, value: 0n } : symbolOf(file, target)
      if (symbol !== undefined) bytes = readAt(file, { section: symbol.section, offset: symbol.value + addend })
    } else if (comment !== undefined) {
      bytes = readAt(file, { vma: BigInt(`0x${comment}`) })
    }
    loads.push(bytes === undefined ? { at, source: "static", operand } : { at, source: "static", operand, bytes })
  })
  return loads
}

/**
 * What is wrong with the loads: none at all, a config computed at run time, or static bytes that differ.
 *
 * @category constructors
 * @since 0.2.0
 */
export const tileConfigProblems = (loads: ReadonlyArray<TileConfigLoad>): Array<string> => {
  if (loads.length === 0) return ["no ldtilecfg found: the AMX kernels were not compiled in"]
  return loads.flatMap((load) => {
    if (load.source === "register") return [`${load.at}: ldtilecfg ${load.operand} loads a config built at run time`]
    if (load.bytes === undefined) return [`${load.at}: ldtilecfg ${load.operand}: its bytes could not be read`]
    const same = load.bytes.length === 64 && load.bytes.every((b, i) => b === expectedTileConfig[i])
    return same ? [] : [`${load.at}: ldtilecfg ${load.operand} loads ${Buffer.from(load.bytes).toString("hex")}`]
  })
}

/**
 * Compiles `source` (default: ggml's AMX kernels, vendor/llama.cpp/ggml/src/ggml-cpu/amx/mmq.cpp) for Sapphire
 * Rapids with the addon's optimization flags into an object in `dir`; returns its path.
 *
 * @category constructors
 * @since 0.2.0
 */
export const compileForSapphireRapids = (dir: string, source = join(ggml, "src", "ggml-cpu", "amx", "mmq.cpp")): string => {
  const out = join(dir, "amx-kernels.o")
  const cxx = process.env.CXX ?? "c++"
  tool(cxx, [
    "-O3", "-DNDEBUG", "-std=gnu++17", "-fPIC", "-march=sapphirerapids", "-D_GNU_SOURCE", "-DGGML_USE_CPU_REPACK",
    "-I", join(ggml, "src"), "-I", join(ggml, "src", "ggml-cpu"), "-I", join(ggml, "include"),
    "-c", source, "-o", out
  ])
  return out
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(tmpdir(), "amx-codegen-"))
  try {
    const files = process.argv.length > 2 ? process.argv.slice(2) : [compileForSapphireRapids(dir)]
    let bad = 0
    for (const file of files) {
      const loads = tileConfigLoads(file)
      const problems = tileConfigProblems(loads)
      bad += problems.length
      console.log(`${file}: ${loads.length} ldtilecfg, ${problems.length === 0 ? "all load the static config" : "problems:"}`)
      for (const p of problems) console.log(`  ${p}`)
    }
    process.exitCode = bad === 0 ? 0 : 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
