#!/usr/bin/env node
// After tsc: relative imports in the emitted declarations end in .js, like the emitted JavaScript. tsc rewrites
// `.ts` specifiers in .js output (rewriteRelativeImportExtensions) but keeps them in .d.ts files, which consumers
// with moduleResolution NodeNext or Bundler would then fail to resolve. Usage: dts-extensions.mjs DIR
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

const dir = process.argv[2]
if (dir === undefined) {
  console.error("usage: dts-extensions.mjs DIR")
  process.exit(1)
}
const specifier = /(["'])(\.\.?\/[^"'\n]+)\.ts\1/g
let files = 0
for (const file of readdirSync(dir, { recursive: true })) {
  if (typeof file !== "string" || !file.endsWith(".d.ts")) continue
  const path = join(dir, file)
  const text = readFileSync(path, "utf8")
  const fixed = text.replace(specifier, "$1$2.js$1")
  if (fixed !== text) {
    writeFileSync(path, fixed)
    files++
  }
}
console.log(`dts-extensions: ${files} declaration files rewritten to .js specifiers`)
