/**
 * Medians, ranges and pairwise ratios. A ratio is computed run by run (round r of one contender over round r of
 * the other, both measured back to back), then summarized like any other figure.
 */

export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly n: number
}

export const summarize = (values: ReadonlyArray<number>): Summary | undefined => {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return undefined
  const mid = Math.floor(xs.length / 2)
  const median = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2
  return { median, min: xs[0]!, max: xs.at(-1)!, n: xs.length }
}

/** subject[r] / baseline[r] for every round where both have a value. */
export const pairwiseRatios = (subject: ReadonlyArray<number>, baseline: ReadonlyArray<number>): Array<number> => {
  const out: Array<number> = []
  for (let r = 0; r < Math.min(subject.length, baseline.length); r++) {
    const a = subject[r]!
    const b = baseline[r]!
    if (Number.isFinite(a) && Number.isFinite(b) && b !== 0) out.push(a / b)
  }
  return out
}

/** Rounds to about 3 significant digits, for tables. */
export const format = (value: number): string => {
  const abs = Math.abs(value)
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toFixed(3)
}

export const formatSummary = (s: Summary | undefined): string =>
  s === undefined ? "n/a" : s.n === 1 ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`

export const formatRatio = (s: Summary | undefined): string =>
  s === undefined ? "–" : s.n === 1 ? `${s.median.toFixed(3)}×` : `${s.median.toFixed(3)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})`
