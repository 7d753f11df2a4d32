/**
 * The floor under node-sim's throughput on this machine: what the parts a credex transaction
 * needs cost by themselves, measured the same way, so that the README can say how much of a
 * throughput target is reachable at all and where the time goes.
 *
 *  (a) raw @grpc/grpc-js: unary calls with TLS (client and server in one process, and the
 *      client in a process of its own), and round trips on one bidirectional stream without
 *      TLS (the shape of the chaincode stream fabric-shim keeps with its peer);
 *  (b) node-sim through the unmodified fabric-gateway client: an Evaluate of qscc
 *      GetChainInfo (one signed proposal, no chaincode), and a submit of the cheapest credex
 *      transaction, participants:GetOrganization (one GetState, no write) endorsed under
 *      MAJORITY (3 chaincode executions), ordered and committed;
 *  (c) the credex access transaction (access:RecordAccess, one access), as bench:sim-submit.
 *
 * Every phase runs at one concurrency for a fixed time; clients run in a child process of
 * their own. Besides calls or transactions per second it reports the CPU milliseconds per
 * call or transaction in each process, and the ceiling that CPU cost allows on this machine
 * (cores × 1000 / total CPU ms). The last line of output is one JSON object.
 *
 *   npm run bench:sim-floor [-- --seconds 5 --concurrency 200 --batch-timeout 10]
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { Contract } from '@hyperledger/fabric-gateway';
import { startSimNetwork, type SimOrg } from '@credex/node-sim';
import { nextMessage } from './support/child-messages';
import { childrenCpuMs, cpuMsOf } from './support/proc-cpu';
import { connectOrg, percentile, setUpAccessWorld } from './support/sim-clients';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '200' },
    'batch-timeout': { type: 'string', default: '10' },
    'max-messages': { type: 'string', default: '500' },
    /** Internal: run as a clients' process of the given kind. */
    role: { type: 'string', default: '' },
    port: { type: 'string', default: '' },
    ca: { type: 'string', default: '' },
  },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'] as const;
/** Sizes of a typical Endorse request and response (a signed proposal, a prepared envelope). */
const REQUEST_BYTES = 3000;
const RESPONSE_BYTES = 4000;
/** Sizes of a typical chaincode-stream message each way (GET_STATE and its RESPONSE). */
const STREAM_BYTES = 300;

/** Every message the parent and a clients' process exchange. */
type ToChild = { type: 'run'; phase: string } | { type: 'start'; orgs: SimOrg[]; channel: string; chaincodeName: string };
type FromChild =
  | { type: 'ready' }
  | { type: 'done'; phase: string; count: number; failed: number; elapsedMs: number; cpuMs: number; latencies: number[] };

interface PhaseResult {
  phase: string;
  what: string;
  perSecond: number;
  count: number;
  failed: number;
  p50Ms: number;
  cpuMsPerOp: { server: number; chaincodes: number; clients: number; total: number };
  /** cores × 1000 / total CPU ms per operation: the rate this CPU cost allows on this machine. */
  cpuCeilingPerSecond: number;
}

// ---------------------------------------------------------------------------------------------
// Raw gRPC: a unary echo service and a bidirectional stream, messages left as bytes.

const asBytes = (b: Buffer): Buffer => b;
const bytesOnly = { requestSerialize: asBytes, requestDeserialize: asBytes, responseSerialize: asBytes, responseDeserialize: asBytes };
const rawService: grpc.ServiceDefinition = {
  Call: { path: '/bench.Floor/Call', requestStream: false, responseStream: false, ...bytesOnly },
  Stream: { path: '/bench.Floor/Stream', requestStream: true, responseStream: true, ...bytesOnly },
};

/** A throwaway ECDSA P-256 TLS server certificate for 127.0.0.1 (as node-sim's peers use). */
async function tlsMaterial(dir: string): Promise<{ cert: Buffer; key: Buffer }> {
  const keyPath = path.join(dir, 'tls.key');
  const certPath = path.join(dir, 'tls.crt');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
  return { cert: await readFile(certPath), key: await readFile(keyPath) };
}

async function startRawServer(tls: { cert: Buffer; key: Buffer } | undefined): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const response = Buffer.alloc(RESPONSE_BYTES, 7);
  const streamReply = Buffer.alloc(STREAM_BYTES, 7);
  server.addService(rawService, {
    Call: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, response);
    },
    Stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', () => call.write(streamReply));
      call.on('end', () => call.end());
    },
  });
  const credentials = tls ? grpc.ServerCredentials.createSsl(null, [{ private_key: tls.key, cert_chain: tls.cert }]) : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => {
      if (err) reject(err);
      else resolve(p);
    });
  });
  return { server, port };
}

function rawClient(port: number, ca: Buffer | undefined): grpc.Client {
  const credentials = ca ? grpc.credentials.createSsl(ca) : grpc.credentials.createInsecure();
  // The certificate names localhost: TLS sends no IP address as server name (RFC 6066).
  return new grpc.Client(`127.0.0.1:${String(port)}`, credentials, ca ? { 'grpc.ssl_target_name_override': 'localhost' } : {});
}

/** `concurrency` callers making unary calls back to back for SECONDS. */
async function unaryLoad(client: grpc.Client): Promise<{ count: number; failed: number; elapsedMs: number; latencies: number[] }> {
  const request = Buffer.alloc(REQUEST_BYTES, 1);
  const latencies: number[] = [];
  let failed = 0;
  const call = (): Promise<void> =>
    new Promise((resolve) => {
      client.makeUnaryRequest('/bench.Floor/Call', (b: Buffer) => b, (b: Buffer) => b, request, (err: grpc.ServiceError | null) => {
        if (err) failed += 1;
        resolve();
      });
    });
  await call(); // connect
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await call();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { count: latencies.length - failed, failed, elapsedMs: performance.now() - started, latencies };
}

/** One bidirectional stream with `concurrency` messages in flight, for SECONDS: round trips. */
async function streamLoad(client: grpc.Client): Promise<{ count: number; failed: number; elapsedMs: number; latencies: number[] }> {
  const message = Buffer.alloc(STREAM_BYTES, 1);
  const stream = client.makeBidiStreamRequest('/bench.Floor/Stream', (b: Buffer) => b, (b: Buffer) => b);
  const sent: number[] = [];
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await new Promise<void>((resolve, reject) => {
    stream.on('data', () => {
      latencies.push(performance.now() - (sent.shift() ?? NaN));
      if (performance.now() < until) {
        sent.push(performance.now());
        stream.write(message);
      } else if (sent.length === 0) {
        stream.end();
        resolve();
      }
    });
    stream.on('error', reject);
    for (let i = 0; i < CONCURRENCY; i++) {
      sent.push(performance.now());
      stream.write(message);
    }
  });
  return { count: latencies.length, failed: 0, elapsedMs: performance.now() - started, latencies };
}

// ---------------------------------------------------------------------------------------------
// node-sim through the fabric-gateway client (as bench/sim-submit.ts does).

const round = (v: number, digits = 2): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** The clients' process of the node-sim phases: sets up credex data, then runs each phase on request. */
async function simClientsMain(send: (m: FromChild) => void, next: () => Promise<ToChild>): Promise<void> {
  const start = await next();
  if (start.type !== 'start') throw new Error('expected start');
  const orgs = new Map(start.orgs.map((o) => [o.mspId, o]));
  const conns = new Map(ORGS.map((m) => [m, connectOrg(orgs.get(m)!)]));
  const network = (m: string) => conns.get(m as (typeof ORGS)[number])!.gateway.getNetwork(start.channel);
  const cc = (m: string): Contract => network(m).getContract(start.chaincodeName);
  try {
    const world = await setUpAccessWorld(cc, ORGS, CONCURRENCY, 'floor');
    const publisher = cc('GovMSP');
    const qscc = network('GovMSP').getContract('qscc');

    /** One operation of a phase: resolves true when it succeeded (committed valid, for submits). */
    const operations: Record<string, (worker: number) => Promise<boolean>> = {
      'sim-evaluate-qscc': async () => (await qscc.evaluateTransaction('GetChainInfo', start.channel)).length > 0,
      'sim-submit-read': async () => {
        const commit = await publisher.submitAsync('participants:GetOrganization', { arguments: ['BankMSP'] });
        return (await commit.getStatus()).successful;
      },
      'sim-submit-access': async (worker) => {
        const commit = await publisher.submitAsync('access:RecordAccess', { arguments: [world.accessGroup(world.consents[worker]!)] });
        return (await commit.getStatus()).successful;
      },
    };
    send({ type: 'ready' });
    for (;;) {
      const m = await next();
      if (m.type !== 'run') continue;
      const operation = operations[m.phase];
      if (operation === undefined) break;
      const latencies: number[] = [];
      let failed = 0;
      const cpu0 = process.cpuUsage();
      const started = performance.now();
      const until = started + SECONDS * 1000;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, w) => {
          while (performance.now() < until) {
            const t = performance.now();
            try {
              if (await operation(w)) latencies.push(performance.now() - t);
              else failed += 1;
            } catch {
              failed += 1;
            }
          }
        }),
      );
      const cpu = process.cpuUsage(cpu0);
      send({ type: 'done', phase: m.phase, count: latencies.length, failed, elapsedMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000, latencies });
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
}

/** The clients' process of a raw gRPC phase. */
async function rawClientsMain(send: (m: FromChild) => void): Promise<void> {
  const ca = values.ca === '' ? undefined : await readFile(values.ca);
  const client = rawClient(Number(values.port), ca);
  const cpu0 = process.cpuUsage();
  const phase = values.role;
  const r = phase === 'raw-stream' ? await streamLoad(client) : await unaryLoad(client);
  const cpu = process.cpuUsage(cpu0);
  client.close();
  send({ type: 'done', phase, ...r, cpuMs: (cpu.user + cpu.system) / 1000 });
}

function childMain(): Promise<void> {
  const send = (m: FromChild): void => {
    process.send?.(m);
  };
  const queue: ToChild[] = [];
  let waiting: ((m: ToChild) => void) | undefined;
  process.on('message', (m: ToChild) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(m);
    } else queue.push(m);
  });
  const next = (): Promise<ToChild> => {
    const m = queue.shift();
    return m ? Promise.resolve(m) : new Promise((resolve) => (waiting = resolve));
  };
  return values.role === 'sim' ? simClientsMain(send, next) : rawClientsMain(send);
}


function spawnClients(args: string[]): ChildProcess {
  // fork keeps tsx's loader in execArgv.
  return fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), ...args], { stdio: 'inherit' });
}

function result(phase: string, what: string, r: { count: number; failed: number; elapsedMs: number; latencies: number[] }, cpu: { server: number; chaincodes: number; clients: number }): PhaseResult {
  const per = (ms: number): number => (r.count === 0 ? NaN : round(ms / r.count, 3));
  const cpuMsPerOp = { server: per(cpu.server), chaincodes: per(cpu.chaincodes), clients: per(cpu.clients), total: per(cpu.server + cpu.chaincodes + cpu.clients) };
  const sorted = [...r.latencies].sort((a, b) => a - b);
  const row: PhaseResult = {
    phase,
    what,
    perSecond: Math.round(r.count / (r.elapsedMs / 1000)),
    count: r.count,
    failed: r.failed,
    p50Ms: round(percentile(sorted, 50), 1),
    cpuMsPerOp,
    cpuCeilingPerSecond: Math.round((os.cpus().length * 1000) / cpuMsPerOp.total),
  };
  console.log(
    `${phase.padEnd(22)} ${String(row.perSecond).padStart(6)}/s  p50 ${String(row.p50Ms).padStart(7)} ms  CPU/op ${cpuMsPerOp.server} ms ${cpu.clients > 0 ? 'server' : 'client and server'}` +
      `${cpu.chaincodes > 0 ? ` + ${cpuMsPerOp.chaincodes} ms chaincodes` : ''} + ${cpuMsPerOp.clients} ms clients = ${cpuMsPerOp.total} ms` +
      ` → CPU ceiling ${row.cpuCeilingPerSecond}/s  (${r.failed} failed; ${what})`,
  );
  return row;
}

async function rawPhases(dir: string): Promise<PhaseResult[]> {
  const rows: PhaseResult[] = [];
  const tls = await tlsMaterial(dir);
  const caPath = path.join(dir, 'tls.crt');

  // (a1) client and server in this one process.
  {
    const { server, port } = await startRawServer(tls);
    const client = rawClient(port, tls.cert);
    const cpu0 = process.cpuUsage();
    const r = await unaryLoad(client);
    const cpu = process.cpuUsage(cpu0);
    client.close();
    server.forceShutdown();
    rows.push(result('raw-unary-tls-1proc', `grpc-js unary ${REQUEST_BYTES} B → ${RESPONSE_BYTES} B, TLS, client and server in one process`, r, { server: (cpu.user + cpu.system) / 1000, chaincodes: 0, clients: 0 }));
  }
  // (a2) the client in a process of its own; (a3) one bidirectional stream without TLS.
  for (const phase of ['raw-unary-tls-2proc', 'raw-stream'] as const) {
    const secure = phase !== 'raw-stream';
    const { server, port } = await startRawServer(secure ? tls : undefined);
    const before = cpuMsOf(process.pid);
    const child = spawnClients(['--role', phase, '--port', String(port), ...(secure ? ['--ca', caPath] : [])]);
    const done = await nextMessage<FromChild>(child);
    const after = cpuMsOf(process.pid);
    child.kill();
    server.forceShutdown();
    if (done.type !== 'done') throw new Error('unexpected message from the clients');
    const what = secure
      ? `grpc-js unary ${REQUEST_BYTES} B → ${RESPONSE_BYTES} B, TLS, client in its own process`
      : `grpc-js bidi stream round trips, ${STREAM_BYTES} B each way, no TLS, ${CONCURRENCY} in flight on one stream (the chaincode stream's shape)`;
    rows.push(result(phase, what, done, { server: (after ?? NaN) - (before ?? NaN), chaincodes: 0, clients: done.cpuMs }));
  }
  return rows;
}

async function simPhases(dir: string): Promise<{ rows: PhaseResult[]; startupMs: number }> {
  const t0 = performance.now();
  const sim = await startSimNetwork({
    dataDir: path.join(dir, 'sim'),
    batch: { batchTimeoutMs: Number(values['batch-timeout']), maxMessageCount: Number(values['max-messages']) },
  });
  const startupMs = performance.now() - t0;
  const rows: PhaseResult[] = [];
  const child = spawnClients(['--role', 'sim']);
  try {
    const ready = nextMessage<FromChild>(child);
    child.send({ type: 'start', orgs: [...sim.orgs.values()], channel: sim.channel, chaincodeName: sim.chaincodeName } satisfies ToChild);
    if ((await ready).type !== 'ready') throw new Error('the clients did not get ready');
    const phases = [
      ['sim-evaluate-qscc', 'Evaluate qscc GetChainInfo through the gateway: one signed proposal, no chaincode'],
      ['sim-submit-read', 'submit participants:GetOrganization: MAJORITY (3 chaincode executions, 1 GetState each, no write), ordered and committed'],
      ['sim-submit-access', 'submit access:RecordAccess (1 access), MAJORITY, ordered and committed (as bench:sim-submit)'],
    ] as const;
    for (const [phase, what] of phases) {
      const main0 = cpuMsOf(process.pid);
      const cc0 = childrenCpuMs(child.pid);
      const done = nextMessage<FromChild>(child);
      child.send({ type: 'run', phase } satisfies ToChild);
      const r = await done;
      const main1 = cpuMsOf(process.pid);
      const cc1 = childrenCpuMs(child.pid);
      if (r.type !== 'done') throw new Error('unexpected message from the clients');
      rows.push(result(phase, what, r, { server: (main1 ?? NaN) - (main0 ?? NaN), chaincodes: cc1 - cc0, clients: r.cpuMs }));
    }
    child.send({ type: 'run', phase: 'end' } satisfies ToChild);
  } finally {
    if (child.exitCode === null) child.kill();
    await sim.stop();
  }
  return { rows, startupMs };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-floor-'));
  try {
    console.log(`${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; concurrency ${CONCURRENCY}, ${SECONDS} s per phase`);
    const raw = await rawPhases(dir);
    const { rows: sim, startupMs } = await simPhases(dir);
    const results = [...raw, ...sim];
    const access = sim.find((r) => r.phase === 'sim-submit-access');
    const read = sim.find((r) => r.phase === 'sim-submit-read');
    if (access && read) {
      const perChaincode = (access.cpuMsPerOp.chaincodes / 3).toFixed(2);
      console.log(
        `one access tx costs ${access.cpuMsPerOp.total} ms of CPU in all (${access.cpuMsPerOp.chaincodes} ms in 3 chaincode executions, ≈ ${perChaincode} ms each); ` +
          `on ${os.cpus().length} cores that allows at most ${access.cpuCeilingPerSecond} tx/s, ${(access.cpuCeilingPerSecond / 10).toFixed(0)}% of 1,000 tx/s; ` +
          `the cheapest submit (${read.cpuMsPerOp.total} ms) at most ${read.cpuCeilingPerSecond} tx/s`,
      );
    }
    console.log(
      JSON.stringify({
        bench: 'sim-floor',
        machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map((l) => round(l, 1)) },
        concurrency: CONCURRENCY,
        secondsPerPhase: SECONDS,
        batchTimeoutMs: Number(values['batch-timeout']),
        startupMs: Math.round(startupMs),
        results,
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

(values.role === '' ? main() : childMain()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
