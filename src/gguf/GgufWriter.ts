/**
 * Writes GGUF v3 files: metadata, tensor infos and tensor data streamed from
 * producers, so a 500 MB model goes to disk without being held in memory.
 *
 * The file is written to a temporary name next to the target and renamed at
 * the end. A failed or interrupted write removes the temporary file, so a
 * half-written model never sits under the final name.
 *
 * Layout (as `gguf.cpp` and `gguf_writer.py` write it): header, metadata,
 * tensor infos, zero padding to the alignment, then each tensor's data in
 * input order, each padded to the alignment.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { open, rename, unlink } from "node:fs/promises"
import type { FileHandle } from "node:fs/promises"
import { GgufError } from "./GgufError.ts"
import * as Format from "./GgufFormat.ts"
import type { GgufValue, ScalarTypeName } from "./GgufFormat.ts"

/**
 * One tensor to write. `data` is the encoded bytes in ggml layout: either one
 * buffer or a stream of chunks whose lengths add up to the tensor's byte size.
 *
 * @category models
 * @since 0.1.0
 */
export interface TensorInput<E = never> {
  readonly name: string
  /** `shape[0]` is the innermost dimension (ggml `ne[0]`, the row length). */
  readonly shape: ReadonlyArray<number>
  /** ggml type id, see `GgufFormat.GgmlType`. */
  readonly type: number
  readonly data: Uint8Array | Stream.Stream<Uint8Array, E>
}

/**
 * What to write. Metadata is written in iteration order; `general.alignment`
 * (uint32, a power of two) sets the data alignment, 32 by default.
 *
 * @category models
 * @since 0.1.0
 */
export interface WriteInput<E = never> {
  readonly metadata: Iterable<readonly [string, GgufValue]>
  readonly tensors?: ReadonlyArray<TensorInput<E>>
}

/**
 * Where the data went.
 *
 * @category models
 * @since 0.1.0
 */
export interface WriteResult {
  readonly path: string
  readonly fileSize: number
  readonly dataOffset: number
}

const INTEGER_RANGES: { readonly [K in Format.NumberTypeName]?: readonly [number, number] } = {
  uint8: [0, 0xff],
  int8: [-0x80, 0x7f],
  uint16: [0, 0xffff],
  int16: [-0x8000, 0x7fff],
  uint32: [0, 0xffffffff],
  int32: [-0x80000000, 0x7fffffff]
}
const BIGINT_RANGES = { uint64: [0n, 2n ** 64n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n] } as const

/** Growable little-endian buffer for the header. */
class ByteSink {
  buf = Buffer.allocUnsafe(1 << 16)
  len = 0
  /** Reserves `n` bytes and returns their offset; call it before reading `this.buf`, which it may replace. */
  ensure(n: number): number {
    if (this.len + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n))
      this.buf.copy(next, 0, 0, this.len)
      this.buf = next
    }
    const at = this.len
    this.len += n
    return at
  }
  u32(v: number) {
    const at = this.ensure(4)
    this.buf.writeUInt32LE(v, at)
  }
  /** A non-negative safe integer as u64 (two u32 writes: no BigInt per string). */
  u64(v: number) {
    const at = this.ensure(8)
    this.buf.writeUInt32LE(v % 2 ** 32, at)
    this.buf.writeUInt32LE(Math.floor(v / 2 ** 32), at + 4)
  }
  string(s: string) {
    // Reserve the UTF-8 worst case, write once, then give back what was not used.
    const at = this.ensure(8 + s.length * 3)
    const n = this.buf.write(s, at + 8, "utf8")
    this.buf.writeUInt32LE(n, at)
    this.buf.writeUInt32LE(0, at + 4)
    this.len = at + 8 + n
  }
  zeros(n: number) {
    const at = this.ensure(n)
    this.buf.fill(0, at, at + n)
  }
  scalar(type: ScalarTypeName, v: unknown) {
    if (type === "string") return this.string(v as string)
    const at = this.ensure(Format.scalarByteSize[type])
    const b = this.buf
    switch (type) {
      case "uint8":
        return b.writeUInt8(v as number, at)
      case "int8":
        return b.writeInt8(v as number, at)
      case "uint16":
        return b.writeUInt16LE(v as number, at)
      case "int16":
        return b.writeInt16LE(v as number, at)
      case "uint32":
        return b.writeUInt32LE(v as number, at)
      case "int32":
        return b.writeInt32LE(v as number, at)
      case "float32":
        return b.writeFloatLE(v as number, at)
      case "float64":
        return b.writeDoubleLE(v as number, at)
      case "uint64":
        return b.writeBigUInt64LE(v as bigint, at)
      case "int64":
        return b.writeBigInt64LE(v as bigint, at)
      case "bool":
        return b.writeUInt8(v ? 1 : 0, at)
    }
  }
}

// Returns a reason the value cannot be written, or undefined when it fits its type.
const checkScalar = (type: ScalarTypeName, v: unknown): string | undefined => {
  if (type === "string") return typeof v === "string" ? undefined : "expected a string"
  if (type === "bool") return typeof v === "boolean" ? undefined : "expected a boolean"
  if (type === "uint64" || type === "int64") {
    const [lo, hi] = BIGINT_RANGES[type]
    return typeof v === "bigint" && v >= lo && v <= hi ? undefined : `expected a bigint in [${lo}, ${hi}]`
  }
  if (typeof v !== "number") return "expected a number"
  const range = INTEGER_RANGES[type]
  if (range === undefined) return undefined
  return Number.isInteger(v) && v >= range[0] && v <= range[1] ? undefined : `expected an integer in [${range[0]}, ${range[1]}]`
}

interface Layout {
  readonly header: Buffer
  readonly sizes: ReadonlyArray<number>
  readonly alignment: number
  readonly fileSize: number
}

function invalid(path: string, message: string): never {
  throw new GgufError({ path, reason: "InvalidInput", message: `${path}: ${message}` })
}

// Validates everything and encodes the header (magic through padding) in memory.
const layout = (path: string, input: WriteInput<unknown>): Layout => {
  const sink = new ByteSink()
  const tensors = input.tensors ?? []
  const entries = [...input.metadata]
  let alignment = Format.DEFAULT_ALIGNMENT
  const magicAt = sink.ensure(4)
  sink.buf.write(Format.MAGIC, magicAt, "latin1")
  sink.u32(Format.VERSION)
  sink.u64(tensors.length)
  sink.u64(entries.length)
  const keys = new Set<string>()
  for (const [key, value] of entries) {
    if (key.length === 0) invalid(path, "metadata key is empty")
    if (keys.has(key)) invalid(path, `duplicate metadata key '${key}'`)
    keys.add(key)
    if (key === "general.alignment") {
      if (value.type !== "uint32" || value.value === 0 || (value.value & (value.value - 1)) !== 0) {
        invalid(path, "general.alignment must be a uint32 power of two")
      }
      alignment = value.value
    }
    sink.string(key)
    if (value.type === "skipped-array") invalid(path, `'${key}' is a skipped array: read the source without maxArrayLength`)
    if (value.type === "array") {
      const itemId = Format.scalarTypeId[value.itemType]
      if (itemId === undefined) invalid(path, `array '${key}' has unsupported element type ${String(value.itemType)}`)
      sink.u32(Format.GgufValueType.ARRAY)
      sink.u32(itemId)
      sink.u64(value.value.length)
      for (const item of value.value) {
        const problem = checkScalar(value.itemType, item)
        if (problem !== undefined) invalid(path, `array '${key}' element ${String(item)}: ${problem}`)
        sink.scalar(value.itemType, item)
      }
    } else {
      const id = Format.scalarTypeId[value.type]
      if (id === undefined) invalid(path, `'${key}' has unsupported type ${String(value.type)}`)
      const problem = checkScalar(value.type, value.value)
      if (problem !== undefined) invalid(path, `'${key}' value ${String(value.value)}: ${problem}`)
      sink.u32(id)
      sink.scalar(value.type, value.value)
    }
  }
  const names = new Set<string>()
  const sizes: Array<number> = []
  let offset = 0
  for (const t of tensors) {
    const nameBytes = Buffer.byteLength(t.name, "utf8")
    if (nameBytes === 0 || nameBytes >= Format.MAX_NAME) {
      invalid(path, `tensor name '${t.name}' must have 1 to ${Format.MAX_NAME - 1} bytes`)
    }
    if (names.has(t.name)) invalid(path, `duplicate tensor name '${t.name}'`)
    names.add(t.name)
    if (t.shape.length === 0 || t.shape.length > Format.MAX_DIMS || t.shape.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
      invalid(path, `tensor '${t.name}' has shape [${t.shape.join(", ")}]: 1 to ${Format.MAX_DIMS} positive dimensions needed`)
    }
    const size = Format.tensorByteSize(t.type, t.shape)
    if (size === undefined) {
      const traits = Format.ggmlTypeTraits(t.type)
      invalid(path, traits === undefined
        ? `tensor '${t.name}' has unknown ggml type ${t.type}`
        : `tensor '${t.name}' rows of ${t.shape[0]} elements are not a multiple of the ${traits.name} block size ${traits.blockSize}`)
    }
    sink.string(t.name)
    sink.u32(t.shape.length)
    for (const n of t.shape) sink.u64(n)
    sink.u32(t.type)
    sink.u64(offset)
    sizes.push(size)
    offset += Format.alignTo(size, alignment)
  }
  sink.zeros(Format.alignTo(sink.len, alignment) - sink.len)
  return { header: sink.buf.subarray(0, sink.len), sizes, alignment, fileSize: sink.len + offset }
}

const STAGING = 4 << 20
const ZEROS = new Uint8Array(4096)

/** Coalesces small writes into a staging buffer; large chunks go straight through. */
const makeOutput = (fh: FileHandle, path: string) => {
  const staging = Buffer.allocUnsafe(STAGING)
  let staged = 0
  const fail = (cause: unknown) =>
    new GgufError({ path, reason: "WriteFailed", message: `cannot write ${path}: ${String((cause as Error)?.message ?? cause)}`, cause })
  const writeAll = (bytes: Uint8Array) =>
    Effect.tryPromise({
      try: async () => {
        let done = 0
        while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done)).bytesWritten
      },
      catch: fail
    })
  const flush = Effect.suspend(() => {
    if (staged === 0) return Effect.void
    const bytes = staging.subarray(0, staged)
    staged = 0
    return writeAll(bytes)
  })
  const write = (bytes: Uint8Array): Effect.Effect<void, GgufError> =>
    Effect.suspend(() => {
      if (bytes.length >= STAGING / 2) return Effect.andThen(flush, writeAll(bytes))
      if (staged + bytes.length > STAGING) return Effect.andThen(flush, write(bytes))
      staging.set(bytes, staged)
      staged += bytes.length
      return Effect.void
    })
  const zeros = (n: number): Effect.Effect<void, GgufError> =>
    n <= 0 ? Effect.void : Effect.andThen(write(ZEROS.subarray(0, Math.min(n, ZEROS.length))), zeros(n - ZEROS.length))
  return { write, zeros, flush }
}

const writeTensor = <E>(out: ReturnType<typeof makeOutput>, path: string, t: TensorInput<E>, size: number, alignment: number) => {
  const mismatch = (got: string) =>
    new GgufError({ path, reason: "InvalidInput", message: `${path}: tensor '${t.name}' produced ${got} bytes, expected ${size}` })
  const body: Effect.Effect<void, GgufError | E> = t.data instanceof Uint8Array
    ? t.data.length === size ? out.write(t.data) : Effect.fail(mismatch(String(t.data.length)))
    : Effect.suspend(() => {
      let count = 0
      return Stream.runForEach(t.data as Stream.Stream<Uint8Array, E>, (chunk) => {
        count += chunk.length
        return count > size ? Effect.fail(mismatch(`more than ${size}`)) : out.write(chunk)
      }).pipe(Effect.andThen(Effect.suspend(() => count === size ? Effect.void : Effect.fail(mismatch(String(count))))))
    })
  return Effect.andThen(body, out.zeros(Format.alignTo(size, alignment) - size))
}

/**
 * Writes a GGUF file atomically (temporary file, then rename).
 *
 * **Details** Validates keys, value ranges, tensor names, shapes and types
 * before touching the disk (`InvalidInput`). A tensor whose data stream yields
 * more or fewer bytes than its shape and type need fails with `InvalidInput`
 * and leaves no file behind.
 *
 * @category encoding
 * @since 0.1.0
 */
export const write = <E = never>(path: string, input: WriteInput<E>): Effect.Effect<WriteResult, GgufError | E> =>
  Effect.gen(function*() {
    const plan = yield* Effect.try({
      try: () => layout(path, input),
      catch: (e) => e instanceof GgufError ? e : new GgufError({ path, reason: "InvalidInput", message: `${path}: ${String(e)}`, cause: e })
    })
    const tmp = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`
    const ioFail = (what: string) => (cause: unknown) =>
      new GgufError({ path, reason: "WriteFailed", message: `cannot ${what} ${tmp}: ${String((cause as Error)?.message ?? cause)}`, cause })
    const body = Effect.acquireUseRelease(
      Effect.tryPromise({ try: () => open(tmp, "wx"), catch: ioFail("create") }),
      (fh) =>
        Effect.gen(function*() {
          const out = makeOutput(fh, path)
          yield* out.write(plan.header)
          const tensors = input.tensors ?? []
          for (let i = 0; i < tensors.length; i++) yield* writeTensor(out, path, tensors[i]!, plan.sizes[i]!, plan.alignment)
          yield* out.flush
        }),
      (fh) => Effect.promise(() => fh.close().catch(() => undefined))
    )
    yield* body.pipe(
      Effect.andThen(Effect.tryPromise({ try: () => rename(tmp, path), catch: ioFail("rename") })),
      Effect.onError(() => Effect.promise(() => unlink(tmp).catch(() => undefined)))
    )
    return { path, fileSize: plan.fileSize, dataOffset: plan.header.length }
  })
