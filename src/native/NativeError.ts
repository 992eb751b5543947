/**
 * The error the native addon reports: a stable `code` (see `addon/errors.h`) and a message. The Effect services
 * map codes to typed reasons with a table; this module only carries them across the boundary.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A failure reported by the addon, with its stable code (`MODEL_NOT_FOUND`, `INVALID_SAMPLING`, ...).
 *
 * @category errors
 * @since 0.1.0
 */
export class NativeError extends Schema.TaggedError<NativeError>()("NativeError", {
  code: Schema.String,
  message: Schema.String
}) {}

/**
 * Turns whatever the addon threw or rejected with into a `NativeError` (a plain exception becomes `INTERNAL`).
 *
 * @category constructors
 * @since 0.1.0
 */
export const fromUnknown = (cause: unknown): NativeError => {
  if (cause instanceof Error) {
    const code = (cause as Error & { readonly code?: unknown }).code
    return new NativeError({ code: typeof code === "string" ? code : "INTERNAL", message: cause.message })
  }
  return new NativeError({ code: "INTERNAL", message: String(cause) })
}
