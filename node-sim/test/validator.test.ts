import path from 'node:path';
import { common, peer } from '@hyperledger/fabric-protos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RwSet, Version } from '../src/chaincode/types';
import type { Ledger } from '../src/ledger/ledger';
import { issueIdentity } from '../src/msp/material';
import { createSignatureMemo, createValidator } from '../src/validator';
import { CHAINCODE, CHANNEL, createMaterial, majority, openTestLedger, openTestOrderer, org, type TestMaterial } from './helpers/channel';
import { buildEndorsedTx, writesOf, type EndorsedTxOptions } from './helpers/tx';

const Code = peer.TxValidationCode;
let m: TestMaterial;
let ledger: Ledger;
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

function tx(rwset: RwSet, extra: Partial<EndorsedTxOptions> = {}): { txId: string; envelope: Uint8Array } {
  return buildEndorsedTx({
    channelId: CHANNEL,
    chaincodeName: CHAINCODE,
    creator: org(m, 'BankMSP').client,
    endorsers: majority(m),
    rwset,
    ...extra,
  });
}

/** Orders exactly these envelopes into the next block and returns its validation codes. */
async function commitBlock(envelopes: Uint8Array[]): Promise<number[]> {
  const orderer = openTestOrderer(m, ledger, { maxMessageCount: envelopes.length, batchTimeoutMs: 60_000 });
  for (const e of envelopes) await orderer.broadcast(e);
  await orderer.stop();
  return filterOf(ledger.height() - 1);
}

async function filterOf(blockNumber: number): Promise<number[]> {
  const bytes = await ledger.getBlock(blockNumber);
  if (bytes === undefined) throw new Error(`no block ${blockNumber}`);
  const metadata = common.Block.deserializeBinary(bytes).getMetadata()?.getMetadataList_asU8() ?? [];
  return [...(metadata[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])];
}

async function value(key: string): Promise<string | undefined> {
  const v = await ledger.state.get(CHAINCODE, key);
  return v === undefined ? undefined : Buffer.from(v.value).toString();
}

async function version(key: string): Promise<Version | undefined> {
  return (await ledger.state.get(CHAINCODE, key))?.version;
}

function readsThenWrites(reads: { key: string; version?: Version }[], writes: Record<string, string | null>): RwSet {
  return { ...writesOf(writes), reads };
}

describe('commit-time validation', () => {
  beforeAll(async () => {
    ledger = await freshLedger();
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('commits a valid transaction and applies its writes with version {block, tx}', async () => {
    const first = tx(writesOf({ a: '1', b: '2' }));
    expect(await commitBlock([first.envelope])).toEqual([Code.VALID]);
    const block = ledger.height() - 1;
    expect(await value('a')).toBe('1');
    expect(await version('b')).toEqual({ blockNum: block, txNum: 0 });
    expect(await ledger.getTxStatus(first.txId)).toEqual({ blockNumber: block, txIndex: 0, code: Code.VALID });

    const del = tx(readsThenWrites([{ key: 'a', version: { blockNum: block, txNum: 0 } }], { a: null, c: '3' }));
    expect(await commitBlock([del.envelope])).toEqual([Code.VALID]);
    expect(await value('a')).toBeUndefined();
    expect(await value('c')).toBe('3');
  });

  it('rejects a stale read across blocks with MVCC_READ_CONFLICT and applies nothing of it', async () => {
    await commitBlock([tx(writesOf({ consent: 'active' })).envelope]);
    const readVersion = await version('consent');
    // An access endorsed while the consent was active...
    const access = tx(readsThenWrites([{ key: 'consent', version: readVersion }], { access1: 'granted' }));
    // ...commits after a revocation.
    expect(await commitBlock([tx(readsThenWrites([{ key: 'consent', version: readVersion }], { consent: 'revoked' })).envelope])).toEqual([Code.VALID]);
    expect(await commitBlock([access.envelope])).toEqual([Code.MVCC_READ_CONFLICT]);
    expect(await value('access1')).toBeUndefined();
    expect(await value('consent')).toBe('revoked');
    expect((await ledger.getTxStatus(access.txId))?.code).toBe(Code.MVCC_READ_CONFLICT);
  });

  it('rejects a read of a key written by an earlier valid tx of the same block', async () => {
    await commitBlock([tx(writesOf({ k: 'v0' })).envelope]);
    const v0 = await version('k');
    const writer = tx(readsThenWrites([{ key: 'k', version: v0 }], { k: 'v1' }));
    const reader = tx(readsThenWrites([{ key: 'k', version: v0 }], { other: 'x' }));
    const absentReader = tx(readsThenWrites([{ key: 'never' }], { other2: 'y' }));
    expect(await commitBlock([writer.envelope, reader.envelope, absentReader.envelope])).toEqual([
      Code.VALID,
      Code.MVCC_READ_CONFLICT,
      Code.VALID,
    ]);
    expect(await value('k')).toBe('v1');
    expect(await value('other')).toBeUndefined();
    expect(await value('other2')).toBe('y');
  });

  it('does not let an invalid tx of the block cause conflicts', async () => {
    await commitBlock([tx(writesOf({ j: 'v0' })).envelope]);
    const v0 = await version('j');
    const invalidWriter = tx(readsThenWrites([{ key: 'j', version: v0 }], { j: 'bad' }), { endorsers: [org(m, 'GovMSP').peer] });
    const reader = tx(readsThenWrites([{ key: 'j', version: v0 }], { j: 'good' }));
    expect(await commitBlock([invalidWriter.envelope, reader.envelope])).toEqual([Code.ENDORSEMENT_POLICY_FAILURE, Code.VALID]);
    expect(await value('j')).toBe('good');
  });

  it('detects phantoms: a key inserted into a range read, in an earlier block or earlier in the block', async () => {
    await commitBlock([tx(writesOf({ 'r/1': 'a', 'r/3': 'c', s: 'outside' })).envelope]);
    const reads = [
      { key: 'r/1', version: (await version('r/1')) as Version },
      { key: 'r/3', version: (await version('r/3')) as Version },
    ];
    const rangeTx = (writes: Record<string, string | null>): { txId: string; envelope: Uint8Array } =>
      tx({ ...writesOf(writes), rangeQueries: [{ startKey: 'r/', endKey: 'r0', itrExhausted: true, reads }] });

    // Unchanged range: valid.
    expect(await commitBlock([rangeTx({ sum1: 'ok' }).envelope])).toEqual([Code.VALID]);

    // A write outside the range does not matter; an insertion inside it does.
    const heldBefore = rangeTx({ sum2: 'phantom' });
    await commitBlock([tx(writesOf({ s: 'changed' })).envelope]);
    expect(await commitBlock([rangeTx({ sum3: 'ok' }).envelope])).toEqual([Code.VALID]);
    await commitBlock([tx(writesOf({ 'r/2': 'b' })).envelope]);
    expect(await commitBlock([heldBefore.envelope])).toEqual([Code.PHANTOM_READ_CONFLICT]);
    expect(await value('sum2')).toBeUndefined();

    // Within one block: a delete of a key in the range by an earlier valid tx.
    const reads2 = [
      { key: 'r/1', version: (await version('r/1')) as Version },
      { key: 'r/2', version: (await version('r/2')) as Version },
      { key: 'r/3', version: (await version('r/3')) as Version },
    ];
    const ranged = tx({ ...writesOf({ sum4: 'x' }), rangeQueries: [{ startKey: 'r/', endKey: 'r0', itrExhausted: true, reads: reads2 }] });
    expect(await commitBlock([tx(writesOf({ 'r/2': null })).envelope, ranged.envelope])).toEqual([Code.VALID, Code.PHANTOM_READ_CONFLICT]);

    // Within one block: an insertion between two read keys by an earlier valid tx; writes at the
    // exclusive end key or before the start key do not matter.
    const reads3 = [reads2[0], reads2[2]].filter((r) => r !== undefined);
    const inserted = tx({ ...writesOf({ sum5: 'x' }), rangeQueries: [{ startKey: 'r/', endKey: 'r0', itrExhausted: true, reads: reads3 }] });
    const untouched = tx({ ...writesOf({ sum6: 'x' }), rangeQueries: [{ startKey: 'r/', endKey: 'r0', itrExhausted: true, reads: reads3 }] });
    expect(await commitBlock([tx(writesOf({ r0: 'end key is exclusive', 'r.': 'before start' })).envelope, untouched.envelope])).toEqual([Code.VALID, Code.VALID]);
    expect(await commitBlock([tx(writesOf({ 'r/25': 'new' })).envelope, inserted.envelope])).toEqual([Code.VALID, Code.PHANTOM_READ_CONFLICT]);
  });

  it('checks an unexhausted range only up to the last key read', async () => {
    await commitBlock([tx(writesOf({ 'p/1': 'a', 'p/5': 'e' })).envelope]);
    const first = { key: 'p/1', version: (await version('p/1')) as Version };
    // Simulation read one entry and stopped: Fabric records endKey = the last key read.
    const partial = tx({ ...writesOf({ page: '1' }), rangeQueries: [{ startKey: 'p/', endKey: 'p/1', itrExhausted: false, reads: [first] }] });
    const partial2 = tx({ ...writesOf({ page2: '1' }), rangeQueries: [{ startKey: 'p/', endKey: 'p/1', itrExhausted: false, reads: [first] }] });
    await commitBlock([tx(writesOf({ 'p/3': 'c' })).envelope]);
    expect(await commitBlock([partial.envelope])).toEqual([Code.VALID]);
    await commitBlock([tx(writesOf({ 'p/0': 'before' })).envelope]);
    expect(await commitBlock([partial2.envelope])).toEqual([Code.PHANTOM_READ_CONFLICT]);
  });

  it('marks duplicate tx ids in the same block and in a later block, keeping the first', async () => {
    const original = tx(writesOf({ d: '1' }));
    expect(await commitBlock([original.envelope, original.envelope])).toEqual([Code.VALID, Code.DUPLICATE_TXID]);
    const block = ledger.height() - 1;
    expect(await commitBlock([original.envelope])).toEqual([Code.DUPLICATE_TXID]);
    expect(await ledger.getTxStatus(original.txId)).toEqual({ blockNumber: block, txIndex: 0, code: Code.VALID });
    // Same nonce and creator, different content: still the same tx id.
    const nonce = Buffer.from('fixed-nonce-for-duplicate');
    const a = tx(writesOf({ e: 'first' }), { nonce });
    const b = tx(writesOf({ e: 'second' }), { nonce });
    expect(a.txId).toBe(b.txId);
    expect(await commitBlock([a.envelope, b.envelope])).toEqual([Code.VALID, Code.DUPLICATE_TXID]);
    expect(await value('e')).toBe('first');
    const firstBlock = ledger.height() - 1;
    // A later tx with that id failing an earlier check is not a duplicate for Fabric either,
    // but the tx id keeps answering with its first occurrence.
    const forged = tx(writesOf({ e: 'third' }), { nonce, badProposalHash: true });
    expect(await commitBlock([forged.envelope])).toEqual([Code.INVALID_ENDORSER_TRANSACTION]);
    expect(await ledger.getTxStatus(a.txId)).toEqual({ blockNumber: firstBlock, txIndex: 0, code: Code.VALID });
    expect(await value('e')).toBe('first');
  });

  it('enforces MAJORITY of 4: one or two endorsements, bad or repeated signatures fail', async () => {
    const [gov, bank, core] = majority(m);
    if (gov === undefined || bank === undefined || core === undefined) throw new Error('fixture');
    const one = tx(writesOf({ pol1: 'x' }), { endorsers: [gov] });
    const two = tx(writesOf({ pol2: 'x' }), { endorsers: [gov, bank] });
    const repeated = tx(writesOf({ pol3: 'x' }), { endorsers: [gov, gov, gov] });
    const badSig = tx(writesOf({ pol4: 'x' }), { badEndorsementSignatures: [2] });
    const clientsNotPeers = tx(writesOf({ pol5: 'x' }), { endorsers: majority(m).map((p) => org(m, p.mspId).client) });
    const three = tx(writesOf({ pol6: 'x' }), { endorsers: [core, bank, gov] });
    expect(await commitBlock([one, two, repeated, badSig, clientsNotPeers, three].map((t) => t.envelope))).toEqual([
      Code.ENDORSEMENT_POLICY_FAILURE,
      Code.ENDORSEMENT_POLICY_FAILURE,
      Code.ENDORSEMENT_POLICY_FAILURE,
      Code.ENDORSEMENT_POLICY_FAILURE,
      Code.ENDORSEMENT_POLICY_FAILURE, // each org's Endorsement policy asks for its peers
      Code.VALID,
    ]);
    for (const key of ['pol1', 'pol2', 'pol3', 'pol4', 'pol5']) expect(await value(key)).toBeUndefined();
    expect(await value('pol6')).toBe('x');
    // Invalid transactions keep their place in the block, with their envelopes.
    const stored = await ledger.getTx(one.txId);
    expect(stored?.txIndex).toBe(0);
    expect(Buffer.from(stored?.envelope ?? []).equals(one.envelope)).toBe(true);
  });

  it('rejects undefined chaincodes, forged proposal hashes and bad tx ids', async () => {
    const unknownCc = tx(writesOf({ u: 'x' }), { chaincodeName: 'other' });
    const forged = tx(writesOf({ f: 'x' }), { badProposalHash: true });
    expect(await commitBlock([unknownCc.envelope, forged.envelope])).toEqual([Code.INVALID_CHAINCODE, Code.INVALID_ENDORSER_TRANSACTION]);
    expect(await value('u')).toBeUndefined();
  });
});

describe('creator checks at validation', () => {
  let validatorLedger: Ledger;
  beforeAll(async () => {
    validatorLedger = await freshLedger();
  });
  afterAll(async () => {
    await validatorLedger.close();
  });

  it('gives BAD_CREATOR_SIGNATURE for a bad envelope signature, an unknown CA, an expired cert', async () => {
    const validator = createValidator({ channelId: CHANNEL, msp: m.msp, policies: m.policies, ledger: validatorLedger });
    const outsiderMaterial = await createMaterial();
    try {
      const outsider = outsiderMaterial.orgs[0]?.client;
      if (outsider === undefined) throw new Error('fixture');
      const expired = await issueIdentity(org(m, 'BankMSP'), {
        cn: 'expired',
        role: 'client',
        notBefore: new Date(Date.now() - 2 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const good = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'BankMSP').client, endorsers: majority(m), rwset: writesOf({ x: '1' }) });
      const badSig = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'BankMSP').client, endorsers: majority(m), rwset: writesOf({ x: '1' }), badCreatorSignature: true });
      const unknown = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: outsider, endorsers: majority(m), rwset: writesOf({ x: '1' }) });
      const stale = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: expired, endorsers: majority(m), rwset: writesOf({ x: '1' }) });
      const wrongChannel = buildEndorsedTx({ channelId: 'other', chaincodeName: CHAINCODE, creator: org(m, 'BankMSP').client, endorsers: majority(m), rwset: writesOf({ x: '1' }) });
      const result = await validator.validateBlock(validatorLedger.height(), [
        good.envelope,
        badSig.envelope,
        unknown.envelope,
        stale.envelope,
        wrongChannel.envelope,
        new Uint8Array([1, 2, 3]),
        buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'BankMSP').client, endorsers: majority(m), rwset: writesOf({ x: '1' }), badCreatorSignature: true, badProposalHash: true }).envelope,
      ]);
      expect([...result.codes]).toEqual([
        Code.VALID,
        Code.BAD_CREATOR_SIGNATURE,
        Code.BAD_CREATOR_SIGNATURE,
        Code.BAD_CREATOR_SIGNATURE,
        Code.TARGET_CHAIN_NOT_FOUND,
        Code.BAD_PAYLOAD,
        Code.BAD_CREATOR_SIGNATURE, // the signature is checked before the transaction body
      ]);
      expect(result.reasons[2]).toMatch(/UNKNOWN_MSP|UNTRUSTED_CERT/);
      expect(result.reasons[3]).toMatch(/CERT_EXPIRED/);
      // Validation alone changes nothing.
      expect(await validatorLedger.hasTx(good.txId)).toBe(false);
    } finally {
      await outsiderMaterial.cleanup();
    }
  });
});

describe('own signature memo', () => {
  it('knows exactly the remembered (message, signature) pairs, up to its capacity', () => {
    const memo = createSignatureMemo(2);
    const [a, b, c] = [Buffer.from('message a'), Buffer.from('message b'), Buffer.from('message c')];
    memo.remember(a, Buffer.from('sig-a'));
    expect(memo.knows(a, Buffer.from('sig-a'))).toBe(true);
    expect(memo.knows(b, Buffer.from('sig-a'))).toBe(false);
    expect(memo.knows(a, Buffer.from('sig-b'))).toBe(false);
    memo.remember(b, Buffer.from('sig-b'));
    memo.remember(c, Buffer.from('sig-c'));
    expect(memo.knows(a, Buffer.from('sig-a'))).toBe(false);
    expect(memo.knows(c, Buffer.from('sig-c'))).toBe(true);
  });

  it('skips re-verifying remembered endorsements but still rejects altered ones', async () => {
    const memoLedger = await freshLedger();
    try {
      const memo = createSignatureMemo();
      const validator = createValidator({ channelId: CHANNEL, msp: m.msp, policies: m.policies, ledger: memoLedger, ownSignatures: memo });
      const build = (extra: Partial<EndorsedTxOptions>): Uint8Array =>
        buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'BankMSP').client, endorsers: majority(m), rwset: writesOf({ z: '1' }), ownSignatures: memo, ...extra }).envelope;
      const result = await validator.validateBlock(memoLedger.height(), [
        build({}),
        build({ badEndorsementSignatures: [0] }),
        build({ endorsers: [org(m, 'GovMSP').peer] }),
      ]);
      expect([...result.codes]).toEqual([Code.VALID, Code.ENDORSEMENT_POLICY_FAILURE, Code.ENDORSEMENT_POLICY_FAILURE]);
    } finally {
      await memoLedger.close();
    }
  });
});
