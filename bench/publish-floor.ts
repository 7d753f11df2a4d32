/**
 * The floor under issue 4's publish target (≥ 20,000 records anchored/s on this machine, for
 * batches of 1,000 and 10,000): what each step a publish must do costs at the least, each
 * measured alone with the cheapest honest implementation of it, on the records bench:publish
 * posts (`fixtureRecord('gov.admin-penalty', subject)` with distinct record ids):
 *
 *  receive       the body over real HTTP on 127.0.0.1 — a bare node:http server in this process,
 *                the client in a child process of its own — and JSON.parse of it;
 *  validate      `validate('credit-record', r)` and the USCC check;
 *  content hash  `sha256Hex(canonicalize({catalogueEntryId, record}))`, for idempotency;
 *  lookup        one getMany of the batch's record ids in a store holding an earlier batch
 *                (idempotency needs it though it is not in the issue's list; none is there);
 *  seal          `sealRecord` (fresh random salts, field digests, leaf); beside it its floor:
 *                raw SHA-256 calls (one per field and one for the leaf, as bench:seal) plus
 *                the salts' bytes from one randomBytes call per batch;
 *  Merkle        `buildMerkleTree` and every record's proof;
 *  store         one synced LevelDB write (`level`'s Level, which is classic-level on Node; no
 *                gateway code) of the batch: every sealed record as compact bytes (index,
 *                content hash, raw salts and digests, then JSON of batch id, issuedAt and
 *                fields; what is the same for the whole batch — type, subject, publisher,
 *                entry — is kept once in the batch's entry) or as plain JSON (as the gateway
 *                stored it before its record codec, store/record-codec.ts, which keeps the
 *                header in every value), plus the batch's leaves, entry, outbox entry and subject index;
 *                then, unsynced, the batch marked anchored. The CPU includes closing the
 *                database, which waits for the memtable flush the write set off. Afterwards
 *                the first and last records are read back and resealed from the stored
 *                salts, to show the compact form lost nothing;
 *  anchor        anchors:AnchorBatch (root and size only) through the fabric-gateway client
 *                (node:crypto signer, as the gateway's) in this process, node-sim in a child
 *                process (`npm run sim -- --json`, default batch timeout), one at a time and
 *                `--ledger-concurrency` (4) at a time: commit latency, and CPU per transaction in this process, node-sim
 *                and its chaincodes (/proc) — a cost per batch, not per record; the sum takes
 *                the cheaper of the two;
 *  respond       each record's id, leaf hash, index and proof (hex strings) with the batch id,
 *                root and tx id once (compact), or every field repeated per record (the
 *                gateway's response shape), serialized and sent over HTTP, parsed by the client.
 *
 * Every step runs on every batch of every round; the first round is a warm-up, and the best
 * (least CPU, and separately least wall time) of the other rounds is kept. CPU is
 * process.cpuUsage (all threads of the process, LevelDB's and libuv's included) except for the
 * node-sim processes (/proc). The sum per record — the gateway's steps with the compact store
 * and answer, the client's two, AnchorBatch amortized over the batch — gives the ceiling on 1
 * core and on 2 (sum / 2: as if perfectly parallel with nothing else running); it is printed
 * also with plain JSON values (the gateway's before its record codec) and the gateway's answer
 * shape, and with sealing at its floor. One at a time, a batch also waits for its commit
 * (overlapped with the store write, as the gateway does). The last line of output is one JSON
 * object.
 *
 *   npm run bench:publish-floor [-- --sizes 1000,10000 --rounds 5 --txs 40 --ledger-concurrency 4]
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { connect } from '@hyperledger/fabric-gateway';
import { Level } from 'level';
import { assertUscc, buildMerkleTree, canonicalize, newBoxKeyPair, newSigningKeyPair, sealRecord, sha256Hex, type RecordHeader, type SealedRecord } from '@credex/core';
import { fixtureEnterprise, fixtureEnterprises, fixtureEntryDraft, fixtureOrganization, fixtureRecord, validate, type CreditRecord } from '@credex/schemas';
import { fabricSigner } from '../gateway/src/ledger/signer';
import { nextMessage } from './support/child-messages';
import { cpuOfTree } from './support/proc-cpu';
import { startSimChild } from './support/sim-child';
import { percentile } from './support/sim-clients';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000' },
    /** Measured rounds per size (plus one warm-up); a batch of 1,000 gets 5× as many. */
    rounds: { type: 'string', default: '5' },
    /** AnchorBatch transactions measured one at a time, and again `ledger-concurrency` at once. */
    txs: { type: 'string', default: '40' },
    'ledger-concurrency': { type: 'string', default: '4' },
    /** Internal: run as the HTTP client's process on this port. */
    port: { type: 'string', default: '' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const ROUNDS = Number(values.rounds);
const TXS = Number(values.txs);
const LEDGER_CONCURRENCY = Number(values['ledger-concurrency']);
const CORES = os.cpus().length;
const TARGET = 20_000;
const subject = fixtureEnterprises.subject.uscc;
const entry = fixtureEntryDraft({ publisher: 'GovMSP', recordType: 'gov.admin-penalty' });
const PUBLISHER = 'GovMSP';

/** Messages between this process and the HTTP client's process. */
type ToClient = { type: 'post'; size: number; round: number } | { type: 'get'; size: number };
type FromClient =
  | { type: 'posted'; stringifyCpuMs: number; stringifyWallMs: number; sendCpuMs: number; sendWallMs: number; bytes: number }
  | { type: 'got'; cpuMs: number; wallMs: number; bytes: number };

const cpuMsSince = (c0: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/** The records bench:publish posts, with ids distinct per round. */
function fixtureBatch(size: number, round: number): CreditRecord[] {
  return Array.from({ length: size }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `r${round}-${i}` }));
}

// ---------------------------------------------------------------------------------------------
// The HTTP client's process: posts bodies and fetches answers when told, timing its own CPU.

function httpExchange(agent: http.Agent, port: number, method: 'POST' | 'GET', urlPath: string, body?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': body.length };
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode === 200) resolve(Buffer.concat(chunks));
        else reject(new Error(`${method} ${urlPath}: HTTP ${String(res.statusCode)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function clientMain(): void {
  const port = Number(values.port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (m: FromClient): void => {
    process.send?.(m);
  };
  const handle = async (m: ToClient): Promise<void> => {
    if (m.type === 'post') {
      const records = fixtureBatch(m.size, m.round);
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const body = Buffer.from(JSON.stringify({ catalogueEntryId: entry.entryId, records }));
      const stringifyCpuMs = cpuMsSince(c0);
      const c1 = process.cpuUsage();
      const t1 = performance.now();
      await httpExchange(agent, port, 'POST', '/v1/records', body);
      send({ type: 'posted', stringifyCpuMs, stringifyWallMs: t1 - t0, sendCpuMs: cpuMsSince(c1), sendWallMs: performance.now() - t1, bytes: body.length });
    } else {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const bytes = await httpExchange(agent, port, 'GET', '/v1/records/answer');
      const answer = JSON.parse(bytes.toString('utf8')) as { records?: unknown[] };
      const cpuMs = cpuMsSince(c0);
      const wallMs = performance.now() - t0;
      if (answer.records?.length !== m.size) throw new Error(`the answer holds ${String(answer.records?.length)} records, not ${m.size}`);
      send({ type: 'got', cpuMs, wallMs, bytes: bytes.length });
    }
  };
  process.on('message', (m: ToClient) => {
    handle(m).catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// This process: the server side of every step.

/** One batch's cost: CPU ms of the process doing the step, and wall ms. */
interface Sample { cpuMs: number; wallMs: number }

const STEPS = [
  'receive', 'validate', 'contentHash', 'lookup', 'seal', 'sealFloor', 'merkle', 'storeCompact', 'storeJson',
  'respondCompact', 'respondApi', 'clientStringify', 'clientSend', 'clientParseCompact', 'clientParseApi',
] as const;
type Step = (typeof STEPS)[number];

const LABELS: Record<Step, string> = {
  receive: 'receive: HTTP body in + JSON.parse (server)',
  validate: "validate('credit-record') + USCC check",
  contentHash: 'content hash: sha256Hex(canonicalize(record))',
  lookup: 'idempotency lookup: getMany of the ids',
  seal: 'sealRecord (fresh salts, digests, leaf)',
  sealFloor: `  its floor: raw SHA-256 ×${Object.keys(fixtureRecord('gov.admin-penalty', subject).fields).length + 1} + randomBytes salts`,
  merkle: 'Merkle tree + every proof',
  storeCompact: 'store, synced, compact bytes (+ mark anchored)',
  storeJson: 'store, synced, plain JSON (+ mark anchored)',
  respondCompact: 'respond, compact: serialize + send (server)',
  respondApi: "respond, gateway's shape: serialize + send",
  clientStringify: 'client: JSON.stringify of the body',
  clientSend: 'client: send the body',
  clientParseCompact: 'client: receive + parse the compact answer',
  clientParseApi: "client: receive + parse the gateway's shape",
};

/** CPU and wall time of `fn` in this process. */
function timed<T>(fn: () => T): { result: T; sample: Sample } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  return { result, sample: { wallMs: performance.now() - t0, cpuMs: cpuMsSince(c0) } };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ result: T; sample: Sample }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  return { result, sample: { wallMs: performance.now() - t0, cpuMs: cpuMsSince(c0) } };
}

/** The server: keeps the last body it parsed; answers with whatever `answer` serializes. */
interface BareServer {
  port: number;
  lastBody: () => unknown;
  setAnswer: (serialize: () => string) => void;
  close: () => Promise<void>;
}

async function startServer(): Promise<BareServer> {
  let body: unknown;
  let answer = (): string => '{}';
  const server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }).end('{}');
      });
    } else {
      const bytes = Buffer.from(answer());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length }).end(bytes);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no port');
  return {
    port: address.port,
    lastBody: () => body,
    setAnswer: (serialize) => {
      answer = serialize;
    },
    close: () => new Promise((resolve) => {
      server.close(() => {
        resolve();
      });
    }),
  };
}

/** Sends `m` to the client and waits for its answer, timing this process's CPU meanwhile. */
async function roundTrip(client: ChildProcess, m: ToClient): Promise<{ reply: FromClient; sample: Sample }> {
  const reply = nextMessage<FromClient>(client);
  const { result, sample } = await timedAsync(() => {
    client.send(m);
    return reply;
  });
  return { reply: result, sample };
}

function headerOf(r: CreditRecord): RecordHeader {
  return { recordId: r.recordId, recordType: r.recordType, subject: r.subject, publisher: PUBLISHER, catalogueEntryId: entry.entryId, issuedAt: r.issuedAt };
}

/**
 * A sealed record as compact bytes: index (u32), number of fields (u16), content hash, each
 * field's raw salt (16 bytes) and digest (32), in the fields' order, then JSON of batch id,
 * issuedAt and fields.
 */
function compactValue(s: SealedRecord, index: number, contentHash: string, batchId: string): Buffer {
  const names = Object.keys(s.fields);
  const json = JSON.stringify([batchId, s.header.issuedAt, s.fields]);
  const fixed = 38 + names.length * 48;
  const value = Buffer.allocUnsafe(fixed + Buffer.byteLength(json));
  value.writeUInt32BE(index, 0);
  value.writeUInt16BE(names.length, 4);
  value.write(contentHash, 6, 32, 'hex');
  let at = 38;
  for (const name of names) {
    value.write(s.salts[name] ?? '', at, 16, 'base64url');
    value.write(s.fieldDigests[name] ?? '', at + 16, 32, 'hex');
    at += 48;
  }
  value.write(json, at, 'utf8');
  return value;
}

/** The record a compact value holds, resealed with its stored salts: its leaf hash must be the one stored in the batch's leaves. */
function leafOfCompact(recordId: string, value: Buffer): string {
  const fieldCount = value.readUInt16BE(4);
  const [, issuedAt, fields] = JSON.parse(value.toString('utf8', 38 + fieldCount * 48)) as [string, string, Record<string, unknown>];
  const salts: Record<string, string> = {};
  Object.keys(fields).forEach((name, i) => {
    salts[name] = value.toString('base64url', 38 + i * 48, 54 + i * 48);
  });
  return sealRecord({ recordId, recordType: entry.recordType, subject, publisher: PUBLISHER, catalogueEntryId: entry.entryId, issuedAt }, fields, salts).leafHash;
}

type Db = Level<string, string | Buffer>;
type Encode = (s: SealedRecord, index: number, contentHash: string, batchId: string) => string | Buffer;
const jsonValue: Encode = (s, index, contentHash, batchId) => JSON.stringify({ sealed: s, batchId, index, contentHash });

/**
 * One synced write of a batch into a fresh database, then the batch marked anchored (unsynced:
 * a crash before it is flushed is recovered by replaying the outbox, which finds the batch on
 * chain). The sample's wall time is the synced write alone; its CPU includes the close.
 */
async function storeBatch(dir: string, sealed: SealedRecord[], hashes: string[], leaves: string[], root: string, encode: Encode): Promise<{ sample: Sample; valueBytes: number }> {
  const db: Db = new Level<string, string | Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  const batchId = `${PUBLISHER}.${root.slice(0, 16)}`;
  const createdAt = new Date().toISOString();
  let wallMs = 0;
  let written: { value: string | Buffer }[] = [];
  const { sample } = await timedAsync(async () => {
    const t0 = performance.now();
    const ops: { type: 'put'; key: string; value: string | Buffer }[] = new Array(sealed.length);
    const ids: string[] = new Array(sealed.length);
    const tree = Buffer.allocUnsafe(leaves.length * 32);
    sealed.forEach((s, i) => {
      ids[i] = s.header.recordId;
      ops[i] = { type: 'put', key: `r\0${s.header.recordId}`, value: encode(s, i, hashes[i] ?? '', batchId) };
      tree.write(leaves[i] ?? '', i * 32, 32, 'hex');
    });
    const batch = { batchId, catalogueEntryId: entry.entryId, recordType: entry.recordType, subject, publisher: PUBLISHER, root, size: sealed.length, createdAt, anchored: false };
    ops.push(
      { type: 'put', key: `b\0${batchId}`, value: JSON.stringify(batch) },
      { type: 'put', key: `t\0${batchId}`, value: tree },
      { type: 'put', key: `o\0${createdAt}\0${batchId}`, value: JSON.stringify({ batchId, catalogueEntryId: entry.entryId, root, size: sealed.length }) },
      { type: 'put', key: `s\0${subject}\0${batchId}`, value: ids.join('\n') },
    );
    await db.batch(ops, { sync: true });
    wallMs = performance.now() - t0;
    written = ops;
    await db.batch([
      { type: 'put', key: `b\0${batchId}`, value: JSON.stringify({ ...batch, anchored: true, txId: '0'.repeat(64), blockNumber: 1 }) },
      { type: 'del', key: `o\0${createdAt}\0${batchId}` },
    ]);
    await db.close();
  });
  const valueBytes = written.slice(0, sealed.length).reduce((n, op) => n + Buffer.byteLength(op.value), 0);
  return { sample: { cpuMs: sample.cpuMs, wallMs }, valueBytes };
}

/** getMany of `ids` (absent) in the database at `dir`. */
async function lookup(dir: string, ids: string[]): Promise<Sample> {
  const db: Db = new Level<string, string | Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  const { result, sample } = await timedAsync(() => db.getMany(ids.map((id) => `r\0${id}`)));
  await db.close();
  if ((result as unknown[]).some((v) => v !== undefined)) throw new Error('a new record id was found in the store');
  return sample;
}

/**
 * Reads back the first and the last record of a compact store and checks that each, resealed
 * from what was stored, hashes to its leaf in the stored leaves: the compact form lost nothing.
 */
async function checkCompactStore(dir: string, root: string, ids: string[]): Promise<void> {
  const db: Db = new Level<string, string | Buffer>(dir, { valueEncoding: 'buffer' });
  await db.open();
  try {
    const leaves = await db.get(`t\0${PUBLISHER}.${root.slice(0, 16)}`);
    for (const i of [0, ids.length - 1]) {
      const value = await db.get(`r\0${ids[i] ?? ''}`);
      if (!Buffer.isBuffer(value) || !Buffer.isBuffer(leaves)) throw new Error(`record ${i} or the batch's leaves are missing from the store`);
      if (leafOfCompact(ids[i] ?? '', value) !== leaves.toString('hex', i * 32, i * 32 + 32) || value.readUInt32BE(0) !== i) {
        throw new Error(`record ${i} read back from the compact store does not reseal to its leaf`);
      }
    }
  } finally {
    await db.close();
  }
}

type OneShot = (algorithm: string, data: string, outputEncoding: 'hex') => string;
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;
const sha = oneShot === undefined ? (s: string): string => crypto.createHash('sha256').update(s).digest('hex') : (s: string): string => oneShot('sha256', s, 'hex');
const digestInput = JSON.stringify({ n: 'decisionNumber', s: 'AAAAAAAAAAAAAAAAAAAAAA', v: '西环罚〔2025〕47号 超标排放大气污染物' });

/** The hashing and salt floor of sealing `records`: one SHA-256 per field and per leaf, salts from one randomBytes call. */
function sealFloor(records: CreditRecord[]): number {
  let fields = 0;
  for (const r of records) fields += Object.keys(r.fields).length;
  const salts = crypto.randomBytes(16 * fields).toString('base64url');
  let sink = salts.length;
  for (let i = fields + records.length; i > 0; i--) sink += sha(digestInput).length;
  return sink;
}

/** One round of every step on one batch; returns each step's sample. */
/** Bytes of one batch: the request body, the answers and the records' stored values. */
interface Sizes { body: number; compact: number; api: number; storeCompact: number; storeJson: number }

async function round(client: ChildProcess, server: BareServer, dir: string, size: number, roundNo: number, previousStore: string | undefined): Promise<{ samples: Record<Step, Sample>; bytes: Sizes; store: string }> {
  const samples = {} as Record<Step, Sample>;
  const bytes: Sizes = { body: 0, compact: 0, api: 0, storeCompact: 0, storeJson: 0 };
  const posted = await roundTrip(client, { type: 'post', size, round: roundNo });
  if (posted.reply.type !== 'posted') throw new Error('unexpected message from the client');
  // Wall time of an exchange is the client's, from the first byte sent to the last one parsed.
  samples.receive = { cpuMs: posted.sample.cpuMs, wallMs: posted.reply.sendWallMs };
  samples.clientStringify = { cpuMs: posted.reply.stringifyCpuMs, wallMs: posted.reply.stringifyWallMs };
  samples.clientSend = { cpuMs: posted.reply.sendCpuMs, wallMs: NaN };
  bytes.body = posted.reply.bytes;
  const body = server.lastBody() as { catalogueEntryId: string; records: unknown[] };
  if (body.records.length !== size) throw new Error(`the server parsed ${body.records.length} records, not ${size}`);

  const validated = timed(() => body.records.map((raw) => {
    const record = validate('credit-record', raw);
    assertUscc(record.subject);
    return record;
  }));
  samples.validate = validated.sample;
  const records = validated.result;
  const hashed = timed(() => records.map((record) => sha256Hex(canonicalize({ catalogueEntryId: body.catalogueEntryId, record }))));
  samples.contentHash = hashed.sample;
  const ids = records.map((r) => r.recordId);
  samples.lookup = previousStore === undefined ? { cpuMs: NaN, wallMs: NaN } : await lookup(previousStore, ids);
  const sealed = timed(() => records.map((r) => sealRecord(headerOf(r), r.fields as unknown as Record<string, unknown>)));
  samples.seal = sealed.sample;
  samples.sealFloor = timed(() => sealFloor(records)).sample;
  const leaves = sealed.result.map((s) => s.leafHash);
  const merkle = timed(() => {
    const tree = buildMerkleTree(leaves);
    return { root: tree.root, proofs: leaves.map((_, i) => tree.proof(i)) };
  });
  samples.merkle = merkle.sample;
  const { root, proofs } = merkle.result;

  const store = path.join(dir, `store-${size}-${roundNo}`);
  ({ sample: samples.storeCompact, valueBytes: bytes.storeCompact } = await storeBatch(store, sealed.result, hashed.result, leaves, root, compactValue));
  await checkCompactStore(store, root, ids);
  const jsonStore = path.join(dir, `store-json-${size}-${roundNo}`);
  ({ sample: samples.storeJson, valueBytes: bytes.storeJson } = await storeBatch(jsonStore, sealed.result, hashed.result, leaves, root, jsonValue));
  await rm(jsonStore, { recursive: true, force: true });

  const batchId = `${PUBLISHER}.${root.slice(0, 16)}`;
  const txId = crypto.randomBytes(32).toString('hex');
  const answers = {
    compact: (): string => JSON.stringify({
      batchId, root, size, txId,
      records: sealed.result.map((s, index) => ({ recordId: s.header.recordId, leafHash: s.leafHash, index, proof: proofs[index] })),
    }),
    api: (): string => JSON.stringify({
      records: sealed.result.map((s, index) => ({ recordId: s.header.recordId, leafHash: s.leafHash, batchId, index, size, proof: proofs[index], root, txId, blockNumber: 7 })),
    }),
  };
  for (const shape of ['compact', 'api'] as const) {
    server.setAnswer(answers[shape]);
    const got = await roundTrip(client, { type: 'get', size });
    if (got.reply.type !== 'got') throw new Error('unexpected message from the client');
    samples[shape === 'compact' ? 'respondCompact' : 'respondApi'] = { cpuMs: got.sample.cpuMs, wallMs: got.reply.wallMs };
    samples[shape === 'compact' ? 'clientParseCompact' : 'clientParseApi'] = { cpuMs: got.reply.cpuMs, wallMs: NaN };
    bytes[shape] = got.reply.bytes;
  }
  return { samples, bytes, store };
}

/** The least CPU and the least wall time of each step over the rounds. */
function best(rounds: Record<Step, Sample>[]): Record<Step, Sample> {
  const out = {} as Record<Step, Sample>;
  for (const step of STEPS) {
    const cpu = rounds.map((r) => r[step].cpuMs).filter((v) => !Number.isNaN(v));
    const wall = rounds.map((r) => r[step].wallMs).filter((v) => !Number.isNaN(v));
    out[step] = { cpuMs: cpu.length === 0 ? NaN : Math.min(...cpu), wallMs: wall.length === 0 ? NaN : Math.min(...wall) };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The ledger step: AnchorBatch on node-sim.

/** node-sim's flat connection profile (node-sim/src/profile.ts), the fields used here. */
interface Profile { mspId: string; peerEndpoint: string; hostnameOverride: string; tlsCaCertPath: string; certPath: string; keyPath: string; channel: string; chaincode: string }

/** AnchorBatch transactions at one concurrency: commit latency, and CPU per transaction in every process. */
interface LedgerPhase {
  concurrency: number;
  txs: number;
  txPerSecond: number;
  latencyMs: { min: number; p50: number; p90: number };
  cpuMsPerTx: { client: number; nodeSim: number; chaincodes: number; total: number };
}

/** One at a time (the latency a lone publish waits for), and `LEDGER_CONCURRENCY` at once (several publishers' batches sharing blocks). */
interface LedgerCost { oneAtATime: LedgerPhase; concurrent: LedgerPhase }

async function ledgerStep(dir: string): Promise<LedgerCost> {
  const sim = await startSimChild(path.join(dir, 'sim'));
  const simPid = sim.child.pid;
  const profile = JSON.parse(readFileSync(sim.profiles.get(PUBLISHER) ?? '', 'utf8')) as Profile;
  const client = new grpc.Client(profile.peerEndpoint, grpc.credentials.createSsl(readFileSync(profile.tlsCaCertPath)), { 'grpc.ssl_target_name_override': profile.hostnameOverride });
  const gateway = connect({
    client,
    identity: { mspId: profile.mspId, credentials: readFileSync(profile.certPath) },
    ...fabricSigner(crypto.createPrivateKey(readFileSync(profile.keyPath))),
  });
  try {
    const contract = gateway.getNetwork(profile.channel).getContract(profile.chaincode);
    const keys = { requestKey: newSigningKeyPair().publicKey, boxKey: newBoxKeyPair().publicKey };
    await contract.submitTransaction('participants:RegisterOrganization', JSON.stringify(fixtureOrganization(PUBLISHER, keys)));
    await contract.submitTransaction('participants:RegisterEnterprise', JSON.stringify(fixtureEnterprise(newSigningKeyPair().publicKey)));
    await contract.submitTransaction('catalogue:CreateEntry', JSON.stringify(entry));
    const anchor = async (n: number): Promise<number> => {
      const request = canonicalize({ batchId: `floor-${n}`, catalogueEntryId: entry.entryId, root: crypto.randomBytes(32).toString('hex'), size: 10_000 });
      const t0 = performance.now();
      const commit = await contract.submitAsync('anchors:AnchorBatch', { arguments: [request] });
      const status = await commit.getStatus();
      if (!status.successful) throw new Error(`AnchorBatch ${status.transactionId} was not committed valid (code ${status.code})`);
      return performance.now() - t0;
    };
    let next = 0;
    const phase = async (concurrency: number): Promise<LedgerPhase> => {
      const simAlone0 = cpuOfTree(simPid, true) ?? NaN;
      const simTree0 = cpuOfTree(simPid) ?? NaN;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const latencies: number[] = [];
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (latencies.length + concurrency <= TXS) latencies.push(await anchor(next++));
      }));
      const wallMs = performance.now() - t0;
      const clientMs = cpuMsSince(c0);
      const nodeSimMs = (cpuOfTree(simPid, true) ?? NaN) - simAlone0;
      const chaincodesMs = (cpuOfTree(simPid) ?? NaN) - simTree0 - nodeSimMs;
      const sorted = [...latencies].sort((a, b) => a - b);
      const per = (ms: number): number => ms / latencies.length;
      return {
        concurrency,
        txs: latencies.length,
        txPerSecond: (latencies.length * 1000) / wallMs,
        latencyMs: { min: sorted[0] ?? NaN, p50: percentile(sorted, 50), p90: percentile(sorted, 90) },
        cpuMsPerTx: { client: per(clientMs), nodeSim: per(nodeSimMs), chaincodes: per(chaincodesMs), total: per(clientMs + nodeSimMs + chaincodesMs) },
      };
    };
    for (let n = 0; n < 5; n++) await anchor(next++);
    return { oneAtATime: await phase(1), concurrent: await phase(LEDGER_CONCURRENCY) };
  } finally {
    gateway.close();
    client.close();
    await sim.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r2 = (v: number): number => Math.round(v * 100) / 100;
const fmt = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(1));

interface SizeResult {
  batchSize: number;
  rounds: number;
  /** Bytes per record: request body, answers, stored values of the records. */
  bytesPerRecord: Sizes;
  /** CPU µs per record of each step (best round), and wall ms per batch (best round). */
  steps: Record<Step, { cpuUsPerRecord: number; wallMsPerBatch: number }>;
  /** AnchorBatch's CPU in all processes per record: the cheaper of the two ledger phases, amortized over the batch. */
  anchorCpuUsPerRecord: number;
  /** The sum: gateway steps (compact store and answer), the client's, AnchorBatch in every process. */
  totalCpuUsPerRecord: number;
  /** The gateway's process alone: its steps and its ledger client's CPU. */
  gatewayCpuUsPerRecord: number;
  /** The sum with the records stored as plain JSON (the gateway's values before its record codec) and the answer in the gateway's shape. */
  asTheGatewayDoesCpuUsPerRecord: number;
  /** The sum with sealing at its floor (raw SHA-256 and one randomBytes call). */
  sealAtFloorCpuUsPerRecord: number;
  /** Records/s that CPU allows: cores × 1e6 / µs. */
  ceiling: { oneCore: number; twoCores: number; oneCoreGatewayOnly: number; twoCoresGatewayOnly: number; twoCoresAsTheGatewayDoes: number; twoCoresSealAtFloor: number };
  oneAtATime: { batchWallMs: number; recordsPerSecond: number };
}

function summarize(size: number, rounds: number, b: Record<Step, Sample>, bytes: Sizes, ledger: LedgerCost): SizeResult {
  const us = (step: Step): number => (b[step].cpuMs * 1000) / size;
  const gatewaySteps: Step[] = ['receive', 'validate', 'contentHash', 'lookup', 'seal', 'merkle', 'storeCompact', 'respondCompact'];
  const clientSteps: Step[] = ['clientStringify', 'clientSend', 'clientParseCompact'];
  const sum = (steps: Step[]): number => steps.reduce((a, s) => a + us(s), 0);
  const cheaper = ledger.concurrent.cpuMsPerTx.total < ledger.oneAtATime.cpuMsPerTx.total ? ledger.concurrent : ledger.oneAtATime;
  const anchorUs = (cheaper.cpuMsPerTx.total * 1000) / size;
  const gatewayUs = sum(gatewaySteps) + (cheaper.cpuMsPerTx.client * 1000) / size;
  const totalUs = sum(gatewaySteps) + sum(clientSteps) + anchorUs;
  // The same steps with the values as plain JSON (the gateway's before its record codec) and the gateway's answer shape.
  const asGatewayUs = totalUs - us('storeCompact') + us('storeJson') - us('respondCompact') + us('respondApi') - us('clientParseCompact') + us('clientParseApi');
  // One at a time: the client's stringify and send, then each step in turn, the store write overlapped with the commit.
  const wall = (s: Step): number => b[s].wallMs;
  const batchWallMs = wall('clientStringify') + wall('receive') + wall('validate') + wall('contentHash') + wall('lookup') + wall('seal') + wall('merkle')
    + Math.max(wall('storeCompact'), ledger.oneAtATime.latencyMs.p50) + wall('respondCompact');
  const sealAtFloorUs = totalUs - us('seal') + us('sealFloor');
  const rate = (cores: number, cpuUs: number): number => Math.round((cores * 1e6) / cpuUs);
  return {
    batchSize: size,
    rounds,
    bytesPerRecord: Object.fromEntries(Object.entries(bytes).map(([k, v]) => [k, Math.round(v / size)])) as unknown as Sizes,
    steps: Object.fromEntries(STEPS.map((s) => [s, { cpuUsPerRecord: r2(us(s)), wallMsPerBatch: r2(wall(s)) }])) as SizeResult['steps'],
    anchorCpuUsPerRecord: r2(anchorUs),
    gatewayCpuUsPerRecord: r1(gatewayUs),
    totalCpuUsPerRecord: r1(totalUs),
    asTheGatewayDoesCpuUsPerRecord: r1(asGatewayUs),
    sealAtFloorCpuUsPerRecord: r1(sealAtFloorUs),
    ceiling: {
      oneCore: rate(1, totalUs), twoCores: rate(2, totalUs), oneCoreGatewayOnly: rate(1, gatewayUs), twoCoresGatewayOnly: rate(2, gatewayUs),
      twoCoresAsTheGatewayDoes: rate(2, asGatewayUs), twoCoresSealAtFloor: rate(2, sealAtFloorUs),
    },
    oneAtATime: { batchWallMs: r1(batchWallMs), recordsPerSecond: Math.round((size * 1000) / batchWallMs) },
  };
}

function print(r: SizeResult): void {
  const b = r.bytesPerRecord;
  console.log(`\nbatch of ${r.batchSize.toLocaleString('en')} (best of ${r.rounds} rounds): CPU µs per record, wall ms per batch; bytes per record: body ${b.body}, `
    + `answer ${b.compact} compact / ${b.api} gateway's shape, stored value ${b.storeCompact} compact / ${b.storeJson} JSON`);
  for (const step of STEPS) console.log(`  ${LABELS[step].padEnd(50)} ${fmt(r.steps[step].cpuUsPerRecord).padStart(7)} µs ${fmt(r.steps[step].wallMsPerBatch).padStart(8)} ms`);
  console.log(`  ${'AnchorBatch, all processes, per record'.padEnd(50)} ${fmt(r.anchorCpuUsPerRecord).padStart(7)} µs`);
  console.log(`  sum: ${r.totalCpuUsPerRecord} µs CPU per record in all processes (the gateway's own ${r.gatewayCpuUsPerRecord}; compact store and answer)`);
  console.log(`  ceiling: ${r.ceiling.oneCore}/s on 1 core, ${r.ceiling.twoCores}/s on 2 (target ${TARGET.toLocaleString('en')}); `
    + `the gateway's own CPU alone: ${r.ceiling.oneCoreGatewayOnly}/s on 1 core (a gateway doing its work on one thread), ${r.ceiling.twoCoresGatewayOnly}/s on 2`);
  console.log(`    storing plain JSON and answering in the gateway's shape: ${r.asTheGatewayDoesCpuUsPerRecord} µs → ${r.ceiling.twoCoresAsTheGatewayDoes}/s; `
    + `sealing at its floor: ${r.sealAtFloorCpuUsPerRecord} µs → ${r.ceiling.twoCoresSealAtFloor}/s`);
  console.log(`  one batch at a time: ${r.oneAtATime.batchWallMs} ms per batch (each step's best wall time, the store write overlapped with the commit's p50) → at most ${r.oneAtATime.recordsPerSecond}/s`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'credex-bench-publish-floor-'));
  const server = await startServer();
  // fork keeps tsx's loader in execArgv.
  const client = fork(fileURLToPath(import.meta.url), ['--port', String(server.port)], { stdio: 'inherit' });
  try {
    console.log(`${CORES} × ${os.cpus()[0]?.model ?? 'unknown'}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; HTTP client in a child process, node-sim in another`);
    const bestBySize = new Map<number, { rounds: number; best: Record<Step, Sample>; bytes: Sizes }>();
    for (const size of SIZES) {
      const rounds = size <= 1000 ? ROUNDS * 5 : ROUNDS;
      const kept: Record<Step, Sample>[] = [];
      let previous: string | undefined;
      let sizes: Sizes | undefined;
      for (let n = 0; n <= rounds; n++) {
        const { samples, bytes, store } = await round(client, server, dir, size, n, previous);
        if (n > 0) kept.push(samples);
        sizes = bytes;
        if (previous !== undefined) await rm(previous, { recursive: true, force: true });
        previous = store;
      }
      if (previous !== undefined) await rm(previous, { recursive: true, force: true });
      if (sizes !== undefined) bestBySize.set(size, { rounds, best: best(kept), bytes: sizes });
    }
    client.kill();
    const ledger = await ledgerStep(dir);
    for (const p of [ledger.oneAtATime, ledger.concurrent]) {
      const cpu = p.cpuMsPerTx;
      console.log(`AnchorBatch × ${p.txs}, ${p.concurrency} at a time: ${p.txPerSecond.toFixed(0)} tx/s, commit latency min ${p.latencyMs.min.toFixed(1)}, p50 ${p.latencyMs.p50.toFixed(1)}, p90 ${p.latencyMs.p90.toFixed(1)} ms; `
        + `CPU per tx ${cpu.client.toFixed(2)} ms client (the gateway's process) + ${cpu.nodeSim.toFixed(2)} ms node-sim + ${cpu.chaincodes.toFixed(2)} ms chaincodes = ${cpu.total.toFixed(2)} ms`);
    }
    const results = [...bestBySize].map(([size, { rounds, best: b, bytes }]) => summarize(size, rounds, b, bytes, ledger));
    for (const r of results) print(r);
    console.log(JSON.stringify({
      bench: 'publish-floor',
      what: 'CPU per record of the cheapest honest implementation of each publish step, each alone, best of N rounds; ceilings = cores × 1e6 / sum',
      target: TARGET,
      ledger: [ledger.oneAtATime, ledger.concurrent].map((p) => ({
        ...p,
        txPerSecond: r1(p.txPerSecond),
        latencyMs: { min: r1(p.latencyMs.min), p50: r1(p.latencyMs.p50), p90: r1(p.latencyMs.p90) },
        cpuMsPerTx: Object.fromEntries(Object.entries(p.cpuMsPerTx).map(([k, v]) => [k, r2(v)])),
      })),
      results,
      machine: { cpus: CORES, model: os.cpus()[0]?.model ?? 'unknown', node: process.version, loadavg: os.loadavg().map(r2) },
    }));
  } finally {
    if (client.exitCode === null) client.kill();
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (values.port === '') {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
} else {
  clientMain();
}
