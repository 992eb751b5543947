import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The GPU suite runs against a GPU build: npm run test:gpu (vitest.gpu.config.ts).
    exclude: ["test/gpu/**", "**/node_modules/**", "**/.git/**"],
    // A throwaway PostgreSQL for the workflow tests (or EFFECT_LLAMA_TEST_DATABASE_URL); see test/support/Postgres.ts.
    globalSetup: ["test/support/postgresSetup.ts"],
    // Native tests load models and run decodes on 2 cores: keep files in one worker at a time.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // DeathReporter names test files whose worker died (a native crash) and counts their tests as failed.
    reporters: ["default", "./test/support/DeathReporter.ts"]
  }
})
