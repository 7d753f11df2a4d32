/**
 * node-sim in a child process of its own, started as `npm run sim -- --json` starts it (a
 * deployment's layout): its ready line gives each org's connection profile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../node-sim/src/main.ts', import.meta.url));

export interface SimChild {
  /** The node-sim process (its chaincode processes are its children). */
  child: ChildProcess;
  /** Connection profile path by MSP id. */
  profiles: Map<string, string>;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
}

/** Starts node-sim (`args` added to `--json --data-dir <dataDir>`) and resolves once it is ready. */
export async function startSimChild(dataDir: string, args: readonly string[] = []): Promise<SimChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--json', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  for await (const line of createInterface({ input: child.stdout })) {
    if (!line.startsWith('{')) continue;
    const ready = JSON.parse(line) as { ready?: boolean; orgs?: { mspId: string; connectionProfile: string }[] };
    if (ready.ready !== true || ready.orgs === undefined) continue;
    // Whatever node-sim prints later is drained, so it never blocks on a full pipe.
    child.stdout.resume();
    return {
      child,
      profiles: new Map(ready.orgs.map((o) => [o.mspId, o.connectionProfile])),
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
      },
    };
  }
  throw new Error('node-sim child exited before it was ready');
}
