/**
 * GGUF files: read headers, write models, generate random-weight test models.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as GgufError from "./GgufError.ts"

/** @since 0.1.0 */
export * as GgufFormat from "./GgufFormat.ts"

/** @since 0.1.0 */
export * as GgufReader from "./GgufReader.ts"

/** @since 0.1.0 */
export * as GgufWriter from "./GgufWriter.ts"

/** @since 0.1.0 */
export * as ModelGenerator from "./ModelGenerator.ts"

/** @since 0.2.0 */
export * as AdapterGenerator from "./AdapterGenerator.ts"
