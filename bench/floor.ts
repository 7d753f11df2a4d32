/**
 * The floors under the two throughput targets that share this machine's 2 cores with their own
 * clients: node-sim's 1,000 committed access transactions/s (issue 3) and the gateway's 1,000
 * authorized fetches/s (issue 4). It measures, on this machine, the CPU cost of each signature
 * operation the protocols require, counts how many of each one transaction or one fetch needs
 * (counted from the code, listed below), and reports the highest rate those operations alone
 * allow on all cores — before any gRPC, protobuf, fabric-shim, HTTP, JSON or LevelDB work. For
 * the fetch it also measures the CPU one no-check request costs (Fastify + LevelDB serving the
 * same bytes, as the baseline of bench:fetch) and adds it.
 *
 * The last line of output is one JSON object.
 *
 *   npm run bench:floor [-- --ms 1000]
 */
import { generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { Level } from 'level';

const { values } = parseArgs({ options: { ms: { type: 'string', default: '1000' }, clients: { type: 'string', default: '50' } } });
const MS = Number(values.ms);
const CLIENTS = Number(values.clients);
const CORES = os.cpus().length;

/** CPU milliseconds of one call of `fn`, run for about MS of wall time. */
function costMs(fn: () => void): number {
  for (let i = 0; i < 50; i++) fn();
  let n = 0;
  const cpu0 = process.cpuUsage();
  const end = performance.now() + MS;
  while (performance.now() < end) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  const cpu = process.cpuUsage(cpu0);
  return (cpu.user + cpu.system) / 1000 / n;
}

// Message sizes as on the wire: a Fabric proposal or transaction of a credex access is 3–5 KB
// (creator certificate, arguments); a credex statement or an HTTP signature base is < 1 KB.
const fabricMessage = randomBytes(4096);
const statement = randomBytes(600);
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const p256Sig = sign('sha256', fabricMessage, { key: p256.privateKey, dsaEncoding: 'der' });
const edSig = sign(null, statement, ed.privateKey);
const verifyWith = (key: KeyObject, alg: string | null, msg: Buffer, sig: Buffer) => (): void => {
  if (!verify(alg, msg, alg === null ? key : { key, dsaEncoding: 'der' }, sig)) throw new Error('signature did not verify');
};

const cost = {
  p256SignMs: costMs(() => sign('sha256', fabricMessage, { key: p256.privateKey, dsaEncoding: 'der' })),
  p256VerifyMs: costMs(verifyWith(p256.publicKey, 'sha256', fabricMessage, p256Sig)),
  ed25519SignMs: costMs(() => sign(null, statement, ed.privateKey)),
  ed25519VerifyMs: costMs(verifyWith(ed.publicKey, null, statement, edSig)),
};

type Counts = Partial<Record<'p256Sign' | 'p256Verify' | 'ed25519Sign' | 'ed25519Verify', number>>;
const cpuOf = (c: Counts): number =>
  (c.p256Sign ?? 0) * cost.p256SignMs + (c.p256Verify ?? 0) * cost.p256VerifyMs + (c.ed25519Sign ?? 0) * cost.ed25519SignMs + (c.ed25519Verify ?? 0) * cost.ed25519VerifyMs;

/**
 * One access:RecordAccess transaction (one access), MAJORITY of 4 orgs = 3 endorsements, through
 * the real fabric-gateway client:
 * - client (fabric-gateway): signs the proposal, the transaction envelope and the commit-status
 *   request (3 P-256 signs);
 * - node-sim: verifies the proposal once for all endorsing peers (channel.verifyShared), signs 3
 *   endorsements (its own endorsement signatures are not verified again at commit), the orderer
 *   verifies the envelope, the validator verifies the envelope's creator signature, the gateway
 *   service verifies the commit-status request (4 P-256 verifies, 3 P-256 signs);
 * - chaincode: each of the 3 endorsing peers' chaincode verifies the grantee's ed25519 signature
 *   on the access request (access.ts, RegistrationSession.check): 3 ed25519 verifies.
 * A Fabric peer network does more (every peer verifies the proposal and validates every block).
 */
const simTx: Counts = { p256Sign: 6, p256Verify: 4, ed25519Verify: 3 };

/**
 * One authorized fetch of one record (bench:fetch), its registration grouped with `g` others:
 * - the bank (client): signs the access request and the HTTP message (2 ed25519 signs);
 * - the publisher's gateway: verifies the HTTP message signature (1 ed25519 verify; the access
 *   request's own signature is left to the chaincode, exchange/serve.ts);
 * - the ledger: 3 ed25519 verifies of the access request in the chaincode per access, plus one
 *   RecordAccess transaction's P-256 work (as simTx) shared by the `g` accesses of the group.
 */
const fetchPerAccess: Counts = { ed25519Sign: 2, ed25519Verify: 1 + 3 };
const fetchCrypto = (groupSize: number): number => cpuOf(fetchPerAccess) + cpuOf({ p256Sign: 6, p256Verify: 4 }) / groupSize;

/** CPU per request of the no-check baseline: Fastify + LevelDB serving the same-sized bytes to CLIENTS clients. */
async function baselineCpuMs(): Promise<{ cpuMs: number; perSecond: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'credex-bench-floor-'));
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.open();
  const answer = JSON.stringify({ box: randomBytes(2400).toString('base64') });
  await db.put('record', answer);
  const app = Fastify({ logger: false });
  app.post('/v1/exchange/fetch', async (_request, reply) => reply.type('application/json').send(await db.get('record')));
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const body = JSON.stringify({ consentId: 'c'.repeat(64), request: { statement: { recordIds: ['r'] }, signature: 's'.repeat(86) } });
  let n = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = Date.now() + MS * 3;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (Date.now() < end) {
      const res = await fetch(`${address}/v1/exchange/fetch`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      await res.text();
      n++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await app.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
  return { cpuMs: (cpu.user + cpu.system) / 1000 / n, perSecond: n / seconds };
}

const baseline = await baselineCpuMs();
const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
const maxRate = (cpuMs: number): number => Math.round((CORES * 1000) / cpuMs);

const simCpu = cpuOf(simTx);
const fetchRows = [1, 10, 50].map((g) => {
  const crypto = fetchCrypto(g);
  return { groupSize: g, cryptoCpuMs: round(crypto), maxPerSecondCryptoOnly: maxRate(crypto), maxPerSecondWithBaseline: maxRate(crypto + baseline.cpuMs) };
});

console.log(`per operation (ms CPU): P-256 sign ${round(cost.p256SignMs)}, verify ${round(cost.p256VerifyMs)}; ed25519 sign ${round(cost.ed25519SignMs)}, verify ${round(cost.ed25519VerifyMs)}`);
console.log(`node-sim access tx: ${round(simCpu)} ms of signature work → at most ${maxRate(simCpu)} tx/s on ${CORES} cores before any other work (target 1,000)`);
console.log(`no-check fetch baseline: ${round(baseline.cpuMs)} ms CPU per request (${Math.round(baseline.perSecond)}/s with ${CLIENTS} clients, client and server in this process)`);
for (const row of fetchRows) {
  console.log(`authorized fetch, group of ${row.groupSize}: ${row.cryptoCpuMs} ms of signature work → at most ${row.maxPerSecondCryptoOnly}/s; with the baseline's own HTTP+LevelDB cost at most ${row.maxPerSecondWithBaseline}/s (target 1,000)`);
}
console.log(JSON.stringify({
  bench: 'floor',
  cores: CORES,
  opCpuMs: Object.fromEntries(Object.entries(cost).map(([k, v]) => [k, round(v, 4)])),
  simAccessTx: { counts: simTx, cpuMs: round(simCpu), maxTxPerSecond: maxRate(simCpu), target: 1000 },
  fetch: { perAccess: fetchPerAccess, baselineCpuMsPerRequest: round(baseline.cpuMs), baselinePerSecond: Math.round(baseline.perSecond), byGroupSize: fetchRows, target: 1000 },
  machine: { model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map((l) => round(l, 2)) },
}));
