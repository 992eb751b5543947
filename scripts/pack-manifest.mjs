#!/usr/bin/env node
// npm pack's prepack/postpack: the packed package.json lists the prebuilt platform packages as optional
// dependencies. They are added only while packing, since they are not in this repository's lockfile (an
// unpublished optional dependency would make `npm ci` fail here). Usage: pack-manifest.mjs add | restore
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const manifest = join(root, "package.json")
const backup = join(root, ".cache", "package.json.before-pack")
const platforms = ["linux-x64", "linux-arm64", "darwin-arm64"]

if (process.argv[2] === "add") {
  mkdirSync(dirname(backup), { recursive: true })
  copyFileSync(manifest, backup)
  const pkg = JSON.parse(readFileSync(manifest, "utf8"))
  pkg.optionalDependencies = Object.fromEntries(platforms.map((p) => [`@effect-llama/${p}`, pkg.version]))
  writeFileSync(manifest, JSON.stringify(pkg, null, 2) + "\n")
} else if (process.argv[2] === "restore") {
  if (existsSync(backup)) renameSync(backup, manifest)
} else {
  console.error("usage: pack-manifest.mjs add | restore")
  process.exit(1)
}
