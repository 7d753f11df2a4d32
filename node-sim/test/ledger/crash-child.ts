/**
 * Child process of the crash test: commits blocks through the real orderer and ledger in a
 * loop, printing `ack <block>` once a block's batch write has resolved (from the ledger's
 * onBlock, which fires only after the synced write) and `tx <txId> <block>` once a
 * submitter saw its transaction committed. The parent kills it with SIGKILL at any moment.
 *
 * Usage: tsx crash-child.ts <materialDir> <ledgerDir>
 */
import { randomBytes } from 'node:crypto';
import { CHAINCODE, CHANNEL, loadMaterial, majority, openTestLedger, openTestOrderer, org } from '../helpers/channel';
import { buildEndorsedTx, writesOf } from '../helpers/tx';

const [materialDir, ledgerDir] = process.argv.slice(2);
if (materialDir === undefined || ledgerDir === undefined) throw new Error('usage: crash-child <materialDir> <ledgerDir>');

const m = await loadMaterial(materialDir);
const ledger = await openTestLedger(m, ledgerDir);
ledger.onBlock((n) => {
  process.stdout.write(`ack ${n}\n`);
});
const orderer = openTestOrderer(m, ledger, { maxMessageCount: 8, batchTimeoutMs: 2 });
const creator = org(m, 'BankMSP').client;
const endorsers = majority(m);
process.stdout.write(`ready ${ledger.height()}\n`);

async function submitter(worker: number): Promise<never> {
  for (let i = 0; ; i++) {
    const payload = randomBytes(64).toString('hex');
    const { txId, envelope } = buildEndorsedTx({
      channelId: CHANNEL,
      chaincodeName: CHAINCODE,
      creator,
      endorsers,
      rwset: writesOf({ [`w${worker}/${i}`]: payload, [`last/${worker}`]: payload }),
    });
    await orderer.broadcast(envelope);
    const { blockNumber } = await orderer.waitForCommit(txId);
    process.stdout.write(`tx ${txId} ${blockNumber}\n`);
  }
}

await Promise.all(Array.from({ length: 16 }, (_, w) => submitter(w)));
