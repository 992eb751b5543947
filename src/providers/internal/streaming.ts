/**
 * Incremental decoders for streamed responses: text chunks -> SSE events or NDJSON values -> provider parts, with
 * a check at the end that the stream did not stop in the middle of an event.
 *
 * @internal
 */
import { type Array as Arr, Cause, Effect, Pull, Stream } from "effect"
import type { AiError } from "effect/ai"

/**
 * A stateful decoder. `feed` and `end` push outputs into `out`; a returned error fails the stream.
 *
 * @internal
 */
export interface Decoder<A, B> {
  readonly feed: (input: A, out: Array<B>) => AiError.AiError | undefined
  readonly end: (out: Array<B>) => AiError.AiError | undefined
}

/**
 * Runs `self` through a fresh decoder (one per run of the stream).
 *
 * @internal
 */
export const decode = <A, B, R>(
  self: Stream.Stream<A, AiError.AiError, R>,
  make: () => Decoder<A, B>
): Stream.Stream<B, AiError.AiError, R> =>
  Stream.transformPull(self, (pull) =>
    Effect.sync(() => {
      const decoder = make()
      let ended = false
      // An error after some outputs of the same chunk: those outputs go out first, the error at the next pull.
      let failure: AiError.AiError | undefined
      const emit = (out: Array<B>, error: AiError.AiError | undefined): Pull.Pull<Arr.NonEmptyReadonlyArray<B>, AiError.AiError> | undefined => {
        if (error !== undefined) {
          if (out.length === 0) return Effect.fail(error)
          failure = error
        }
        return out.length > 0 ? Effect.succeed(out as unknown as Arr.NonEmptyReadonlyArray<B>) : undefined
      }
      const finish = (): Pull.Pull<Arr.NonEmptyReadonlyArray<B>, AiError.AiError> => {
        ended = true
        const out: Array<B> = []
        return emit(out, decoder.end(out)) ?? Cause.done()
      }
      const next: Pull.Pull<Arr.NonEmptyReadonlyArray<B>, AiError.AiError> = Effect.suspend(() => {
        if (failure !== undefined) {
          const error = failure
          failure = undefined
          ended = true
          return Effect.fail(error)
        }
        return ended ? Cause.done() : pull.pipe(
          Effect.flatMap((inputs) => {
            const out: Array<B> = []
            for (const input of inputs) {
              const error = decoder.feed(input, out)
              if (error !== undefined) return emit(out, error)!
            }
            return emit(out, undefined) ?? next
          }),
          Pull.catchDone(finish)
        )
      })
      return next
    }))

/**
 * One server-sent event.
 *
 * @internal
 */
export interface SseEvent {
  readonly event: string
  readonly data: string
}

/**
 * Text -> SSE events (WHATWG framing: `field: value` lines, a blank line dispatches, `:` lines are comments).
 * `cut` describes a stream that ended inside an event.
 *
 * @internal
 */
export const sse = <B>(inner: Decoder<SseEvent, B>, cut: (detail: string) => AiError.AiError): Decoder<string, B> => {
  let buffer = ""
  let event = ""
  let data: Array<string> = []
  let open = false
  const line = (text: string, out: Array<B>): AiError.AiError | undefined => {
    if (text === "") {
      const dispatch = open && data.length > 0
      const frame = { event: event === "" ? "message" : event, data: data.join("\n") }
      event = ""
      data = []
      open = false
      return dispatch ? inner.feed(frame, out) : undefined
    }
    if (text.charCodeAt(0) === 58 /* : */) return undefined
    open = true
    const colon = text.indexOf(":")
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? "" : text.slice(colon + 1)
    if (value.charCodeAt(0) === 32) value = value.slice(1)
    if (field === "data") data.push(value)
    else if (field === "event") event = value
    return undefined
  }
  return {
    feed: (chunk, out) => {
      buffer = buffer === "" ? chunk : buffer + chunk
      let start = 0
      for (;;) {
        const newline = buffer.indexOf("\n", start)
        if (newline < 0) break
        const end = newline > start && buffer.charCodeAt(newline - 1) === 13 ? newline - 1 : newline
        const error = line(buffer.slice(start, end), out)
        start = newline + 1
        if (error !== undefined) return error
      }
      buffer = start === 0 ? buffer : buffer.slice(start)
      return undefined
    },
    end: (out) => {
      if (buffer !== "" || open) {
        return cut(`the stream ended inside an event (${JSON.stringify((buffer !== "" ? buffer : data.join("\n")).slice(0, 80))})`)
      }
      return inner.end(out)
    }
  }
}

/**
 * Text -> one parsed JSON value per line (NDJSON). A line that does not parse fails with `malformed`; a last line
 * without its newline that does not parse is a cut stream.
 *
 * @internal
 */
export const ndjson = <B>(
  inner: Decoder<unknown, B>,
  malformed: (line: string) => AiError.AiError,
  cut: (detail: string) => AiError.AiError
): Decoder<string, B> => {
  let buffer = ""
  const line = (text: string, out: Array<B>): AiError.AiError | undefined => {
    if (text.trim() === "") return undefined
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return malformed(text)
    }
    return inner.feed(value, out)
  }
  return {
    feed: (chunk, out) => {
      buffer += chunk
      let start = 0
      for (;;) {
        const newline = buffer.indexOf("\n", start)
        if (newline < 0) break
        const error = line(buffer.slice(start, newline), out)
        start = newline + 1
        if (error !== undefined) return error
      }
      buffer = buffer.slice(start)
      return undefined
    },
    end: (out) => {
      if (buffer.trim() !== "") {
        let value: unknown
        try {
          value = JSON.parse(buffer)
        } catch {
          return cut(`the stream ended inside a line (${JSON.stringify(buffer.slice(0, 80))})`)
        }
        const error = inner.feed(value, out)
        if (error !== undefined) return error
      }
      return inner.end(out)
    }
  }
}
