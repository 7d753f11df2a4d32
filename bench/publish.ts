/**
 * Publish throughput of a gateway over node-sim: records validated, sealed, stored, anchored
 * and acknowledged per second, through real HTTP (POST /v1/records), for batches of 1,000 and
 * 10,000 records. Progress lines (Accept: application/x-ndjson) time each phase.
 *
 * Sequential: one client, one publish at a time, so each batch waits for its own ledger commit.
 * Concurrent (`--concurrency N`, default 4; 0 = skip): N clients publishing at once, for
 * `--runs` rounds each; records anchored per second over the whole round. Both are in the
 * last line of output, one JSON object.
 *
 * `--sim inprocess` (default) runs node-sim in this process, beside the gateway and the client;
 * `--sim child` starts it as its own process (`node-sim/src/main.ts --json`), as a deployment
 * runs `npm run sim`. CPU time of this process (gateway and client, and node-sim when in
 * process) is reported per record: on a shared machine it varies less than wall time does.
 *
 *   npm run bench:publish [-- --sizes 1000,10000 --runs 3 --concurrency 4 --sim child]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { newBoxKeyPair, newSigningKeyPair } from '@credex/core';
import { buildApp, parseConfig } from '@credex/gateway';
import { startSimNetwork } from '@credex/node-sim';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import { startSimChild } from './support/sim-child';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    sim: { type: 'string', default: 'inprocess' },
  },
});
if (values.sim !== 'inprocess' && values.sim !== 'child') throw new Error(`--sim is inprocess or child, not '${values.sim}'`);
const SIM = values.sim;
const SIZES = values.sizes.split(',').map(Number);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const TOKEN = 'bench-staff-token-0123456789abcdef';
const subject = fixtureEnterprises.subject.uscc;

interface Phases { validated: number; sealed: number; stored: number; anchored: number; total: number }

interface Sim { profile: string; stop(): Promise<void> }

/** node-sim in this process, or in a child process of its own (as `npm run sim -- --json`). */
async function startSim(dataDir: string): Promise<Sim> {
  if (SIM === 'inprocess') {
    const sim = await startSimNetwork({ dataDir });
    return { profile: sim.connectionProfilePath('GovMSP'), stop: () => sim.stop() };
  }
  const sim = await startSimChild(dataDir);
  return { profile: sim.profiles.get('GovMSP') ?? '', stop: () => sim.stop() };
}

/** CPU time (user + system) of this process so far, ms. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function publish(url: string, entryId: string, size: number, prefix: string): Promise<Phases> {
  const records = Array.from({ length: size }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `${prefix}-${i}` }));
  const body = JSON.stringify({ catalogueEntryId: entryId, records });
  const start = performance.now();
  const res = await fetch(`${url}/v1/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
    body,
  });
  if (res.status !== 200 || res.body === null) throw new Error(`publish failed: ${res.status} ${(await res.text()).slice(0, 200)}`);
  // Each phase's time is when its progress line arrived (the last 'anchored' line for anchoring).
  const phases: Phases = { validated: 0, sealed: 0, stored: 0, anchored: 0, total: 0 };
  const seen = { result: false };
  const onLine = (line: string): void => {
    const parsed = JSON.parse(line) as { type: string; phase?: keyof Phases; code?: string; message?: string };
    if (parsed.type === 'error') throw new Error(`${parsed.code ?? ''}: ${parsed.message ?? ''}`);
    if (parsed.type === 'result') seen.result = true;
    if (parsed.phase !== undefined) phases[parsed.phase] = performance.now() - start;
  };
  // Chunks of the current line are kept apart and joined once it ends: the result line of 10,000
  // records is ~12 MB, and searching a growing string for '\n' at every chunk would be quadratic.
  let pending: string[] = [];
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    let text = decoder.decode(chunk, { stream: true });
    let nl;
    while ((nl = text.indexOf('\n')) >= 0) {
      pending.push(text.slice(0, nl));
      onLine(pending.join(''));
      pending = [];
      text = text.slice(nl + 1);
    }
    if (text.length > 0) pending.push(text);
  }
  phases.total = performance.now() - start;
  if (!seen.result) throw new Error('publish ended without a result');
  return phases;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'credex-bench-publish-'));
  const sim = await startSim(path.join(dir, 'sim'));
  const config = parseConfig({
    mspId: 'GovMSP', host: '127.0.0.1', port: 0, dataDir: path.join(dir, 'gw'), staffTokens: [TOKEN], logLevel: 'warn',
    publicUrl: 'http://127.0.0.1:1', keys: { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() },
    ledger: { connectionProfile: sim.profile },
  });
  const app = await buildApp({ config, logger: false, maintenanceMs: 0 });
  // A served gateway has its seal workers running; they start at the first large publish, so
  // start them here rather than inside a timed run.
  await app.publisher.startSealWorkers();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const created = await fetch(`${address}/v1/catalogue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ subject, recordType: 'gov.admin-penalty', title: '行政处罚信息', pricePerAccess: 100 }),
    });
    const { entry } = (await created.json()) as { entry: { entryId: string } };
    await publish(address, entry.entryId, 200, 'warmup');

    const results: { batchSize: number; runs: number; recordsPerSecond: number; bestRecordsPerSecond: number; meanMs: number; cpuUsPerRecord: number }[] = [];
    const concurrent: { batchSize: number; concurrency: number; rounds: number; recordsPerSecond: number; bestRecordsPerSecond: number; meanPublishMs: number; cpuUsPerRecord: number }[] = [];
    for (const size of SIZES) {
      const times: number[] = [];
      const cpu: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const cpuBefore = cpuMs();
        const phases = await publish(address, entry.entryId, size, `b${size}-r${run}`);
        cpu.push(cpuMs() - cpuBefore);
        times.push(phases.total);
        const at = (ms: number): string => `${Math.round(ms)}`;
        console.log(`batch ${size}, run ${run + 1}: ${at(phases.total)} ms, ${Math.round((size / phases.total) * 1000)} records/s `
          + `(validated at ${at(phases.validated)}, sealed ${at(phases.sealed)}, stored ${at(phases.stored)}, anchored ${at(phases.anchored)} ms; `
          + `CPU of this process ${at(cpu.at(-1) ?? 0)} ms)`);
      }
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      const row = {
        batchSize: size, runs: RUNS,
        recordsPerSecond: Math.round((size / mean) * 1000),
        bestRecordsPerSecond: Math.round((size / Math.min(...times)) * 1000),
        meanMs: Math.round(mean),
        cpuUsPerRecord: Math.round((Math.min(...cpu) * 1000) / size),
      };
      results.push(row);
      console.log(`batch ${size}: ${row.recordsPerSecond} records anchored/s (mean of ${RUNS}), best ${row.bestRecordsPerSecond}/s`);
    }
    if (CONCURRENCY > 0) {
      for (const size of SIZES) {
        const rates: number[] = [];
        const each: number[] = [];
        const cpu: number[] = [];
        for (let round = 0; round < RUNS; round++) {
          const cpuBefore = cpuMs();
          const start = performance.now();
          const all = await Promise.all(Array.from({ length: CONCURRENCY }, (_, c) => publish(address, entry.entryId, size, `c${size}-r${round}-c${c}`)));
          const wall = performance.now() - start;
          cpu.push(cpuMs() - cpuBefore);
          rates.push((size * CONCURRENCY / wall) * 1000);
          each.push(...all.map((p) => p.total));
          console.log(`batch ${size} × ${CONCURRENCY} concurrent, round ${round + 1}: ${Math.round(wall)} ms, ${Math.round(rates.at(-1) ?? 0)} records/s`);
        }
        const row = {
          batchSize: size, concurrency: CONCURRENCY, rounds: RUNS,
          recordsPerSecond: Math.round(rates.reduce((a, b) => a + b, 0) / rates.length),
          bestRecordsPerSecond: Math.round(Math.max(...rates)),
          meanPublishMs: Math.round(each.reduce((a, b) => a + b, 0) / each.length),
          cpuUsPerRecord: Math.round((Math.min(...cpu) * 1000) / (size * CONCURRENCY)),
        };
        concurrent.push(row);
        console.log(`batch ${size} × ${CONCURRENCY} concurrent: ${row.recordsPerSecond} records anchored/s (mean of ${RUNS} rounds), best ${row.bestRecordsPerSecond}/s`);
      }
    }
    console.log(JSON.stringify({
      bench: 'publish',
      what: 'POST /v1/records over HTTP: validate, seal (salted field digests), Merkle batch, LevelDB synced write, AnchorBatch committed on node-sim (MAJORITY of 4), acknowledged',
      sim: SIM,
      cpuUsPerRecord: `least CPU time of this process (gateway, client${SIM === 'inprocess' ? ', node-sim' : ''}) per record of a run, µs`,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10) },
      target: 20_000,
      results,
      concurrent,
    }));
  } finally {
    await app.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
