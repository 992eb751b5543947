/**
 * The GGUF v3 file format as data: value-type and ggml-type ids, the block
 * sizes of the ggml types, and the typed metadata values that the reader
 * returns and the writer accepts.
 *
 * A metadata value keeps its GGUF type next to the value
 * (`{ type: "uint32", value: 5 }`), so a file read and written again keeps
 * every key byte for byte. 64-bit integers are `bigint`.
 *
 * Reference: `ggml/src/gguf.cpp` and `gguf-py/gguf/constants.py` in llama.cpp.
 *
 * @since 0.1.0
 */

/**
 * The four bytes every GGUF file starts with.
 *
 * @category constants
 * @since 0.1.0
 */
export const MAGIC = "GGUF"

/**
 * The version this module writes. The reader accepts 2 and 3, which share a layout.
 *
 * @category constants
 * @since 0.1.0
 */
export const VERSION = 3

/**
 * Data alignment used when `general.alignment` is absent.
 *
 * @category constants
 * @since 0.1.0
 */
export const DEFAULT_ALIGNMENT = 32

/**
 * Limits from `ggml.h`: at most 4 dimensions, tensor names shorter than 64 bytes.
 *
 * @category constants
 * @since 0.1.0
 */
export const MAX_DIMS = 4

/**
 * Longest tensor name plus one (`GGML_MAX_NAME`, which counts the NUL byte).
 *
 * @category constants
 * @since 0.1.0
 */
export const MAX_NAME = 64

/**
 * Numeric ids of the GGUF metadata value types.
 *
 * @category constants
 * @since 0.1.0
 */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12
} as const

/**
 * A GGUF metadata value type id.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType]

/**
 * Scalar types carried as a JavaScript `number`.
 *
 * @category models
 * @since 0.1.0
 */
export type NumberTypeName = "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "float64"

/**
 * Scalar types carried as a `bigint`.
 *
 * @category models
 * @since 0.1.0
 */
export type BigIntTypeName = "uint64" | "int64"

/**
 * Every scalar type name, i.e. every type an array element can have.
 *
 * @category models
 * @since 0.1.0
 */
export type ScalarTypeName = NumberTypeName | BigIntTypeName | "bool" | "string"

/**
 * Type name <-> id, for the scalar types (arrays are id 9).
 *
 * @category constants
 * @since 0.1.0
 */
export const scalarTypeId: { readonly [K in ScalarTypeName]: GgufValueType } = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  uint64: 10,
  int64: 11,
  float64: 12
}

/**
 * The scalar type name of a value type id, or `undefined` for arrays and unknown ids.
 *
 * @category getters
 * @since 0.1.0
 */
export const scalarTypeName = (id: number): ScalarTypeName | undefined => scalarNames[id]

const scalarNames: ReadonlyArray<ScalarTypeName | undefined> = [
  "uint8",
  "int8",
  "uint16",
  "int16",
  "uint32",
  "int32",
  "float32",
  "bool",
  "string",
  undefined,
  "uint64",
  "int64",
  "float64"
]

/**
 * Encoded size in bytes of a fixed-size scalar (strings are variable: 0 here).
 *
 * @category constants
 * @since 0.1.0
 */
export const scalarByteSize: { readonly [K in ScalarTypeName]: number } = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  float32: 4,
  bool: 1,
  string: 0,
  uint64: 8,
  int64: 8,
  float64: 8
}

/**
 * A scalar metadata value with its GGUF type.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufScalar =
  | { readonly type: NumberTypeName; readonly value: number }
  | { readonly type: BigIntTypeName; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }

/**
 * An array metadata value. GGUF arrays hold one scalar type; llama.cpp rejects
 * nested arrays, so this module does too.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufArray =
  | { readonly type: "array"; readonly itemType: NumberTypeName; readonly value: ReadonlyArray<number> }
  | { readonly type: "array"; readonly itemType: BigIntTypeName; readonly value: ReadonlyArray<bigint> }
  | { readonly type: "array"; readonly itemType: "bool"; readonly value: ReadonlyArray<boolean> }
  | { readonly type: "array"; readonly itemType: "string"; readonly value: ReadonlyArray<string> }

/**
 * An array the reader stepped over because it was longer than the
 * `maxArrayLength` read option. The writer refuses it.
 *
 * @category models
 * @since 0.1.0
 */
export interface GgufSkippedArray {
  readonly type: "skipped-array"
  readonly itemType: ScalarTypeName
  readonly length: number
}

/**
 * Any metadata value.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufValue = GgufScalar | GgufArray | GgufSkippedArray

/**
 * Metadata in file order. A `Map` keeps insertion order, which the writer follows.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufMetadata = ReadonlyMap<string, GgufValue>

/**
 * Builds a `uint8` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const uint8 = (value: number): GgufValue => ({ type: "uint8", value })

/**
 * Builds an `int8` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const int8 = (value: number): GgufValue => ({ type: "int8", value })

/**
 * Builds a `uint16` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const uint16 = (value: number): GgufValue => ({ type: "uint16", value })

/**
 * Builds an `int16` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const int16 = (value: number): GgufValue => ({ type: "int16", value })

/**
 * Builds a `uint32` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const uint32 = (value: number): GgufValue => ({ type: "uint32", value })

/**
 * Builds an `int32` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const int32 = (value: number): GgufValue => ({ type: "int32", value })

/**
 * Builds a `float32` value (rounded to single precision when written).
 *
 * @category constructors
 * @since 0.1.0
 */
export const float32 = (value: number): GgufValue => ({ type: "float32", value })

/**
 * Builds a `float64` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const float64 = (value: number): GgufValue => ({ type: "float64", value })

/**
 * Builds a `uint64` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const uint64 = (value: bigint): GgufValue => ({ type: "uint64", value })

/**
 * Builds an `int64` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const int64 = (value: bigint): GgufValue => ({ type: "int64", value })

/**
 * Builds a `bool` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const bool = (value: boolean): GgufValue => ({ type: "bool", value })

/**
 * Builds a `string` value.
 *
 * @category constructors
 * @since 0.1.0
 */
export const string = (value: string): GgufValue => ({ type: "string", value })

/**
 * Builds an array value of one scalar type.
 *
 * @category constructors
 * @since 0.1.0
 */
export function array(itemType: NumberTypeName, value: ReadonlyArray<number>): GgufValue
export function array(itemType: BigIntTypeName, value: ReadonlyArray<bigint>): GgufValue
export function array(itemType: "bool", value: ReadonlyArray<boolean>): GgufValue
export function array(itemType: "string", value: ReadonlyArray<string>): GgufValue
export function array(itemType: ScalarTypeName, value: ReadonlyArray<unknown>): GgufValue {
  return { type: "array", itemType, value } as GgufArray
}

/**
 * Numeric ids of the ggml tensor types (`enum ggml_type` in `ggml.h`).
 *
 * @category constants
 * @since 0.1.0
 */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42
} as const

/**
 * A ggml tensor type id.
 *
 * @category models
 * @since 0.1.0
 */
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType]

/**
 * Storage layout of a ggml type: `blockSize` elements take `typeSize` bytes.
 *
 * @category models
 * @since 0.1.0
 */
export interface GgmlTypeTraits {
  readonly name: string
  readonly blockSize: number
  readonly typeSize: number
}

const QK_K = 256

// [blockSize, typeSize] per type, as in gguf-py GGML_QUANT_SIZES and ggml.c type_traits.
const layouts: { readonly [K in keyof typeof GgmlType]: readonly [number, number] } = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 2 + 16],
  Q4_1: [32, 2 + 2 + 16],
  Q5_0: [32, 2 + 4 + 16],
  Q5_1: [32, 2 + 2 + 4 + 16],
  Q8_0: [32, 2 + 32],
  Q8_1: [32, 2 + 2 + 32],
  Q2_K: [QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  Q3_K: [QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  Q4_K: [QK_K, 2 + 2 + QK_K / 2 + 12],
  Q5_K: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
  Q6_K: [QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
  Q8_K: [QK_K, 4 + QK_K + QK_K / 8],
  IQ2_XXS: [QK_K, 2 + QK_K / 4],
  IQ2_XS: [QK_K, 2 + QK_K / 4 + QK_K / 32],
  IQ3_XXS: [QK_K, 2 + QK_K / 4 + QK_K / 8],
  IQ1_S: [QK_K, 2 + QK_K / 8 + QK_K / 16],
  IQ4_NL: [32, 2 + 16],
  IQ3_S: [QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  IQ2_S: [QK_K, 2 + QK_K / 4 + QK_K / 16],
  IQ4_XS: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  BF16: [1, 2],
  TQ1_0: [QK_K, 2 + 4 * 13],
  TQ2_0: [QK_K, 2 + 64],
  MXFP4: [32, 1 + 16],
  NVFP4: [64, 4 + 32],
  Q1_0: [128, 2 + 16],
  Q2_0: [64, 2 + 16]
}

const traitsById = new Map<number, GgmlTypeTraits>(
  (Object.keys(GgmlType) as Array<keyof typeof GgmlType>).map((name) => [
    GgmlType[name],
    { name, blockSize: layouts[name][0], typeSize: layouts[name][1] }
  ])
)

/**
 * The layout of a ggml type id, or `undefined` when the id is unknown.
 *
 * @category getters
 * @since 0.1.0
 */
export const ggmlTypeTraits = (type: number): GgmlTypeTraits | undefined => traitsById.get(type)

/**
 * Byte size of a tensor of the given type and shape (`shape[0]` innermost), or
 * `undefined` when the type is unknown or the row length is not a multiple of
 * the type's block size.
 *
 * @category getters
 * @since 0.1.0
 */
export const tensorByteSize = (type: number, shape: ReadonlyArray<number>): number | undefined => {
  const traits = traitsById.get(type)
  const row = shape.length === 0 ? 1 : shape[0]!
  if (traits === undefined || row % traits.blockSize !== 0) return undefined
  let elements = 1
  for (const n of shape) elements *= n
  return (elements / traits.blockSize) * traits.typeSize
}

/**
 * Rounds `offset` up to a multiple of `alignment` (a power of two).
 *
 * @category math
 * @since 0.1.0
 */
export const alignTo = (offset: number, alignment: number): number =>
  Math.ceil(offset / alignment) * alignment
