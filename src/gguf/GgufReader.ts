/**
 * Reads the header of a GGUF file: version, metadata and tensor infos, never
 * the tensor data.
 *
 * The file is pulled through a `FileHandle` in chunks, so a 500 MB model costs
 * only the bytes of its header. Everything is validated against the file size
 * before it is trusted: a truncated or corrupt file fails with a typed
 * `GgufError` that names the byte offset, never with a `RangeError` or a hang.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { open } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"
import { GgufError } from "./GgufError.ts"
import type { GgufErrorReason } from "./GgufError.ts"
import * as Format from "./GgufFormat.ts"
import type { GgufArray, GgufValue, ScalarTypeName } from "./GgufFormat.ts"

/**
 * One tensor's description from the header.
 *
 * @category models
 * @since 0.1.0
 */
export interface GgufTensorInfo {
  readonly name: string
  /** `shape[0]` is the innermost dimension (ggml `ne[0]`, the row length). */
  readonly shape: ReadonlyArray<number>
  /** ggml type id, see `GgufFormat.GgmlType`. */
  readonly type: number
  readonly typeName: string
  /** Offset of the data relative to `GgufFile.dataOffset`. */
  readonly offset: number
  readonly elementCount: number
  readonly byteSize: number
}

/**
 * The parsed header of a GGUF file.
 *
 * @category models
 * @since 0.1.0
 */
export interface GgufFile {
  readonly path: string
  readonly version: number
  readonly fileSize: number
  readonly alignment: number
  readonly metadata: Format.GgufMetadata
  readonly tensors: ReadonlyArray<GgufTensorInfo>
  /** Absolute offset of the data section (end of the header, padded to `alignment`). */
  readonly dataOffset: number
}

/**
 * Read options.
 *
 * @category models
 * @since 0.1.0
 */
export interface ReadOptions {
  /**
   * Arrays with more elements than this are stepped over and returned as
   * `{ type: "skipped-array" }` (their bytes are still bounds-checked).
   * Use it to read only the shape of a model whose vocabulary you do not need.
   */
  readonly maxArrayLength?: number
  /** First read size in bytes (default 1 MiB); the window grows as needed. */
  readonly chunkSize?: number
}

// Sanity caps: values above these cannot come from a real file, so they mean corruption.
const MAX_COUNT = 2 ** 32
const MAX_HEADER_COUNT = 2 ** 24
// Largest array decoded into a JS array (vocabularies have ~256k entries); longer ones need maxArrayLength.
const MAX_DECODED_ARRAY = 2 ** 24
// Smallest encodings: a key-value pair (8-byte length, 1-byte key, type, 1-byte value) and a tensor info.
const MIN_KV_BYTES = 8 + 1 + 4 + 1
const MIN_TENSOR_INFO_BYTES = 8 + 1 + 4 + 4 + 8
const TWO_32 = 2 ** 32

/** Thrown inside the parser; mapped to a GgufError at the edge. */
class ParseFailure {
  readonly reason: GgufErrorReason
  readonly message: string
  readonly offset: number
  constructor(reason: GgufErrorReason, message: string, offset: number) {
    this.reason = reason
    this.message = message
    this.offset = offset
  }
}

/** Thrown when the window ends before the file does; the driver refills and retries. */
class NeedMore {
  readonly until: number
  constructor(until: number) {
    this.until = until
  }
}

/** A window of the file with an absolute read position. */
class Cursor {
  buf: Buffer = Buffer.alloc(0)
  // DataView reads are intrinsics in V8; Buffer#readUInt32LE is a plain JS call.
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
  /** File offset of `buf[0]`. */
  start = 0
  pos = 0
  /** Where a refill restarts: the start of the current step or array element. */
  mark = 0
  readonly fileSize: number
  constructor(fileSize: number) {
    this.fileSize = fileSize
  }

  need(n: number, what: string): number {
    const end = this.pos + n
    if (end > this.start + this.buf.length) {
      if (end > this.fileSize) {
        throw new ParseFailure(
          "Truncated",
          `file ends at byte ${this.fileSize} inside ${what} (needs ${n} bytes at offset ${this.pos})`,
          this.pos
        )
      }
      throw new NeedMore(end)
    }
    const at = this.pos - this.start
    this.pos = end
    return at
  }
  u32(what: string): number {
    return this.view.getUint32(this.need(4, what), true)
  }
  /** A u64 used as a count, length, dimension or offset: must fit a safe integer. */
  size(what: string): number {
    const at = this.pos
    const i = this.need(8, what)
    const lo = this.view.getUint32(i, true)
    const hi = this.view.getUint32(i + 4, true)
    if (hi >= 2 ** 21) throw new ParseFailure("Corrupt", `${what} at offset ${at} is impossibly large`, at)
    return hi * TWO_32 + lo
  }
  string(what: string): string {
    const at = this.pos
    const length = this.size(what)
    if (length > MAX_COUNT) {
      throw new ParseFailure("Corrupt", `length ${length} of ${what} at offset ${at} is impossible`, at)
    }
    const i = this.need(length, what)
    return this.buf.toString("utf8", i, i + length)
  }
  scalar(type: ScalarTypeName, what: string): number | bigint | boolean | string {
    const v = this.view
    switch (type) {
      case "uint8":
        return v.getUint8(this.need(1, what))
      case "int8":
        return v.getInt8(this.need(1, what))
      case "uint16":
        return v.getUint16(this.need(2, what), true)
      case "int16":
        return v.getInt16(this.need(2, what), true)
      case "uint32":
        return v.getUint32(this.need(4, what), true)
      case "int32":
        return v.getInt32(this.need(4, what), true)
      case "float32":
        return v.getFloat32(this.need(4, what), true)
      case "float64":
        return v.getFloat64(this.need(8, what), true)
      case "uint64":
        return v.getBigUint64(this.need(8, what), true)
      case "int64":
        return v.getBigInt64(this.need(8, what), true)
      case "bool":
        return v.getUint8(this.need(1, what)) !== 0
      case "string":
        return this.string(what)
    }
  }
}

function fail(reason: GgufErrorReason, message: string, offset: number): never {
  throw new ParseFailure(reason, message, offset)
}

const valueType = (cur: Cursor, key: string, at: number, inArray: boolean): ScalarTypeName | "array" => {
  const id = cur.u32(`type of key '${key}'`)
  const name = Format.scalarTypeName(id)
  if (name !== undefined) return name
  if (id === Format.GgufValueType.ARRAY && !inArray) return "array"
  return fail("Corrupt", `key '${key}' at offset ${at} has ${inArray ? "array element" : "value"} type ${id}, which is not supported`, at)
}

type ValueHead =
  | { readonly kind: "scalar"; readonly value: GgufValue }
  | { readonly kind: "array"; readonly itemType: ScalarTypeName; readonly count: number; readonly skip: boolean }

// The key's type and, for an array, its element type and count (bounds-checked).
const parseValueHead = (cur: Cursor, key: string, options: ReadOptions): ValueHead => {
  const at = cur.pos
  const type = valueType(cur, key, at, false)
  if (type !== "array") return { kind: "scalar", value: { type, value: cur.scalar(type, `value of '${key}'`) } as GgufValue }
  const itemType = valueType(cur, key, at, true) as ScalarTypeName
  const countAt = cur.pos
  const count = cur.size(`length of array '${key}'`)
  if (count > MAX_COUNT) fail("Corrupt", `array '${key}' at offset ${countAt} has impossible length ${count}`, countAt)
  const itemSize = Format.scalarByteSize[itemType]
  // Each string takes at least its 8-byte length.
  if (cur.pos + count * (itemSize === 0 ? 8 : itemSize) > cur.fileSize) {
    fail("Truncated", `array '${key}' at offset ${countAt} has ${count} elements, more than the file holds`, countAt)
  }
  const skip = options.maxArrayLength !== undefined && count > options.maxArrayLength
  if (!skip && count > MAX_DECODED_ARRAY) {
    const hint = "too many to decode (pass maxArrayLength to skip it)"
    fail("Corrupt", `array '${key}' at offset ${countAt} has ${count} elements, ${hint}`, countAt)
  }
  // Fixed-size items of a skipped array are jumped over: the bounds were checked above.
  if (skip && itemSize > 0) cur.pos += count * itemSize
  return { kind: "array", itemType, count, skip }
}

const parseTensorInfo = (cur: Cursor, index: number): Omit<GgufTensorInfo, "byteSize"> & { at: number } => {
  const at = cur.pos
  const name = cur.string(`name of tensor ${index}`)
  const nameBytes = Buffer.byteLength(name)
  if (nameBytes >= Format.MAX_NAME) {
    fail("Corrupt", `tensor ${index} at offset ${at} has a name of ${nameBytes} bytes (limit ${Format.MAX_NAME - 1})`, at)
  }
  const nDims = cur.u32(`dimension count of '${name}'`)
  if (nDims > Format.MAX_DIMS) fail("Corrupt", `tensor '${name}' at offset ${at} has ${nDims} dimensions (limit ${Format.MAX_DIMS})`, at)
  const shape: Array<number> = []
  let elementCount = 1
  for (let d = 0; d < nDims; d++) {
    const n = cur.size(`dimension ${d} of '${name}'`)
    if (n === 0) fail("Corrupt", `tensor '${name}' at offset ${at} has an empty dimension ${d}`, at)
    elementCount *= n
    if (elementCount > Number.MAX_SAFE_INTEGER) fail("Corrupt", `tensor '${name}' at offset ${at} has too many elements`, at)
    shape.push(n)
  }
  const type = cur.u32(`type of '${name}'`)
  const traits = Format.ggmlTypeTraits(type)
  if (traits === undefined) fail("Corrupt", `tensor '${name}' at offset ${at} has unknown ggml type ${type}`, at)
  if ((shape[0] ?? 1) % traits.blockSize !== 0) {
    const problem = `rows of ${shape[0]} elements, not a multiple of the ${traits.name} block size ${traits.blockSize}`
    fail("Corrupt", `tensor '${name}' at offset ${at} has ${problem}`, at)
  }
  const offset = cur.size(`data offset of '${name}'`)
  return { name, shape, type, typeName: traits.name, offset, elementCount, at }
}

const readFully = async (fh: FileHandle, position: number, length: number): Promise<Buffer> => {
  const buf = Buffer.allocUnsafe(length)
  let filled = 0
  while (filled < length) {
    const { bytesRead } = await fh.read(buf, filled, length - filled, position + filled)
    if (bytesRead === 0) break
    filled += bytesRead
  }
  return filled === length ? buf : buf.subarray(0, filled)
}

const parse = async (fh: FileHandle, path: string, fileSize: number, options: ReadOptions, signal: AbortSignal): Promise<GgufFile> => {
  const chunk = Math.max(4096, options.chunkSize ?? 1 << 20)
  const cur = new Cursor(fileSize)
  const refill = async (from: number, until: number) => {
    if (signal.aborted) throw signal.reason
    const size = Math.min(fileSize - from, Math.max(chunk, until - from))
    cur.buf = await readFully(fh, from, size)
    cur.view = new DataView(cur.buf.buffer, cur.buf.byteOffset, cur.buf.byteLength)
    cur.start = from
    cur.pos = from
    if (cur.buf.length < size) fail("Truncated", `file shrank while being read (at offset ${from + cur.buf.length})`, from)
  }
  // Runs a synchronous step. When the window ends first, refills from `cur.mark`
  // (the step's start, or the last array element read) and calls the step again.
  const step = async <A>(f: () => A): Promise<A> => {
    cur.mark = cur.pos
    for (;;) {
      try {
        return f()
      } catch (e) {
        if (!(e instanceof NeedMore)) throw e
        await refill(cur.mark, e.until)
      }
    }
  }
  const readArray = async (key: string, itemType: ScalarTypeName, count: number, skip: boolean): Promise<GgufValue> => {
    const what = `element of array '${key}'`
    if (skip) {
      if (Format.scalarByteSize[itemType] === 0) {
        let i = 0
        await step(() => {
          while (i < count) {
            // Fast path: hop over strings that lie wholly inside the window.
            const view = cur.view
            const end = cur.buf.length
            let p = cur.pos - cur.start
            while (i < count && p + 8 <= end) {
              const next = p + 8 + view.getUint32(p, true)
              if (view.getUint32(p + 4, true) !== 0 || next > end) break
              p = next
              i++
            }
            cur.pos = cur.mark = cur.start + p
            if (i === count) break
            // Slow path for the string at the window's edge: refill, Truncated or Corrupt.
            const at = cur.pos
            const length = cur.size(what)
            if (length > MAX_COUNT) fail("Corrupt", `length ${length} of ${what} at offset ${at} is impossible`, at)
            cur.need(length, what)
            cur.mark = cur.pos
            i++
          }
        })
      }
      return { type: "skipped-array", itemType, length: count }
    }
    const items = new Array(count)
    let i = 0
    await step(() => {
      for (; i < count; i++) {
        items[i] = cur.scalar(itemType, what)
        cur.mark = cur.pos
      }
    })
    return { type: "array", itemType, value: items } as GgufArray
  }

  await refill(0, Math.min(fileSize, 24))
  const magic = cur.buf.toString("latin1", 0, Math.min(4, cur.buf.length))
  if (magic !== Format.MAGIC) {
    const problem = fileSize < 4
      ? `file has ${fileSize} bytes, too short for the GGUF magic`
      : `bad magic ${JSON.stringify(magic)} at offset 0, expected "GGUF"`
    fail("NotGguf", problem, 0)
  }
  cur.pos = 4
  const version = cur.u32("version")
  if ((version & 0xffff) === 0 && version !== 0) {
    fail("UnsupportedVersion", `version ${version} at offset 4 looks byte-swapped: big-endian GGUF files are not supported`, 4)
  }
  if (version !== 2 && version !== 3) fail("UnsupportedVersion", `GGUF version ${version} at offset 4 is not supported (only 2 and 3)`, 4)
  const nTensors = cur.size("tensor count")
  const nKv = cur.size("metadata count")
  if (nTensors > MAX_HEADER_COUNT) fail("Corrupt", `tensor count ${nTensors} at offset 8 is impossible`, 8)
  if (nKv > MAX_HEADER_COUNT) fail("Corrupt", `metadata count ${nKv} at offset 16 is impossible`, 16)
  const minimum = 24 + nKv * MIN_KV_BYTES + nTensors * MIN_TENSOR_INFO_BYTES
  if (minimum > fileSize) {
    const declared = `header declares ${nKv} keys and ${nTensors} tensors`
    fail("Truncated", `${declared}, which need at least ${minimum} bytes; the file has ${fileSize}`, 8)
  }

  const metadata = new Map<string, GgufValue>()
  for (let i = 0; i < nKv; i++) {
    const [key, head, at] = await step(() => {
      const at = cur.pos
      const key = cur.string(`key ${i}`)
      return [key, parseValueHead(cur, key, options), at] as const
    })
    const value = head.kind === "scalar" ? head.value : await readArray(key, head.itemType, head.count, head.skip)
    if (key.length === 0) fail("Corrupt", `key ${i} at offset ${at} is empty`, at)
    if (metadata.has(key)) fail("Corrupt", `duplicate key '${key}' at offset ${at}`, at)
    metadata.set(key, value)
  }

  const alignmentValue = metadata.get("general.alignment")
  let alignment = Format.DEFAULT_ALIGNMENT
  if (alignmentValue !== undefined) {
    if (alignmentValue.type !== "uint32") fail("Corrupt", `general.alignment must be uint32, not ${alignmentValue.type}`, 0)
    alignment = alignmentValue.value
    if (alignment === 0 || (alignment & (alignment - 1)) !== 0) fail("Corrupt", `general.alignment ${alignment} is not a power of two`, 0)
  }

  const tensors: Array<GgufTensorInfo> = []
  const names = new Set<string>()
  for (let i = 0; i < nTensors; i++) {
    const { at, ...info } = await step(() => parseTensorInfo(cur, i))
    if (names.has(info.name)) fail("Corrupt", `duplicate tensor name '${info.name}' at offset ${at}`, at)
    if (info.offset % alignment !== 0) {
      fail("Corrupt", `tensor '${info.name}' at offset ${at} has data offset ${info.offset}, not aligned to ${alignment}`, at)
    }
    names.add(info.name)
    tensors.push({ ...info, byteSize: Format.tensorByteSize(info.type, info.shape)! })
  }

  const dataOffset = Format.alignTo(cur.pos, alignment)
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset)
  let end = 0
  for (const t of byOffset) {
    const at = dataOffset + t.offset
    if (t.offset < end) fail("Corrupt", `tensor '${t.name}' data at ${at} overlaps the previous tensor`, at)
    end = t.offset + t.byteSize
    if (dataOffset + end > fileSize) {
      fail("Truncated", `tensor '${t.name}' data ends at byte ${dataOffset + end}, past the end of the file (${fileSize} bytes)`, at)
    }
  }
  return { path, version, fileSize, alignment, metadata, tensors, dataOffset }
}

const ioError = (path: string, reason: GgufErrorReason, cause: unknown): GgufError => {
  const code = (cause as { code?: unknown } | null)?.code
  if (code === "ENOENT" || code === "ENOTDIR") return new GgufError({ path, reason: "NotFound", message: `no such file: ${path}`, cause })
  if (code === "EISDIR") return new GgufError({ path, reason: "NotAFile", message: `${path} is a directory`, cause })
  return new GgufError({ path, reason, message: `cannot read ${path}: ${String((cause as Error)?.message ?? cause)}`, cause })
}

const toGgufError = (path: string) => (cause: unknown): GgufError =>
  cause instanceof ParseFailure
    ? new GgufError({ path, reason: cause.reason, message: `${path}: ${cause.message}`, offset: cause.offset })
    : cause instanceof GgufError
    ? cause
    : ioError(path, "ReadFailed", cause)

/**
 * Reads and validates a GGUF header.
 *
 * **Details** Checks the magic, the version (2 or 3), every count and length
 * against the file size, value and tensor types, tensor names and shapes,
 * `general.alignment`, and that every tensor's data is aligned, does not
 * overlap another and lies inside the file.
 *
 * @category decoding
 * @since 0.1.0
 */
export const read = (path: string, options: ReadOptions = {}): Effect.Effect<GgufFile, GgufError> =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => open(path, "r"), catch: (e) => ioError(path, "ReadFailed", e) }),
    (fh) =>
      Effect.tryPromise({
        try: async (signal) => {
          const stat = await fh.stat()
          if (!stat.isFile()) throw new GgufError({ path, reason: "NotAFile", message: `${path} is not a regular file` })
          return parse(fh, path, stat.size, options, signal)
        },
        catch: toGgufError(path)
      }),
    (fh) => Effect.promise(() => fh.close().catch(() => undefined))
  )

/**
 * The value of a metadata key.
 *
 * @category getters
 * @since 0.1.0
 */
export const getValue = (file: GgufFile, key: string): Option.Option<GgufValue> => Option.fromUndefinedOr(file.metadata.get(key))

/**
 * A string value, if the key holds one.
 *
 * @category getters
 * @since 0.1.0
 */
export const getString = (file: GgufFile, key: string): Option.Option<string> => {
  const v = file.metadata.get(key)
  return v?.type === "string" ? Option.some(v.value) : Option.none()
}

/**
 * A numeric value of any integer or float type (64-bit integers converted to `number`).
 *
 * @category getters
 * @since 0.1.0
 */
export const getNumber = (file: GgufFile, key: string): Option.Option<number> => {
  const v = file.metadata.get(key)
  if (v === undefined || v.type === "array" || v.type === "skipped-array") return Option.none()
  return typeof v.value === "number" || typeof v.value === "bigint" ? Option.some(Number(v.value)) : Option.none()
}

/**
 * A boolean value, if the key holds one.
 *
 * @category getters
 * @since 0.1.0
 */
export const getBoolean = (file: GgufFile, key: string): Option.Option<boolean> => {
  const v = file.metadata.get(key)
  return v?.type === "bool" ? Option.some(v.value) : Option.none()
}

/**
 * An array value, if the key holds a fully read array.
 *
 * @category getters
 * @since 0.1.0
 */
export const getArray = (file: GgufFile, key: string): Option.Option<GgufArray> => {
  const v = file.metadata.get(key)
  return v?.type === "array" ? Option.some(v) : Option.none()
}

/**
 * The value of a key, or a `MissingKey` failure.
 *
 * @category getters
 * @since 0.1.0
 */
export const requireValue = (file: GgufFile, key: string): Effect.Effect<GgufValue, GgufError> => {
  const v = file.metadata.get(key)
  return v === undefined
    ? Effect.fail(
      new GgufError({ path: file.path, reason: "MissingKey", message: `${file.path}: metadata key '${key}' is missing` })
    )
    : Effect.succeed(v)
}

/**
 * The tensor with the given name.
 *
 * @category getters
 * @since 0.1.0
 */
export const getTensor = (file: GgufFile, name: string): Option.Option<GgufTensorInfo> =>
  Option.fromUndefinedOr(file.tensors.find((t) => t.name === name))
