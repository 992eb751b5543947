// Types of gpu-detect.mjs, for the TypeScript scripts and benches that import it.
export declare const cudaRoot: () => string | undefined
export declare const nvidiaGpus: () => Array<string>
export declare const vulkanBuildMissing: () => Array<string>
export declare const renderNodes: () => Array<string>
export declare const vulkanIcds: () => Array<string>
export declare const isSoftwareIcd: (file: string) => boolean
/** What detectGpu probes. */
export interface Machine {
  readonly platform: string
  readonly cudaRoot: () => string | undefined
  readonly nvidiaGpus: () => ReadonlyArray<string>
  readonly vulkanBuildMissing: () => ReadonlyArray<string>
  readonly renderNodes: () => ReadonlyArray<string>
  readonly vulkanIcds: () => ReadonlyArray<string>
}
export declare const probeMachine: () => Machine
export declare const detectGpu: (options: {
  readonly cublasFound: (cudaRoot: string) => boolean
  readonly machine?: Machine
}) => {
  readonly gpu: "cpu" | "cuda" | "vulkan" | "metal"
  readonly why: string
}
