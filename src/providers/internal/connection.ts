/**
 * Where an OpenAI-compatible server is and how to authenticate: shared by the language and embedding models.
 *
 * @internal
 */
import { Redacted } from "effect"
import type { HttpClient } from "effect/http"
import { type Endpoint, trimBaseUrl } from "./transport.ts"

/** @internal */
export interface Connection {
  /** Up to and including the API version segment, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl?: string | undefined
  readonly apiKey?: Redacted.Redacted<string> | undefined
  /** `authorization` (Bearer, the default) or Azure's `api-key`. */
  readonly apiKeyHeader?: "authorization" | "api-key" | undefined
  readonly organization?: string | undefined
  readonly project?: string | undefined
  /** Sent with every request (after the ones above, so they can override them). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Query parameters of every request (Azure's `api-version`). */
  readonly queryParams?: Readonly<Record<string, string>> | undefined
}

/** @internal */
export const defaultBaseUrl = "https://api.openai.com/v1"

/** @internal */
export const endpointOf = (connection: Connection, client: HttpClient.HttpClient): Endpoint => {
  const headers: Record<string, string> = {}
  if (connection.apiKey !== undefined) {
    const key = Redacted.value(connection.apiKey)
    if (connection.apiKeyHeader === "api-key") headers["api-key"] = key
    else headers.authorization = `Bearer ${key}`
  }
  if (connection.organization !== undefined) headers["openai-organization"] = connection.organization
  if (connection.project !== undefined) headers["openai-project"] = connection.project
  for (const [name, value] of Object.entries(connection.headers ?? {})) headers[name.toLowerCase()] = value
  return {
    client,
    baseUrl: trimBaseUrl(connection.baseUrl ?? defaultBaseUrl),
    headers,
    query: connection.queryParams
  }
}
