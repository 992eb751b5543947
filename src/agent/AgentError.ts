/**
 * The agent's own failures. Model failures stay `AiError`; tool failures never fail a run (they go back to the
 * model as tool results).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

/**
 * Why an agent operation failed:
 * - `Reentrant`: a tool called back into the agent that is running it (it would wait for itself);
 * - `InvalidHistory`: `importJson` got something that is not an exported history;
 * - `ModelError`: the model's stream reported an error part;
 * - `InvalidOptions`: e.g. `maxSteps` below 1.
 *
 * @category errors
 * @since 0.1.0
 */
export class AgentError extends Schema.TaggedError<AgentError>()("AgentError", {
  reason: Schema.Literals(["Reentrant", "InvalidHistory", "ModelError", "InvalidOptions"]),
  description: Schema.String
}) {
  override get message(): string {
    return `${this.reason}: ${this.description}`
  }
}
