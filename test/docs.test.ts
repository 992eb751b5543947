// Every public export in src/ has a doc comment (overloads share the first signature's).
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

const src = new URL("../src/", import.meta.url).pathname
const files = (readdirSync(src, { recursive: true }) as Array<string>).filter((f) => f.endsWith(".ts"))

const undocumented = (file: string): Array<string> => {
  const lines = readFileSync(join(src, file), "utf8").split("\n")
  const out: Array<string> = []
  for (const [i, line] of lines.entries()) {
    const match = /^export (?:declare )?(?:const|class|interface|type|function|abstract class) (\w+)/.exec(line)
    if (match === null) continue
    let j = i - 1
    while (j >= 0 && lines[j]!.trim() === "") j--
    const previous = lines[j] ?? ""
    const overload = new RegExp(`^export function ${match[1]}\\b`).test(previous)
    if (!previous.trim().endsWith("*/") && !overload) out.push(`${file}:${i + 1} ${match[1]}`)
  }
  return out
}

describe("docs", () => {
  it("every export in src/ has a doc comment", () => {
    assert.isAbove(files.length, 15)
    assert.deepStrictEqual(files.flatMap(undocumented), [])
  })
})
