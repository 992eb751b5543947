/**
 * Built-in todo tools (opt-in): TodoAdd, TodoList, TodoComplete, TodoDelete over a `JsonStore`, in memory or
 * persisted to a JSON file. Give `all` to `AgentTool.toolkit` or register them in a `ToolRegistry`.
 *
 * @since 0.1.0
 */
import { Clock, Effect, type FileSystem, Schema } from "effect"
import * as AgentTool from "./AgentTool.ts"
import * as JsonStore from "./JsonStore.ts"

// ============================================================================
// Models
// ============================================================================

/**
 * One todo item.
 *
 * @category models
 * @since 0.1.0
 */
export const Todo = Schema.Struct({
  id: Schema.Int,
  title: Schema.String,
  done: Schema.Boolean,
  createdAt: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type Todo = typeof Todo.Type

/**
 * The persisted state: the items and the next id.
 *
 * @category models
 * @since 0.1.0
 */
export const State = Schema.Struct({ nextId: Schema.Int, items: Schema.Array(Todo) })

/**
 * @category models
 * @since 0.1.0
 */
export type State = typeof State.Type

/**
 * The empty state.
 *
 * @category constructors
 * @since 0.1.0
 */
export const emptyState: State = { nextId: 1, items: [] }

/**
 * No todo has this id.
 *
 * @category errors
 * @since 0.1.0
 */
export class TodoNotFound extends Schema.TaggedError<TodoNotFound>()("TodoNotFound", { id: Schema.Int }) {}

const Failure = Schema.Union([TodoNotFound, JsonStore.JsonStoreError])
const Id = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "The todo's id" })

// ============================================================================
// Constructors
// ============================================================================

const makeTools = (store: JsonStore.JsonStore<State>) => {
  const find = (state: State, id: number) => {
    const item = state.items.find((t) => t.id === id)
    return item === undefined ? Effect.fail(new TodoNotFound({ id })) : Effect.succeed(item)
  }
  const add = AgentTool.make("TodoAdd", {
    description: "Add an item to the todo list",
    parameters: Schema.Struct({ title: Schema.String.annotate({ description: "What to do" }) }),
    success: Todo,
    failure: Failure,
    handler: ({ title }) =>
      store.modify((state) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const item: Todo = { id: state.nextId, title, done: false, createdAt: new Date(now).toISOString() }
          return [item, { nextId: state.nextId + 1, items: [...state.items, item] }] as const
        })
      )
  })
  const list = AgentTool.make("TodoList", {
    description: "List todo items: open ones (default), done ones, or all",
    parameters: Schema.Struct({ status: Schema.optionalKey(Schema.Literals(["open", "done", "all"])) }),
    success: Schema.Array(Todo),
    handler: ({ status }) =>
      Effect.map(store.get, (state) =>
        state.items.filter((t) => status === "all" || (status === "done" ? t.done : !t.done)))
  })
  const complete = AgentTool.make("TodoComplete", {
    description: "Mark a todo item as done",
    parameters: Schema.Struct({ id: Id }),
    success: Todo,
    failure: Failure,
    handler: ({ id }) =>
      store.modify((state) =>
        Effect.map(find(state, id), (item) => {
          const done = { ...item, done: true }
          return [done, { ...state, items: state.items.map((t) => (t.id === id ? done : t)) }] as const
        })
      )
  })
  const remove = AgentTool.make("TodoDelete", {
    description: "Delete a todo item",
    parameters: Schema.Struct({ id: Id }),
    success: Schema.Struct({ deleted: Schema.Int }),
    failure: Failure,
    handler: ({ id }) =>
      store.modify((state) =>
        Effect.map(find(state, id), () => {
          const items = state.items.filter((t) => t.id !== id)
          return [{ deleted: id }, { ...state, items }] as const
        })
      )
  })
  return { add, list, complete, remove, all: [add, list, complete, remove] as const, store }
}

/**
 * The todo tools and their store.
 *
 * @category models
 * @since 0.1.0
 */
export type TodoTools = ReturnType<typeof makeTools>

/**
 * The todo tools over `store` (default: a new in-memory store). For a JSON file use
 * `JsonStore.file({ path, schema: TodoTools.State, initial: TodoTools.emptyState })`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (store?: JsonStore.JsonStore<State>): Effect.Effect<TodoTools> =>
  store === undefined ? Effect.map(JsonStore.memory(emptyState), makeTools) : Effect.succeed(makeTools(store))

/**
 * The todo tools persisted to the JSON file at `path`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeFile = (path: string): Effect.Effect<TodoTools, JsonStore.JsonStoreError, FileSystem.FileSystem> =>
  Effect.map(JsonStore.file({ path, schema: State, initial: emptyState }), makeTools)
