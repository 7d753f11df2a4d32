/**
 * Test helpers for the exchange as `npm start` runs it: start it on a temporary data
 * directory and free ports, stop it with a signal, and run the credex CLI in this process.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { run } from '@credex/cli';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A temporary directory for one test file. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `credex-${prefix}-`));
}

export { freePortBase } from '../../scripts/host';

/** A running `npm start`. */
export interface StartedExchange {
  child: ChildProcess;
  dataDir: string;
  /** Everything it printed on stdout so far. */
  output: () => string;
  /**
   * Sends SIGINT to its process group, as Ctrl-C in a terminal does; waits until the exchange
   * has stopped (its run file is gone). Answers the output and whether it stopped cleanly.
   */
  stop: () => Promise<{ clean: boolean; output: string }>;
}

/** Runs `npm start -- --data-dir <dataDir> --port-base <base>` and waits for "ready". */
export async function npmStart(dataDir: string, portBase: number, extra: string[] = []): Promise<StartedExchange> {
  const child = spawn('npm', ['start', '--silent', '--', '--data-dir', dataDir, '--port-base', String(portBase), ...extra], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREDEX_DATA_DIR: '' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => {
    done(code);
  }));
  await new Promise<void>((ready, failed) => {
    const timer = setInterval(() => {
      if (/credex exchange ready|"state":"ready"/.test(out)) {
        clearInterval(timer);
        ready();
      } else if (child.exitCode !== null || /only partly running|"state":"sim-only"/.test(out)) {
        clearInterval(timer);
        failed(new Error(`npm start did not get ready:\n${out}\n${err}`));
      }
    }, 100);
  });
  return {
    child,
    dataDir,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGINT');
      await exited;
      // npm itself dies of the signal at once; the exchange stops in its own time.
      for (let i = 0; i < 300 && existsSync(join(dataDir, 'run.json')); i++) await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < 50 && !out.includes('stopped.'); i++) await new Promise((r) => setTimeout(r, 100));
      return { clean: !existsSync(join(dataDir, 'run.json')) && /SIGINT: stopping[\s\S]*stopped\./.test(out), output: out + err };
    },
  };
}

/** The result of one credex run. */
export interface CliRun { code: number; stdout: string; stderr: string; json: () => Record<string, unknown> }

function sink(chunks: string[]): Writable & { isTTY?: boolean } {
  return new Writable({
    write(chunk: Buffer | string, _enc, done): void {
      chunks.push(chunk.toString());
      done();
    },
  });
}

/** Runs the credex CLI in this process with a clean environment. */
export async function credex(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; tty?: boolean }): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stderr = sink(err);
  if (opts.tty === true) stderr.isTTY = true;
  const code = await run(args, { stdout: sink(out), stderr, env: opts.env ?? {}, cwd: opts.cwd, now: () => Date.now() });
  const stdout = out.join('');
  return { code, stdout, stderr: err.join(''), json: () => JSON.parse(stdout) as Record<string, unknown> };
}
