/**
 * The TypeScript mirror of the native addon's surface (`addon/*.cpp`). Every function and object the `.node`
 * exports is typed here, and only here; the rest of the library talks to the addon through the `Native` service.
 *
 * @since 0.1.0
 */

/**
 * What this build of the addon holds: the pinned llama.cpp, the backends and devices compiled in, CPU features.
 *
 * @category models
 * @since 0.1.0
 */
export interface SystemInfo {
  readonly llamaCpp: {
    /** Full commit id of the pinned llama.cpp (vendor/llama.cpp.pin.json). */
    readonly commit: string
    /** Release tag of the pinned llama.cpp. */
    readonly tag: string
    /** llama.cpp's own build info, read from git at build time. */
    readonly buildNumber: number
    readonly buildCommit: string
    readonly compiler: string
    readonly buildTarget: string
  }
  /** The GPU backend selected at build time (`EFFECT_LLAMA_GPU`). */
  readonly gpu: "cpu" | "cuda" | "metal" | "vulkan"
  /** Registered ggml backends, e.g. `["CPU"]` or `["CUDA", "CPU"]`. */
  readonly backends: ReadonlyArray<string>
  readonly devices: ReadonlyArray<DeviceInfo>
  /** CPU features the CPU backend was compiled with, e.g. `{ AVX2: "1", FMA: "1" }`. */
  readonly cpuFeatures: Readonly<Record<string, string>>
  /** The thread count llama.cpp's common library picks for math (physical cores, roughly). */
  readonly defaultThreads: number
  readonly hardwareThreads: number
  readonly supportsGpuOffload: boolean
  readonly supportsMmap: boolean
  readonly supportsMlock: boolean
  readonly maxDevices: number
  /** llama.cpp's one-line system summary (`llama_print_system_info`). */
  readonly summary: string
}

/**
 * One compute device as ggml reports it.
 *
 * @category models
 * @since 0.1.0
 */
export interface DeviceInfo {
  readonly name: string
  readonly description: string
  readonly type: "cpu" | "gpu" | "igpu" | "accel"
  readonly backend: string
  readonly memoryFree: number
  readonly memoryTotal: number
}

/**
 * The module object the addon exports.
 *
 * @category models
 * @since 0.1.0
 */
export interface NativeBinding {
  readonly systemInfo: () => SystemInfo
}
