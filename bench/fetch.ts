/**
 * Authorized fetches per second through a publisher's gateway (POST /v1/exchange/fetch, one
 * record per fetch, 50 concurrent clients): HTTP signature check, access registration on the
 * ledger (node-sim, group commit), store read, field scope, nacl.box — against the same
 * Fastify + LevelDB returning the same bytes with no checks, in one run. Prints the ratio;
 * the last line of output is one JSON object.
 *
 *   npm run bench:fetch [-- --seconds 10 --clients 50 --records 200]
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Level } from 'level';
import { b64u, newBoxKeyPair, newSigningKeyPair, signStatement, statementId } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { Consent, CreditRecord } from '@credex/schemas';
import { buildApp, parseConfig } from '@credex/gateway';
import type { GatewayConfig } from '@credex/gateway';
import { startSimNetwork } from '@credex/node-sim';
import { signAccessRequest } from '../gateway/src/exchange/client';
import { signRequest } from '../gateway/src/exchange/httpsig';
import { freePort } from '../scripts/host';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
    records: { type: 'string', default: '200' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const RECORDS = Number(values.records);
const STAFF = 'bench-staff-token-0123456789abcdef';
const subject = fixtureEnterprises.subject;

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

const dir = await mkdtemp(path.join(os.tmpdir(), 'credex-bench-fetch-'));
const startedAt = performance.now();
const sim = await startSimNetwork({ dataDir: path.join(dir, 'sim'), orgs: ['GovMSP', 'BankMSP'] });
const configs = new Map<string, GatewayConfig>();
for (const mspId of ['GovMSP', 'BankMSP']) {
  const port = await freePort();
  configs.set(mspId, parseConfig({
    mspId, host: '127.0.0.1', port, dataDir: path.join(dir, `gw-${mspId}`), staffTokens: [STAFF], publicUrl: `http://127.0.0.1:${port}`,
    logLevel: 'warn', keys: { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() }, limits: { ratePerMinute: 10_000_000 },
    ledger: { connectionProfile: sim.connectionProfilePath(mspId) },
  }));
}
const govConfig = configs.get('GovMSP') as GatewayConfig;
const bankConfig = configs.get('BankMSP') as GatewayConfig;
const gov = await buildApp({ config: govConfig, logger: false, maintenanceMs: 0 });
await gov.listen({ host: '127.0.0.1', port: govConfig.port });
// The bank's gateway registers the bank's organization profile (its request and box keys).
const bank = await buildApp({ config: bankConfig, logger: false, maintenanceMs: 0 });

const enterprise = newSigningKeyPair();
await staff(govConfig.publicUrl, 'POST', '/v1/enterprises', { uscc: subject.uscc, name: subject.name, publicKey: enterprise.publicKey });
const entry = (await staff(govConfig.publicUrl, 'POST', '/v1/catalogue', { subject: subject.uscc, recordType: 'gov.admin-licence', title: '行政许可信息', pricePerAccess: 100 })) as { entry: { entryId: string } };
const records: CreditRecord[] = Array.from({ length: RECORDS }, (_, i) => ({ ...fixtureRecord('gov.admin-licence', subject.uscc), recordId: `bench-${i}` }));
await staff(govConfig.publicUrl, 'POST', '/v1/records', { catalogueEntryId: entry.entry.entryId, records });
// One consent per client: a client's fetches are sequential, so concurrent registrations never contend for one consent's use count.
const consentIds: string[] = [];
for (let c = 0; c < CLIENTS; c++) {
  const now = Date.now();
  const statement: Consent = {
    subject: subject.uscc, grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] }, purpose: 'LOAN_APPLICATION', fieldScope: { maxGrade: 2 },
    notBefore: new Date(now - 3_600_000).toISOString(), notAfter: new Date(now + 86_400_000).toISOString(), maxUses: 1_000_000, nonce: b64u(randomBytes(16)),
  };
  await staff(govConfig.publicUrl, 'POST', '/v1/consents', { statement, signature: signStatement('consent', statement, enterprise.secretKey) });
  consentIds.push(statementId('consent', statement));
}
const setupSeconds = (performance.now() - startedAt) / 1000;

const fetchUrl = `${govConfig.publicUrl}/v1/exchange/fetch`;
let n = 0;
const signedFetch = (): { url: string; body: string; headers: Record<string, string> } => {
  const i = n++;
  const consentId = consentIds[i % CLIENTS] as string;
  const request = signAccessRequest({ consentId, grantee: 'BankMSP', purpose: 'LOAN_APPLICATION', recordIds: [`bench-${i % RECORDS}`], nonce: b64u(randomBytes(16)), created: new Date().toISOString() }, bankConfig.keys.requestKey.secretKey);
  const body = JSON.stringify({ consentId, request });
  const headers = signRequest({ method: 'POST', url: fetchUrl, body: new TextEncoder().encode(body) }, { keyId: 'BankMSP', secretKey: bankConfig.keys.requestKey.secretKey });
  return { url: fetchUrl, body, headers };
};

// A sample answer: the bytes the baseline serves.
const sample = signedFetch();
const sampleRes = await fetch(sample.url, { method: 'POST', body: sample.body, headers: { ...sample.headers, 'content-type': 'application/json' } });
const sampleBytes = await sampleRes.text();
if (!sampleRes.ok) throw new Error(`sample fetch failed: ${sampleBytes}`);

const authorized = await drive('authorized', signedFetch);

// Diagnostic: how long one RecordAccess transaction takes by group size (where the time goes).
const groupLatency: Record<string, number> = {};
for (const size of [1, 10, 50]) {
  const accesses = await Promise.all(Array.from({ length: size }, async (_, k) => {
    const request = signAccessRequest({ consentId: consentIds[k % CLIENTS] as string, grantee: 'BankMSP', purpose: 'LOAN_APPLICATION', recordIds: [`bench-${k % RECORDS}`], nonce: b64u(randomBytes(16)), created: new Date().toISOString() }, bankConfig.keys.requestKey.secretKey);
    // The ledger keeps batches, not records: each record is named by its RecordRef from the publisher's store.
    const refs = await Promise.all(request.statement.recordIds.map((id) => gov.store.recordRef(id)));
    return { accessId: statementId('access-request', request.statement), consentId: request.statement.consentId, recordIds: request.statement.recordIds, records: refs, request };
  }));
  const t0 = performance.now();
  await gov.ledger.submit('access', 'RecordAccess', JSON.stringify({ accesses }));
  groupLatency[String(size)] = Number((performance.now() - t0).toFixed(1));
}
console.log(`RecordAccess submit-to-commit by group size (ms): ${JSON.stringify(groupLatency)}`);

// Baseline: Fastify + LevelDB returning the same bytes, same request shape, no checks.
const db = new Level<string, string>(path.join(dir, 'baseline'), { valueEncoding: 'utf8' });
await db.open();
await db.batch(Array.from({ length: RECORDS }, (_, i) => ({ type: 'put' as const, key: `bench-${i}`, value: sampleBytes })));
const plain = Fastify({ logger: false });
plain.post<{ Body: { request: { statement: { recordIds: string[] } } } }>('/v1/exchange/fetch', async (request, reply) => {
  const id = request.body.request.statement.recordIds[0] ?? '';
  return reply.type('application/json').send(await db.get(id));
});
const plainPort = await freePort();
await plain.listen({ host: '127.0.0.1', port: plainPort });
const plainUrl = `http://127.0.0.1:${plainPort}/v1/exchange/fetch`;
const baseline = await drive('baseline', () => ({ ...signedFetch(), url: plainUrl }));

await plain.close();
await db.close();
await gov.close();
await bank.close();
await sim.stop();
await rm(dir, { recursive: true, force: true });

const result = {
  bench: 'fetch',
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
  setupSeconds: Number(setupSeconds.toFixed(1)),
  answerBytes: sampleBytes.length,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((l) => Number(l.toFixed(2))) },
};
console.log(`authorized fetches: ${result.authorizedPerSecond}/s (p50 ${result.authorizedP50Ms} ms, p99 ${result.authorizedP99Ms} ms); no checks: ${result.baselinePerSecond}/s; ratio ${result.ratio}`);
console.log(JSON.stringify(result));
