#!/usr/bin/env node
// `npm run prebuild`: the platform package for this machine (`@effect-llama/<platform>-<arch>`), packed into
// prebuilds/. By default it builds the portable addon first (EFFECT_LLAMA_PREBUILT=1: ggml's CPU backend as
// runtime-selected variants, from plain x86-64 to AVX-512 and AMX, as llama.cpp's own releases ship it; with
// EFFECT_LLAMA_GPU=vulkan or cuda that backend is added as one more loadable library).
//
// Usage: npm run prebuild [-- --from DIR] [--out DIR]
//   --from DIR   package an existing build (DIR holds effect_llama.node; DIR/../bin its libraries, if any)
//   --out DIR    where the staged package and its tarball go (default: prebuilds/)
import { execFileSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { platformPackage, probeAddon } from "./prebuilt.mjs"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const flag = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const from = flag("--from")
const out = resolve(flag("--out") ?? join(root, "prebuilds"))
const fail = (message) => {
  console.error(`prebuild: ${message}`)
  process.exit(1)
}

let sources
if (from === undefined) {
  execFileSync(process.execPath, [join(root, "scripts", "build-native.mjs")], {
    stdio: "inherit",
    env: { ...process.env, EFFECT_LLAMA_PREBUILT: "1" }
  })
  // The addon lands in Release/, the llama.cpp libraries (and the CPU variants) in bin/.
  sources = [join(root, "build-prebuilt", "Release"), join(root, "build-prebuilt", "bin")]
} else {
  // A build folder keeps llama.cpp's shared libraries (if any) in bin/ beside Release/.
  sources = [resolve(from), resolve(from, "..", "bin")].filter((dir) => existsSync(dir))
}
const addon = join(sources[0], "effect_llama.node")
if (!existsSync(addon)) fail(`${addon} does not exist`)

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
const name = platformPackage()
const stage = join(out, name.replace("/", "+"))
rmSync(stage, { recursive: true, force: true })
mkdirSync(join(stage, "bin"), { recursive: true })
// A shared library ships under its SONAME (libggml.so.0), the name the loader looks for; a module that ggml loads
// by path (libggml-cpu-haswell.so) under its file name. The libX.so and libX.so.0.25.1 aliases stay behind.
const shipped = (file, files) => {
  if (file === "effect_llama.node" || file === "effect_llama.cpu.txt") return true
  if (/^lib.*\.so\.\d+$/.test(file)) return true
  const versioned = files.some((f) => f.startsWith(`${file}.`) && /^\d+$/.test(f.slice(file.length + 1)))
  return /^lib.*\.so$/.test(file) && !versioned
}
for (const dir of sources) {
  const files = readdirSync(dir)
  for (const file of files.filter((f) => shipped(f, files))) copyFileSync(join(dir, file), join(stage, "bin", file))
}
const probe = probeAddon(join(stage, "bin", "effect_llama.node"))
if (!probe.ok) fail(`the staged addon does not load: ${probe.reason}`)

writeFileSync(join(stage, "package.json"), JSON.stringify({
  name,
  version: pkg.version,
  description: `Prebuilt native addon of effect-llama for ${process.platform}-${process.arch} (llama.cpp ${probe.info.tag})`,
  license: pkg.license,
  os: [process.platform],
  cpu: [process.arch],
  files: ["bin"]
}, null, 2) + "\n")
writeFileSync(join(stage, "README.md"), `# ${name}\n\nThe prebuilt native addon of [effect-llama](https://www.npmjs.com/package/effect-llama) ` +
  `for ${process.platform}-${process.arch}: effect-llama installs it as an optional dependency and uses it when it loads, ` +
  `so nothing is compiled at install. Backends: ${probe.info.backends.join(", ")}.\n`)
const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", out], { cwd: stage, encoding: "utf8" }).trim()
console.log(`prebuild: ${name}@${pkg.version} (CPU variant here: ${probe.info.cpuVariant}) -> ${join(out, tarball)}`)
