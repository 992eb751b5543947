/**
 * `effect-llama info <model.gguf>`: GGUF metadata and the tensor table, read from the header without loading the
 * model (like gguf-dump).
 *
 * @internal
 */
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import type { GgufValue } from "../../gguf/GgufFormat.ts"
import * as GgufReader from "../../gguf/GgufReader.ts"
import * as Flags from "./flags.ts"
import { formatBytes, json, out } from "./output.ts"

const show = (value: GgufValue): string => {
  switch (value.type) {
    case "skipped-array":
      return `[${value.length} × ${value.itemType}]`
    case "array": {
      const items = value.value as ReadonlyArray<unknown>
      const head = items.slice(0, 8).map((v) => (typeof v === "string" ? JSON.stringify(v) : String(v))).join(", ")
      return `[${items.length} × ${value.itemType}] ${items.length > 8 ? `${head}, …` : head}`
    }
    case "string":
      return value.value.length > 120 ? `${JSON.stringify(value.value.slice(0, 120))}… (${value.value.length} chars)` : JSON.stringify(value.value)
    default:
      return String(value.value)
  }
}

const jsonValue = (value: GgufValue): unknown =>
  value.type === "skipped-array"
    ? { type: "array", itemType: value.itemType, length: value.length }
    : value.type === "array"
    ? { type: "array", itemType: value.itemType, length: value.value.length, values: value.value.length <= 64 ? value.value : undefined }
    : value.value

/** @internal */
export const info = Command.make("info", {
  model: Argument.String("model").pipe(Argument.withDescription("the GGUF file")),
  json: Flags.json,
  tensors: Flag.Int("tensors").pipe(Flag.withDescription("tensor rows to list (default 40; -1 for all)"), Flag.withDefault(40))
}, (flags) =>
  Effect.gen(function*() {
    yield* Flags.checkModelFile(flags.model)
    const file = yield* GgufReader.read(flags.model, { maxArrayLength: 64 })
    const text = (key: string) => Option.getOrUndefined(GgufReader.getString(file, key))
    const architecture = text("general.architecture") ?? "unknown"
    const parameters = file.tensors.reduce((n, t) => n + t.elementCount, 0)
    if (flags.json) {
      return yield* json({
        path: file.path,
        version: file.version,
        fileSize: file.fileSize,
        alignment: file.alignment,
        architecture,
        name: text("general.name") ?? null,
        parameters,
        tensorCount: file.tensors.length,
        metadata: Object.fromEntries([...file.metadata.entries()].map(([k, v]) => [k, jsonValue(v)])),
        tensors: file.tensors.map((t) => ({ name: t.name, type: t.typeName, shape: t.shape, elements: t.elementCount, bytes: t.byteSize }))
      })
    }
    const lines = [
      `file          ${file.path}`,
      `format        GGUF v${file.version}, ${formatBytes(file.fileSize)}, alignment ${file.alignment}`,
      `architecture  ${architecture}`,
      `name          ${text("general.name") ?? "(none)"}`,
      `parameters    ${parameters.toLocaleString("en-US")}`,
      `tensors       ${file.tensors.length}`,
      "",
      `metadata (${file.metadata.size} keys)`,
      ...[...file.metadata.entries()].map(([key, value]) => `  ${key.padEnd(40)} ${show(value)}`),
      ""
    ]
    const shown = flags.tensors < 0 ? file.tensors : file.tensors.slice(0, flags.tensors)
    const nameWidth = Math.max(4, ...shown.map((t) => t.name.length))
    lines.push(`tensors (${file.tensors.length})`)
    lines.push(`  ${"name".padEnd(nameWidth)}  ${"type".padEnd(6)}  ${"shape".padEnd(20)}  size`)
    for (const t of shown) {
      lines.push(`  ${t.name.padEnd(nameWidth)}  ${t.typeName.padEnd(6)}  ${`[${t.shape.join(", ")}]`.padEnd(20)}  ${formatBytes(t.byteSize)}`)
    }
    if (shown.length < file.tensors.length) lines.push(`  … ${file.tensors.length - shown.length} more (--tensors -1 lists all)`)
    yield* out(`${lines.join("\n")}\n`)
  })).pipe(Command.withDescription("Show a GGUF file's metadata and tensors, without loading it"))
