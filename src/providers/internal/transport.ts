/**
 * Sending a provider request over effect/http: JSON in, JSON or a decoded stream out, every failure an `AiError`.
 * Interrupting the calling fiber aborts the request (the HTTP client's abort signal), also mid-stream.
 *
 * @internal
 */
import { Effect, Stream } from "effect"
import type { AiError } from "effect/ai"
import { type HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { fromHttpClientError, fromResponse, malformed, type Site } from "./errors.ts"
import { decode, type Decoder } from "./streaming.ts"

/** @internal */
export interface Endpoint {
  readonly client: HttpClient.HttpClient
  /** Joined with the path of each call; no trailing slash. */
  readonly baseUrl: string
  readonly headers: Readonly<Record<string, string>>
  readonly query?: Readonly<Record<string, string>> | undefined
}

/** Removes the trailing slashes of a base URL. @internal */
export const trimBaseUrl = (url: string): string => url.replace(/\/+$/, "")

/** A POST with a JSON body. @internal */
export const post = (endpoint: Endpoint, path: string, body: unknown): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.post(endpoint.baseUrl + path).pipe(
    HttpClientRequest.setHeaders(endpoint.headers),
    HttpClientRequest.setUrlParams(endpoint.query ?? {}),
    HttpClientRequest.bodyText(JSON.stringify(body), "application/json")
  )

/** A GET. @internal */
export const get = (endpoint: Endpoint, path: string): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.get(endpoint.baseUrl + path).pipe(
    HttpClientRequest.setHeaders(endpoint.headers),
    HttpClientRequest.setUrlParams(endpoint.query ?? {})
  )

const headersOf = (response: HttpClientResponse.HttpClientResponse): Record<string, string> =>
  response.headers as unknown as Record<string, string>

// A status >= 400: read the body (best effort) and map it.
const failed = (site: Site, response: HttpClientResponse.HttpClientResponse): Effect.Effect<never, AiError.AiError> =>
  response.text.pipe(
    Effect.orElseSucceed(() => ""),
    Effect.flatMap((body) =>
      Effect.fail(fromResponse(site, {
        status: response.status,
        headers: headersOf(response),
        body,
        method: response.request.method,
        url: response.request.url
      }))
    )
  )

const send = (endpoint: Endpoint, site: Site, request: HttpClientRequest.HttpClientRequest) =>
  endpoint.client.execute(request).pipe(
    Effect.mapError((error) => fromHttpClientError(site, error)),
    Effect.flatMap((response) => response.status >= 400 ? failed(site, response) : Effect.succeed(response))
  )

/**
 * Sends `request` and parses the body as JSON.
 *
 * @internal
 */
export const json = (
  endpoint: Endpoint,
  site: Site,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<unknown, AiError.AiError> =>
  send(endpoint, site, request).pipe(
    Effect.flatMap((response) =>
      response.text.pipe(
        Effect.mapError((error) => fromHttpClientError(site, error)),
        Effect.flatMap((text) =>
          Effect.try({
            try: () => JSON.parse(text) as unknown,
            catch: () => malformed(site, `the response body is not JSON (HTTP ${response.status})`, text)
          })
        )
      )
    )
  )

/**
 * Sends `request` and decodes the body as it arrives, with a fresh decoder per call.
 *
 * @internal
 */
export const stream = <B>(
  endpoint: Endpoint,
  site: Site,
  request: HttpClientRequest.HttpClientRequest,
  decoder: (response: HttpClientResponse.HttpClientResponse) => Decoder<string, B>
): Stream.Stream<B, AiError.AiError> =>
  Stream.unwrap(Effect.map(send(endpoint, site, request), (response) =>
    decode(
      response.stream.pipe(
        Stream.mapError((error) => fromHttpClientError(site, error)),
        Stream.decodeText()
      ),
      () => decoder(response)
    )))
