/**
 * Vision: image parts of an effect/ai prompt (file parts with an image media type) go through libmtmd for a model
 * loaded with a vision projector (mmproj GGUF); usage counts the image tokens. Run: node examples/vision.ts
 * (LLAMA_MODEL_PATH and LLAMA_MMPROJ_PATH for a real vision model, LLAMA_IMAGE_PATH for your own picture)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"
import { LanguageModel } from "effect/ai"
import { readFileSync } from "node:fs"
import { LlamaLanguageModel, Native } from "../src/index.ts"
import { companionPath, modelPath } from "./model.ts"

const projector = await companionPath("LLAMA_MMPROJ_PATH", "tiny-qwen2-mmproj")

// A 16x16 PNG with a colour pattern, unless you give your own.
const image = process.env.LLAMA_IMAGE_PATH
  ? new Uint8Array(readFileSync(process.env.LLAMA_IMAGE_PATH))
  : new Uint8Array(Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAABVklEQVR4nGNgUPXKn7LzHrOGb9H0PQ/ZtANKZ+1/wqkXXDH30HMew7DqBUdf8ZtE1i0+8VbIPKZx2WkG26T2NRe/STukdq2/8lPOOaN30/U/im7ZE7be+q/imTd5x10mdZ/CabsfsGr5l8zc95iDoWr+kZd8xhG1i46/ETSLblh66r2IZVzzirOfxG0S21Zf+Cpln9K57vIPWaf0no3Xfiu4Mmy/w6jmXTB1130WTb/iGXsfsesEls0+8JRLP6Ry3uEXvEbhNQuPvRYwjapfcvKdsEVsE8MXSbvkjrWXvss4pnVvuPpL3iWzb/ONv0ruORO33cbmPwYs/vogahXfsvLcZwls/mPA4i/doPI5B59xG4Ri8x8DFn9l9W+5+U/ZI3cSNv8xYPHX8jMfxawTWledx+Y/UuPtAwOJ8abLQGK8ZTGQGG/LGUiMtycMJMabIgOJ8RYHAPqMfBARJbBAAAAAAElFTkSuQmCC",
    "base64"
  ))

const program = Effect.gen(function*() {
  const response = yield* LanguageModel.generateText({
    prompt: [{
      role: "user",
      content: [{ type: "file", mediaType: "image/png", data: image }, { type: "text", text: "What is in this picture?" }]
    }]
  })
  yield* Console.log(response.text)
  const finish = response.content.find((part) => part.type === "finish")
  const imageTokens = (finish?.metadata["llama.cpp"] as { readonly imageTokens?: number } | undefined)?.imageTokens
  yield* Console.log(`prompt tokens: ${response.usage.inputTokens.total}, of which image tokens: ${imageTokens}`)
})

const Local = LlamaLanguageModel.layerModel({ path: modelPath, model: { projector }, config: { maxTokens: 24 } }).pipe(
  Layer.provide(Native.layer)
)

NodeRuntime.runMain(program.pipe(Effect.provide(Local)))
