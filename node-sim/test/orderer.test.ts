import { verify as verifySignature, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, verifyBlockChain } from '../src/blocks';
import type { Ledger } from '../src/ledger/ledger';
import { createOrderer } from '../src/orderer';
import { CHAINCODE, CHANNEL, createMaterial, majority, openTestLedger, openTestOrderer, org, type TestMaterial } from './helpers/channel';
import { buildEndorsedTx, writesOf } from './helpers/tx';

const Code = peer.TxValidationCode;
let m: TestMaterial;
let n = 0;

beforeAll(async () => {
  m = await createMaterial();
});
afterAll(async () => {
  await m.cleanup();
});

async function freshLedger(): Promise<Ledger> {
  n += 1;
  return openTestLedger(m, path.join(m.dir, `ledger-${n}`));
}

function tx(writes: Record<string, string | null>, channelId = CHANNEL): { txId: string; envelope: Uint8Array } {
  return buildEndorsedTx({ channelId, chaincodeName: CHAINCODE, creator: org(m, 'GovMSP').client, endorsers: majority(m), rwset: writesOf(writes) });
}

async function block(ledger: Ledger, number: number): Promise<common.Block> {
  const bytes = await ledger.getBlock(number);
  if (bytes === undefined) throw new Error(`no block ${number}`);
  return common.Block.deserializeBinary(bytes);
}

describe('block cutting', () => {
  it('cuts at maxMessageCount, then on the batch timeout, and commits in order', async () => {
    const ledger = await freshLedger();
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 3, batchTimeoutMs: 20 });
    const txs = Array.from({ length: 4 }, (_, i) => tx({ [`k${i}`]: String(i) }));
    for (const t of txs) await orderer.broadcast(t.envelope);
    const results = await Promise.all(txs.map((t) => orderer.waitForCommit(t.txId)));
    expect(results).toEqual([
      { code: Code.VALID, blockNumber: 1 },
      { code: Code.VALID, blockNumber: 1 },
      { code: Code.VALID, blockNumber: 1 },
      // The fourth waited alone for the batch timeout.
      { code: Code.VALID, blockNumber: 2 },
    ]);
    expect((await block(ledger, 1)).getData()?.getDataList_asU8().length).toBe(3);
    expect((await block(ledger, 2)).getData()?.getDataList_asU8().length).toBe(1);
    await orderer.stop();
    await ledger.close();
  });

  it('cuts a batch before it would exceed preferredMaxBytes, and isolates an oversized envelope', async () => {
    const ledger = await freshLedger();
    const small = [tx({ s1: 'x' }), tx({ s2: 'x' })];
    const big = tx({ big: 'x'.repeat(6000) });
    const size = small[0]?.envelope.length ?? 0;
    const limited = createOrderer({
      ledger,
      msp: m.msp,
      policies: m.policies,
      signer: m.ordererOrg.peer,
      maxMessageCount: 100,
      batchTimeoutMs: 60_000,
      preferredMaxBytes: Math.floor(size * 1.5),
    });
    for (const t of [...small, big]) await limited.broadcast(t.envelope);
    await limited.stop();
    // [s1] cut when s2 would overflow, [s2] cut before the oversized one, [big] alone.
    expect(ledger.height()).toBe(4);
    expect((await ledger.getTxStatus(big.txId))?.blockNumber).toBe(3);
    await ledger.close();
  });

  it('stop() commits what is pending, then refuses new envelopes', async () => {
    const ledger = await freshLedger();
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 100, batchTimeoutMs: 60_000 });
    const t = tx({ pending: 'yes' });
    await orderer.broadcast(t.envelope);
    const waiting = orderer.waitForCommit(t.txId);
    await orderer.stop();
    expect(await waiting).toEqual({ code: Code.VALID, blockNumber: 1 });
    await expect(orderer.broadcast(tx({ late: 'x' }).envelope)).rejects.toMatchObject({ code: 'ORDERER_STOPPED' });
    await expect(orderer.waitForCommit('f'.repeat(64))).rejects.toMatchObject({ code: 'ORDERER_STOPPED' });
    await ledger.close();
  });
});

describe('blocks', () => {
  it('assembles blocks as Fabric: chained headers, data hash, orderer-signed SIGNATURES, LAST_CONFIG, filter, commit hash', async () => {
    const ledger = await freshLedger();
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 2, batchTimeoutMs: 60_000 });
    const bad = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'GovMSP').client, endorsers: [org(m, 'GovMSP').peer], rwset: writesOf({ b: '1' }) });
    for (const t of [tx({ a: '1' }), bad, tx({ c: '1' }), tx({ d: '1' })]) await orderer.broadcast(t.envelope);
    await orderer.stop();
    expect(ledger.height()).toBe(3);

    const blocks = [await block(ledger, 0), await block(ledger, 1), await block(ledger, 2)];
    expect(await verifyBlockChain(blocks.map((b) => b.serializeBinary()))).toEqual({ ok: true, height: 3 });
    const ordererCert = new X509Certificate(m.ordererOrg.peer.certPem);
    const commitHashes: string[] = [];
    for (const b of blocks.slice(1)) {
      const header = b.getHeader();
      if (header === undefined) throw new Error('no header');
      const fields = { number: header.getNumber(), previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() };
      expect(Buffer.from(fields.dataHash)).toEqual(Buffer.from(blockDataHash(b.getData()?.getDataList_asU8() ?? [])));
      const metadata = b.getMetadata()?.getMetadataList_asU8() ?? [];
      expect(metadata).toHaveLength(5);

      const signatures = common.Metadata.deserializeBinary(metadata[common.BlockMetadataIndex.SIGNATURES] ?? new Uint8Array());
      const ordererMetadata = common.OrdererBlockMetadata.deserializeBinary(signatures.getValue_asU8());
      expect(ordererMetadata.getLastConfig()?.getIndex()).toBe(0);
      const [sig] = signatures.getSignaturesList();
      if (sig === undefined) throw new Error('no block signature');
      const sigHeader = common.SignatureHeader.deserializeBinary(sig.getSignatureHeader_asU8());
      const creator = msp.SerializedIdentity.deserializeBinary(sigHeader.getCreator_asU8());
      expect(creator.getMspid()).toBe('OrdererMSP');
      const signed = Buffer.concat([signatures.getValue_asU8(), sig.getSignatureHeader_asU8(), blockHeaderBytes(fields)]);
      expect(verifySignature('sha256', signed, ordererCert.publicKey, sig.getSignature_asU8())).toBe(true);

      const lastConfig = common.Metadata.deserializeBinary(metadata[common.BlockMetadataIndex.LAST_CONFIG] ?? new Uint8Array());
      expect(common.LastConfig.deserializeBinary(lastConfig.getValue_asU8()).getIndex()).toBe(0);
      const commitHash = common.Metadata.deserializeBinary(metadata[common.BlockMetadataIndex.COMMIT_HASH] ?? new Uint8Array()).getValue_asU8();
      expect(commitHash).toHaveLength(32);
      commitHashes.push(Buffer.from(commitHash).toString('hex'));
    }
    expect(commitHashes[0]).not.toBe(commitHashes[1]);
    expect([...(blocks[1]?.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])]).toEqual([
      Code.VALID,
      Code.ENDORSEMENT_POLICY_FAILURE,
    ]);
    const info = await ledger.chainInfo();
    const lastHeader = blocks[2]?.getHeader();
    expect(Buffer.from(info.currentBlockHash)).toEqual(
      Buffer.from(blockHeaderHash({ number: 2, previousHash: lastHeader?.getPreviousHash_asU8() ?? new Uint8Array(), dataHash: lastHeader?.getDataHash_asU8() ?? new Uint8Array() })),
    );
    expect(Buffer.from(info.previousBlockHash)).toEqual(Buffer.from(lastHeader?.getPreviousHash_asU8() ?? []));
    await ledger.close();
  });

  it('fires onBlock listeners after each commit, in order', async () => {
    const ledger = await freshLedger();
    const seen: number[] = [];
    const unsubscribe = ledger.onBlock((blockNumber, bytes) => {
      seen.push(blockNumber);
      expect(common.Block.deserializeBinary(bytes).getHeader()?.getNumber()).toBe(blockNumber);
    });
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 1, batchTimeoutMs: 60_000 });
    for (const t of [tx({ a: '1' }), tx({ b: '1' }), tx({ c: '1' })]) await orderer.broadcast(t.envelope);
    await orderer.stop();
    unsubscribe();
    const after = openTestOrderer(m, ledger, { maxMessageCount: 1, batchTimeoutMs: 60_000 });
    await after.broadcast(tx({ e: '1' }).envelope);
    await after.stop();
    expect(seen).toEqual([1, 2, 3]);
    await ledger.close();
  });
});

describe('broadcast checks', () => {
  let ledger: Ledger;
  beforeAll(async () => {
    ledger = await freshLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('refuses malformed, foreign-channel, non-endorser, unknown-creator and badly signed envelopes, queuing nothing', async () => {
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 1, batchTimeoutMs: 60_000 });
    const outsiders = await createMaterial();
    try {
      await expect(orderer.broadcast(new Uint8Array([0xff, 0x01]))).rejects.toMatchObject({ code: 'ORDERER_BAD_ENVELOPE' });
      await expect(orderer.broadcast(new Uint8Array())).rejects.toMatchObject({ code: 'ORDERER_BAD_ENVELOPE' });
      await expect(orderer.broadcast(tx({ a: '1' }, 'otherchannel').envelope)).rejects.toMatchObject({ code: 'ORDERER_WRONG_CHANNEL' });
      const genesisEnvelope = (await block(ledger, 0)).getData()?.getDataList_asU8()[0] ?? new Uint8Array();
      await expect(orderer.broadcast(genesisEnvelope)).rejects.toMatchObject({ code: 'ORDERER_UNSUPPORTED_TX' });
      const outsider = outsiders.orgs[1]?.client;
      if (outsider === undefined) throw new Error('fixture');
      const unknown = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: outsider, endorsers: majority(m), rwset: writesOf({ a: '1' }) });
      await expect(orderer.broadcast(unknown.envelope)).rejects.toMatchObject({ code: 'ORDERER_UNKNOWN_CREATOR' });
      const forged = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'GovMSP').client, endorsers: majority(m), rwset: writesOf({ a: '1' }), badCreatorSignature: true });
      await expect(orderer.broadcast(forged.envelope)).rejects.toThrow(/^ORDERER_BAD_SIGNATURE: /);
      await orderer.stop();
      expect(ledger.height()).toBe(1);
    } finally {
      await outsiders.cleanup();
    }
  });
});

describe('waitForCommit', () => {
  it('answers from the tx index for a tx committed before (also by another orderer instance)', async () => {
    const ledger = await freshLedger();
    const t = tx({ early: '1' });
    const first = openTestOrderer(m, ledger, { maxMessageCount: 1, batchTimeoutMs: 60_000 });
    await first.broadcast(t.envelope);
    await first.stop();
    const second = openTestOrderer(m, ledger, { maxMessageCount: 1, batchTimeoutMs: 60_000 });
    expect(await second.waitForCommit(t.txId)).toEqual({ code: Code.VALID, blockNumber: 1 });
    // A resubmitted duplicate is ordered, marked DUPLICATE_TXID, and the tx id still answers with the original.
    await second.broadcast(t.envelope);
    await second.stop();
    expect([...((await block(ledger, 2)).getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])]).toEqual([Code.DUPLICATE_TXID]);
    expect(await ledger.getTxStatus(t.txId)).toEqual({ blockNumber: 1, txIndex: 0, code: Code.VALID });
    await ledger.close();
  });

  it('stops waiting when its signal aborts', async () => {
    const ledger = await freshLedger();
    const orderer = openTestOrderer(m, ledger, { maxMessageCount: 10, batchTimeoutMs: 60_000 });
    const controller = new AbortController();
    const waiting = orderer.waitForCommit('a'.repeat(64), controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ORDERER_WAIT_ABORTED' });
    await expect(orderer.waitForCommit('b'.repeat(64), controller.signal)).rejects.toMatchObject({ code: 'ORDERER_WAIT_ABORTED' });
    await orderer.stop();
    await ledger.close();
  });
});
