/**
 * Which GGUF file the examples run: `LLAMA_MODEL_PATH` if set (any real chat model, e.g. a Qwen2.5 instruct
 * GGUF), else the generated random-weight test model. A random-weight model tokenizes, templates and runs at a
 * real model's speed, but what it says is noise: point LLAMA_MODEL_PATH at a real model to read answers.
 */
import { ensureModel } from "../scripts/models.ts"

const fromEnv = process.env.LLAMA_MODEL_PATH

export const modelPath: string = fromEnv !== undefined && fromEnv !== "" ? fromEnv : await ensureModel("tiny-qwen2")

export const isRandomModel = fromEnv === undefined || fromEnv === ""

if (isRandomModel) {
  console.error(`[effect-llama example] using the generated random-weight model ${modelPath}: its output is noise.`)
  console.error("[effect-llama example] set LLAMA_MODEL_PATH=/path/to/model.gguf to run a real model.")
}

/**
 * A companion file of the examples' model (a draft model, a LoRA adapter, a vision projector, a reranker): the
 * environment variable `envVar` if set, else the generated random-weight one made for the test model.
 */
export const companionPath = async (
  envVar: string,
  generated: "tiny-qwen2-draft" | "tiny-qwen2-lora" | "tiny-qwen2-mmproj" | "tiny-qwen3-reranker"
): Promise<string> => {
  const path = process.env[envVar]
  return path !== undefined && path !== "" ? path : await ensureModel(generated)
}
