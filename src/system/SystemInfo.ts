/**
 * `systemInfo`: the machine and the native addon in one record: Node, platform, CPU model and features, cores,
 * memory, the addon's binary, backends and devices, and the compute threads decodes share. It never fails: when
 * the addon cannot load, `addon.loaded` is false and says why.
 *
 * @since 0.2.0
 */
import * as Os from "node:os"
import { Effect, Option } from "effect"
import * as Native from "../native/Native.ts"
import type { ComputeBudgetInfo, DeviceInfo, NativeBinding } from "../native/NativeBinding.ts"
import { version, type Version } from "./Version.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * What the addon reports, when it loads.
 *
 * @category models
 * @since 0.2.0
 */
export type AddonInfo =
  | {
    readonly loaded: true
    /** The `.node` file in use. */
    readonly binary: string
    /** `cpu`, `cuda`, `metal` or `vulkan`: the GPU backend it was built with. */
    readonly gpu: string
    /** How ggml's CPU backend was built or which variant it picked (`native`, `portable`, `haswell`, ...). */
    readonly cpuVariant: string
    readonly backends: ReadonlyArray<string>
    readonly devices: ReadonlyArray<DeviceInfo>
    /** Features the CPU backend was compiled with (`AVX2`, `FMA`, ...). */
    readonly cpuFeatures: ReadonlyArray<string>
    readonly extraBufferTypes: ReadonlyArray<string>
    readonly supportsGpuOffload: boolean
    readonly supportsMmap: boolean
  }
  | { readonly loaded: false; readonly error: string }

/**
 * The machine, the process and the addon.
 *
 * @category models
 * @since 0.2.0
 */
export interface SystemInfo {
  readonly version: Version
  readonly node: string
  readonly platform: NodeJS.Platform
  readonly arch: string
  readonly cpu: {
    readonly model: string
    /** Logical cores the OS reports (`os.availableParallelism`). */
    readonly cores: number
    /** Features the CPU backend was compiled with, where the addon loads. */
    readonly features: ReadonlyArray<string>
  }
  /** Bytes. */
  readonly memory: { readonly total: number; readonly free: number; readonly processRss: number }
  readonly addon: AddonInfo
  /** Threads for decodes: llama.cpp's default per context, and the process-wide budget they share. */
  readonly compute: {
    readonly defaultThreads: number
    readonly hardwareThreads: number
    readonly budget: ComputeBudgetInfo | undefined
  }
}

// ============================================================================
// Constructors
// ============================================================================

const features = (native: NativeBinding | undefined): ReadonlyArray<string> =>
  native === undefined
    ? []
    : Object.entries(native.systemInfo().cpuFeatures).filter(([, v]) => v !== "0" && v !== "").map(([k]) => k)

/**
 * Reads the system information, using the `Native` in context if there is one and loading the addon otherwise.
 *
 * @category constructors
 * @since 0.2.0
 */
export const systemInfo: Effect.Effect<SystemInfo> = Effect.gen(function*() {
  const provided = yield* Effect.serviceOption(Native.Native)
  const loaded = Option.isSome(provided) ? Effect.succeed(provided.value) : Native.load
  const result = yield* Effect.result(loaded)
  const native = result._tag === "Success" ? result.success : undefined
  const info = native?.systemInfo()
  const cpus = Os.cpus()
  const addon: AddonInfo = info === undefined
    ? { loaded: false, error: result._tag === "Failure" ? result.failure.message : "not loaded" }
    : {
      loaded: true,
      binary: info.binary,
      gpu: info.gpu,
      cpuVariant: info.cpuVariant,
      backends: info.backends,
      devices: info.devices,
      cpuFeatures: features(native),
      extraBufferTypes: info.cpuBackend.extraBufferTypes,
      supportsGpuOffload: info.supportsGpuOffload,
      supportsMmap: info.supportsMmap
    }
  return {
    version: yield* version,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: { model: cpus[0]?.model.trim() ?? "unknown", cores: Os.availableParallelism(), features: features(native) },
    memory: { total: Os.totalmem(), free: Os.freemem(), processRss: process.memoryUsage.rss() },
    addon,
    compute: {
      defaultThreads: info?.defaultThreads ?? 0,
      hardwareThreads: info?.hardwareThreads ?? Os.availableParallelism(),
      budget: info?.computeBudget
    }
  }
})
