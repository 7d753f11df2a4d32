/**
 * Starts a chaincode package as a Fabric peer's node external builder does: the package's own
 * `start` script, given `--peer.address`, with the CORE_* environment the peer sets.
 *
 * When `start` is the usual `fabric-chaincode-node start [args]`, the same command is run
 * directly as `node <fabric-shim>/cli.js start [args] --peer.address …` (the bin that
 * `npm start` would resolve from the package's folder): it saves npm's start-up (≈ 0.3 s and
 * one extra process per peer). Any other `start` runs through `npm start -- --peer.address …`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LaunchOptions {
  chaincodeDir: string;
  peerAddress: string;
  env: Record<string, string>;
}

export interface Launched {
  child: ChildProcess;
  /** Which command ran, for error messages. */
  command: string;
  /** The last lines the process wrote (stdout and stderr). */
  outputTail(): string;
}

const TAIL_BYTES = 8192;
const PARENT_WATCH = fileURLToPath(new URL('./parent-watch.cjs', import.meta.url));
/** Skips formatting fabric-shim log lines that winston would drop anyway (see the file). */
const QUIET_LOGS = fileURLToPath(new URL('./quiet-logs.cjs', import.meta.url));
/** Parses a client's certificate once for fabric-shim's ClientIdentity (see the file). */
const CERT_CACHE = fileURLToPath(new URL('./cert-cache.cjs', import.meta.url));

function readStartScript(chaincodeDir: string): string {
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(path.join(chaincodeDir, 'package.json'), 'utf8'));
  } catch (err) {
    throw new Error(`CHAINCODE_PACKAGE_INVALID: cannot read ${path.join(chaincodeDir, 'package.json')}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const start = (pkg as { scripts?: { start?: unknown } }).scripts?.start;
  if (typeof start !== 'string' || start.trim() === '') {
    throw new Error(`CHAINCODE_PACKAGE_INVALID: ${chaincodeDir}/package.json has no "start" script`);
  }
  return start.trim();
}

function resolveShimCli(chaincodeDir: string): string | undefined {
  try {
    const req = createRequire(path.join(chaincodeDir, 'package.json'));
    const pkgPath = req.resolve('fabric-shim/package.json');
    const bin = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { bin?: Record<string, string> }).bin?.['fabric-chaincode-node'];
    return bin ? path.join(path.dirname(pkgPath), bin) : undefined;
  } catch {
    return undefined;
  }
}

export function launchChaincode(opts: LaunchOptions): Launched {
  const start = readStartScript(opts.chaincodeDir);
  const peerArgs = ['--peer.address', opts.peerAddress];
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env };
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(PARENT_WATCH)} --require ${JSON.stringify(QUIET_LOGS)} --require ${JSON.stringify(CERT_CACHE)}`.trim();
  const direct = /^fabric-chaincode-node\s+start(\s+[^;&|<>`$]*)?$/.exec(start);
  const cli = direct ? resolveShimCli(opts.chaincodeDir) : undefined;

  let child: ChildProcess;
  let command: string;
  if (direct && cli) {
    const extra = (direct[1] ?? '').trim().split(/\s+/).filter((a) => a !== '');
    const args = [cli, 'start', ...extra, ...peerArgs];
    command = `node ${args.join(' ')}`;
    child = spawn(process.execPath, args, { cwd: opts.chaincodeDir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  } else {
    const args = ['start', '--', ...peerArgs];
    command = `npm ${args.join(' ')}`;
    // Its own process group, so stop() can end npm and the node process it starts.
    child = spawn('npm', args, { cwd: opts.chaincodeDir, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  }

  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail += chunk.toString('utf8');
    if (tail.length > TAIL_BYTES * 2) tail = tail.slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    command,
    outputTail: () => tail.slice(-TAIL_BYTES).trim(),
  };
}

/** Ends a launched chaincode (and, for npm, its process group); resolves when it has exited. */
export async function killChaincode(l: Launched, graceMs = 2000): Promise<void> {
  const { child } = l;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  const signal = (sig: NodeJS.Signals): void => {
    try {
      if (child.spawnargs[0] === 'npm' && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => { signal('SIGKILL'); }, graceMs);
  await exited;
  clearTimeout(timer);
}
