// Types of gpu-detect.mjs, for the TypeScript scripts and benches that import it.
export declare const cudaRoot: () => string | undefined
export declare const nvidiaGpus: () => Array<string>
export declare const vulkanBuildMissing: () => Array<string>
export declare const renderNodes: () => Array<string>
export declare const detectGpu: (options: { readonly cublasFound: (cudaRoot: string) => boolean }) => {
  readonly gpu: "cpu" | "cuda" | "vulkan" | "metal"
  readonly why: string
}
