/**
 * The failure of a tool served by an external MCP server: the server answered the call with `isError`, or the
 * call itself failed (transport, protocol, time limit).
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/**
 * An MCP tool call failed. `content` is the server's error content (its text parts joined), `structured` its
 * structured content when it sent one.
 *
 * @category errors
 * @since 0.2.0
 */
export class McpToolError extends Schema.TaggedError<McpToolError>()("McpToolError", {
  tool: Schema.String,
  reason: Schema.Literals(["ToolError", "CallFailed"]),
  content: Schema.String,
  structured: Schema.optionalKey(Schema.Unknown)
}) {
  override get message(): string {
    return `${this.tool}: ${this.content}`
  }
}
