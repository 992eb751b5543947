// Writes one fuzz case to a file, to reproduce a failure the fuzz test reported:
// `node test/fuzz/case.ts <base-name> <seed> <index> <out.gguf>` (base-name: micro-llama, the fixture, or a model of
// scripts/models.ts).
import { readFileSync, writeFileSync } from "node:fs"
import { ensureModel } from "../../scripts/models.ts"
import { scan } from "./GgufLayout.ts"
import { apply, describe, makeCase } from "./Mutator.ts"

const [name, seed, index, out] = process.argv.slice(2)
if (out === undefined) {
  console.error("usage: node test/fuzz/case.ts <base-name> <seed> <index> <out.gguf>")
  process.exit(2)
}
const micro = new URL("../fixtures/micro-llama.gguf", import.meta.url).pathname
const base = readFileSync(name === "micro-llama" ? micro : await ensureModel(name!))
const c = makeCase(name!, base, scan(base), Number(seed), Number(index))
writeFileSync(out, apply(base, c))
console.log(`${out}: ${describe(c)}`)
