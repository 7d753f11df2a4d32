/**
 * What scripts, tests and benches ask of the local machine: free ports on 127.0.0.1 (servers
 * listen there only) and whether an exchange is running on a data directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A port on 127.0.0.1 that was free a moment ago (the system's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolvePort(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => {
      done(false);
    });
    server.listen(port, '127.0.0.1', () => server.close(() => {
      done(true);
    }));
  });
}

/**
 * A port base whose next four ports (base+1 … base+4, as `npm start --port-base` uses them)
 * are free on 127.0.0.1, picked at random in [20000, 60000).
 *
 * @throws Error `PORTS_UNAVAILABLE` after 50 tries
 */
export async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await Promise.all([1, 2, 3, 4].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('PORTS_UNAVAILABLE: found no four free ports');
}

/** Whether process `pid` is alive (EPERM: alive, but another user's). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The exchange running on `dataDir`: the run file `npm start` keeps there while it runs
 * (`run.json`: its pid and state), when that process is alive.
 */
export function liveRun(dataDir: string): { pid: number; state?: string } | undefined {
  const file = join(dataDir, 'run.json');
  if (!existsSync(file)) return undefined;
  const run = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; state?: string };
  return typeof run.pid === 'number' && pidAlive(run.pid) ? { ...run, pid: run.pid } : undefined;
}
