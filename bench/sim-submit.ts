/**
 * node-sim throughput and latency for a credex access transaction (access:RecordAccess, one
 * access per transaction) endorsed under MAJORITY, through the unmodified fabric-gateway client.
 *
 * For each concurrency level, that many clients submit back to back for a fixed time; every
 * client uses its own consent so that concurrent transactions do not conflict by design.
 * Reports committed tx/s and submit-to-commit latency (p50/p99), plus the start-up time of a
 * 4-org network from an empty folder. The last line of output is one JSON object.
 *
 * The clients run in a child process of their own (as the gateways and apps using node-sim
 * do), so their work does not share node-sim's event loop and CPU figures stay apart.
 *
 *   npm run bench:sim-submit [-- --seconds 5 --levels 1,10,50,200 --batch-timeout 10]
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Contract } from '@hyperledger/fabric-gateway';
import { startSimNetwork, type SimOrg } from '@credex/node-sim';
import { nextMessage } from './support/child-messages';
import { childrenCpuMs, cpuMsOf } from './support/proc-cpu';
import { connectOrg, percentile, setUpAccessWorld } from './support/sim-clients';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    levels: { type: 'string', default: '1,10,50,200' },
    'batch-timeout': { type: 'string', default: '10' },
    'max-messages': { type: 'string', default: '500' },
    /** Internal: run as the clients' process. */
    client: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const LEVELS = values.levels.split(',').map(Number);
const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'] as const;

/** CPU time (ms) of this process, of its child processes except `exclude` (the chaincodes) and of `exclude` (the clients); undefined without /proc. */
function cpuSnapshot(exclude: number | undefined): { main: number; chaincodes: number; clients: number } | undefined {
  const main = cpuMsOf(process.pid);
  if (main === undefined) return undefined;
  return { main, chaincodes: childrenCpuMs(exclude), clients: exclude === undefined ? 0 : (cpuMsOf(exclude) ?? 0) };
}

/** Messages between the bench (node-sim's process) and its clients' process. */
type ToClients = { type: 'start'; orgs: SimOrg[]; channel: string; chaincodeName: string } | { type: 'run'; concurrency: number };
type FromClients =
  | { type: 'hello' }
  | { type: 'ready' }
  | { type: 'done'; concurrency: number; latencies: number[]; submitted: number[]; failed: number; elapsedMs: number };

/** The clients' process: sets up the data, then runs each concurrency level on request. */
async function clientsMain(): Promise<void> {
  const send = (m: FromClients): void => {
    process.send?.(m);
  };
  const start = await new Promise<Extract<ToClients, { type: 'start' }>>((resolve) => {
    process.once('message', (m: ToClients) => {
      if (m.type === 'start') resolve(m);
    });
    send({ type: 'hello' });
  });
  const orgs = new Map(start.orgs.map((o) => [o.mspId, o]));
  const conns = new Map(ORGS.map((m) => [m, connectOrg(orgs.get(m)!)]));
  const cc = (m: string): Contract => conns.get(m as (typeof ORGS)[number])!.gateway.getNetwork(start.channel).getContract(start.chaincodeName);
  try {
    const world = await setUpAccessWorld(cc, ORGS, Math.max(...LEVELS), 'bench');
    const publisher = cc('GovMSP');
    send({ type: 'ready' });
    for (;;) {
      const m = await new Promise<ToClients>((resolve) => process.once('message', resolve));
      if (m.type !== 'run') continue;
      const { concurrency } = m;
      const latencies: number[] = [];
      // Of each committed tx: the time until submitAsync returned (endorse + submit), the rest is the wait for the commit.
      const submitted: number[] = [];
      let failed = 0;
      const until = performance.now() + SECONDS * 1000;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async (_, w) => {
          const consentId = world.consents[w]!;
          while (performance.now() < until) {
            const group = world.accessGroup(consentId);
            const t = performance.now();
            try {
              const commit = await publisher.submitAsync('access:RecordAccess', { arguments: [group] });
              const s = performance.now() - t;
              const status = await commit.getStatus();
              if (status.successful) {
                latencies.push(performance.now() - t);
                submitted.push(s);
              } else failed += 1;
            } catch {
              failed += 1;
            }
          }
        }),
      );
      send({ type: 'done', concurrency, latencies, submitted, failed, elapsedMs: performance.now() - started });
      if (concurrency === LEVELS[LEVELS.length - 1]) break;
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
}


async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-sim-'));
  const t0 = performance.now();
  const sim = await startSimNetwork({
    dataDir: dir,
    batch: { batchTimeoutMs: Number(values['batch-timeout']), maxMessageCount: Number(values['max-messages']) },
  });
  const startupMs = performance.now() - t0;
  console.log(`start-up of a 4-org network from an empty folder: ${startupMs.toFixed(0)} ms`);

  // The same script, as the clients' process (fork keeps tsx's loader in execArgv).
  const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--client'], { stdio: 'inherit' });
  try {
    if ((await nextMessage<FromClients>(child)).type !== 'hello') throw new Error('the clients did not start');
    const ready = nextMessage<FromClients>(child);
    child.send({ type: 'start', orgs: [...sim.orgs.values()], channel: sim.channel, chaincodeName: sim.chaincodeName } satisfies ToClients);
    if ((await ready).type !== 'ready') throw new Error('the clients did not get ready');
    const results: {
      concurrency: number;
      committed: number;
      failed: number;
      txPerSecond: number;
      p50Ms: number;
      p99Ms: number;
      p50SubmitMs: number;
      cpuMsPerTxMain: number;
      cpuMsPerTxChaincodes: number;
      cpuMsPerTxClients: number;
    }[] = [];
    for (const concurrency of LEVELS) {
      const cpuBefore = cpuSnapshot(child.pid);
      const done = nextMessage<FromClients>(child);
      child.send({ type: 'run', concurrency } satisfies ToClients);
      const outcome = await done;
      const cpuAfter = cpuSnapshot(child.pid);
      if (outcome.type !== 'done') throw new Error('unexpected message from the clients');
      const { latencies, failed } = outcome;
      const perTx = (a: number | undefined, b: number | undefined): number =>
        a === undefined || b === undefined || latencies.length === 0 ? NaN : Math.round(((b - a) / latencies.length) * 100) / 100;
      latencies.sort((a, b) => a - b);
      const submitted = [...outcome.submitted].sort((a, b) => a - b);
      const row = {
        concurrency,
        committed: latencies.length,
        failed,
        txPerSecond: Math.round(latencies.length / (outcome.elapsedMs / 1000)),
        p50Ms: Math.round(percentile(latencies, 50) * 10) / 10,
        p99Ms: Math.round(percentile(latencies, 99) * 10) / 10,
        // p50 of endorse + submit (submitAsync); the rest of a latency is the wait for the block.
        p50SubmitMs: Math.round(percentile(submitted, 50) * 10) / 10,
        // Load-independent cost: CPU ms per committed tx in node-sim's process (peers + orderer), in the 4 chaincode processes and in the clients' process.
        cpuMsPerTxMain: perTx(cpuBefore?.main, cpuAfter?.main),
        cpuMsPerTxChaincodes: perTx(cpuBefore?.chaincodes, cpuAfter?.chaincodes),
        cpuMsPerTxClients: perTx(cpuBefore?.clients, cpuAfter?.clients),
      };
      results.push(row);
      console.log(
        `concurrency ${String(concurrency).padStart(3)}: ${row.txPerSecond} committed tx/s, p50 ${row.p50Ms} ms, p99 ${row.p99Ms} ms, p50 endorse+submit ${row.p50SubmitMs} ms (${row.committed} committed, ${failed} failed; ` +
          `CPU/tx ${row.cpuMsPerTxMain} ms node-sim + ${row.cpuMsPerTxChaincodes} ms chaincodes + ${row.cpuMsPerTxClients} ms clients)`,
      );
    }
    console.log(
      JSON.stringify({
        bench: 'sim-submit',
        transaction: 'access:RecordAccess (1 access), MAJORITY of 4 orgs',
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10) },
        batchTimeoutMs: Number(values['batch-timeout']),
        secondsPerLevel: SECONDS,
        startupMs: Math.round(startupMs),
        results,
      }),
    );
  } finally {
    if (child.exitCode === null) child.kill();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

(values.client ? clientsMain() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
