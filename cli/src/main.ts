/** Entry point of the `credex` bin: runs the CLI on the process's arguments and exits with its code. */
import { processIo, run } from './cli';

/** Runs `credex` with `process.argv` and sets the exit code. */
export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2), processIo());
}
