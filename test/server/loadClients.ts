// The load test's clients, in a process of their own: `node loadClients.ts URL COUNT MAX_TOKENS` streams COUNT
// chats at once (every fifth client aborts after its third content chunk) and prints the outcomes as JSON. A 503
// (queue full) is retried after its Retry-After, as the OpenAI SDK does.
import { sseData } from "./support.ts"

const [url, countText, maxTokensText] = process.argv.slice(2)
const count = Number(countText)
const maxTokens = Number(maxTokensText)

const client = async (index: number, disconnect: boolean) => {
  let refused = 0
  for (;;) {
    const outcome = await attempt(index, disconnect)
    if (outcome.status !== 503 || refused >= 20) return { ...outcome, refused }
    refused++
    await new Promise((resolve) => setTimeout(resolve, Number(outcome.retryAfter ?? "1") * 1000))
  }
}

const attempt = async (index: number, disconnect: boolean) => {
  const controller = new AbortController()
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      messages: [{ role: "user", content: `Tell story number ${index}.` }],
      max_tokens: maxTokens,
      seed: index,
      stream: true,
      stream_options: { include_usage: true }
    }),
    signal: controller.signal
  })
  if (response.status !== 200 || response.body === null) {
    return { status: response.status, retryAfter: response.headers.get("retry-after"), disconnected: false, frames: sseData(await response.text()) }
  }
  const reader = response.body.getReader()
  const decoder = new TextDecoder()
  let text = ""
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += decoder.decode(value, { stream: true })
      if (disconnect && sseData(text).filter((d) => d.includes('"content":"') && !d.includes('"content":""')).length >= 3) {
        controller.abort()
        return { status: 200, disconnected: true, frames: sseData(text) }
      }
    }
  } catch (error) {
    if (!disconnect) throw error
  }
  return { status: 200, disconnected: false, frames: sseData(text) }
}

const outcomes = await Promise.all(Array.from({ length: count }, (_, i) => client(i, i % 5 === 0)))
process.stdout.write(JSON.stringify(outcomes))
