// vitest globalSetup: one PostgreSQL for the whole run (see Postgres.ts), its URL handed to the test files as
// inject("databaseUrl"). When PostgreSQL is missing the rest of the suite still runs; the tests that need the
// database fail with the reason (inject("databaseError")).
import type { TestProject } from "vitest/node"
import * as Postgres from "./Postgres.ts"

declare module "vitest" {
  export interface ProvidedContext {
    readonly databaseUrl: string
    readonly databaseError: string
  }
}

let server: Postgres.Server | undefined

export const setup = async (project: TestProject): Promise<void> => {
  try {
    server = await Postgres.start()
    console.log(`[postgres] ${server.description}`)
    project.provide("databaseUrl", server.url)
    project.provide("databaseError", "")
  } catch (error) {
    project.provide("databaseUrl", "")
    project.provide("databaseError", error instanceof Error ? error.message : String(error))
  }
}

export const teardown = async (): Promise<void> => {
  await server?.stop()
  server = undefined
}
