// A seeded, structure-aware GGUF mutator. A case is (base file, seed, index): the same three give the same bytes.
// Each case applies one to three mutations aimed at the fields GgufLayout found (KV value types and lengths,
// array counts, vocabulary arrays, special token ids, hyper-parameters, tensor dims, types and offsets, header
// counts, magic and version) or at raw bytes (bit flips, zeroed runs, truncation, garbage tensor data).
import * as Format from "../../src/gguf/GgufFormat.ts"
import type { KvField, Layout, TensorField } from "./GgufLayout.ts"

export type Op =
  | { readonly op: "write"; readonly at: number; readonly hex: string }
  | { readonly op: "splice"; readonly at: number; readonly remove: number; readonly hex: string }
  | { readonly op: "truncate"; readonly length: number }

export interface Mutation {
  readonly kind: string
  /** What was changed, in words: the key or tensor and the new value. */
  readonly what: string
  readonly ops: ReadonlyArray<Op>
}

export interface Case {
  readonly base: string
  readonly seed: number
  readonly index: number
  readonly mutations: ReadonlyArray<Mutation>
}

// mulberry32 over a seed mixed from (seed, index)
export const rng = (seed: number, index: number) => {
  let state = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <A>(items: ReadonlyArray<A>): A => items[int(items.length)]!
  return { next, int, pick }
}
type Rng = ReturnType<typeof rng>

const u32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(v >>> 0)
  return b.toString("hex")
}
const i32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32LE(v | 0)
  return b.toString("hex")
}
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(BigInt.asUintN(64, v))
  return b.toString("hex")
}
const f32 = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeFloatLE(v)
  return b.toString("hex")
}
const write = (at: number, hex: string): Op => ({ op: "write", at, hex })

const hugeCounts = [0n, 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 62n, 2n ** 63n - 1n, 2n ** 64n - 1n]
const countValue = (r: Rng, current: number): bigint =>
  r.next() < 0.5
    ? BigInt(Math.max(0, current + r.pick([-2, -1, 1, 2, 7, -current])))
    : r.next() < 0.7
    ? r.pick(hugeCounts)
    : BigInt(r.int(2 ** 32))

const numericTypes = new Set<number>([0, 1, 2, 3, 4, 5, 6, 10, 11, 12])
const isNumeric = (kv: KvField) => numericTypes.has(kv.type)

// A new value for a scalar numeric key, encoded in the key's own type.
const numericValue = (r: Rng, kv: KvField, buf: Buffer): string => {
  const name = Format.scalarTypeName(kv.type)!
  if (name === "float32") return f32(r.pick([Number.NaN, Infinity, -Infinity, 0, -1, 1e38, 1e-38, r.next() * 1e6]))
  if (name === "float64") {
    const b = Buffer.alloc(8)
    b.writeDoubleLE(r.pick([Number.NaN, Infinity, 0, -1, 1e300]))
    return b.toString("hex")
  }
  const size = Format.scalarByteSize[name]
  const current = size === 8 ? Number(buf.readBigUInt64LE(kv.valueAt)) : size === 4 ? buf.readUInt32LE(kv.valueAt) : 0
  const candidates = [0, 1, 2, 3, current + 1, current - 1, current * 2, current * 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, r.int(2 ** 32)]
  const v = r.pick(candidates)
  const b = Buffer.alloc(size)
  if (size === 8) b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(Math.max(0, Math.floor(v)))))
  else if (size === 4) b.writeUInt32LE((Math.floor(v) >>> 0))
  else if (size === 2) b.writeUInt16LE(Math.floor(v) & 0xffff)
  else b.writeUInt8(Math.floor(v) & 0xff)
  return b.toString("hex")
}

const describeKv = (kv: KvField) => `'${kv.key}'`

type Strategy = (r: Rng, layout: Layout, buf: Buffer) => Mutation | undefined

const kvType: Strategy = (r, layout) => {
  const kv = r.pick(layout.kvs)
  const type = r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 0xffffffff].filter((t) => t !== kv.type))
  return { kind: "kv-type", what: `${describeKv(kv)} type ${kv.type} -> ${type}`, ops: [write(kv.typeAt, u32(type))] }
}

const kvLength: Strategy = (r, layout) => {
  const kv = r.pick(layout.kvs.filter((k) => k.lengthAt !== undefined))
  const current = kv.count ?? 0
  const v = countValue(r, current)
  const what = kv.count === undefined ? "string length" : "array count"
  return { kind: "kv-length", what: `${describeKv(kv)} ${what} -> ${v}`, ops: [write(kv.lengthAt!, u64(v))] }
}

const keyLength: Strategy = (r, layout) => {
  const kv = r.pick(layout.kvs)
  const length = Buffer.byteLength(kv.key)
  const v = r.next() < 0.6 ? BigInt(Math.max(0, length + r.pick([-length, -1, 1, 3]))) : r.pick(hugeCounts)
  return { kind: "key-length", what: `${describeKv(kv)} key length -> ${v}`, ops: [write(kv.keyLengthAt, u64(v))] }
}

const arrayItemType: Strategy = (r, layout) => {
  const kv = r.pick(layout.kvs.filter((k) => k.itemType !== undefined))
  const type = r.pick([0, 1, 4, 5, 6, 7, 8, 9, 10, 12, 13, 77].filter((t) => t !== kv.itemType))
  return { kind: "array-item-type", what: `${describeKv(kv)} item type ${kv.itemType} -> ${type}`, ops: [write(kv.valueAt, u32(type))] }
}

// Elements of the tokenizer arrays: token strings, scores, token types, merges.
const vocab: Strategy = (r, layout, buf) => {
  const arrays = layout.kvs.filter((k) => k.key.startsWith("tokenizer.ggml.") && k.elements !== undefined && k.elements.length > 0)
  if (arrays.length === 0) return undefined
  const kv = r.pick(arrays)
  const i = r.int(kv.elements!.length)
  const at = kv.elements![i]!
  const where = `${describeKv(kv)}[${i}]`
  if (kv.itemType === Format.GgufValueType.STRING) {
    const length = Number(buf.readBigUInt64LE(at))
    const choice = r.int(4)
    if (choice === 0) {
      const v = r.pick([0n, BigInt(length + 1), BigInt(length + 1000), 2n ** 32n, 2n ** 63n])
      return { kind: "vocab-string-length", what: `${where} length ${length} -> ${v}`, ops: [write(at, u64(v))] }
    }
    if (choice === 1 && length > 0) {
      // invalid UTF-8 or control bytes in place
      const bytes = Buffer.from(Array.from({ length: Math.min(length, 4) }, () => r.pick([0x00, 0xff, 0xc0, 0x80, 0x20, 0x0a])))
      return { kind: "vocab-string-bytes", what: `${where} bytes -> ${bytes.toString("hex")}`, ops: [write(at + 8, bytes.toString("hex"))] }
    }
    if (choice === 2) {
      // replace the element with another string (the file changes length)
      const text = r.pick(["", " ", "a b", "a  b", "\u0000", "<0xZZ>", "<0x100>", "\u2581".repeat(3), "x".repeat(300)])
      const bytes = Buffer.from(text)
      const insert = u64(BigInt(bytes.length)) + bytes.toString("hex")
      return { kind: "vocab-string-replace", what: `${where} -> ${JSON.stringify(text)}`, ops: [{ op: "splice", at, remove: 8 + length, hex: insert }] }
    }
    // a merge without its space, or a token emptied
    const bytes = buf.subarray(at + 8, at + 8 + length)
    const space = bytes.indexOf(0x20)
    if (space >= 0) return { kind: "vocab-merge-space", what: `${where} space removed`, ops: [write(at + 8 + space, "78")] }
    return { kind: "vocab-string-length", what: `${where} length -> 0`, ops: [write(at, u64(0n))] }
  }
  if (kv.itemType === Format.GgufValueType.FLOAT32) {
    const v = r.pick([Number.NaN, Infinity, -Infinity, 3e38, -3e38])
    return { kind: "vocab-score", what: `${where} -> ${v}`, ops: [write(at, f32(v))] }
  }
  if (kv.itemType === Format.GgufValueType.INT32) {
    const v = r.pick([-1, 0, 6, 7, 8, 100, 2 ** 31 - 1, -(2 ** 31)])
    return { kind: "vocab-token-type", what: `${where} -> ${v}`, ops: [write(at, i32(v))] }
  }
  return undefined
}

const specialToken: Strategy = (r, layout) => {
  const ids = layout.kvs.filter((k) => /^tokenizer\.ggml\..*_token_id$/.test(k.key) && k.type === Format.GgufValueType.UINT32)
  if (ids.length === 0) return undefined
  const kv = r.pick(ids)
  const n = layout.kvs.find((k) => k.key === "tokenizer.ggml.tokens")?.count ?? 32000
  const v = r.pick([n, n + 1, n - 1, 2 ** 31, 2 ** 32 - 1, r.int(2 * n)])
  return { kind: "special-token", what: `${describeKv(kv)} -> ${v}`, ops: [write(kv.valueAt, u32(v))] }
}

const hparam: Strategy = (r, layout, buf) => {
  const kv = r.pick(layout.kvs.filter((k) => isNumeric(k) && !k.key.startsWith("tokenizer.")))
  const hex = numericValue(r, kv, buf)
  return { kind: "hparam", what: `${describeKv(kv)} -> 0x${hex}`, ops: [write(kv.valueAt, hex)] }
}

const stringValue: Strategy = (r, layout, buf) => {
  const kv = r.pick(layout.kvs.filter((k) => k.type === Format.GgufValueType.STRING))
  const length = Number(buf.readBigUInt64LE(kv.valueAt))
  const text = r.pick(["", "llama", "qwen2", "gpt2", "bert", "t5", "rwkv", "no_vocab", "plamo2", "llama\u0000", "x".repeat(70)])
  const bytes = Buffer.from(text)
  const insert = u64(BigInt(bytes.length)) + bytes.toString("hex")
  return {
    kind: "kv-string",
    what: `${describeKv(kv)} -> ${JSON.stringify(text)}`,
    ops: [{ op: "splice", at: kv.valueAt, remove: 8 + length, hex: insert }]
  }
}

const pickTensor = (r: Rng, layout: Layout): TensorField => r.pick(layout.tensors)

const tensorDims: Strategy = (r, layout) => {
  const t = pickTensor(r, layout)
  if (r.next() < 0.3 || t.dimsAt.length === 0) {
    const v = r.pick([0, 1, 3, 4, 5, 2 ** 32 - 1].filter((n) => n !== t.dims.length))
    return { kind: "tensor-ndims", what: `'${t.name}' n_dims ${t.dims.length} -> ${v}`, ops: [write(t.nDimsAt, u32(v))] }
  }
  const d = r.int(t.dimsAt.length)
  const current = t.dims[d]!
  const v = r.pick([0n, 1n, BigInt(current - 1), BigInt(current + 1), BigInt(current * 2), 2n ** 32n, 2n ** 63n, BigInt(r.int(2 ** 20))])
  return { kind: "tensor-dim", what: `'${t.name}' dim ${d} ${current} -> ${v}`, ops: [write(t.dimsAt[d]!, u64(v))] }
}

const tensorType: Strategy = (r, layout) => {
  const t = pickTensor(r, layout)
  const v = r.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 20, 24, 28, 30, 31, 34, 35, 39, 40, 41, 100, 2 ** 32 - 1])
  return { kind: "tensor-type", what: `'${t.name}' type ${t.type} -> ${v}`, ops: [write(t.typeAt, u32(v))] }
}

const tensorOffset: Strategy = (r, layout) => {
  const t = pickTensor(r, layout)
  const other = pickTensor(r, layout)
  const v = r.pick([0n, BigInt(t.offset + 1), BigInt(t.offset + 32), BigInt(Math.max(0, t.offset - 32)), BigInt(other.offset),
    BigInt(layout.size), 2n ** 40n, 2n ** 64n - 32n])
  return { kind: "tensor-offset", what: `'${t.name}' offset ${t.offset} -> ${v}`, ops: [write(t.offsetAt, u64(v))] }
}

const tensorName: Strategy = (r, layout, buf) => {
  const t = pickTensor(r, layout)
  const length = Buffer.byteLength(t.name)
  if (r.next() < 0.5) {
    const v = r.pick([0n, BigInt(length - 1), BigInt(length + 1), 64n, 200n, 2n ** 63n])
    return { kind: "tensor-name-length", what: `'${t.name}' name length -> ${v}`, ops: [write(t.nameLengthAt, u64(v))] }
  }
  const i = r.int(length)
  const byte = r.pick([0x00, 0x2e, 0x78, 0xff])
  void buf
  return { kind: "tensor-name", what: `'${t.name}' name byte ${i} -> 0x${byte.toString(16)}`, ops: [write(t.nameLengthAt + 8 + i, byte.toString(16).padStart(2, "0"))] }
}

const headerCount: Strategy = (r, layout) => {
  const tensorsCount = r.next() < 0.5
  const current = tensorsCount ? layout.tensors.length : layout.kvs.length
  const v = countValue(r, current)
  return { kind: "header-count", what: `${tensorsCount ? "tensor" : "kv"} count ${current} -> ${v}`, ops: [write(tensorsCount ? 8 : 16, u64(v))] }
}

const magicOrVersion: Strategy = (r) => {
  if (r.next() < 0.3) {
    const magic = r.pick(["GGUG", "gguf", "GGML", "\u0000GGU", "FUGG"])
    return { kind: "magic", what: `magic -> ${JSON.stringify(magic)}`, ops: [write(0, Buffer.from(magic, "latin1").toString("hex"))] }
  }
  const v = r.pick([0, 1, 2, 4, 0x03000000, 0xffffffff])
  return { kind: "version", what: `version -> ${v}`, ops: [write(4, u32(v))] }
}

const region = (r: Rng, layout: Layout) => (r.next() < 0.75 ? r.int(layout.headerEnd) : r.int(layout.size))

const bitFlips: Strategy = (r, layout, buf) => {
  const n = 1 + r.int(8)
  const ops: Array<Op> = []
  const where: Array<string> = []
  for (let i = 0; i < n; i++) {
    const at = region(r, layout)
    const bit = r.int(8)
    ops.push(write(at, ((buf[at]! ^ (1 << bit)) & 0xff).toString(16).padStart(2, "0")))
    where.push(`${at}:${bit}`)
  }
  return { kind: "bit-flips", what: `bits ${where.join(" ")}`, ops }
}

const truncate: Strategy = (r, layout) => {
  const length = r.next() < 0.6 ? r.int(layout.headerEnd + 64) : layout.headerEnd + r.int(layout.size - layout.headerEnd)
  return { kind: "truncate", what: `to ${length} of ${layout.size} bytes`, ops: [{ op: "truncate", length }] }
}

const zeroRun: Strategy = (r, layout) => {
  const at = region(r, layout)
  const length = Math.min(1 + r.int(r.next() < 0.7 ? 64 : 8192), layout.size - at)
  return { kind: "zero-run", what: `${length} bytes at ${at}`, ops: [write(at, "00".repeat(length))] }
}

// Weights that load but hold NaN, Inf or huge values: generation must survive them.
const garbageData: Strategy = (r, layout) => {
  const t = pickTensor(r, layout)
  const at = layout.dataOffset + t.offset
  const pattern = r.pick(["ffff", "007c", "00fc", "0000c07f", "ffffff7f"])
  const length = Math.min(4096, layout.size - at)
  const hex = pattern.repeat(Math.ceil(length * 2 / pattern.length)).slice(0, length * 2)
  return { kind: "garbage-data", what: `'${t.name}' data starts with ${pattern}`, ops: [write(at, hex)] }
}

const strategies: ReadonlyArray<readonly [number, Strategy]> = [
  [8, kvType],
  [10, kvLength],
  [4, keyLength],
  [5, arrayItemType],
  [14, vocab],
  [6, specialToken],
  [10, hparam],
  [4, stringValue],
  [8, tensorDims],
  [6, tensorType],
  [6, tensorOffset],
  [3, tensorName],
  [4, headerCount],
  [2, magicOrVersion],
  [12, bitFlips],
  [5, truncate],
  [4, zeroRun],
  [4, garbageData]
]
const totalWeight = strategies.reduce((n, [w]) => n + w, 0)

const pickStrategy = (r: Rng): Strategy => {
  let x = r.next() * totalWeight
  for (const [w, s] of strategies) {
    x -= w
    if (x < 0) return s
  }
  return strategies[0]![1]
}

export const makeCase = (base: string, buf: Buffer, layout: Layout, seed: number, index: number): Case => {
  const r = rng(seed, index)
  const count = r.next() < 0.7 ? 1 : r.next() < 0.67 ? 2 : 3
  const mutations: Array<Mutation> = []
  while (mutations.length < count) {
    const m = pickStrategy(r)(r, layout, buf)
    if (m !== undefined) mutations.push(m)
  }
  return { base, seed, index, mutations }
}

// In-place writes first (offsets of the original file), then splices from the back, then a truncation.
export const apply = (buf: Buffer, c: Case): Buffer => {
  const ops = c.mutations.flatMap((m) => m.ops)
  let out = Buffer.from(buf)
  for (const op of ops) {
    if (op.op !== "write") continue
    const bytes = Buffer.from(op.hex, "hex")
    bytes.copy(out, op.at, 0, Math.max(0, Math.min(bytes.length, out.length - op.at)))
  }
  const splices = ops.filter((op): op is Extract<Op, { op: "splice" }> => op.op === "splice").sort((a, b) => b.at - a.at)
  for (const op of splices) {
    out = Buffer.concat([out.subarray(0, op.at), Buffer.from(op.hex, "hex"), out.subarray(op.at + op.remove)])
  }
  const cut = ops.filter((op): op is Extract<Op, { op: "truncate" }> => op.op === "truncate")
  for (const op of cut) out = out.subarray(0, Math.min(out.length, op.length))
  return out
}

export const describe = (c: Case): string =>
  `base ${c.base}, seed ${c.seed}, index ${c.index}: ${c.mutations.map((m) => `${m.kind} (${m.what})`).join("; ")}`
