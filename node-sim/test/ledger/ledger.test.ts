import path from 'node:path';
import { common, peer } from '@hyperledger/fabric-protos';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockHeaderHash, verifyBlockChain } from '../../src/blocks';
import { blockKey } from '../../src/ledger/codec';
import type { Ledger } from '../../src/ledger/ledger';
import { CHAINCODE, CHANNEL, createMaterial, majority, openTestLedger, openTestOrderer, org, type TestMaterial } from '../helpers/channel';
import { buildEndorsedTx, writesOf } from '../helpers/tx';

const Code = peer.TxValidationCode;
let m: TestMaterial;

beforeAll(async () => {
  m = await createMaterial();
});
afterAll(async () => {
  await m.cleanup();
});

function tx(writes: Record<string, string | null>, timestamp?: Date): { txId: string; envelope: Uint8Array } {
  return buildEndorsedTx({
    channelId: CHANNEL,
    chaincodeName: CHAINCODE,
    creator: org(m, 'CoreMSP').client,
    endorsers: majority(m),
    rwset: writesOf(writes),
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}

async function commitBlock(ledger: Ledger, envelopes: Uint8Array[]): Promise<void> {
  const orderer = openTestOrderer(m, ledger, { maxMessageCount: envelopes.length, batchTimeoutMs: 60_000 });
  for (const e of envelopes) await orderer.broadcast(e);
  await orderer.stop();
}

async function allBlocks(ledger: Ledger): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (let n = 0; n < ledger.height(); n++) {
    const b = await ledger.getBlock(n);
    if (b === undefined) throw new Error(`missing block ${n}`);
    out.push(b);
  }
  return out;
}

/** Every entry of the derived sublevels, hex-encoded, in key order. */
async function dumpDerived(dir: string): Promise<{ state: string[]; history: string[]; txindex: string[] }> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  const dump = async (name: string): Promise<string[]> => {
    const out: string[] = [];
    const sub = db.sublevel<Buffer, Buffer>(name, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    for await (const [k, v] of sub.iterator()) out.push(`${k.toString('hex')}=${v.toString('hex')}`);
    return out;
  };
  const out = { state: await dump('state'), history: await dump('history'), txindex: await dump('txindex') };
  await db.close();
  return out;
}

async function withRawDb(dir: string, fn: (db: Level<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

describe('ledger', () => {
  const dir = (): string => path.join(m.dir, 'ledger-main');
  let ledger: Ledger;
  const seen: number[] = [];

  beforeAll(async () => {
    ledger = await openTestLedger(m, dir());
    ledger.onBlock((n) => seen.push(n));
  });
  afterAll(async () => {
    await ledger.close();
  });

  it('starts with a valid genesis config block as block 0', async () => {
    expect(ledger.height()).toBe(1);
    const block0 = common.Block.deserializeBinary((await ledger.getBlock(0)) ?? new Uint8Array());
    const envelopes = block0.getData()?.getDataList_asU8() ?? [];
    expect(envelopes).toHaveLength(1);
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopes[0] ?? new Uint8Array()).getPayload_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array());
    expect(channelHeader.getType()).toBe(common.HeaderType.CONFIG);
    expect(channelHeader.getChannelId()).toBe(CHANNEL);
    const config = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig();
    expect([...(config?.getChannelGroup()?.getGroupsMap().get('Application')?.getGroupsMap().keys() ?? [])].sort()).toEqual(
      ['AuditMSP', 'BankMSP', 'CoreMSP', 'GovMSP'],
    );
    expect([...(block0.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])]).toEqual([Code.VALID]);
    const info = await ledger.chainInfo();
    expect(info.height).toBe(1);
    const header = block0.getHeader();
    expect(Buffer.from(info.currentBlockHash)).toEqual(
      Buffer.from(blockHeaderHash({ number: 0, previousHash: header?.getPreviousHash_asU8() ?? new Uint8Array(), dataHash: header?.getDataHash_asU8() ?? new Uint8Array() })),
    );
    expect(info.previousBlockHash).toHaveLength(0);
  });

  it('answers state gets and ranges in byte order with the end key exclusive', async () => {
    await commitBlock(ledger, [tx({ b: '2', a: '1', c: '3', '\u0000idx\u0000x\u0000': 'composite', é: 'e-acute', '😀': 'emoji', '\uffff': 'ffff' }).envelope]);
    expect(seen).toContain(1);
    const keys = async (start: string, end: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const item of ledger.state.range(CHAINCODE, start, end)) out.push(item.key);
      return out;
    };
    expect(await keys('a', 'c')).toEqual(['a', 'b']);
    expect(await keys('b', '')).toEqual(['b', 'c', 'é', '\uffff', '😀']);
    expect(await keys('', '')).toEqual(['\u0000idx\u0000x\u0000', 'a', 'b', 'c', 'é', '\uffff', '😀']);
    expect(await keys('\u0001', '')).toHaveLength(6);
    expect(await keys('c', 'a')).toEqual([]);
    const got = await ledger.state.get(CHAINCODE, 'é');
    expect(Buffer.from(got?.value ?? []).toString()).toBe('e-acute');
    expect(got?.version).toEqual({ blockNum: 1, txNum: 0 });
    expect(await ledger.state.get(CHAINCODE, 'missing')).toBeUndefined();
    expect(await ledger.state.get('othercc', 'a')).toBeUndefined();
  });

  it('keeps history newest first, with deletes, tx ids and timestamps', async () => {
    const t1 = tx({ h: 'one' }, new Date('2026-01-01T00:00:01.000Z'));
    const t2 = tx({ h: 'two', hh: 'other key' }, new Date('2026-01-01T00:00:02.000Z'));
    const t3 = tx({ h: null }, new Date('2026-01-01T00:00:03.000Z'));
    await commitBlock(ledger, [t1.envelope]);
    await commitBlock(ledger, [t2.envelope, t3.envelope]);
    const history = [];
    for await (const entry of ledger.state.history(CHAINCODE, 'h')) history.push(entry);
    expect(history.map((e) => [e.txId, Buffer.from(e.value).toString(), e.isDelete, e.timestamp.seconds])).toEqual([
      [t3.txId, '', true, Date.parse('2026-01-01T00:00:03Z') / 1000],
      [t2.txId, 'two', false, Date.parse('2026-01-01T00:00:02Z') / 1000],
      [t1.txId, 'one', false, Date.parse('2026-01-01T00:00:01Z') / 1000],
    ]);
    expect(await ledger.state.get(CHAINCODE, 'h')).toBeUndefined();
  });

  it('indexes transactions by id with block, position, code and envelope', async () => {
    const t = tx({ indexed: 'yes' });
    await commitBlock(ledger, [t.envelope]);
    const found = await ledger.getTx(t.txId);
    expect(found).toMatchObject({ blockNumber: ledger.height() - 1, txIndex: 0, code: Code.VALID });
    expect(Buffer.from(found?.envelope ?? []).equals(t.envelope)).toBe(true);
    expect(await ledger.hasTx(t.txId)).toBe(true);
    expect(await ledger.hasTx('0'.repeat(64))).toBe(false);
    expect(await ledger.getTx('\u0000savepoint')).toBeUndefined();
  });

  it('refuses blocks out of order or not chained, and changes nothing', async () => {
    const height = ledger.height();
    const last = common.Block.deserializeBinary((await ledger.getBlock(height - 1)) ?? new Uint8Array());
    await expect(ledger.commit(last)).rejects.toMatchObject({ code: 'LEDGER_BLOCK_OUT_OF_ORDER' });
    const unchained = common.Block.deserializeBinary(last.serializeBinary());
    unchained.getHeader()?.setNumber(height);
    await expect(ledger.commit(unchained)).rejects.toMatchObject({ code: 'LEDGER_BAD_BLOCK' });
    expect(ledger.height()).toBe(height);
  });

  it('verifies its block hash chain, and a changed byte in a stored block breaks it', async () => {
    expect(await verifyBlockChain(await allBlocks(ledger))).toEqual({ ok: true, height: ledger.height() });
    const blocks = await allBlocks(ledger);
    const tampered = Buffer.from(blocks[2] ?? []);
    const idx = tampered.indexOf(Buffer.from('one'));
    expect(idx).toBeGreaterThan(0);
    tampered[idx] = 'O'.charCodeAt(0);
    blocks[2] = tampered;
    expect(await verifyBlockChain(blocks)).toMatchObject({ ok: false, blockNumber: 2 });
  });
});

describe('ledger persistence', () => {
  it('resumes at the same height, chain info and state after close and reopen', async () => {
    const dir = path.join(m.dir, 'ledger-reopen');
    let ledger = await openTestLedger(m, dir);
    await commitBlock(ledger, [tx({ x: '1' }).envelope, tx({ y: '2' }).envelope]);
    await commitBlock(ledger, [tx({ x: '3' }).envelope]);
    const info = await ledger.chainInfo();
    await ledger.close();
    const before = await dumpDerived(dir);

    ledger = await openTestLedger(m, dir);
    expect(ledger.height()).toBe(3);
    expect(await ledger.chainInfo()).toEqual(info);
    expect(Buffer.from((await ledger.state.get(CHAINCODE, 'x'))?.value ?? []).toString()).toBe('3');
    // And it keeps chaining where it stopped.
    await commitBlock(ledger, [tx({ z: '4' }).envelope]);
    expect(await verifyBlockChain(await allBlocks(ledger))).toEqual({ ok: true, height: 4 });
    await ledger.close();
    expect((await dumpDerived(dir)).state.length).toBe(before.state.length + 1); // z
  });

  it('rebuilds deleted or lagging state, history and tx index from the blocks, identically', async () => {
    const dir = path.join(m.dir, 'ledger-rebuild');
    let ledger = await openTestLedger(m, dir);
    const dup = tx({ d: 'first' });
    await commitBlock(ledger, [tx({ a: '1', b: '2' }).envelope, dup.envelope]);
    await commitBlock(ledger, [tx({ a: null, c: '3' }).envelope, dup.envelope]);
    const bad = buildEndorsedTx({ channelId: CHANNEL, chaincodeName: CHAINCODE, creator: org(m, 'GovMSP').client, endorsers: [org(m, 'GovMSP').peer], rwset: writesOf({ never: 'x' }) });
    await commitBlock(ledger, [bad.envelope, tx({ b: 'two' }).envelope]);
    await ledger.close();
    const before = await dumpDerived(dir);
    expect(before.state.length).toBeGreaterThan(3);

    // Someone deletes the whole state sublevel.
    await withRawDb(dir, async (db) => {
      await db.sublevel('state').clear();
    });
    expect((await dumpDerived(dir)).state).toEqual([]);
    ledger = await openTestLedger(m, dir);
    await ledger.close();
    expect(await dumpDerived(dir)).toEqual(before);

    // History and tx index deleted, state savepoint set back to block 1 (behind).
    await withRawDb(dir, async (db) => {
      await db.sublevel('history').clear();
      await db.sublevel('txindex').clear();
      await db.sublevel<string, Buffer>('state', { keyEncoding: 'utf8', valueEncoding: 'buffer' }).put('\u0000savepoint', Buffer.from([0, 0, 0, 1]));
    });
    ledger = await openTestLedger(m, dir);
    expect(await ledger.state.get(CHAINCODE, 'never')).toBeUndefined();
    expect((await ledger.getTxStatus(dup.txId))?.blockNumber).toBe(1);
    expect((await ledger.getTxStatus(bad.txId))?.code).toBe(Code.ENDORSEMENT_POLICY_FAILURE);
    await ledger.close();
    expect(await dumpDerived(dir)).toEqual(before);
  });

  it('refuses to open when derived data is ahead of the stored blocks', async () => {
    const dir = path.join(m.dir, 'ledger-blocks');
    const ledger = await openTestLedger(m, dir);
    await commitBlock(ledger, [tx({ q: '1' }).envelope]);
    await ledger.close();
    await withRawDb(dir, async (db) => {
      await db.sublevel<Buffer, Buffer>('blocks', { keyEncoding: 'buffer', valueEncoding: 'buffer' }).del(blockKey(1));
    });
    await expect(openTestLedger(m, dir)).rejects.toMatchObject({ code: 'LEDGER_CORRUPT' });
  });
});
