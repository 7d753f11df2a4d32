import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { peer } from '@hyperledger/fabric-protos';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBlockChain } from '../../src/blocks';
import type { Ledger } from '../../src/ledger/ledger';
import { CHAINCODE, createMaterial, openTestLedger, type TestMaterial } from '../helpers/channel';

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let m: TestMaterial;
beforeAll(async () => {
  m = await createMaterial();
});
afterAll(async () => {
  await m.cleanup();
});

interface ChildRun {
  startHeight: number;
  acked: number[];
  committedTxs: { txId: string; blockNumber: number }[];
}

/** Runs the child until it has acknowledged `blocks` blocks, then kills it with SIGKILL. */
function runAndKill(ledgerDir: string, blocks: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, m.dir, ledgerDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { startHeight: -1, acked: [], committedTxs: [] };
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const [kind, a, b] = line.split(' ');
      if (kind === 'ready') run.startHeight = Number(a);
      if (kind === 'ack') run.acked.push(Number(a));
      if (kind === 'tx' && a !== undefined) run.committedTxs.push({ txId: a, blockNumber: Number(b) });
      if (run.acked.length === blocks) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(run);
      else reject(new Error(`child exited (${String(code)}) before being killed: ${stderr}`));
    });
  });
}

async function stateDump(dir: string): Promise<string[]> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const out: string[] = [];
  for await (const [k, v] of db.sublevel<Buffer, Buffer>('state', { keyEncoding: 'buffer', valueEncoding: 'buffer' }).iterator()) {
    out.push(`${k.toString('hex')}=${v.toString('hex')}`);
  }
  await db.close();
  return out;
}

async function checkAfterCrash(ledgerDir: string, run: ChildRun): Promise<number> {
  const ledger: Ledger = await openTestLedger(m, ledgerDir);
  try {
    const height = ledger.height();
    const maxAck = Math.max(...run.acked);
    expect(height).toBeGreaterThan(maxAck);
    for (const n of run.acked) expect(await ledger.getBlock(n)).toBeDefined();
    for (const t of run.committedTxs) {
      expect(await ledger.getTxStatus(t.txId)).toMatchObject({ blockNumber: t.blockNumber, code: peer.TxValidationCode.VALID });
    }
    const blocks: Uint8Array[] = [];
    for (let n = 0; n < height; n++) blocks.push((await ledger.getBlock(n)) ?? new Uint8Array());
    expect(await verifyBlockChain(blocks)).toEqual({ ok: true, height });
    // Every committed transaction's own key is in the state.
    expect(await ledger.state.get(CHAINCODE, 'last/0')).toBeDefined();
    return height;
  } finally {
    await ledger.close();
  }
}

describe('crash safety', () => {
  it('after SIGKILL during commits, reopens at a block boundary with every acknowledged block and tx', { timeout: 120_000 }, async () => {
    const ledgerDir = path.join(m.dir, 'ledger-crash');
    const first = await runAndKill(ledgerDir, 25);
    expect(first.startHeight).toBe(1);
    expect(first.committedTxs.length).toBeGreaterThan(0);
    const height = await checkAfterCrash(ledgerDir, first);

    // A second run resumes on the recovered ledger and is killed again.
    const second = await runAndKill(ledgerDir, 25);
    expect(second.startHeight).toBe(height);
    await checkAfterCrash(ledgerDir, second);

    // The state on disk is exactly what replaying the blocks gives.
    const before = await stateDump(ledgerDir);
    const db = new Level(ledgerDir);
    await db.open();
    await db.sublevel('state').clear();
    await db.close();
    await (await openTestLedger(m, ledgerDir)).close();
    expect(await stateDump(ledgerDir)).toEqual(before);
  });
});
