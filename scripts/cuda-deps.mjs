// cuBLAS for a CUDA build. ggml's CUDA backend links cuBLAS; a full CUDA toolkit ships it, a minimal one (nvcc and
// the runtime only, as pip's nvidia-cuda-* wheels install it) does not. Then it comes from NVIDIA's cuBLAS wheel
// (`nvidia-cublas`), installed with pip into .cache/cuda-deps/ of this checkout: nothing outside the checkout changes.
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"

const libIn = (dir) => {
  if (!existsSync(dir)) return undefined
  const file = readdirSync(dir).find((f) => /^libcublas\.so(\.\d+)*$/.test(f))
  return file === undefined ? undefined : dir
}

/** cuBLAS's include and library folders for the toolkit at `cudaRoot`, or undefined. */
export const findCublas = (cudaRoot, root) => {
  const candidates = [
    { include: join(cudaRoot, "include"), lib: [join(cudaRoot, "lib64"), join(cudaRoot, "lib"), join(cudaRoot, "targets", "x86_64-linux", "lib")] },
    ...(process.env.EFFECT_LLAMA_CUBLAS_DIR ? [{ include: join(process.env.EFFECT_LLAMA_CUBLAS_DIR, "include"), lib: [join(process.env.EFFECT_LLAMA_CUBLAS_DIR, "lib")] }] : []),
    ...["cu13", "cu12"].map((v) => ({ include: join(root, ".cache", "cuda-deps", "nvidia", v, "include"), lib: [join(root, ".cache", "cuda-deps", "nvidia", v, "lib")] }))
  ]
  for (const c of candidates) {
    if (!existsSync(join(c.include, "cublas_v2.h"))) continue
    const lib = c.lib.map(libIn).find((d) => d !== undefined)
    if (lib !== undefined) return { include: c.include, lib }
  }
  return undefined
}

/** The major version of the toolkit at `cudaRoot` (13 for CUDA 13.0), from nvcc. */
export const cudaMajor = (cudaRoot) => {
  try {
    const out = execFileSync(join(cudaRoot, "bin", "nvcc"), ["--version"], { encoding: "utf8" })
    return Number(/release (\d+)\./.exec(out)?.[1] ?? "13")
  } catch {
    return 13
  }
}

/** cuBLAS, installed from pip's nvidia-cublas wheel into .cache/cuda-deps/ when the toolkit lacks it. */
export const ensureCublas = (cudaRoot, root) => {
  const found = findCublas(cudaRoot, root)
  if (found !== undefined) return found
  const major = cudaMajor(cudaRoot)
  const wheel = major >= 13 ? `nvidia-cublas==${major}.*` : `nvidia-cublas-cu${major}`
  const target = join(root, ".cache", "cuda-deps")
  const started = Date.now()
  console.log(`build-native: the CUDA toolkit in ${cudaRoot} has no cuBLAS; installing ${wheel} with pip into ${target}`)
  const python = ["python3", "python"].find((p) => {
    try {
      execFileSync(p, ["-m", "pip", "--version"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })
  if (python === undefined) {
    throw new Error(`cuBLAS is missing from ${cudaRoot} and pip is not available to install ${wheel}: install cuBLAS ` +
      "(NVIDIA's libcublas packages) or set EFFECT_LLAMA_CUBLAS_DIR to a folder with include/cublas_v2.h and lib/libcublas.so*")
  }
  execFileSync(python, ["-m", "pip", "install", "--quiet", "--no-deps", "--retries", "1", "--target", target, wheel], { stdio: "inherit" })
  const installed = findCublas(cudaRoot, root)
  if (installed === undefined) throw new Error(`pip installed ${wheel}, but no cuBLAS was found under ${target}`)
  console.log(`build-native: cuBLAS installed in ${Math.round((Date.now() - started) / 1000)} s`)
  return installed
}
