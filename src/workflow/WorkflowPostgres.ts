/**
 * Durable and distributed workflow engines on PostgreSQL, through `@effect/sql-pg` and effect/cluster's SQL message
 * and runner storage (the tables `cluster_*` are created when a layer is built). Three shapes:
 *
 * - `layer`: one process runs and resumes workflows (`SingleRunner`); kill it, start it again, and its runs go on.
 * - `layerRunner`: one of several runner processes sharing the database (`NodeClusterSocket`); the cluster's
 *   sharding spreads workflows, and with `DurableWorkflow.make(w, { distributed: true })` their nodes, over the
 *   runners, and moves the shards of a runner that dies to the others.
 * - `layerClient`: a process that starts and awaits workflows on the runners without running any.
 *
 * **Gotchas**
 *
 * - This module imports `@effect/sql-pg`; install it to use PostgreSQL (the rest of effect-llama does not need it).
 * - effect/cluster reads its `ShardingConfig` from the environment first (`HOST`, `PORT`, `SHARDS_PER_GROUP`, ...,
 *   without a prefix), then applies `shardingConfig` over it; runners get their address explicitly here.
 * - Every runner and client of one cluster must use the same `shardsPerGroup`.
 *
 * @since 0.2.0
 */
import { NodeClusterSocket } from "@effect/platform-node"
import * as NodeCrypto from "@effect/platform-node/NodeCrypto"
import { PgClient } from "@effect/sql-pg"
import { Layer, Option, Redacted } from "effect"
import { ClusterWorkflowEngine, RunnerAddress, type ShardingConfig, SingleRunner } from "effect/cluster"
import type { SqlClient, SqlError } from "effect/sql"
import type { Config } from "effect"
import type { SocketServer } from "effect/socket"
import type { WorkflowEngine } from "effect/workflow"

// ============================================================================
// Configuration
// ============================================================================

/**
 * Cluster settings (see effect/cluster's `ShardingConfig`).
 *
 * @category configuration
 * @since 0.2.0
 */
export type Sharding = Partial<ShardingConfig.ShardingConfig["Service"]>

/**
 * Settings for quick failover and pickup, used by the tests: a dead runner's shards move after about 5 seconds
 * (effect/cluster's defaults: 35), and new messages are polled every second (default 10). Costs more database
 * traffic; a production cluster tunes these itself.
 *
 * @category configuration
 * @since 0.2.0
 */
export const fastFailover: Sharding = {
  shardsPerGroup: 30,
  shardLockRefreshInterval: "1 second",
  shardLockExpiration: "5 seconds",
  refreshAssignmentsInterval: "1 second",
  runnerHealthCheckInterval: "2 seconds",
  entityMessagePollInterval: "1 second",
  entityReplyPollInterval: "200 millis",
  entityTerminationTimeout: "2 seconds"
}

/**
 * Where the database is.
 *
 * @category models
 * @since 0.2.0
 */
export interface Connection {
  /** `postgres://user:password@host:port/database`. */
  readonly url: string | Redacted.Redacted
  /** Connections in this process's pool. Default 10. */
  readonly maxConnections?: number
}

/**
 * A PostgreSQL `SqlClient` (also what node code can use to reach the same database).
 *
 * @category layers
 * @since 0.2.0
 */
export const layerSql = (connection: Connection) =>
  PgClient.layer({
    url: typeof connection.url === "string" ? Redacted.make(connection.url) : connection.url,
    ...(connection.maxConnections === undefined ? {} : { maxConnections: connection.maxConnections })
  })

// ============================================================================
// Layers
// ============================================================================

/**
 * The durable engine in one process: workflows are journaled in PostgreSQL and resume when the process (or another
 * one providing this layer and the workflow) comes back. Also provides the `SqlClient`.
 *
 * @category layers
 * @since 0.2.0
 */
export const layer = (
  options: Connection & { readonly sharding?: Sharding }
): Layer.Layer<WorkflowEngine.WorkflowEngine | SqlClient.SqlClient, Config.ConfigError | SqlError.SqlError> =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(SingleRunner.layer({ runnerStorage: "sql", shardingConfig: options.sharding })),
    Layer.provide(NodeCrypto.layerDigest),
    Layer.provideMerge(layerSql(options))
  )

/**
 * One runner of a cluster on PostgreSQL, listening on `host:port` (default 127.0.0.1) for the other runners.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerRunner = (
  options: Connection & {
    readonly port: number
    readonly host?: string
    /** Where to listen, when it differs from the address the others reach (e.g. 0.0.0.0 in a container). */
    readonly listenHost?: string
    readonly sharding?: Sharding
  }
): Layer.Layer<
  WorkflowEngine.WorkflowEngine | SqlClient.SqlClient,
  Config.ConfigError | SqlError.SqlError | SocketServer.SocketServerError
> => {
  const host = options.host ?? "127.0.0.1"
  return ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({
      storage: "sql",
      shardingConfig: {
        ...options.sharding,
        runnerAddress: Option.some(RunnerAddress.make(host, options.port)),
        runnerListenAddress: options.listenHost === undefined
          ? Option.none()
          : Option.some(RunnerAddress.make(options.listenHost, options.port))
      }
    })),
    Layer.provideMerge(layerSql(options))
  )
}

/**
 * A client of a cluster on PostgreSQL: executes, polls and signals workflows that the runners run. It finds the
 * runners through the database.
 *
 * @category layers
 * @since 0.2.0
 */
export const layerClient = (
  options: Connection & { readonly sharding?: Sharding }
): Layer.Layer<WorkflowEngine.WorkflowEngine | SqlClient.SqlClient, Config.ConfigError | SqlError.SqlError> =>
  ClusterWorkflowEngine.layer.pipe(
    Layer.provideMerge(NodeClusterSocket.layer({ clientOnly: true, storage: "sql", shardingConfig: options.sharding })),
    Layer.provideMerge(layerSql(options))
  )
