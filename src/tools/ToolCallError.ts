/**
 * `ToolCallError`: why a tool call failed, as a typed value: arguments that do not fit the tool's Schema (naming
 * each field and what is wrong with it), the tool's own failure, a time limit, a defect, a run's limits. It is what
 * `ToolRegistry.execute` reports as `failure`, what the registry's call history keeps, and what an agent's model
 * sees for a call that timed out or was not run.
 *
 * @since 0.2.0
 */
import { Cause, Exit, Option, Schema, SchemaIssue } from "effect"
import type { Tool } from "effect/ai"

/**
 * One problem with the arguments: the field's path (`city`, `where.lat`, `tags[1]`; empty for the whole object)
 * and the message.
 *
 * @category models
 * @since 0.2.0
 */
export const Issue = Schema.Struct({ path: Schema.String, message: Schema.String })

/**
 * @category models
 * @since 0.2.0
 */
export type Issue = typeof Issue.Type

/**
 * Why a call failed:
 * - `InvalidArguments`: the arguments do not fit the parameter Schema (`field` and `issues` say where);
 * - `ToolFailed`: the handler failed (its encoded failure is in `detail`);
 * - `Timeout`: the call ran past its time limit;
 * - `Defect`: the handler died;
 * - `UnknownTool`: no tool of that name was offered;
 * - `LimitReached`: the run's `maxToolCalls` was spent, so the call was not made;
 * - `Skipped`: an earlier call of the step failed and the run stops on errors, so the call was not made.
 *
 * @category models
 * @since 0.2.0
 */
export const Reason = Schema.Literals([
  "InvalidArguments",
  "ToolFailed",
  "Timeout",
  "Defect",
  "UnknownTool",
  "LimitReached",
  "Skipped"
])

/**
 * @category models
 * @since 0.2.0
 */
export type Reason = typeof Reason.Type

/**
 * A failed tool call.
 *
 * @category errors
 * @since 0.2.0
 */
export class ToolCallError extends Schema.TaggedError<ToolCallError>()("ToolCallError", {
  tool: Schema.String,
  reason: Reason,
  description: Schema.String,
  /** The first invalid field (InvalidArguments). */
  field: Schema.optionalKey(Schema.String),
  issues: Schema.optionalKey(Schema.Array(Issue)),
  /** The tool's encoded failure (ToolFailed). */
  detail: Schema.optionalKey(Schema.Unknown)
}) {
  override get message(): string {
    return `${this.tool}: ${this.description}`
  }
}

/**
 * The JSON form of a `ToolCallError` (what a model or an MCP client is shown).
 *
 * @category encoding
 * @since 0.2.0
 */
export const encode = (error: ToolCallError): unknown => Schema.encodeSync(ToolCallError)(error)

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

const pathText = (path: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>): string =>
  path.reduce<string>((acc, segment) => {
    const key = typeof segment === "object" ? segment.key : segment
    return typeof key === "number" ? `${acc}[${key}]` : acc === "" ? String(key) : `${acc}.${String(key)}`
  }, "")

/**
 * The issues of a Schema failure, one per field.
 *
 * @category constructors
 * @since 0.2.0
 */
export const issuesOf = (error: Schema.SchemaError): ReadonlyArray<Issue> =>
  formatter(error.issue).issues.map((i) => ({ path: pathText(i.path ?? []), message: i.message }))

/**
 * An `InvalidArguments` error from the Schema failure of decoding a call's arguments.
 *
 * @category constructors
 * @since 0.2.0
 */
export const invalidArguments = (tool: string, error: Schema.SchemaError): ToolCallError => {
  const issues = issuesOf(error)
  const first = issues[0]
  const where = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")
  return new ToolCallError({
    tool,
    reason: "InvalidArguments",
    description: `invalid arguments: ${where}`,
    ...(first === undefined || first.path === "" ? {} : { field: first.path }),
    issues
  })
}

/**
 * The error of a failed toolkit result: arguments that do not decode (re-decoded here to name the fields), or the
 * tool's own failure (its encoded failure as `detail`).
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromResult = (tool: Tool.Any | undefined, name: string, params: unknown, result: {
  readonly failureOrigin?: string | undefined
  readonly encodedResult: unknown
}): ToolCallError => {
  if (result.failureOrigin === "parameters" && tool !== undefined && Schema.isSchema(tool.parametersSchema)) {
    const decoded = Schema.decodeUnknownExit(tool.parametersSchema as Schema.Decoder<unknown>)(params, { errors: "all" })
    if (Exit.isFailure(decoded)) {
      const error = Cause.findErrorOption(decoded.cause)
      if (Option.isSome(error) && Schema.isSchemaError(error.value)) return invalidArguments(name, error.value)
    }
  }
  if (result.failureOrigin === "parameters") {
    return new ToolCallError({ tool: name, reason: "InvalidArguments", description: "invalid arguments" })
  }
  return new ToolCallError({ tool: name, reason: "ToolFailed", description: "the tool failed", detail: result.encodedResult })
}
