/**
 * How the `effect-llama` command fails: every failure becomes one `CliFailure` with a kind, printed as one line
 * (`effect-llama: <message>`, no stack trace) and an exit code per kind, so scripts can tell a usage error from a
 * missing model, a download failure, a checksum mismatch, a server that cannot start or a failed generation.
 *
 * @since 0.2.0
 */
import { Cause, Schema } from "effect"

/**
 * The kinds of failure, each with its exit code (see `exitCodes`).
 *
 * @category models
 * @since 0.2.0
 */
export const CliFailureKind = Schema.Literals(["Usage", "ModelFile", "Download", "Checksum", "Server", "Inference", "Internal"])

/**
 * @category models
 * @since 0.2.0
 */
export type CliFailureKind = typeof CliFailureKind.Type

/**
 * A failed command: what kind, and the one line to print.
 *
 * @category errors
 * @since 0.2.0
 */
export class CliFailure extends Schema.TaggedError<CliFailure>()("CliFailure", {
  kind: CliFailureKind,
  description: Schema.String
}) {
  override get message(): string {
    return this.description
  }
}

/**
 * Exit codes: 0 success, 1 internal error, 2 usage (bad flags, arguments, sources), 3 model file (missing,
 * not a GGUF, failed to load), 4 download (HTTP error, 404, network), 5 checksum mismatch, 6 the server could
 * not start, 7 generation failed, 130 interrupted (Ctrl-C).
 *
 * @category constants
 * @since 0.2.0
 */
export const exitCodes: Readonly<Record<CliFailureKind | "Interrupted", number>> = {
  Internal: 1,
  Usage: 2,
  ModelFile: 3,
  Download: 4,
  Checksum: 5,
  Server: 6,
  Inference: 7,
  Interrupted: 130
}

type Classify = (error: { readonly reason?: unknown; readonly message: string }) => CliFailureKind

const llamaKinds: Readonly<Record<string, CliFailureKind>> = {
  ModelNotFound: "ModelFile",
  InvalidModelFile: "ModelFile",
  ModelLoadFailed: "ModelFile",
  VocabOnly: "ModelFile",
  ContextCreateFailed: "ModelFile",
  AddonUnavailable: "Internal"
}

const pullKinds: Readonly<Record<string, CliFailureKind>> = {
  InvalidSource: "Usage",
  Ambiguous: "Usage",
  NotFound: "Download",
  HttpError: "Download",
  NetworkError: "Download",
  ChecksumMismatch: "Checksum",
  FileSystem: "Internal"
}

const tagOf = (reason: unknown): string =>
  typeof reason === "string" ? reason : typeof reason === "object" && reason !== null ? String((reason as { _tag?: unknown })._tag) : ""

// By the failing error's tag: the library's own errors, effect/cli's parse errors, the HTTP server's.
const byTag: Readonly<Record<string, Classify>> = {
  LlamaError: (e) => llamaKinds[tagOf(e.reason)] ?? "Inference",
  PullError: (e) => pullKinds[tagOf(e.reason)] ?? "Download",
  GgufError: () => "ModelFile",
  NativeLoadError: () => "Internal",
  AiError: () => "Inference",
  ServeError: () => "Server",
  UnrecognizedOption: () => "Usage",
  DuplicateOption: () => "Usage",
  MissingOption: () => "Usage",
  MissingArgument: () => "Usage",
  UnexpectedArgument: () => "Usage",
  InvalidValue: () => "Usage",
  UnknownSubcommand: () => "Usage",
  ValidationError: () => "Usage",
  ShowHelp: () => "Usage"
}

const firstLine = (text: string) => text.split("\n").map((l) => l.trim()).find((l) => l !== "") ?? text

const describe = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return String(error)
  const tag = (error as { _tag?: unknown })._tag
  if (tag === "ServeError") {
    const cause = (error as { cause?: unknown }).cause
    const code = (cause as { code?: unknown } | undefined)?.code
    return code === "EADDRINUSE" ? `cannot listen: the address is in use (${(cause as Error).message})` : `cannot listen: ${String((cause as Error | undefined)?.message ?? cause)}`
  }
  const message = (error as { message?: unknown }).message
  return typeof message === "string" && message !== "" ? message : String(error)
}

/**
 * Any failure as a `CliFailure`.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromUnknown = (error: unknown): CliFailure => {
  if (error instanceof CliFailure) return error
  const tag = typeof error === "object" && error !== null ? String((error as { _tag?: unknown })._tag ?? "") : ""
  const classify = byTag[tag]
  const description = firstLine(describe(error))
  return new CliFailure({
    kind: classify === undefined ? "Internal" : classify(error as { reason?: unknown; message: string }),
    description
  })
}

/**
 * The failure a Cause holds (its first typed failure, else its first defect), or undefined for interruption.
 *
 * @category constructors
 * @since 0.2.0
 */
export const fromCause = (cause: Cause.Cause<unknown>): CliFailure | undefined => {
  const fail = cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) return fromUnknown(fail.error)
  const die = cause.reasons.find(Cause.isDieReason)
  if (die !== undefined) {
    const failure = fromUnknown(die.defect)
    return failure.kind === "Internal" ? new CliFailure({ kind: "Internal", description: `internal error: ${failure.description}` }) : failure
  }
  return undefined
}
