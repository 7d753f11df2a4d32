/**
 * Integration harness for gateway tests: node-sim with the default orgs, and gateways over it —
 * in this process (buildApp + listen) or as a child process (`tsx gateway/src/server.ts`), all
 * on 127.0.0.1 with real HTTP.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newBoxKeyPair, newSigningKeyPair } from '@credex/core';
import { buildApp, parseConfig } from '@credex/gateway';
import type { GatewayConfig } from '@credex/gateway';
import { startSimNetwork } from '@credex/node-sim';
import type { SimNetwork } from '@credex/node-sim';
import type { FastifyInstance } from 'fastify';
import { freePort } from '../scripts/host';

export { freePort };

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const STAFF_TOKEN = 'integration-staff-token-0123456789';

export interface Harness {
  dir: string;
  sim: SimNetwork;
  /** A gateway config for `mspId` over the sim, its store in `<dir>/gw-<name>`. */
  config(mspId: string, name?: string, port?: number): GatewayConfig;
  stop(): Promise<void>;
}

/** The configuration of a gateway of organization `mspId` over `sim`, on 127.0.0.1 with {@link STAFF_TOKEN}. */
export function simGatewayConfig(sim: SimNetwork, mspId: string, o: { dataDir: string; port: number; keys: GatewayConfig['keys'] }): GatewayConfig {
  if (!sim.orgs.has(mspId)) throw new Error(`no org ${mspId} in the sim`);
  return parseConfig({
    mspId, host: '127.0.0.1', port: o.port, dataDir: o.dataDir, staffTokens: [STAFF_TOKEN],
    publicUrl: `http://127.0.0.1:${o.port}`, logLevel: 'warn', keys: o.keys,
    // node-sim's connection profile: endpoint, TLS CA and client identity, as a deployment reads them.
    ledger: { connectionProfile: sim.connectionProfilePath(mspId) },
  });
}

export async function startHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'credex-it-'));
  const sim = await startSimNetwork({ dataDir: join(dir, 'sim') });
  const keys = new Map<string, GatewayConfig['keys']>();
  return {
    dir,
    sim,
    config(mspId, name = mspId, port = 0) {
      let k = keys.get(name);
      if (k === undefined) {
        k = { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() };
        keys.set(name, k);
      }
      return simGatewayConfig(sim, mspId, { dataDir: join(dir, `gw-${name}`), port, keys: k });
    },
    async stop() {
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An in-process gateway listening on 127.0.0.1. */
export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  config: GatewayConfig;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const port = config.port === 0 ? await freePort() : config.port;
  const withPort = { ...config, port, publicUrl: `http://127.0.0.1:${port}` };
  const app = await buildApp({ config: withPort, logger: false, maintenanceMs: 0 });
  await app.listen({ host: '127.0.0.1', port });
  return { app, url: withPort.publicUrl, config: withPort, close: () => app.close() };
}

/** A gateway in a child process (for kill -9). */
export interface ChildGateway {
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when killed by a signal) when the process has exited. */
  exited: Promise<number | null>;
}

export async function spawnGateway(config: GatewayConfig, file: string): Promise<ChildGateway> {
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'gateway/src/server.ts'), file], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CREDEX_GATEWAY_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { r(code); }));
  const url = config.publicUrl;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`gateway child exited: ${stderr}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, child, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`gateway child did not start: ${stderr}`);
}

/** JSON request to a gateway with the staff token. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the body type
export async function call<T = unknown>(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${STAFF_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as T };
}
