/**
 * @internal
 * Number crunching for the model generator: a seeded PRNG, f32 -> f16 by hand
 * and q8_0 / q4_0 quantization as ggml's `quantize_row_q8_0_ref` / `quantize_row_q4_0_ref` do it.
 *
 * Everything works on typed arrays in large chunks; buffers are written in
 * little-endian order (GGUF's), assuming a little-endian host for Float32Array views.
 */

/** @internal 32-bit FNV-1a of a string's UTF-16 code units. */
export const hash32 = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193)
  return h >>> 0
}

const splitmix32 = (x: number): number => {
  let t = (x + 0x9e3779b9) | 0
  t = Math.imul(t ^ (t >>> 16), 0x21f0aaad)
  t = Math.imul(t ^ (t >>> 15), 0x735a2d97)
  return (t ^ (t >>> 15)) >>> 0
}

/** @internal xorshift128 state seeded from one 32-bit value (never all zero). */
export const seedState = (seed: number): Uint32Array => {
  const s = new Uint32Array(4)
  let x = seed >>> 0
  for (let i = 0; i < 4; i++) {
    x = splitmix32(x + i)
    s[i] = x
  }
  if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1
  return s
}

/** @internal Fills `out` with uniform values in [-halfWidth, halfWidth), advancing `state`. */
export const fillUniform = (out: Float32Array, state: Uint32Array, halfWidth: number): void => {
  let x = state[0]!, y = state[1]!, z = state[2]!, w = state[3]!
  const scale = halfWidth / 2147483648
  for (let i = 0; i < out.length; i++) {
    const t = x ^ (x << 11)
    x = y
    y = z
    z = w
    w = (w ^ (w >>> 19)) ^ (t ^ (t >>> 8))
    out[i] = (w | 0) * scale
  }
  state[0] = x
  state[1] = y
  state[2] = z
  state[3] = w
}

const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)

/** @internal IEEE half from a float, round to nearest even, with subnormals, inf and NaN. */
export const f32ToF16 = (value: number): number => {
  f32[0] = value
  const x = u32[0]!
  const sign = (x >>> 16) & 0x8000
  const exp = (x >>> 23) & 0xff
  const mant = x & 0x7fffff
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0)
  const e = exp - 112
  if (e >= 0x1f) return sign | 0x7c00
  if (e <= 0) {
    if (e < -10) return sign
    // Subnormal half: shift the full 24-bit mantissa and round the dropped bits.
    const m = mant | 0x800000
    const shift = 14 - e
    let h = m >>> shift
    const rem = m & ((1 << shift) - 1)
    const half = 1 << (shift - 1)
    if (rem > half || (rem === half && (h & 1) === 1)) h++
    return sign | h
  }
  let h = sign | (e << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++
  return h
}

/** @internal Encodes floats as f32 bytes. */
export const encodeF32 = (values: Float32Array): Uint8Array =>
  new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength))

/** @internal Encodes floats as f16 bytes. */
export const encodeF16 = (values: Float32Array): Uint8Array => {
  const out = new Uint8Array(values.length * 2)
  for (let i = 0, o = 0; i < values.length; i++, o += 2) {
    const h = f32ToF16(values[i]!)
    out[o] = h & 0xff
    out[o + 1] = h >>> 8
  }
  return out
}

const QK8_0 = 32

/** @internal q8_0 blocks: f16 scale d = amax / 127, then 32 int8 roundf(x / d). `values.length % 32 === 0`. */
export const encodeQ8_0 = (values: Float32Array): Uint8Array => {
  const blocks = values.length / QK8_0
  const out = new Uint8Array(blocks * 34)
  const qs = new Int8Array(out.buffer)
  for (let b = 0; b < blocks; b++) {
    const base = b * QK8_0
    let amax = 0
    for (let j = base; j < base + QK8_0; j++) {
      const v = Math.abs(values[j]!)
      if (v > amax) amax = v
    }
    // Single-precision steps as in ggml, so the bytes match its C quantizer.
    const d = Math.fround(amax / 127)
    const id = d !== 0 ? Math.fround(1 / d) : 0
    const o = b * 34
    const h = f32ToF16(d)
    out[o] = h & 0xff
    out[o + 1] = h >>> 8
    for (let j = 0, p = o + 2; j < QK8_0; j++, p++) {
      const x = Math.fround(values[base + j]! * id)
      // floor(x + 0.5) without a data-dependent branch (random signs defeat the
      // branch predictor); roundf rounds negative halves away from zero, a rare case.
      const up = ((x + 128.5) | 0) - 128
      qs[p] = up - x === 0.5 && x < 0 ? up - 1 : up
    }
  }
  return out
}

const QK4_0 = 32

/**
 * @internal q4_0 blocks: f16 scale d = max / -8 (max: the value of largest magnitude), then 32 4-bit values
 * min(15, trunc(x / d + 8.5)), the first 16 in the low nibbles. `values.length % 32 === 0`.
 */
export const encodeQ4_0 = (values: Float32Array): Uint8Array => {
  const blocks = values.length / QK4_0
  const out = new Uint8Array(blocks * 18)
  for (let b = 0; b < blocks; b++) {
    const base = b * QK4_0
    let amax = 0
    let max = 0
    for (let j = base; j < base + QK4_0; j++) {
      const v = values[j]!
      if (Math.abs(v) > amax) {
        amax = Math.abs(v)
        max = v
      }
    }
    const d = Math.fround(max / -8)
    const id = d !== 0 ? Math.fround(1 / d) : 0
    const o = b * 18
    const h = f32ToF16(d)
    out[o] = h & 0xff
    out[o + 1] = h >>> 8
    for (let j = 0; j < QK4_0 / 2; j++) {
      // (int8_t)(x + 8.5f) truncates toward zero; x + 8.5 is never below 0.5 here, so | 0 is the same.
      const lo = Math.min(15, (Math.fround(Math.fround(values[base + j]! * id) + 8.5) | 0))
      const hi = Math.min(15, (Math.fround(Math.fround(values[base + j + 16]! * id) + 8.5) | 0))
      out[o + 2 + j] = lo | (hi << 4)
    }
  }
  return out
}
