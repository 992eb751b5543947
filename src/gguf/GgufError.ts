/**
 * The one error type of the GGUF reader, writer and model generator.
 *
 * A `GgufError` names the file, a `reason` callers can match on, and a message
 * that says what was wrong and at which byte offset, when there is one.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * Why a GGUF operation failed.
 *
 * - `NotFound`: the path does not exist.
 * - `NotAFile`: the path is a directory or another non-regular file.
 * - `NotGguf`: the first four bytes are not `GGUF`.
 * - `UnsupportedVersion`: a version other than 2 or 3 (or a byte-swapped file).
 * - `Truncated`: the file ends before a value or a tensor's data does.
 * - `Corrupt`: impossible counts or lengths, unknown value or tensor types,
 *   duplicate keys, misaligned or overlapping tensor data.
 * - `MissingKey`: a required metadata key is absent or has the wrong type.
 * - `InvalidInput`: the caller asked to write something GGUF cannot hold.
 * - `ReadFailed` / `WriteFailed`: the operating system refused the I/O.
 *
 * @category models
 * @since 0.1.0
 */
export const GgufErrorReason = Schema.Literals([
  "NotFound",
  "NotAFile",
  "NotGguf",
  "UnsupportedVersion",
  "Truncated",
  "Corrupt",
  "MissingKey",
  "InvalidInput",
  "ReadFailed",
  "WriteFailed"
])

/**
 * The reason union as a TypeScript type.
 *
 * @category models
 * @since 0.1.0
 */
export type GgufErrorReason = typeof GgufErrorReason.Type

/**
 * A failed GGUF read, write or generation.
 *
 * **Details** `offset` is the absolute byte offset in the file where the
 * problem was found, when it is known. `cause` keeps the foreign error (an
 * errno from `node:fs`, for example).
 *
 * @category errors
 * @since 0.1.0
 */
export class GgufError extends Schema.TaggedError<GgufError>()("GgufError", {
  path: Schema.String,
  reason: GgufErrorReason,
  message: Schema.String,
  offset: Schema.optionalKey(Schema.Number),
  cause: Schema.optionalKey(Schema.Defect())
}) {}
