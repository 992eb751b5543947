/**
 * The error of work offered to a `Lifecycle` that no longer accepts any: the app is shutting down.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/**
 * Work was refused because the app is shutting down (its Scope is closing).
 *
 * @category errors
 * @since 0.2.0
 */
export class ShutdownError extends Schema.TaggedError<ShutdownError>()("ShutdownError", {
  phase: Schema.Literals(["stopping", "draining", "stopped"])
}) {
  override get message(): string {
    return `the app is shutting down (${this.phase}): no new work is accepted`
  }
}
