// Types of cuda-deps.mjs, for the TypeScript scripts that import it.
export interface Cublas {
  readonly include: string
  readonly lib: string
}
export declare const findCublas: (cudaRoot: string, root: string) => Cublas | undefined
export declare const cudaMajor: (cudaRoot: string) => number
export declare const ensureCublas: (cudaRoot: string, root: string) => Cublas
