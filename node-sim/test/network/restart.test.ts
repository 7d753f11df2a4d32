/**
 * Durability: `npm run sim` killed with SIGKILL in the middle of a load of submits, then
 * restarted on the same data folder, has a consistent chain and state, and keeps every
 * transaction the client saw committed. Then the chain, read back through qscc, verifies — and
 * stops verifying once one byte of a stored block is changed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Contract } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import { Level } from 'level';
import { startSimNetwork, verifyBlockChain, type SimNetwork, type SimOrg } from '../../src/index';
import { blockKey } from '../../src/ledger/codec';
import { connectTo, KV_CHAINCODE_DIR, tempDir, utf8, type Connection } from './helpers';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(REPO_ROOT, 'node-sim/src/main.ts');

interface ReadyLine {
  ready: boolean;
  channel: string;
  chaincode: string;
  tls: boolean;
  orgs: { mspId: string; peerEndpoint: string; hostnameOverride: string; connectionProfile: string }[];
}

interface Child {
  process: ChildProcess;
  ready: ReadyLine;
}

const children: ChildProcess[] = [];

function startChild(dataDir: string): Promise<Child> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--json', '--data-dir', dataDir, '--chaincode-dir', KV_CHAINCODE_DIR, '--batch-timeout', '10'],
    // Its own process group, so SIGKILL reaches the chaincode processes too, as when a host dies.
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.startsWith('{')) return;
      const parsed = JSON.parse(line) as ReadyLine;
      if (parsed.ready) resolve({ process: child, ready: parsed });
    });
    child.on('exit', (code) => {
      reject(new Error(`node-sim exited with ${code ?? 'signal'} before it was ready: ${stderr}`));
    });
  });
}

/** A SimNetwork-shaped view of a child process, built from its connection profiles. */
async function networkOf(child: Child): Promise<SimNetwork> {
  const orgs = new Map<string, SimOrg>();
  for (const org of child.ready.orgs) {
    const profile = JSON.parse(await readFile(org.connectionProfile, 'utf8')) as {
      tlsCaCertPath: string;
      certPath: string;
      keyPath: string;
    };
    const client = { mspId: org.mspId, certPem: await readFile(profile.certPath, 'utf8'), keyPem: await readFile(profile.keyPath, 'utf8') };
    orgs.set(org.mspId, {
      mspId: org.mspId,
      peerEndpoint: org.peerEndpoint,
      hostnameOverride: org.hostnameOverride,
      tlsCaCertPem: await readFile(profile.tlsCaCertPath, 'utf8'),
      identities: { client, admin: client },
    });
  }
  return {
    orgs,
    channel: child.ready.channel,
    chaincodeName: child.ready.chaincode,
    dataDir: '',
    tls: child.ready.tls,
    connectionProfilePath: (mspId) => child.ready.orgs.find((o) => o.mspId === mspId)?.connectionProfile ?? '',
    stop: () => Promise.resolve(),
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    child.once('exit', () => {
      resolve();
    });
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      resolve();
    }
  });
}

async function chainOf(qscc: Contract, channel: string): Promise<Uint8Array[]> {
  const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', channel));
  const blocks: Uint8Array[] = [];
  for (let n = 0; n < info.getHeight(); n += 1) blocks.push(await qscc.evaluateTransaction('GetBlockByNumber', channel, String(n)));
  return blocks;
}

/** tx id → validation code, for every transaction in the chain. */
function codesOf(blocks: Uint8Array[]): Map<string, number> {
  const codes = new Map<string, number>();
  for (const bytes of blocks) {
    const block = common.Block.deserializeBinary(bytes);
    const filter = block.getMetadata()?.getMetadataList_asU8()[2] ?? new Uint8Array();
    block.getData()?.getDataList_asU8().forEach((env, i) => {
      const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(env).getPayload_asU8());
      const txId = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array()).getTxId();
      if (!codes.has(txId)) codes.set(txId, filter[i] ?? 255);
    });
  }
  return codes;
}

let removeDir: (() => Promise<void>) | undefined;

afterAll(async () => {
  for (const child of children) await killGroup(child, 'SIGKILL');
  await removeDir?.();
});

describe('kill -9 and restart', () => {
  it('keeps every transaction the client saw committed, with a consistent chain and state', async () => {
    const tmp = await tempDir('node-sim-kill-');
    removeDir = tmp.remove;

    const first = await startChild(tmp.dir);
    let conn: Connection = connectTo(await networkOf(first), 'BankMSP');
    let contract = conn.gateway.getNetwork(first.ready.channel).getContract(first.ready.chaincode);

    const attempted = new Map<string, string>(); // tx id → key
    const seenCommitted = new Set<string>();
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i += 1) {
        const key = `load-${w}-${i}`;
        try {
          const commit = await contract.submitAsync('Put', { arguments: [key, `value-${w}-${i}`] });
          attempted.set(commit.getTransactionId(), key);
          const status = await commit.getStatus();
          if (status.successful) seenCommitted.add(commit.getTransactionId());
        } catch {
          return; // the network went away
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    while (seenCommitted.size < 40) await new Promise((r) => setTimeout(r, 20));
    await killGroup(first.process, 'SIGKILL');
    stop = true;
    await Promise.all(workers);
    conn.close();
    const committedBeforeKill = new Set(seenCommitted);
    expect(committedBeforeKill.size).toBeGreaterThanOrEqual(40);

    const second = await startChild(tmp.dir);
    conn = connectTo(await networkOf(second), 'BankMSP');
    try {
      const net = conn.gateway.getNetwork(second.ready.channel);
      contract = net.getContract(second.ready.chaincode);
      const qscc = net.getContract('qscc');
      const blocks = await chainOf(qscc, second.ready.channel);
      expect(await verifyBlockChain(blocks)).toEqual({ ok: true, height: blocks.length });

      const codes = codesOf(blocks);
      for (const txId of committedBeforeKill) {
        expect(codes.get(txId)).toBe(peer.TxValidationCode.VALID);
        const processed = peer.ProcessedTransaction.deserializeBinary(await qscc.evaluateTransaction('GetTransactionByID', second.ready.channel, txId));
        expect(processed.getValidationcode()).toBe(peer.TxValidationCode.VALID);
      }
      // State matches the chain: a key has its value exactly when its transaction committed valid.
      for (const [txId, key] of attempted) {
        const [, w, i] = key.split('-');
        const value = utf8(await contract.evaluateTransaction('Get', key));
        expect(value).toBe(codes.get(txId) === peer.TxValidationCode.VALID ? `value-${w ?? ''}-${i ?? ''}` : '');
      }
      // And the restarted network commits on top of the recovered chain.
      const status = await (await contract.submitAsync('Put', { arguments: ['after-restart', 'yes'] })).getStatus();
      expect(status.successful).toBe(true);
      expect(Number(status.blockNumber)).toBe(blocks.length);
    } finally {
      conn.close();
    }
    await killGroup(second.process, 'SIGTERM');
    expect(second.process.exitCode).toBe(0);
  }, 120_000);

  it('verifies the chain read through qscc, and fails it when one byte of a stored block changes', async () => {
    expect(removeDir).toBeDefined();
    const dataDir = children[0]?.spawnargs[children[0].spawnargs.indexOf('--data-dir') + 1] ?? '';

    // Change one byte of block 1 in the ledger's LevelDB (one hex digit of its first tx id).
    const db = new Level<Buffer, Uint8Array>(path.join(dataDir, 'ledger'), { keyEncoding: 'buffer', valueEncoding: 'view' });
    await db.open();
    const blocksDb = db.sublevel<Buffer, Uint8Array>('blocks', { keyEncoding: 'buffer', valueEncoding: 'view' });
    const stored = Buffer.from((await blocksDb.get(blockKey(1))) ?? new Uint8Array());
    const block = common.Block.deserializeBinary(stored);
    const env = common.Envelope.deserializeBinary(block.getData()?.getDataList_asU8()[0] ?? new Uint8Array());
    const txId = common.ChannelHeader.deserializeBinary(
      common.Payload.deserializeBinary(env.getPayload_asU8()).getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(),
    ).getTxId();
    const at = stored.indexOf(Buffer.from(txId));
    expect(at).toBeGreaterThan(0);
    stored[at] = stored[at] === 0x61 ? 0x62 : 0x61;
    await blocksDb.put(blockKey(1), stored);
    await db.close();

    // This time in-process: the ledger opens the changed block as it is and qscc serves it.
    const sim = await startSimNetwork({ dataDir, chaincode: { dir: KV_CHAINCODE_DIR } });
    const conn = connectTo(sim, 'GovMSP');
    try {
      const blocks = await chainOf(conn.gateway.getNetwork(sim.channel).getContract('qscc'), sim.channel);
      expect(Buffer.from(blocks[1] ?? []).equals(stored)).toBe(true);
      const result = await verifyBlockChain(blocks);
      expect(result.ok).toBe(false);
      expect(result.ok ? -1 : result.blockNumber).toBe(1);
    } finally {
      conn.close();
      await sim.stop();
    }
  }, 60_000);
});
