/**
 * Per-call configuration overrides, shared by every provider: a context reference holding the override, and
 * `withConfigOverride` for an Effect or a Stream. Overrides merge the same way everywhere: a field holding an object
 * (sampling, extra body fields) is merged key by key, a list (stop strings) gains the override's entries, any other
 * field is replaced; a nested override merges over the outer one.
 *
 * @internal
 */
import { Context, Effect, Stream } from "effect"

/** @internal What `withConfigOverride` applies to. */
export type Overridable = Effect.Effect<unknown, unknown, unknown> | Stream.Stream<unknown, unknown, unknown>

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** @internal `override` over `base`, by the rules above. */
export const mergeConfig = <C extends object>(base: C, override: C): C => {
  const merged: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [key, value] of Object.entries(override)) {
    const before = merged[key]
    if (value === undefined) continue
    if (isRecord(before) && isRecord(value)) merged[key] = { ...before, ...value }
    else if (Array.isArray(before) && Array.isArray(value)) merged[key] = [...new Set([...before, ...value])]
    else merged[key] = value
  }
  return merged as C
}

/** @internal A provider's override reference and its `withConfigOverride`. */
export const makeConfigOverride = <C extends object>(key: string) => {
  const reference = Context.Reference<C>(key, { defaultValue: () => ({}) as C })
  const apply = (self: unknown, overrides: C): unknown => {
    if (Stream.isStream(self)) {
      return Stream.unwrap(Effect.map(Effect.service(reference), (current) =>
        Stream.provideService(self, reference, mergeConfig(current, overrides))))
    }
    return Effect.flatMap(Effect.service(reference), (current) =>
      Effect.provideService(self as Effect.Effect<unknown, unknown, unknown>, reference, mergeConfig(current, overrides)))
  }
  const withConfigOverride: {
    (overrides: C): <Self extends Overridable>(self: Self) => Self
    <Self extends Overridable>(self: Self, overrides: C): Self
  } = ((...args: Array<unknown>) =>
    args.length === 1 ? (self: unknown) => apply(self, args[0] as C) : apply(args[0], args[1] as C)) as never
  return { reference, withConfigOverride }
}
