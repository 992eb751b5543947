// The prebuilt platform packages (`@effect-llama/<platform>-<arch>`): their names, where an installed one keeps its
// addon, and whether an addon loads on this machine. Shared by install.mjs (at install), prebuild.mjs (making one)
// and src/native/Native.ts (finding one at run time).
import { spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

/** The platform package for this machine, e.g. `@effect-llama/linux-x64`. */
export const platformPackage = (platform = process.platform, arch = process.arch) => `@effect-llama/${platform}-${arch}`

/** The addon of the platform package installed beside `packageRoot` (effect-llama's folder), or undefined. */
export const installedPrebuilt = (packageRoot) => {
  try {
    const manifest = createRequire(join(packageRoot, "package.json")).resolve(`${platformPackage()}/package.json`)
    const addon = join(dirname(manifest), "bin", "effect_llama.node")
    return existsSync(addon) ? { manifest, addon } : undefined
  } catch {
    return undefined
  }
}

/**
 * Loads `addon` in a child process (a binary that does not fit this machine must not take the caller down) and
 * returns its systemInfo summary, or the reason it did not load.
 */
export const probeAddon = (addon) => {
  const script = "const i = require(process.argv[1]).systemInfo();" +
    "process.stdout.write(JSON.stringify({ cpuVariant: i.cpuVariant, backends: i.backends, tag: i.llamaCpp.tag }))"
  // LD_BIND_NOW resolves every symbol at load, so a missing one fails the probe instead of the first call using it.
  const child = spawnSync(process.execPath, ["-e", script, addon], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, LD_BIND_NOW: "1" }
  })
  if (child.status === 0) {
    try {
      return { ok: true, info: JSON.parse(child.stdout) }
    } catch {
      return { ok: false, reason: `unexpected output: ${child.stdout.slice(0, 200)}` }
    }
  }
  const why = child.signal !== null ? `it died with ${child.signal}` : (child.stderr || child.stdout).trim().split("\n").slice(-3).join(" ")
  return { ok: false, reason: why || `exit code ${child.status}` }
}
