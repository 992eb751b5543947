#!/usr/bin/env node
/**
 * The `effect-llama` executable (package.json `bin`): runs the command line on this process's arguments.
 *
 * @since 0.2.0
 */
import { runMain } from "./EffectLlamaCli.ts"

runMain()
