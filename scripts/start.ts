/**
 * `npm start`: the whole exchange on one machine — node-sim with the four member organizations
 * (GovMSP, BankMSP, CoreMSP, AuditMSP) and one gateway per organization, in this process.
 *
 *   npm start                    resume (or create) the exchange in ./data
 *   npm start -- --reset         wipe ./data first
 *   npm start -- --data-dir d --port-base 7800 --json
 *
 * Layout of the data directory (kept across restarts):
 *   sim/                  node-sim: crypto material (the organizations' X.509 identities), ledger, connection profiles
 *   config/<MSP id>.json  each gateway's configuration, written on first start: staff token, request and box keys (mode 0600)
 *   gateways/<MSP id>/    each gateway's off-chain store (LevelDB)
 *   logs/<MSP id>.log     each gateway's log (pino JSON lines)
 *   run.json              present while the exchange runs: pid and the gateways' URLs
 *
 * Ctrl-C (SIGINT) or SIGTERM stops the gateways, then node-sim (pending transactions are
 * committed first); a second start resumes from the same data.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { b64u, newBoxKeyPair, newSigningKeyPair } from '@credex/core';
import { startSimNetwork } from '@credex/node-sim';
import type { SimNetwork } from '@credex/node-sim';
import { fixtureOrgs } from '@credex/schemas';
import { liveRun } from './host';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'] as const;
const ROLES = { GovMSP: 'government', BankMSP: 'bank', CoreMSP: 'core', AuditMSP: 'auditor' } as const;
const DEFAULT_PORT_BASE = 7800;
const READY_TIMEOUT_MS = 60_000;
const CLOSE_GRACE_MS = 5_000;

interface Options { dataDir: string; reset: boolean; portBase: number; json: boolean }

interface RunningGateway { mspId: string; url: string; configFile: string; close: () => Promise<void> }

function fail(code: string, text: string, exitCode = 1): never {
  process.stderr.write(`credex start: ${code}: ${text}\n`);
  process.exit(exitCode);
}

function options(): Options {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        reset: { type: 'boolean', default: false },
        'data-dir': { type: 'string' },
        'port-base': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    return fail('USAGE', (e as Error).message, 2);
  }
  if (values.help) {
    process.stdout.write('Usage: npm start -- [--reset] [--data-dir ./data] [--port-base 7800] [--json]\n'
      + '  Gateways listen on 127.0.0.1:<port-base>+1..4 (GovMSP, BankMSP, CoreMSP, AuditMSP) on first start; the port is kept in data/config.\n');
    process.exit(0);
  }
  const rawBase = values['port-base'] ?? process.env.CREDEX_PORT_BASE;
  const portBase = rawBase === undefined ? DEFAULT_PORT_BASE : Number(rawBase);
  if (!Number.isInteger(portBase) || portBase < 1024 || portBase > 65_000) fail('USAGE', `--port-base must be an integer in [1024, 65000], not '${String(rawBase)}'`, 2);
  return {
    dataDir: resolve(values['data-dir'] ?? process.env.CREDEX_DATA_DIR ?? 'data'),
    reset: values.reset,
    portBase,
    json: values.json,
  };
}

/** Refuses a second exchange on the same data (LevelDB would refuse it less clearly). */
function claimDataDir(dataDir: string): void {
  const run = liveRun(dataDir);
  if (run !== undefined && run.pid !== process.pid) {
    fail('ALREADY_RUNNING', `an exchange is already running on ${dataDir} (pid ${String(run.pid)}); stop it with Ctrl-C or kill ${String(run.pid)}`);
  }
}

/** The newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The chaincode is a deployable bundle (esbuild); a fresh clone has none, and sources may be newer than it. */
function ensureChaincodeBuilt(log: (line: string) => void): void {
  const bundle = join(ROOT, 'chaincode', 'dist', 'index.js');
  const sources = ['chaincode/src', 'core/src', 'schemas/src', 'schemas/json'].map((d) => newestMtime(join(ROOT, d)));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(...sources)) return;
  log(existsSync(bundle) ? 'the chaincode sources changed: rebuilding the chaincode…' : 'building the chaincode (first start)…');
  // Built beside the bundle, then renamed over it: a chaincode starting meanwhile never reads half a file.
  const tmp = `${bundle}.${String(process.pid)}.tmp`;
  const r = spawnSync(process.execPath, [join(ROOT, 'chaincode', 'scripts', 'build.mjs'), tmp], { cwd: join(ROOT, 'chaincode'), stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    fail('CHAINCODE_BUILD_FAILED', 'building the chaincode (chaincode/scripts/build.mjs) failed (see above)');
  }
  renameSync(tmp, bundle);
}

/** Writes an organization's gateway configuration on first start; later starts keep it. */
function ensureGatewayConfig(dataDir: string, mspId: (typeof ORGS)[number], port: number): string {
  const file = join(dataDir, 'config', `${mspId}.json`);
  if (existsSync(file)) return file;
  mkdirSync(dirname(file), { recursive: true });
  const config = {
    mspId,
    orgName: fixtureOrgs[mspId].name,
    role: ROLES[mspId],
    host: '127.0.0.1',
    port,
    publicUrl: `http://127.0.0.1:${String(port)}`,
    dataDir: relative(dirname(file), join(dataDir, 'gateways', mspId)),
    staffTokens: [b64u(randomBytes(32))],
    // node-sim rewrites its profiles at each start (peer ports may change); the gateway reads it at start.
    ledger: { connectionProfile: relative(dirname(file), join(dataDir, 'sim', 'profiles', `${mspId}.json`)) },
    keys: { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() },
    logLevel: 'info',
  };
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
  return file;
}

/** Starts one gateway in this process, logging to `logs/<MSP id>.log`. */
async function startGateway(dataDir: string, configFile: string): Promise<RunningGateway> {
  const gateway = await import('@credex/gateway');
  const config = gateway.loadConfig({ file: configFile, env: {} });
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const app = await gateway.buildApp({ config, logger: { level: config.logLevel, file: join(dataDir, 'logs', `${config.mspId}.log`) } });
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (e) {
    await app.close();
    throw e;
  }
  return {
    mspId: config.mspId, url: config.publicUrl, configFile,
    close: async () => {
      // In-flight requests get a few seconds; a client that never reads its response does not hold the exchange up.
      const timer = setTimeout(() => {
        app.server.closeAllConnections();
      }, CLOSE_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Waits until every organization's profile is on chain with its gateway's current URL. */
async function waitRegistered(gateways: RunningGateway[], token: string): Promise<void> {
  const first = gateways[0];
  if (first === undefined) return;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      const res = await fetch(`${first.url}/v1/organizations`, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok) {
        const { organizations } = (await res.json()) as { organizations: { mspId: string; gatewayUrl: string }[] };
        if (gateways.every((g) => organizations.some((o) => o.mspId === g.mspId && o.gatewayUrl === g.url))) return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('GATEWAYS_NOT_READY: the organizations\' profiles did not appear on chain within 60 s; see data/logs');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function main(): Promise<void> {
  const opts = options();
  const say = (line: string): void => {
    if (!opts.json) process.stdout.write(line + '\n');
  };
  if (opts.reset && existsSync(opts.dataDir)) {
    claimDataDir(opts.dataDir);
    rmSync(opts.dataDir, { recursive: true, force: true });
    say(`--reset: removed ${opts.dataDir}`);
  }
  mkdirSync(opts.dataDir, { recursive: true });
  claimDataDir(opts.dataDir);
  const runFile = join(opts.dataDir, 'run.json');
  writeFileSync(runFile, JSON.stringify({ pid: process.pid, state: 'starting' }) + '\n');
  ensureChaincodeBuilt(say);

  const running: { network?: SimNetwork } = {};
  const gateways: RunningGateway[] = [];
  let stopping = false;
  const stop = async (why: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say(`\n${why}: stopping the gateways, then node-sim…`);
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    for (const g of gateways.splice(0)) {
      await g.close().catch((e: unknown) => process.stderr.write(`${g.mspId} gateway: ${String(e)}\n`));
    }
    await running.network?.stop().catch((e: unknown) => process.stderr.write(`node-sim: ${String(e)}\n`));
    rmSync(runFile, { force: true });
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop('SIGINT', 0));
  process.on('SIGTERM', () => void stop('SIGTERM', 0));

  say(`starting node-sim (GovMSP, BankMSP, CoreMSP, AuditMSP) in ${join(opts.dataDir, 'sim')}…`);
  const network = await startSimNetwork({ dataDir: join(opts.dataDir, 'sim'), orgs: [...ORGS] });
  running.network = network;

  const configFiles = ORGS.map((mspId, i) => ensureGatewayConfig(opts.dataDir, mspId, opts.portBase + i + 1));
  let gatewayError: string | undefined;
  try {
    say('starting the gateways…');
    gateways.push(...await Promise.all(configFiles.map((f) => startGateway(opts.dataDir, f))));
    const token = (JSON.parse(readFileSync(configFiles[0] ?? '', 'utf8')) as { staffTokens: string[] }).staffTokens[0] ?? '';
    await waitRegistered(gateways, token);
  } catch (e) {
    gatewayError = (e as Error).message;
    for (const g of gateways.splice(0)) await g.close().catch(() => undefined);
  }

  const summary = {
    pid: process.pid,
    state: gatewayError === undefined ? 'ready' : 'sim-only',
    dataDir: opts.dataDir,
    identities: join(opts.dataDir, 'sim', 'crypto'),
    connectionProfiles: join(opts.dataDir, 'sim', 'profiles'),
    peers: [...network.orgs.values()].map((o) => ({ mspId: o.mspId, endpoint: o.peerEndpoint })),
    gateways: gateways.map((g) => ({ mspId: g.mspId, url: g.url, docs: `${g.url}/docs`, config: g.configFile, log: join(opts.dataDir, 'logs', `${g.mspId}.log`) })),
    ...(gatewayError === undefined ? {} : { missing: `gateways: ${gatewayError}` }),
  };
  writeFileSync(runFile, JSON.stringify(summary, null, 2) + '\n');
  if (opts.json) {
    process.stdout.write(JSON.stringify(summary) + '\n');
  } else {
    say('');
    say(`credex exchange ${gatewayError === undefined ? 'ready' : 'only partly running'} — data in ${opts.dataDir}`);
    say('  node-sim peers (Fabric Gateway gRPC, TLS):');
    for (const p of summary.peers) say(`    ${p.mspId.padEnd(9)} ${p.endpoint}`);
    if (gatewayError === undefined) {
      say('  gateways:');
      for (const g of summary.gateways) say(`    ${g.mspId.padEnd(9)} ${g.url}   docs ${g.docs}`);
    } else {
      say(`  the gateway part is missing or failed to start: ${gatewayError}`);
      say('  node-sim keeps running alone.');
    }
    say(`  identities (X.509, per organization): ${summary.identities}`);
    say(`  connection profiles:                  ${summary.connectionProfiles}`);
    say(`  gateway configs and staff tokens:     ${join(opts.dataDir, 'config')}/<MSP id>.json (staffTokens; mode 0600)`);
    say(`  gateway logs:                         ${join(opts.dataDir, 'logs')}`);
    say('');
    say('Try: npx credex --help    npm run demo    Ctrl-C stops everything.');
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`credex start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
