/**
 * The error of `ToolRegistry` operations on a tool name: unknown, disabled, or already registered.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * A registry operation named a tool it cannot use.
 *
 * @category errors
 * @since 0.1.0
 */
export class ToolRegistryError extends Schema.TaggedError<ToolRegistryError>()("ToolRegistryError", {
  tool: Schema.String,
  reason: Schema.Literals(["NotFound", "Disabled", "AlreadyRegistered"])
}) {
  override get message(): string {
    return this.reason === "NotFound"
      ? `no tool named "${this.tool}"`
      : this.reason === "Disabled"
      ? `tool "${this.tool}" is disabled`
      : `a tool named "${this.tool}" is already registered`
  }
}
