// Where every structural field of a (valid) GGUF file sits, byte by byte: the header counts, each key-value
// pair's key, type, length or array count and elements, each tensor info's name, dims, type and offset. The
// mutator (Mutator.ts) aims at these fields; it needs offsets, which the library's reader does not report.
import * as Format from "../../src/gguf/GgufFormat.ts"

export interface KvField {
  readonly key: string
  readonly keyLengthAt: number
  readonly typeAt: number
  readonly type: number
  /** First byte of the value (for an array: of its item type). */
  readonly valueAt: number
  /** Scalar string: where its length is. Array: where its count is. */
  readonly lengthAt?: number
  readonly itemType?: number
  readonly count?: number
  /** Offsets of the first elements (all of them for arrays of up to `maxElements`). */
  readonly elements?: ReadonlyArray<number>
  readonly end: number
}

export interface TensorField {
  readonly name: string
  readonly nameLengthAt: number
  readonly nDimsAt: number
  readonly dimsAt: ReadonlyArray<number>
  readonly dims: ReadonlyArray<number>
  readonly typeAt: number
  readonly type: number
  readonly offsetAt: number
  readonly offset: number
}

export interface Layout {
  readonly size: number
  readonly kvs: ReadonlyArray<KvField>
  readonly tensors: ReadonlyArray<TensorField>
  /** End of the tensor infos (the header). */
  readonly headerEnd: number
  readonly dataOffset: number
}

const maxElements = 1 << 18

export const scan = (buf: Buffer): Layout => {
  let pos = 24
  const u64 = (at: number) => Number(buf.readBigUInt64LE(at))
  const readString = () => {
    const length = u64(pos)
    const s = buf.toString("utf8", pos + 8, pos + 8 + length)
    pos += 8 + length
    return s
  }
  const skipScalar = (type: number) => {
    if (type === Format.GgufValueType.STRING) pos += 8 + u64(pos)
    else pos += Format.scalarByteSize[Format.scalarTypeName(type)!]
  }
  const nTensors = u64(8)
  const nKv = u64(16)
  const kvs: Array<KvField> = []
  for (let i = 0; i < nKv; i++) {
    const keyLengthAt = pos
    const key = readString()
    const typeAt = pos
    const type = buf.readUInt32LE(pos)
    pos += 4
    const valueAt = pos
    if (type === Format.GgufValueType.ARRAY) {
      const itemType = buf.readUInt32LE(pos)
      const lengthAt = pos + 4
      const count = u64(lengthAt)
      pos += 12
      const elements: Array<number> = []
      for (let j = 0; j < count; j++) {
        if (j < maxElements) elements.push(pos)
        skipScalar(itemType)
      }
      kvs.push({ key, keyLengthAt, typeAt, type, valueAt, lengthAt, itemType, count, elements, end: pos })
    } else if (type === Format.GgufValueType.STRING) {
      skipScalar(type)
      kvs.push({ key, keyLengthAt, typeAt, type, valueAt, lengthAt: valueAt, end: pos })
    } else {
      skipScalar(type)
      kvs.push({ key, keyLengthAt, typeAt, type, valueAt, end: pos })
    }
  }
  const tensors: Array<TensorField> = []
  for (let i = 0; i < nTensors; i++) {
    const nameLengthAt = pos
    const name = readString()
    const nDimsAt = pos
    const nDims = buf.readUInt32LE(pos)
    pos += 4
    const dimsAt: Array<number> = []
    const dims: Array<number> = []
    for (let d = 0; d < nDims; d++) {
      dimsAt.push(pos)
      dims.push(u64(pos))
      pos += 8
    }
    const typeAt = pos
    const type = buf.readUInt32LE(pos)
    const offsetAt = pos + 4
    const offset = u64(offsetAt)
    pos += 12
    tensors.push({ name, nameLengthAt, nDimsAt, dimsAt, dims, typeAt, type, offsetAt, offset })
  }
  const alignment = kvs.find((kv) => kv.key === "general.alignment")
  const align = alignment === undefined ? Format.DEFAULT_ALIGNMENT : buf.readUInt32LE(alignment.valueAt)
  return { size: buf.length, kvs, tensors, headerEnd: pos, dataOffset: Format.alignTo(pos, align) }
}
