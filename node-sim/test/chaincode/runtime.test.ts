/**
 * The chaincode runtime against a real fabric-shim chaincode process (the kv fixture) over
 * real gRPC on 127.0.0.1. The state under it is an in-memory committed state.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOrgMaterial } from '../../src/msp/material';
import { createChaincodeRuntime, type ChaincodeRuntimeError } from '../../src/chaincode/runtime';
import type { ChaincodeRuntime, SimulationResult, StateReader } from '../../src/chaincode/types';
import { MemoryState } from './memory-state';
import { buildProposal } from './proposal';

const FIXTURE = fileURLToPath(new URL('../fixtures/kv-chaincode', import.meta.url));
const CHANNEL = 'testchannel';

let dataDir: string;
let certPem: string;
let runtime: ChaincodeRuntime;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'node-sim-cc-'));
  certPem = (await ensureOrgMaterial(dataDir, 'Org1MSP')).client.certPem;
  runtime = createChaincodeRuntime({ chaincodeName: 'kv', chaincodeVersion: '1.0', chaincodeDir: FIXTURE, peerName: 'peer0.org1', mspId: 'Org1MSP' });
  await runtime.start();
});

afterAll(async () => {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function exec(
  state: StateReader,
  args: string[],
  opts: {
    rt?: ChaincodeRuntime;
    chaincodeName?: string;
    transient?: Map<string, Uint8Array>;
    inProposal?: Map<string, Uint8Array>;
    txId?: string;
    isInit?: boolean;
  } = {},
): Promise<SimulationResult & { txId: string; timestamp: { seconds: number; nanos: number } }> {
  const chaincodeName = opts.chaincodeName ?? 'kv';
  const p = buildProposal({ channelId: CHANNEL, chaincodeName, mspId: 'Org1MSP', certPem, args, transient: opts.inProposal });
  const txId = opts.txId ?? p.txId;
  return (opts.rt ?? runtime)
    .execute({
      channelId: CHANNEL,
      txId,
      signedProposal: p.signedProposal,
      args: args.map((a) => Buffer.from(a)),
      transient: opts.transient ?? new Map(),
      ...(opts.isInit === undefined ? {} : { isInit: opts.isInit }),
      state,
      timestamp: p.timestamp,
    })
    .then((r) => ({ ...r, txId, timestamp: p.timestamp }));
}

/** Alive and not a zombie (an orphan's zombie waits for init to reap it). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const json = (b: Uint8Array): unknown => JSON.parse(text(b));

describe('chaincode runtime', () => {
  it('gives the chaincode the transaction context a peer gives it', async () => {
    const r = await exec(new MemoryState(), ['TxInfo']);
    expect(r.response.status).toBe(200);
    expect(json(r.response.payload)).toEqual({
      txId: r.txId,
      channelId: CHANNEL,
      seconds: r.timestamp.seconds,
      nanos: r.timestamp.nanos,
      creatorMsp: 'Org1MSP',
      peerMsp: 'Org1MSP',
    });
    expect(r.rwset).toEqual({ reads: [], rangeQueries: [], writes: [] });
  });

  it('runs an init invocation as an INIT message, like a peer for an init-required chaincode', async () => {
    const r = await exec(new MemoryState(), ['Put', 'init-key', 'init-value'], { isInit: true });
    expect(r.response.status).toBe(200);
    expect(r.rwset.writes).toEqual([{ key: 'init-key', isDelete: false, value: Buffer.from('init-value') }]);
  });

  it('records the committed version of every key read, and absent keys without one', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { a: 'A' } }, { txId: 't2', writes: { b: 'B' } }]);
    const ra = await exec(state, ['Get', 'b']);
    expect(text(ra.response.payload)).toBe('B');
    expect(ra.rwset.reads).toEqual([{ key: 'b', version: { blockNum: 1, txNum: 1 } }]);
    const rm = await exec(state, ['Get', 'missing']);
    expect(text(rm.response.payload)).toBe('');
    expect(rm.rwset.reads).toEqual([{ key: 'missing' }]);
    expect(rm.rwset.writes).toEqual([]);
  });

  it('does not show a transaction its own writes: reads see committed state only', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { k: 'old' } }]);
    const r = await exec(state, ['PutThenGet', 'k', 'new']);
    expect(r.response.status).toBe(200);
    expect(text(r.response.payload)).toBe('old');
    expect(r.rwset.reads).toEqual([{ key: 'k', version: { blockNum: 1, txNum: 0 } }]);
    expect(r.rwset.writes).toEqual([{ key: 'k', isDelete: false, value: Buffer.from('new') }]);
    expect(text((await state.get('kv', 'k'))?.value ?? new Uint8Array())).toBe('old'); // simulation changed nothing
  });

  it('collects writes sorted by key, last write wins, deletes and empty values as deletes', async () => {
    const ops = [['z', '1'], ['a', '1'], ['m', 'x'], ['z', '2'], ['a', null], ['m', '']];
    const r = await exec(new MemoryState(), ['PutMany', JSON.stringify(ops)]);
    expect(r.response.status).toBe(200);
    expect(r.rwset.writes).toEqual([
      { key: 'a', isDelete: true },
      { key: 'm', isDelete: true },
      { key: 'z', isDelete: false, value: Buffer.from('2') },
    ]);
  });

  it('answers range queries and records the keys and versions read, exhausted', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { k1: 'v1', k2: 'v2', k3: 'v3', other: 'o' } }]);
    const r = await exec(state, ['Range', 'k1', 'k3']);
    expect(json(r.response.payload)).toEqual([
      { key: 'k1', value: 'v1' },
      { key: 'k2', value: 'v2' },
    ]);
    expect(r.rwset.rangeQueries).toEqual([
      {
        startKey: 'k1',
        endKey: 'k3',
        itrExhausted: true,
        reads: [
          { key: 'k1', version: { blockNum: 1, txNum: 0 } },
          { key: 'k2', version: { blockNum: 1, txNum: 0 } },
        ],
      },
    ]);
    expect(r.rwset.reads).toEqual([]);
    expect(state.openIterators).toBe(0);
  });

  it('pages large ranges through QUERY_STATE_NEXT, and records only what was fetched when the chaincode stops early', async () => {
    const state = new MemoryState();
    const writes: Record<string, string> = {};
    for (let i = 0; i < 250; i++) writes[`r${String(i).padStart(3, '0')}`] = `v${String(i)}`;
    state.commit([{ txId: 't1', writes }]);

    const all = await exec(state, ['Range', 'r', 's']);
    expect((json(all.response.payload) as unknown[]).length).toBe(250);
    expect(all.rwset.rangeQueries[0]?.itrExhausted).toBe(true);
    expect(all.rwset.rangeQueries[0]?.reads).toHaveLength(250);

    // Fabric's peer fetches a batch of 100 plus one to know there is more.
    const first = await exec(state, ['RangeFirst', 'r', 's', '2']);
    expect(json(first.response.payload)).toEqual(['r000', 'r001']);
    const q = first.rwset.rangeQueries[0];
    expect(q?.itrExhausted).toBe(false);
    expect(q?.startKey).toBe('r');
    expect(q?.endKey).toBe('r100');
    expect(q?.reads).toHaveLength(101);
    expect(state.openIterators).toBe(0);
  });

  it('answers paginated range queries with fetched count and bookmark', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { p1: '1', p2: '2', p3: '3', p4: '4' } }]);
    const r1 = await exec(state, ['RangePage', 'p', 'q', '2', '']);
    expect(json(r1.response.payload)).toEqual({ keys: ['p1', 'p2'], fetched: 2, bookmark: 'p3' });
    const r2 = await exec(state, ['RangePage', 'p', 'q', '2', 'p3']);
    expect(json(r2.response.payload)).toEqual({ keys: ['p3', 'p4'], fetched: 2, bookmark: '' });
    expect(r2.rwset.rangeQueries[0]?.startKey).toBe('p3');
  });

  it('queries composite keys by partial key as ordinary ranges', async () => {
    const state = new MemoryState();
    const ck = (...parts: string[]): string => `\u0000${parts.map((p) => `${p}\u0000`).join('')}`;
    state.commit([
      {
        txId: 't1',
        writes: { [ck('consent', 'u1', 'c1')]: 'x', [ck('consent', 'u1', 'c2')]: 'y', [ck('consent', 'u2', 'c3')]: 'z', plain: 'p' },
      },
    ]);
    const w = await exec(state, ['PutComposite', 'consent', 'u9', 'c9', 'w']);
    expect(w.rwset.writes).toEqual([{ key: ck('consent', 'u9', 'c9'), isDelete: false, value: Buffer.from('w') }]);

    const r = await exec(state, ['Partial', 'consent', 'u1']);
    expect(json(r.response.payload)).toEqual([
      { objectType: 'consent', attributes: ['u1', 'c1'], value: 'x' },
      { objectType: 'consent', attributes: ['u1', 'c2'], value: 'y' },
    ]);
    expect(r.rwset.rangeQueries).toEqual([
      {
        startKey: ck('consent', 'u1'),
        endKey: `${ck('consent', 'u1')}\u{10ffff}`,
        itrExhausted: true,
        reads: [
          { key: ck('consent', 'u1', 'c1'), version: { blockNum: 1, txNum: 0 } },
          { key: ck('consent', 'u1', 'c2'), version: { blockNum: 1, txNum: 0 } },
        ],
      },
    ]);
  });

  it('returns key history from the state reader, without recording reads', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 'tx-a', writes: { h: 'one' } }]);
    state.commit([{ txId: 'tx-b', writes: { h: 'two' } }]);
    state.commit([{ txId: 'tx-c', writes: { h: null } }]);
    const r = await exec(state, ['History', 'h']);
    expect(json(r.response.payload)).toEqual([
      { txId: 'tx-c', value: '', isDelete: true, seconds: 1_700_000_003 },
      { txId: 'tx-b', value: 'two', isDelete: false, seconds: 1_700_000_002 },
      { txId: 'tx-a', value: 'one', isDelete: false, seconds: 1_700_000_001 },
    ]);
    expect(r.rwset).toEqual({ reads: [], rangeQueries: [], writes: [] });
  });

  it('refuses rich queries as a LevelDB peer does, and private data (no collections)', async () => {
    const rich = await exec(new MemoryState(), ['Rich', '{"selector":{}}']);
    expect(rich.response.status).toBe(500);
    expect(rich.response.message).toMatch(/^GET_QUERY_RESULT failed: transaction ID: [0-9a-f]{64}: ExecuteQuery not supported for leveldb$/);
    const pvt = await exec(new MemoryState(), ['Private', 'secrets', 'k']);
    expect(pvt.response.status).toBe(500);
    expect(pvt.response.message).toMatch(/private data collection "secrets" is not defined/);
  });

  it('answers state metadata with none, recording the read', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { m: 'v' } }]);
    const r = await exec(state, ['Metadata', 'm']);
    expect(r.response.status).toBe(200);
    expect(text(r.response.payload)).toBe('');
    expect(r.rwset.reads).toEqual([{ key: 'm', version: { blockNum: 1, txNum: 0 } }]);
  });

  it('turns a chaincode error into status 500 with its message', async () => {
    const r = await exec(new MemoryState(), ['Fail', 'CONSENT_REVOKED: consent c1 was revoked']);
    expect(r.response.status).toBe(500);
    expect(r.response.message).toBe('CONSENT_REVOKED: consent c1 was revoked');
    expect(r.event).toBeUndefined();
  });

  it('returns the chaincode event with the result', async () => {
    const r = await exec(new MemoryState(), ['Event', 'AccessRegistered', '{"ids":["a1"]}']);
    expect(r.response.status).toBe(200);
    expect(r.event?.eventName).toBe('AccessRegistered');
    expect(text(r.event?.payload ?? new Uint8Array())).toBe('{"ids":["a1"]}');
    expect(r.rwset.writes).toEqual([{ key: 'event~AccessRegistered', isDelete: false, value: Buffer.from('{"ids":["a1"]}') }]);
  });

  it('gives the chaincode transient data from the proposal, or from the request map', async () => {
    const inProposal = await exec(new MemoryState(), ['Transient', 'secret'], { inProposal: new Map([['secret', Buffer.from('from-proposal')]]) });
    expect(text(inProposal.response.payload)).toBe('from-proposal');
    const inRequest = await exec(new MemoryState(), ['Transient', 'secret'], { transient: new Map([['secret', Buffer.from('from-request')]]) });
    expect(text(inRequest.response.payload)).toBe('from-request');
  });

  it('runs concurrent transactions on one process without mixing their reads and writes', async () => {
    const state = new MemoryState();
    state.commit([{ txId: 't1', writes: { srcA: 'A', srcB: 'B' } }]);
    const gate = state.gate('srcA');
    const a = exec(state, ['Copy', 'srcA', 'dstA']);
    await gate.reached; // transaction A is now waiting on its read, mid-simulation
    const b = await exec(state, ['Copy', 'srcB', 'dstB']);
    expect(text(b.response.payload)).toBe(`${b.txId}:B`);
    expect(b.rwset).toEqual({
      reads: [{ key: 'srcB', version: { blockNum: 1, txNum: 0 } }],
      rangeQueries: [],
      writes: [{ key: 'dstB', isDelete: false, value: Buffer.from('B') }],
    });
    gate.release();
    const ra = await a;
    expect(text(ra.response.payload)).toBe(`${ra.txId}:A`);
    expect(ra.rwset).toEqual({
      reads: [{ key: 'srcA', version: { blockNum: 1, txNum: 0 } }],
      rangeQueries: [],
      writes: [{ key: 'dstA', isDelete: false, value: Buffer.from('A') }],
    });

    // Many at once: each result carries exactly its own write.
    const many = await Promise.all(Array.from({ length: 40 }, (_, i) => exec(state, ['Put', `key${String(i)}`, `value${String(i)}`])));
    many.forEach((r, i) => {
      expect(r.response.status).toBe(200);
      expect(r.rwset.writes).toEqual([{ key: `key${String(i)}`, isDelete: false, value: Buffer.from(`value${String(i)}`) }]);
    });
  });

  it('refuses a second execution of a transaction id that is still running', async () => {
    const state = new MemoryState();
    const gate = state.gate('g');
    const first = exec(state, ['Get', 'g'], { txId: 'same-tx' });
    await gate.reached;
    await expect(exec(state, ['Get', 'g'], { txId: 'same-tx' })).rejects.toMatchObject({ code: 'TX_IN_PROGRESS' });
    gate.release();
    expect((await first).response.status).toBe(200);
  });
});

describe('chaincode process lifecycle', () => {
  it('fails pending executions with a clear error when the chaincode process dies, and relaunches it on the next', async () => {
    const rt = createChaincodeRuntime({ chaincodeName: 'kv', chaincodeVersion: '1.0', chaincodeDir: FIXTURE, peerName: 'peer0.crash', mspId: 'Org1MSP' });
    await rt.start();
    try {
      const state = new MemoryState();
      const gate = state.gate('held');
      const pending = exec(state, ['Get', 'held'], { rt });
      await gate.reached;
      const crash = exec(state, ['Crash'], { rt });
      await expect(pending).rejects.toMatchObject({ code: 'CHAINCODE_EXITED' });
      await expect(crash).rejects.toMatchObject({ code: 'CHAINCODE_EXITED' });
      gate.release();
      // As a peer does, the next invocation launches the chaincode again.
      state.commit([{ txId: 't1', writes: { x: 'after-restart' } }]);
      const after = await exec(state, ['Get', 'x'], { rt });
      expect(text(after.response.payload)).toBe('after-restart');
    } finally {
      await rt.stop();
    }
  });

  it('rejects start() with the process output when the chaincode exits before registering', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'node-sim-badcc-'));
    try {
      await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'bad-cc', version: '1.0.0', scripts: { start: 'node fail.cjs' } }));
      await writeFile(path.join(dir, 'fail.cjs'), "console.error('no contracts here'); process.exit(2);\n");
      const rt = createChaincodeRuntime({ chaincodeName: 'bad', chaincodeVersion: '1', chaincodeDir: dir, peerName: 'peer0.bad' });
      const err = (await rt.start().catch((e: unknown) => e)) as ChaincodeRuntimeError;
      expect(err.code).toBe('CHAINCODE_START_FAILED');
      expect(err.message).toMatch(/exited with code 2 before registering/);
      expect(err.message).toMatch(/no contracts here/);
      await rt.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ends the chaincode process when node-sim itself is killed', async () => {
    const host = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./orphan-host.ts', import.meta.url))], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        host.stdout.on('data', (d: Buffer) => { if (d.toString().includes('started')) resolve(); });
        host.once('exit', (code) => { reject(new Error(`host exited with ${String(code)}`)); });
      });
      const children = execFileSync('pgrep', ['-P', String(host.pid), '-f', 'fabric-shim/cli.js']).toString().trim().split(/\s+/);
      expect(children).toHaveLength(1);
      const ccPid = Number(children[0]);
      expect(isRunning(ccPid)).toBe(true);
      host.kill('SIGKILL');
      while (isRunning(ccPid)) await new Promise((r) => setTimeout(r, 50));
    } finally {
      host.kill('SIGKILL');
    }
  });

  it('rejects start() at once when stopped while starting', async () => {
    const rt = createChaincodeRuntime({ chaincodeName: 'kv', chaincodeVersion: '1.0', chaincodeDir: FIXTURE, peerName: 'peer0.early' });
    const starting = rt.start();
    const stopped = rt.stop();
    await expect(starting).rejects.toMatchObject({ code: 'CHAINCODE_NOT_RUNNING' });
    await stopped;
  });

  it('refuses executions after stop()', async () => {
    const rt = createChaincodeRuntime({ chaincodeName: 'kv', chaincodeVersion: '1.0', chaincodeDir: FIXTURE, peerName: 'peer0.stop', mspId: 'Org1MSP' });
    await rt.start();
    expect((await exec(new MemoryState(), ['Get', 'k'], { rt })).response.status).toBe(200);
    await rt.stop();
    await expect(exec(new MemoryState(), ['Get', 'k'], { rt })).rejects.toMatchObject({ code: 'CHAINCODE_NOT_RUNNING' });
  });
});

const CREDEX_DIR = fileURLToPath(new URL('../../../chaincode', import.meta.url));

describe('the credex chaincode package', () => {
  // The package is built by `npm run build -w chaincode`; without dist/ there is nothing to start.
  it.skipIf(!existsSync(path.join(CREDEX_DIR, 'dist', 'index.js')))('starts under the runtime and runs a transaction', async () => {
    const rt = createChaincodeRuntime({ chaincodeName: 'credex', chaincodeVersion: '1.0', chaincodeDir: CREDEX_DIR, peerName: 'peer0.credex', mspId: 'GovMSP' });
    await rt.start();
    try {
      const r = await exec(new MemoryState(), ['participants:ListOrganizations'], { rt, chaincodeName: 'credex' });
      expect(r.response).toMatchObject({ status: 200, message: '' });
      expect(json(r.response.payload)).toEqual([]);
      expect(r.rwset.writes).toEqual([]);
      expect(r.rwset.rangeQueries).toHaveLength(1);
      expect(r.rwset.rangeQueries[0]?.itrExhausted).toBe(true);
    } finally {
      await rt.stop();
    }
  });
});
