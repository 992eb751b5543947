import { defineConfig } from "vitest/config"

// The GPU suite (npm run test:gpu): test/gpu/, run against the GPU build that EFFECT_LLAMA_ADDON names
// (scripts/test-gpu.mjs sets it). Not part of `npm test`, which runs the CPU build.
export default defineConfig({
  test: {
    include: ["test/gpu/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
    reporters: ["default", "./test/support/DeathReporter.ts"]
  }
})
