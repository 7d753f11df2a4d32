/**
 * Authorized fetches per second through a publisher's gateway (POST /v1/exchange/fetch, one
 * record per fetch, 50 concurrent clients): HTTP signature check, access registration on the
 * ledger (node-sim, group commit), store read, field scope, nacl.box — against the same
 * Fastify + LevelDB returning the same bytes with no checks, in one run. Prints the ratio;
 * the last line of output is one JSON object.
 *
 * Processes, as deployed: node-sim (with its chaincode processes) in a child process of its own
 * (`node-sim/src/main.ts`, as `npm run sim` runs it), the publisher's gateway in another, the
 * baseline server in another, and the bank's load clients in this process. The bank's gateway
 * runs here only during setup (it registers the bank's organization profile), then closes.
 *
 *   npm run bench:fetch [-- --seconds 10 --clients 50 --records 200] [--cpu-prof <dir>]
 *
 * --cpu-prof writes a V8 CPU profile of the publisher's gateway process into <dir>.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Level } from 'level';
import { b64u, newBoxKeyPair, newSigningKeyPair, signStatement, statementId } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { Consent, CreditRecord } from '@credex/schemas';
import { buildApp, parseConfig } from '@credex/gateway';
import type { GatewayConfig } from '@credex/gateway';
import { signAccessRequest } from '../gateway/src/exchange/client';
import { signRequest } from '../gateway/src/exchange/httpsig';
import { freePort } from '../scripts/host';
import { nextMessage as nextChildMessage } from './support/child-messages';
import { cpuOfTree } from './support/proc-cpu';
import { startSimChild } from './support/sim-child';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    records: { type: 'string', default: '200' },
    role: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const RECORDS = Number(values.records);
const STAFF = 'bench-staff-token-0123456789abcdef';
const SELF = fileURLToPath(import.meta.url);
const subject = fixtureEnterprises.subject;

/** Messages between this process and its gateway / baseline children. */
type ToChild =
  | { type: 'start'; config: Record<string, unknown>; dir: string; sample: string }
  | { type: 'groupLatency'; accesses: { consentId: string; recordId: string; request: unknown }[][] }
  | { type: 'close' };
type FromChild =
  | { type: 'hello' }
  | { type: 'listening'; url: string }
  | { type: 'groupLatency'; ms: number[] }
  | { type: 'closed' }
  | { type: 'error'; message: string };

async function nextMessage(child: ChildProcess): Promise<FromChild> {
  const m = await nextChildMessage<FromChild>(child);
  if (m.type === 'error') throw new Error(m.message);
  return m;
}

function childSend(m: FromChild): void {
  process.send?.(m);
}

/** A child's main: waits for `start`, runs `serve`, answers `close`. */
async function childMain(serve: (start: Extract<ToChild, { type: 'start' }>) => Promise<{ url: string; onMessage?: (m: ToChild) => Promise<FromChild | undefined>; close: () => Promise<void> }>): Promise<void> {
  const start = await new Promise<Extract<ToChild, { type: 'start' }>>((resolve) => {
    process.once('message', (m: ToChild) => {
      if (m.type === 'start') resolve(m);
    });
    childSend({ type: 'hello' });
  });
  const running = await serve(start);
  process.on('message', (m: ToChild) => {
    void (async () => {
      try {
        if (m.type === 'close') {
          await running.close();
          childSend({ type: 'closed' });
          process.disconnect();
          return;
        }
        const answer = await running.onMessage?.(m);
        if (answer !== undefined) childSend(answer);
      } catch (e) {
        childSend({ type: 'error', message: (e as Error).stack ?? String(e) });
      }
    })();
  });
  childSend({ type: 'listening', url: running.url });
}

/** The publisher's gateway in its own process. */
function gatewayMain(): Promise<void> {
  return childMain(async ({ config: raw }) => {
    const config = parseConfig(raw);
    const gov = await buildApp({ config, logger: false, maintenanceMs: 0 });
    await gov.listen({ host: '127.0.0.1', port: config.port });
    return {
      url: config.publicUrl,
      // Diagnostic: how long one RecordAccess transaction takes by group size (where the time goes).
      onMessage: async (m) => {
        if (m.type !== 'groupLatency') return undefined;
        const ms: number[] = [];
        for (const group of m.accesses) {
          const accesses = await Promise.all(group.map(async (a) => {
            const request = a.request as { statement: { recordIds: string[] } };
            // The ledger keeps batches, not records: each record is named by its RecordRef from the publisher's store.
            const refs = await Promise.all(request.statement.recordIds.map((id) => gov.store.recordRef(id)));
            return { accessId: statementId('access-request', request.statement), consentId: a.consentId, recordIds: request.statement.recordIds, records: refs, request };
          }));
          const t0 = performance.now();
          await gov.ledger.submit('access', 'RecordAccess', JSON.stringify({ accesses }));
          ms.push(Number((performance.now() - t0).toFixed(1)));
        }
        return { type: 'groupLatency', ms };
      },
      close: () => gov.close(),
    };
  });
}

/** Fastify + LevelDB returning the same bytes, same request shape, no checks, in its own process. */
function baselineMain(): Promise<void> {
  return childMain(async ({ dir, sample }) => {
    const db = new Level<string, string>(path.join(dir, 'baseline'), { valueEncoding: 'utf8' });
    await db.open();
    await db.batch(Array.from({ length: RECORDS }, (_, i) => ({ type: 'put' as const, key: `bench-${i}`, value: sample })));
    const plain = Fastify({ logger: false });
    plain.post<{ Body: { request: { statement: { recordIds: string[] } } } }>('/v1/exchange/fetch', async (request, reply) => {
      const id = request.body.request.statement.recordIds[0] ?? '';
      return reply.type('application/json').send(await db.get(id));
    });
    const port = await freePort();
    await plain.listen({ host: '127.0.0.1', port });
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        await plain.close();
        await db.close();
      },
    };
  });
}

async function staff(url: string, method: string, p: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url + p, { method, headers: { authorization: `Bearer ${STAFF}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** `clients` loops each sending `next()` back to back for SECONDS; throughput and latency of 2xx answers. */
async function drive(label: string, next: () => { url: string; body: string; headers: Record<string, string> }): Promise<{ perSecond: number; p50: number; p99: number; errors: number; ok: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError = '';
  const end = Date.now() + SECONDS * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      const req = next();
      const t0 = performance.now();
      const res = await fetch(req.url, { method: 'POST', body: req.body, headers: { ...req.headers, 'content-type': 'application/json' } });
      const text = await res.text();
      if (res.ok) latencies.push(performance.now() - t0);
      else {
        errors++;
        firstError ||= `${res.status} ${text.slice(0, 200)}`;
      }
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  if (errors > 0) console.log(`${label}: ${errors} errors, first: ${firstError}`);
  return { perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, ok: latencies.length };
}

async function startChild(role: 'gateway' | 'baseline', start: Extract<ToChild, { type: 'start' }>): Promise<{ child: ChildProcess; url: string }> {
  // The same script (fork keeps tsx's loader in execArgv).
  const prof = values['cpu-prof'];
  const execArgv = role === 'gateway' && prof !== undefined ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir', path.resolve(prof)] : process.execArgv;
  const child = fork(SELF, [...process.argv.slice(2), '--role', role], { stdio: 'inherit', execArgv });
  if ((await nextMessage(child)).type !== 'hello') throw new Error(`the ${role} did not start`);
  const listening = nextMessage(child);
  child.send(start);
  const m = await listening;
  if (m.type !== 'listening') throw new Error(`the ${role} did not listen`);
  return { child, url: m.url };
}

async function stopChild(child: ChildProcess): Promise<void> {
  const closed = nextMessage(child).catch(() => undefined);
  child.send({ type: 'close' } satisfies ToChild);
  await closed;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'credex-bench-fetch-'));
  const startedAt = performance.now();
  const sim = await startSimChild(path.join(dir, 'sim'), ['--orgs', 'GovMSP,BankMSP']);
  const profile = (mspId: string): string => sim.profiles.get(mspId) ?? '';
  const keys = new Map(['GovMSP', 'BankMSP'].map((m) => [m, { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() }]));
  const rawConfig = async (mspId: string): Promise<Record<string, unknown>> => {
    const port = await freePort();
    return {
      mspId, host: '127.0.0.1', port, dataDir: path.join(dir, `gw-${mspId}`), staffTokens: [STAFF], publicUrl: `http://127.0.0.1:${port}`,
      logLevel: 'warn', keys: keys.get(mspId), limits: { ratePerMinute: 10_000_000 }, ledger: { connectionProfile: profile(mspId) },
    };
  };
  // The bank's gateway registers the bank's organization profile (its request and box keys), then is not needed.
  const bankConfig: GatewayConfig = parseConfig(await rawConfig('BankMSP'));
  const bank = await buildApp({ config: bankConfig, logger: false, maintenanceMs: 0 });
  await bank.close();
  const gov = await startChild('gateway', { type: 'start', config: await rawConfig('GovMSP'), dir, sample: '' });
  const govUrl = gov.url;

  const enterprise = newSigningKeyPair();
  await staff(govUrl, 'POST', '/v1/enterprises', { uscc: subject.uscc, name: subject.name, publicKey: enterprise.publicKey });
  const entry = (await staff(govUrl, 'POST', '/v1/catalogue', { subject: subject.uscc, recordType: 'gov.admin-licence', title: '行政许可信息', pricePerAccess: 100 })) as { entry: { entryId: string } };
  const records: CreditRecord[] = Array.from({ length: RECORDS }, (_, i) => ({ ...fixtureRecord('gov.admin-licence', subject.uscc), recordId: `bench-${i}` }));
  await staff(govUrl, 'POST', '/v1/records', { catalogueEntryId: entry.entry.entryId, records });
  // One consent per client: a client's fetches are sequential, so concurrent registrations never contend for one consent's use count.
  const consentIds: string[] = [];
  for (let c = 0; c < CLIENTS; c++) {
    const now = Date.now();
    const statement: Consent = {
      subject: subject.uscc, grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] }, purpose: 'LOAN_APPLICATION', fieldScope: { maxGrade: 2 },
      notBefore: new Date(now - 3_600_000).toISOString(), notAfter: new Date(now + 86_400_000).toISOString(), maxUses: 1_000_000, nonce: b64u(randomBytes(16)),
    };
    await staff(govUrl, 'POST', '/v1/consents', { statement, signature: signStatement('consent', statement, enterprise.secretKey) });
    consentIds.push(statementId('consent', statement));
  }
  const setupSeconds = (performance.now() - startedAt) / 1000;

  const fetchUrl = `${govUrl}/v1/exchange/fetch`;
  let n = 0;
  const signedAccess = (k: number): ReturnType<typeof signAccessRequest> => signAccessRequest(
    { consentId: consentIds[k % CLIENTS] as string, grantee: 'BankMSP', purpose: 'LOAN_APPLICATION', recordIds: [`bench-${k % RECORDS}`], nonce: b64u(randomBytes(16)), created: new Date().toISOString() },
    bankConfig.keys.requestKey.secretKey,
  );
  const signedFetch = (): { url: string; body: string; headers: Record<string, string> } => {
    const i = n++;
    const request = signedAccess(i);
    const body = JSON.stringify({ consentId: request.statement.consentId, request });
    const headers = signRequest({ method: 'POST', url: fetchUrl, body: new TextEncoder().encode(body) }, { keyId: 'BankMSP', secretKey: bankConfig.keys.requestKey.secretKey });
    return { url: fetchUrl, body, headers };
  };

  // A sample answer: the bytes the baseline serves.
  const sample = signedFetch();
  const sampleRes = await fetch(sample.url, { method: 'POST', body: sample.body, headers: { ...sample.headers, 'content-type': 'application/json' } });
  const sampleBytes = await sampleRes.text();
  if (!sampleRes.ok) throw new Error(`sample fetch failed: ${sampleBytes}`);

  const cpu = (): { bench: number; gateway: number | undefined; sim: number | undefined; simAlone: number | undefined } => {
    const usage = process.cpuUsage();
    return { bench: (usage.user + usage.system) / 1000, gateway: cpuOfTree(gov.child.pid), sim: cpuOfTree(sim.child.pid), simAlone: cpuOfTree(sim.child.pid, true) };
  };
  const cpuBefore = cpu();
  const authorized = await drive('authorized', signedFetch);
  const cpuAfter = cpu();
  const perFetch = (a: number | undefined, b: number | undefined): number | null =>
    a === undefined || b === undefined || authorized.ok === 0 ? null : Number(((b - a) / authorized.ok).toFixed(2));
  const cpuMsPerFetch = {
    gateway: perFetch(cpuBefore.gateway, cpuAfter.gateway),
    nodeSimAndChaincodes: perFetch(cpuBefore.sim, cpuAfter.sim),
    // of which node-sim's own process (peers' gateway service, orderer, validation, ledger); the rest is its chaincode processes
    nodeSimAlone: perFetch(cpuBefore.simAlone, cpuAfter.simAlone),
    clients: perFetch(cpuBefore.bench, cpuAfter.bench),
  };

  // Diagnostic: how long one RecordAccess transaction takes by group size, and the CPU it costs
  // node-sim and its chaincode processes per access (where the time goes).
  const groupLatency: Record<string, number> = {};
  const ledgerCpuMsPerAccess: Record<string, number | null> = {};
  for (const size of [1, 10, 50, 200]) {
    const answer = nextMessage(gov.child);
    const simBefore = cpuOfTree(sim.child.pid);
    gov.child.send({
      type: 'groupLatency',
      accesses: [Array.from({ length: size }, (_, k) => {
        const request = signedAccess(k);
        return { consentId: request.statement.consentId, recordId: request.statement.recordIds[0] as string, request };
      })],
    } satisfies ToChild);
    const m = await answer;
    const simAfter = cpuOfTree(sim.child.pid);
    if (m.type !== 'groupLatency') throw new Error('no group latency from the gateway');
    groupLatency[String(size)] = m.ms[0] ?? NaN;
    ledgerCpuMsPerAccess[String(size)] = simBefore === undefined || simAfter === undefined ? null : Number(((simAfter - simBefore) / size).toFixed(2));
  }
  console.log(`RecordAccess submit-to-commit by group size (ms): ${JSON.stringify(groupLatency)}`);
  console.log(`RecordAccess CPU ms per access in node-sim + chaincodes, by group size: ${JSON.stringify(ledgerCpuMsPerAccess)}`);
  await stopChild(gov.child);

  const plain = await startChild('baseline', { type: 'start', config: {}, dir, sample: sampleBytes });
  const plainUrl = `${plain.url}/v1/exchange/fetch`;
  const baseline = await drive('baseline', () => ({ ...signedFetch(), url: plainUrl }));
  await stopChild(plain.child);

  await sim.stop();
  await rm(dir, { recursive: true, force: true });

  const result = {
    bench: 'fetch',
    layout: 'processes: node-sim (+ its chaincode processes), publisher gateway, baseline server, load clients (this process)',
    clients: CLIENTS,
    seconds: SECONDS,
    recordsPerFetch: 1,
    authorizedPerSecond: Math.round(authorized.perSecond),
    authorizedP50Ms: Number(authorized.p50.toFixed(1)),
    authorizedP99Ms: Number(authorized.p99.toFixed(1)),
    authorizedErrors: authorized.errors,
    baselinePerSecond: Math.round(baseline.perSecond),
    baselineP50Ms: Number(baseline.p50.toFixed(1)),
    baselineP99Ms: Number(baseline.p99.toFixed(1)),
    ratio: Number((authorized.perSecond / baseline.perSecond).toFixed(4)),
    target: { perSecond: 1000, p99Ms: 250 },
    meetsTarget: authorized.perSecond >= 1000 && authorized.p99 < 250,
    recordAccessMsByGroupSize: groupLatency,
    recordAccessLedgerCpuMsPerAccessByGroupSize: ledgerCpuMsPerAccess,
    cpuMsPerAuthorizedFetch: cpuMsPerFetch,
    setupSeconds: Number(setupSeconds.toFixed(1)),
    answerBytes: sampleBytes.length,
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((l) => Number(l.toFixed(2))) },
  };
  console.log(`authorized fetches: ${result.authorizedPerSecond}/s (p50 ${result.authorizedP50Ms} ms, p99 ${result.authorizedP99Ms} ms); no checks: ${result.baselinePerSecond}/s; ratio ${result.ratio}`);
  console.log(`CPU ms per authorized fetch: ${JSON.stringify(cpuMsPerFetch)}`);
  console.log(JSON.stringify(result));
}

const role = values.role;
(role === 'gateway' ? gatewayMain() : role === 'baseline' ? baselineMain() : main()).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
