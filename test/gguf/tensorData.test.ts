import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { encodeF16, encodeQ4_0, encodeQ8_0, f32ToF16, fillUniform, seedState } from "../../src/gguf/internal/tensorData.ts"

describe("tensorData", () => {
  it.effect("converts f32 to f16 with round-to-nearest-even, subnormals, inf and NaN", () =>
    Effect.sync(() => {
      const cases: ReadonlyArray<[number, number]> = [
        [0, 0x0000],
        [-0, 0x8000],
        [1, 0x3c00],
        [-2, 0xc000],
        [0.1, 0x2e66],
        [65504, 0x7bff],
        [65520, 0x7c00], // rounds up to infinity
        [1e9, 0x7c00],
        [Infinity, 0x7c00],
        [-Infinity, 0xfc00],
        [2 ** -24, 0x0001], // smallest subnormal
        [2 ** -25, 0x0000], // halfway to zero: ties to even
        [2 ** -14, 0x0400], // smallest normal
        [1 + 2 ** -11, 0x3c00], // halfway: ties to even (down)
        [1 + 3 * 2 ** -11, 0x3c02] // halfway: ties to even (up)
      ]
      for (const [value, bits] of cases) assert.strictEqual(f32ToF16(value), bits, String(value))
      assert.strictEqual(f32ToF16(NaN) & 0x7c00, 0x7c00)
      assert.notStrictEqual(f32ToF16(NaN) & 0x3ff, 0)
      assert.deepStrictEqual([...encodeF16(Float32Array.of(1, -2))], [0x00, 0x3c, 0x00, 0xc0])
    }))

  it.effect("quantizes q8_0 blocks as ggml does: d = amax / 127, q = roundf(x / d)", () =>
    Effect.sync(() => {
      const values = new Float32Array(64)
      for (let i = 0; i < 32; i++) values[i] = (i - 16) / 16 // amax 1 at i = 0
      values[32 + 5] = -0.5 // second block: one value, the rest zero
      const out = encodeQ8_0(values)
      assert.strictEqual(out.length, 68)
      const q = new Int8Array(out.buffer)
      assert.strictEqual(f32ToF16(Math.fround(1 / 127)), out[0]! | (out[1]! << 8))
      assert.strictEqual(q[2], -127) // x = -1
      assert.strictEqual(q[2 + 16], 0)
      assert.strictEqual(q[2 + 24], 64) // 0.5 * 127 = 63.5 rounds away from zero
      assert.strictEqual(q[2 + 8], -64) // -63.5 rounds away from zero
      assert.strictEqual(q[34 + 2 + 5], -127)
      assert.strictEqual(q[34 + 2 + 6], 0)
      assert.deepStrictEqual([...encodeQ8_0(new Float32Array(32))], new Array(34).fill(0))
    }))

  it.effect("quantizes q4_0 blocks as ggml does: d = max / -8, q = min(15, trunc(x / d + 8.5)), low nibbles first", () =>
    Effect.sync(() => {
      const values = new Float32Array(32)
      values[0] = -2 // the value of largest magnitude: d = -2 / -8 = 0.25
      values[1] = 1 // 1 / 0.25 + 8.5 = 12.5 -> 12
      values[16] = 2 // 8 + 8.5 = 16.5 -> clamped to 15
      values[17] = -1 // -4 + 8.5 = 4.5 -> 4
      const out = encodeQ4_0(values)
      assert.strictEqual(out.length, 18)
      assert.strictEqual(out[0]! | (out[1]! << 8), f32ToF16(0.25))
      assert.strictEqual(out[2], 0 | (15 << 4)) // x[0] = -2 -> 0, x[16] = 2 -> 15
      assert.strictEqual(out[3], 12 | (4 << 4))
      assert.strictEqual(out[4], 8 | (8 << 4)) // zeros sit at 8
      assert.deepStrictEqual([...encodeQ4_0(new Float32Array(32))].slice(2), new Array(16).fill(0x88))
    }))

  it.effect("draws uniform values with a standard deviation near the requested one", () =>
    Effect.sync(() => {
      const a = new Float32Array(1 << 16)
      const b = new Float32Array(1 << 16)
      fillUniform(a, seedState(42), 0.02 * Math.sqrt(3))
      fillUniform(b, seedState(42), 0.02 * Math.sqrt(3))
      assert.deepStrictEqual(a, b)
      let sum = 0
      let sq = 0
      for (const x of a) {
        sum += x
        sq += x * x
      }
      const mean = sum / a.length
      const std = Math.sqrt(sq / a.length - mean * mean)
      assert.isBelow(Math.abs(mean), 0.001)
      assert.isBelow(Math.abs(std - 0.02), 0.001)
    }))
})
