/**
 * Waits, before each measured turn, until the machine is quiet: other processes on the same cores slow the
 * contenders down unevenly (OpenMP threads that wait at a barrier for a descheduled peer can lose milliseconds
 * per operation). Between turns the bench's own processes are idle, so the CPU time used while sampling is
 * someone else's. Linux only (/proc/stat); elsewhere it returns at once.
 */
import { existsSync, readFileSync } from "node:fs"
import { setTimeout as sleep } from "node:timers/promises"

const sample = (): { busy: number; total: number } => {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number)
  const total = fields.reduce((a, b) => a + b, 0)
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
  return { busy: total - idle, total }
}

/** Fraction of all CPUs busy over `ms` milliseconds. */
export const busyFraction = async (ms: number): Promise<number> => {
  const a = sample()
  await sleep(ms)
  const b = sample()
  return b.total === a.total ? 0 : (b.busy - a.busy) / (b.total - a.total)
}

export interface QuietResult {
  readonly waitedMs: number
  /** Busy fraction of the last sample: above `threshold` when the wait gave up. */
  readonly busy: number
}

/** Returns once the CPUs are at most `threshold` busy over a quarter of a second, or after `maxWaitMs`. */
export const waitForQuiet = async (threshold: number, maxWaitMs: number): Promise<QuietResult> => {
  if (maxWaitMs <= 0 || !existsSync("/proc/stat")) return { waitedMs: 0, busy: 0 }
  const start = performance.now()
  for (;;) {
    const busy = await busyFraction(250)
    const waitedMs = performance.now() - start
    if (busy <= threshold || waitedMs >= maxWaitMs) return { waitedMs, busy }
  }
}
