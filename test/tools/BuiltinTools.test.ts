// The built-in todo and notes tools, in memory and persisted to a JSON file with atomic writes.
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, FileSystem } from "effect"
import * as JsonStore from "../../src/tools/JsonStore.ts"
import * as NotesTools from "../../src/tools/NotesTools.ts"
import * as TodoTools from "../../src/tools/TodoTools.ts"
import * as ToolRegistry from "../../src/tools/ToolRegistry.ts"

const data = (result: ToolRegistry.ExecuteResult): unknown => (result.success ? result.data : { failed: result.error })

describe("TodoTools", () => {
  it.effect("add, list, complete, delete", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.make
      const todo = yield* TodoTools.make()
      yield* registry.registerAll(todo.all, { category: "todo" })
      const added = data(yield* registry.execute("TodoAdd", { title: "buy milk" })) as TodoTools.Todo
      assert.deepStrictEqual([added.id, added.title, added.done], [1, "buy milk", false])
      yield* registry.execute("TodoAdd", { title: "call mum" })
      assert.deepStrictEqual(data(yield* registry.execute("TodoComplete", { id: 1 })), { ...added, done: true })
      const titles = (status: string) =>
        Effect.map(registry.execute("TodoList", { status }), (r) => (data(r) as ReadonlyArray<TodoTools.Todo>).map((t) => t.title))
      assert.deepStrictEqual(yield* titles("open"), ["call mum"])
      assert.deepStrictEqual(yield* titles("done"), ["buy milk"])
      assert.deepStrictEqual(yield* titles("all"), ["buy milk", "call mum"])
      assert.deepStrictEqual(data(yield* registry.execute("TodoDelete", { id: 2 })), { deleted: 2 })
      assert.deepStrictEqual(data(yield* registry.execute("TodoDelete", { id: 2 })), { failed: { _tag: "TodoNotFound", id: 2 } })
      assert.deepStrictEqual((yield* registry.list({ category: "todo" })).length, 4)
    }))

  it.effect("persists to a JSON file: atomic writes, reloaded by a new store", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const path = `${dir}/todos.json`
      const first = yield* TodoTools.makeFile(path)
      assert.isFalse(yield* fs.exists(path)) // nothing written until something changes
      yield* first.add.handler({ title: "write tests" }, { preliminary: () => Effect.void })
      yield* first.complete.handler({ id: 1 }, { preliminary: () => Effect.void })
      const second = yield* TodoTools.makeFile(path)
      const items = yield* second.list.handler({ status: "all" }, { preliminary: () => Effect.void })
      assert.deepStrictEqual(items.map((t) => [t.id, t.title, t.done]), [[1, "write tests", true]])
      assert.deepStrictEqual(yield* fs.readDirectory(dir), ["todos.json"]) // no temp files left behind
      yield* fs.writeFileString(path, "{ not json")
      const broken = yield* Effect.flip(TodoTools.makeFile(path))
      assert.strictEqual(broken.operation, "read")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("NotesTools", () => {
  it.effect("create, read, update, search by text and tag, delete", () =>
    Effect.gen(function*() {
      const registry = yield* ToolRegistry.make
      const notes = yield* NotesTools.make(yield* JsonStore.memory(NotesTools.emptyState))
      yield* registry.registerAll(notes.all, { category: "notes" })
      yield* registry.execute("NoteCreate", { title: "Effect", content: "Layers and services", tags: ["work"] })
      yield* registry.execute("NoteCreate", { title: "Groceries", content: "milk, eggs" })
      const read = data(yield* registry.execute("NoteRead", { id: 1 })) as NotesTools.Note
      assert.deepStrictEqual([read.title, read.tags], ["Effect", ["work"]])
      const updated = data(yield* registry.execute("NoteUpdate", { id: 2, tags: ["home"] })) as NotesTools.Note
      assert.deepStrictEqual([updated.title, updated.content, updated.tags], ["Groceries", "milk, eggs", ["home"]])
      const search = (params: object) =>
        Effect.map(registry.execute("NoteSearch", params), (r) => (data(r) as ReadonlyArray<NotesTools.Note>).map((n) => n.id))
      assert.deepStrictEqual(yield* search({ query: "MILK" }), [2])
      assert.deepStrictEqual(yield* search({ tag: "work" }), [1])
      assert.deepStrictEqual(yield* search({ query: "e", tag: "home" }), [2])
      assert.deepStrictEqual(yield* search({}), [1, 2])
      assert.deepStrictEqual(data(yield* registry.execute("NoteDelete", { id: 1 })), { deleted: 1 })
      assert.deepStrictEqual(data(yield* registry.execute("NoteRead", { id: 1 })), { failed: { _tag: "NoteNotFound", id: 1 } })
    }))
})
