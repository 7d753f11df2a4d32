/**
 * Sealing cost per record, as a publisher's gateway pays it before anchoring: `sealRecord`
 * (fresh per-field salts, field digests, leaf hash) on the schemas' fixture records of every
 * type, and `buildMerkleTree` plus every record's proof for batches of 1,000. In the same run:
 * raw SHA-256 calls per second on a field digest's input, and the SHA-256 calls a record needs
 * (one per field and one for the leaf), so the hashing floor is known. The machine is shared:
 * rounds are interleaved and the best of each kept. The last line of output is one JSON object.
 *
 *   npm run bench:seal [-- --seconds 10]
 */
import * as crypto from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { buildMerkleTree, sealRecord, type RecordHeader } from '@credex/core';
import { fixtureEnterprises, fixtureRecord, recordTypes } from '@credex/schemas';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const SECONDS = Number(values.seconds);
const ROUNDS = 5;
const BATCH = 1000;
const subject = fixtureEnterprises.subject.uscc;

// As the gateway seals them: parsed from a request body, so nothing is shared between records.
const records = Array.from({ length: BATCH }, (_, i) => {
  const recordType = recordTypes[i % recordTypes.length] ?? 'gov.tax-grade';
  const r = fixtureRecord(recordType, subject);
  const header: RecordHeader = { recordId: `rec-${i}`, recordType, subject, publisher: 'GovMSP', catalogueEntryId: `cat-${recordType}`, issuedAt: r.issuedAt };
  return JSON.parse(JSON.stringify({ header, fields: r.fields })) as { header: RecordHeader; fields: Record<string, unknown> };
});
const hashesPerRecord = records.reduce((n, r) => n + Object.keys(r.fields).length + 1, 0) / records.length;
const leaves = records.map((r) => sealRecord(r.header, r.fields).leafHash);

function rate(run: () => number, seconds: number): number {
  let done = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end) done += run();
  return done / (Number(process.hrtime.bigint() - start) / 1e9);
}

let sink = 0;
function sealPass(): number {
  for (const r of records) sink += sealRecord(r.header, r.fields).leafHash.length;
  return records.length;
}
function treePass(): number {
  const tree = buildMerkleTree(leaves);
  for (let i = 0; i < tree.size; i++) sink += tree.proof(i).length;
  return tree.size;
}

type OneShot = (algorithm: string, data: string, outputEncoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;
const sha = oneShot === undefined ? (s: string): string => crypto.createHash('sha256').update(s).digest('hex') : (s: string): string => oneShot('sha256', s, 'hex');
const input = JSON.stringify({ n: 'decisionNumber', s: 'AAAAAAAAAAAAAAAAAAAAAA', v: '西环罚〔2025〕47号 超标排放大气污染物' });
function shaPass(): number {
  for (let i = 0; i < 10_000; i++) sink += sha(input).length;
  return 10_000;
}

// Warm up the JIT on every path.
rate(sealPass, 0.5);
rate(treePass, 0.2);

let sealRate = 0;
let treeRate = 0;
let sha256Rate = 0;
let bestRatio = 0;
for (let round = 0; round < ROUNDS; round++) {
  const s = rate(sealPass, SECONDS / ROUNDS / 2);
  const h = rate(shaPass, SECONDS / ROUNDS / 4);
  sealRate = Math.max(sealRate, s);
  sha256Rate = Math.max(sha256Rate, h);
  bestRatio = Math.max(bestRatio, s / h);
  treeRate = Math.max(treeRate, rate(treePass, SECONDS / ROUNDS / 4));
}

const result = {
  bench: 'seal',
  fieldsPerRecord: Number((hashesPerRecord - 1).toFixed(2)),
  sealsPerSecond: Math.round(sealRate),
  microsecondsPerSeal: Number((1e6 / sealRate).toFixed(2)),
  treeAndProofsPerRecordMicroseconds: Number((1e6 / treeRate).toFixed(3)),
  sha256PerSecond: Math.round(sha256Rate),
  hashesPerRecord: Number(hashesPerRecord.toFixed(2)),
  hashingFloorMicroseconds: Number((1e6 * hashesPerRecord / sha256Rate).toFixed(2)),
  ratioToSha256: Number(bestRatio.toFixed(4)),
  target: { microsecondsPerSeal: 15 },
  rounds: ROUNDS,
  loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version },
};
console.log(`sealed ${result.sealsPerSecond} records/s (${result.microsecondsPerSeal} µs each, ${result.fieldsPerRecord} fields); Merkle tree + proofs ${result.treeAndProofsPerRecordMicroseconds} µs per record`);
console.log(`raw SHA-256: ${result.sha256PerSecond}/s; ${result.hashesPerRecord} hashes per record, a floor of ${result.hashingFloorMicroseconds} µs`);
console.log(JSON.stringify(result));
if (sink === 0) process.exitCode = 1;
