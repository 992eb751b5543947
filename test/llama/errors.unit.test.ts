// Every native error code in addon/errors.h maps to a typed reason (aborts to interruption), by table.
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { readFileSync } from "node:fs"
import { fromNative, reasonByCode } from "../../src/llama/internal/errors.ts"
import { NativeError } from "../../src/native/NativeError.ts"

const header = readFileSync(new URL("../../addon/errors.h", import.meta.url), "utf8")
const codes = [...header.matchAll(/inline constexpr const char \* \w+ = "(\w+)";/g)].map((m) => m[1]!)

describe("native error codes", () => {
  it("the header declares the codes", () => {
    assert.isAtLeast(codes.length, 20)
  })

  it.effect("each code maps to a LlamaError reason, or to interruption for aborts", () =>
    Effect.gen(function*() {
      for (const code of codes) {
        const exit = yield* Effect.exit(fromNative("Test", "method")(new NativeError({ code, message: `boom ${code}` })))
        assert.isTrue(Exit.isFailure(exit))
        if (!Exit.isFailure(exit)) continue
        if (code === "ABORTED" || code === "MODEL_LOAD_ABORTED") {
          assert.isTrue(Cause.hasInterruptsOnly(exit.cause), code)
          continue
        }
        assert.isDefined(reasonByCode[code], code)
        const error = Cause.findErrorOption(exit.cause)
        assert.strictEqual(error._tag, "Some", code)
        if (error._tag === "Some") {
          assert.strictEqual(error.value._tag, "LlamaError")
          assert.strictEqual(error.value.message, `Test.method: boom ${code}`)
          assert.isBoolean(error.value.isRetryable)
        }
      }
    }))

  it.effect("an unknown code is a defect, not a typed error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(fromNative("Test", "method")(new NativeError({ code: "NOPE", message: "?" })))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }))
})
