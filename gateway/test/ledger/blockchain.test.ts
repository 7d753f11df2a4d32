import { describe, expect, it } from 'vitest';
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash, checkLedger, verifyBlockChain } from '../../src/ledger/blockchain';

function chain(n: number): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let previous: Uint8Array = new Uint8Array();
  for (let i = 0; i < n; i++) {
    const data = [new TextEncoder().encode(`envelope ${i}a`), new TextEncoder().encode(`envelope ${i}b`)];
    const header = new common.BlockHeader();
    header.setNumber(i);
    header.setPreviousHash(previous);
    header.setDataHash(blockDataHash(data));
    const blockData = new common.BlockData();
    blockData.setDataList(data);
    const block = new common.Block();
    block.setHeader(header);
    block.setData(blockData);
    blocks.push(block.serializeBinary());
    previous = blockHeaderHash({ number: BigInt(i), previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() });
  }
  return blocks;
}

const get = (blocks: Uint8Array[]) => (n: number): Promise<Uint8Array> => Promise.resolve(blocks[n]!);

describe('verifyBlockChain', () => {
  it('accepts an intact chain and reports the last block\'s hash', async () => {
    const blocks = chain(300);
    const check = await verifyBlockChain(blocks.length, get(blocks));
    expect(check).toMatchObject({ ok: true, height: 300 });
    const last = common.Block.deserializeBinary(blocks[299]!).getHeader()!;
    expect(check.ok && check.currentBlockHash).toBe(Buffer.from(blockHeaderHash({ number: 299n, previousHash: last.getPreviousHash_asU8(), dataHash: last.getDataHash_asU8() })).toString('hex'));
  });

  it('encodes header numbers as DER INTEGERs (a high bit gets a leading zero byte)', () => {
    const a = blockHeaderHash({ number: 127n, previousHash: new Uint8Array(32), dataHash: new Uint8Array(32) });
    const b = blockHeaderHash({ number: 128n, previousHash: new Uint8Array(32), dataHash: new Uint8Array(32) });
    expect(Buffer.from(a).equals(b)).toBe(false);
  });

  it('finds a changed envelope', async () => {
    const blocks = chain(4);
    const block = common.Block.deserializeBinary(blocks[2]!);
    const data = block.getData()!.getDataList_asU8();
    data[0]![0]! ^= 1;
    block.getData()!.setDataList(data);
    blocks[2] = block.serializeBinary();
    expect(await verifyBlockChain(4, get(blocks))).toMatchObject({ ok: false, blockNumber: 2, reason: expect.stringContaining('data hash') as string });
  });

  it('finds a rewritten block whose own hashes are consistent but whose successor disagrees', async () => {
    const blocks = chain(4);
    const block = common.Block.deserializeBinary(blocks[1]!);
    const data = [new TextEncoder().encode('forged')];
    block.getData()!.setDataList(data);
    block.getHeader()!.setDataHash(blockDataHash(data));
    blocks[1] = block.serializeBinary();
    expect(await verifyBlockChain(4, get(blocks))).toMatchObject({ ok: false, blockNumber: 2, reason: expect.stringContaining('previous hash') as string });
  });
});

describe('checkLedger', () => {
  const peer = (blocks: Uint8Array[], currentBlockHash: string) => ({
    chainInfo: () => Promise.resolve({ height: blocks.length, currentBlockHash }),
    block: get(blocks),
  });

  it('checks every block up to the peer\'s height, reporting progress, and agrees with the peer\'s current hash', async () => {
    const blocks = chain(12);
    const expected = await verifyBlockChain(blocks.length, get(blocks));
    const hash = expected.ok ? expected.currentBlockHash : '';
    const seen: number[] = [];
    const check = await checkLedger(peer(blocks, hash), (n, height) => {
      expect(height).toBe(12);
      seen.push(n);
    });
    expect(check).toEqual({ ok: true, height: 12, currentBlockHash: hash, peerCurrentBlockHash: hash });
    expect(seen).toEqual([...Array(12).keys()]);
  });

  it('fails when the peer\'s current block hash is not the hash of its last block, and when the chain breaks', async () => {
    const blocks = chain(5);
    expect(await checkLedger(peer(blocks, 'ab'.repeat(32)))).toMatchObject({ ok: false, blockNumber: 4, peerCurrentBlockHash: 'ab'.repeat(32), reason: expect.stringContaining('current block hash') as string });
    const broken = [...blocks];
    broken[2] = blocks[3]!;
    expect(await checkLedger(peer(broken, ''))).toMatchObject({ ok: false, blockNumber: 2 });
  });
});
