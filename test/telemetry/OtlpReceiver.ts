// A loopback OTLP/HTTP (JSON) receiver for tests, and readers of what it received.
import { Effect } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly path: string
  readonly body: any
}

// An OTLP/HTTP JSON receiver: records each POST body by path and answers 200 with an empty partial-success object.
export const receiver = Effect.acquireRelease(
  Effect.callback<{ readonly baseUrl: string; readonly received: Array<Received>; readonly close: () => void }>((resume) => {
    const received: Array<Received> = []
    const server = createServer((req, res) => {
      let data = ""
      req.on("data", (chunk) => (data += chunk))
      req.on("end", () => {
        received.push({ path: req.url ?? "", body: JSON.parse(data) })
        res.writeHead(200, { "content-type": "application/json" }).end("{}")
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({
        baseUrl: `http://127.0.0.1:${port}`,
        received,
        close: () => {
          server.closeAllConnections()
          server.close()
        }
      }))
    })
  }),
  ({ close }) => Effect.sync(close)
)

export interface Attribute {
  readonly key: string
  readonly value: Record<string, unknown>
}
export interface Span {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  readonly attributes: ReadonlyArray<Attribute>
}

const valueOf = (value: Record<string, any>): unknown => {
  if ("stringValue" in value) return value.stringValue
  if ("intValue" in value) return Number(value.intValue)
  if ("doubleValue" in value) return value.doubleValue
  if ("boolValue" in value) return value.boolValue
  if ("arrayValue" in value) return (value.arrayValue.values ?? []).map(valueOf)
  return value
}
export const attrs = (list: ReadonlyArray<Attribute> | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]))

export const spansOf = (received: ReadonlyArray<Received>): Array<Span> =>
  received.filter((r) => r.path === "/v1/traces").flatMap((r) =>
    r.body.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((ss: any) => ss.spans as Array<Span>))
  )

// The latest value of a sum metric's data point with `labels`, over every export received.
export const sumOf = (received: ReadonlyArray<Received>, name: string, labels: Record<string, unknown>): number | undefined => {
  let found: number | undefined
  for (const r of received.filter((r) => r.path === "/v1/metrics")) {
    for (const rm of r.body.resourceMetrics) {
      for (const sm of rm.scopeMetrics) {
        for (const metric of sm.metrics) {
          if (metric.name !== name || metric.sum === undefined) continue
          for (const point of metric.sum.dataPoints) {
            const pointAttrs = attrs(point.attributes)
            if (Object.entries(labels).every(([k, v]) => pointAttrs[k] === v)) {
              found = Number(point.asDouble ?? point.asInt)
            }
          }
        }
      }
    }
  }
  return found
}
