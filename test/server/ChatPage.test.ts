// The chat page in headless Chromium (Debian's chromium driven by playwright-core): a typed message streams a
// reply token by token, Stop aborts it (and the server's slot goes idle), and a reply containing markup is shown
// as text, never run.
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type Browser, chromium, type Page } from "playwright-core"
import { ensureModel } from "../../scripts/models.ts"
import * as Native from "../../src/native/Native.ts"
import * as OpenAiServer from "../../src/server/OpenAiServer.ts"
import { baseUrl, scriptedModel } from "./support.ts"

const tinyQwen = await ensureModel("tiny-qwen2")

const browser = Effect.acquireRelease(
  Effect.promise(() => chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] })),
  (b: Browser) => Effect.promise(() => b.close())
)

const openPage = (url: string) =>
  Effect.gen(function*() {
    const b = yield* browser
    const page = yield* Effect.promise(() => b.newPage())
    const dialogs: Array<string> = []
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message())
      void dialog.dismiss()
    })
    yield* Effect.promise(() => page.goto(url))
    return { page, dialogs }
  })

const send = (page: Page, text: string) =>
  Effect.promise(async () => {
    await page.waitForFunction(() => document.getElementById("model")!.textContent !== "…")
    await page.fill("#input", text)
    await page.click("#send")
  })

describe("chat page", () => {
  layer(
    OpenAiServer.layerNode(
      OpenAiServer.localModels({ path: tinyQwen, parallel: 1, contextSize: 4096, threads: 1, embeddings: false }).pipe(
        Layer.provide(Native.layer)
      ),
      { port: 0 }
    ),
    { excludeTestServices: true, timeout: 120_000 }
  )("on the local model", (it) => {
    it.effect("a message streams its reply token by token; Stop aborts it and the slot goes idle", () =>
      Effect.gen(function*() {
        const server = yield* OpenAiServer.OpenAiServer
        yield* server.ready
        const { page } = yield* openPage(yield* baseUrl)
        const model = yield* Effect.promise(() => page.textContent("#model"))
        assert.strictEqual(model, "effect-llama-tiny-qwen2")
        // Record the reply's length at every DOM change.
        yield* Effect.promise(() =>
          page.evaluate(() => {
            const w = window as unknown as { lengths: Array<number> }
            w.lengths = []
            new MutationObserver(() => {
              const reply = document.querySelector(".message.assistant")
              if (reply !== null) w.lengths.push(reply.textContent!.length)
            }).observe(document.getElementById("messages")!, { subtree: true, childList: true, characterData: true })
          })
        )
        yield* send(page, "Tell me a long story.")
        // Several growing renders while the reply is still streaming.
        yield* Effect.promise(() =>
          page.waitForFunction(() => new Set((window as unknown as { lengths: Array<number> }).lengths.filter((n) => n > 0)).size >= 3)
        )
        const streaming = yield* Effect.promise(() => page.evaluate(() => document.querySelector(".message.assistant")!.getAttribute("data-done")))
        assert.isNull(streaming)
        assert.strictEqual(server.stats().busy, 1)
        yield* Effect.promise(() => page.click("#stop"))
        yield* Effect.promise(() => page.waitForSelector(".message.assistant[data-done=true]"))
        yield* server.awaitIdle.pipe(Effect.timeout("5 seconds"))
        assert.strictEqual(server.stats().busy, 0)
        const reply = (yield* Effect.promise(() => page.textContent(".message.assistant"))) ?? ""
        assert.isTrue(reply.endsWith("[stopped]"))
        const lengths = yield* Effect.promise(() => page.evaluate(() => (window as unknown as { lengths: Array<number> }).lengths))
        assert.isAtLeast(new Set(lengths).size, 3)
        const speed = (yield* Effect.promise(() => page.textContent("#speed"))) ?? ""
        assert.match(speed, /^\d+(\.\d)? tokens\/s$/)
        const disabled = yield* Effect.promise(() => page.isDisabled("#stop"))
        assert.isTrue(disabled)
      }))
  })

  const markup = "Try this: <script>window.pwned = true</script><img src=x onerror=\"window.pwned = true\"> " +
    "and **bold** with `a<b>c` and\n```html\n<script>alert(1)</script>\n```\ndone."

  layer(OpenAiServer.layerNode(scriptedModel(markup, { pieceSize: 5 }), { port: 0 }), {
    excludeTestServices: true,
    timeout: 120_000
  })("on a model that writes markup", (it) => {
    it.effect("a reply containing <script> is shown as text; markdown bold and code become elements", () =>
      Effect.gen(function*() {
        const { page, dialogs } = yield* openPage(yield* baseUrl)
        yield* send(page, "Show me HTML.")
        yield* Effect.promise(() => page.waitForSelector(".message.assistant[data-done=true]"))
        const result = yield* Effect.promise(() =>
          page.evaluate(() => {
            const reply = document.querySelector(".message.assistant")!
            return {
              text: reply.textContent,
              scripts: reply.querySelectorAll("script").length,
              images: reply.querySelectorAll("img").length,
              strong: Array.from(reply.querySelectorAll("strong")).map((e) => e.textContent),
              code: Array.from(reply.querySelectorAll("code")).map((e) => e.textContent),
              pwned: (window as unknown as { pwned?: boolean }).pwned === true
            }
          })
        )
        assert.strictEqual(result.scripts, 0)
        assert.strictEqual(result.images, 0)
        assert.isFalse(result.pwned)
        assert.deepStrictEqual(dialogs, [])
        assert.include(result.text, "<script>window.pwned = true</script>")
        assert.include(result.text, "<img src=x onerror=\"window.pwned = true\">")
        assert.deepStrictEqual(result.strong, ["bold"])
        assert.deepStrictEqual(result.code, ["a<b>c", "<script>alert(1)</script>\n"])
      }))
  })
})
