/**
 * Built-in notes tools (opt-in): NoteCreate, NoteRead, NoteUpdate, NoteDelete and NoteSearch (by text and tag)
 * over a `JsonStore`, in memory or persisted to a JSON file.
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
 * One note.
 *
 * @category models
 * @since 0.1.0
 */
export const Note = Schema.Struct({
  id: Schema.Int,
  title: Schema.String,
  content: Schema.String,
  tags: Schema.Array(Schema.String),
  updatedAt: Schema.String
})

/**
 * @category models
 * @since 0.1.0
 */
export type Note = typeof Note.Type

/**
 * The persisted state: the notes and the next id.
 *
 * @category models
 * @since 0.1.0
 */
export const State = Schema.Struct({ nextId: Schema.Int, notes: Schema.Array(Note) })

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
export const emptyState: State = { nextId: 1, notes: [] }

/**
 * No note has this id.
 *
 * @category errors
 * @since 0.1.0
 */
export class NoteNotFound extends Schema.TaggedError<NoteNotFound>()("NoteNotFound", { id: Schema.Int }) {}

const Failure = Schema.Union([NoteNotFound, JsonStore.JsonStoreError])
const Id = Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)).annotate({ description: "The note's id" })
const Tags = Schema.Array(Schema.String).annotate({ description: "Tags, e.g. [\"work\"]" })

// ============================================================================
// Constructors
// ============================================================================

const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const makeTools = (store: JsonStore.JsonStore<State>) => {
  const find = (state: State, id: number) => {
    const note = state.notes.find((n) => n.id === id)
    return note === undefined ? Effect.fail(new NoteNotFound({ id })) : Effect.succeed(note)
  }
  const create = AgentTool.make("NoteCreate", {
    description: "Create a note with a title, content and optional tags",
    parameters: Schema.Struct({ title: Schema.String, content: Schema.String, tags: Schema.optionalKey(Tags) }),
    success: Note,
    failure: Failure,
    handler: ({ content, tags, title }) =>
      store.modify((state) =>
        Effect.map(now, (updatedAt) => {
          const note: Note = { id: state.nextId, title, content, tags: tags ?? [], updatedAt }
          return [note, { nextId: state.nextId + 1, notes: [...state.notes, note] }] as const
        })
      )
  })
  const read = AgentTool.make("NoteRead", {
    description: "Read a note by id",
    parameters: Schema.Struct({ id: Id }),
    success: Note,
    failure: NoteNotFound,
    handler: ({ id }) => Effect.flatMap(store.get, (state) => find(state, id))
  })
  const update = AgentTool.make("NoteUpdate", {
    description: "Change a note's title, content or tags; fields left out stay as they are",
    parameters: Schema.Struct({
      id: Id,
      title: Schema.optionalKey(Schema.String),
      content: Schema.optionalKey(Schema.String),
      tags: Schema.optionalKey(Tags)
    }),
    success: Note,
    failure: Failure,
    handler: ({ id, ...changes }) =>
      store.modify((state) =>
        Effect.gen(function*() {
          const note = yield* find(state, id)
          const next: Note = { ...note, ...changes, updatedAt: yield* now }
          return [next, { ...state, notes: state.notes.map((n) => (n.id === id ? next : n)) }] as const
        })
      )
  })
  const remove = AgentTool.make("NoteDelete", {
    description: "Delete a note",
    parameters: Schema.Struct({ id: Id }),
    success: Schema.Struct({ deleted: Schema.Int }),
    failure: Failure,
    handler: ({ id }) =>
      store.modify((state) =>
        Effect.map(find(state, id), () => {
          const notes = state.notes.filter((n) => n.id !== id)
          return [{ deleted: id }, { ...state, notes }] as const
        })
      )
  })
  const search = AgentTool.make("NoteSearch", {
    description: "Find notes whose title or content contains `query` (case-insensitive) and that carry `tag`",
    parameters: Schema.Struct({ query: Schema.optionalKey(Schema.String), tag: Schema.optionalKey(Schema.String) }),
    success: Schema.Array(Note),
    handler: ({ query, tag }) =>
      Effect.map(store.get, (state) => {
        const needle = query?.toLowerCase()
        return state.notes.filter((n) =>
          (needle === undefined || `${n.title}\n${n.content}`.toLowerCase().includes(needle)) &&
          (tag === undefined || n.tags.includes(tag))
        )
      })
  })
  return { create, read, update, remove, search, all: [create, read, update, remove, search] as const, store }
}

/**
 * The notes tools and their store.
 *
 * @category models
 * @since 0.1.0
 */
export type NotesTools = ReturnType<typeof makeTools>

/**
 * The notes tools over `store` (default: a new in-memory store).
 *
 * @category constructors
 * @since 0.1.0
 */
export const make = (store?: JsonStore.JsonStore<State>): Effect.Effect<NotesTools> =>
  store === undefined ? Effect.map(JsonStore.memory(emptyState), makeTools) : Effect.succeed(makeTools(store))

/**
 * The notes tools persisted to the JSON file at `path`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const makeFile = (path: string): Effect.Effect<NotesTools, JsonStore.JsonStoreError, FileSystem.FileSystem> =>
  Effect.map(JsonStore.file({ path, schema: State, initial: emptyState }), makeTools)
