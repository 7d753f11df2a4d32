import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, verifyBlockChain } from '../src/blocks';
import { buildChain, flipByte, hashedPrefixLength } from './fixtures/chain';

const PREV = new Uint8Array(32).fill(0x11);
const DATA = new Uint8Array(32).fill(0x22);

// Fabric's BlockHeaderBytes is Go's asn1.Marshal of struct { Number *big.Int; PreviousHash, DataHash []byte }:
//   30 <len>                       SEQUENCE
//     02 <n> <number>              INTEGER, minimal big-endian two's complement (0x00 prefix if the top bit is set)
//     04 20 <32 bytes>             OCTET STRING PreviousHash
//     04 20 <32 bytes>             OCTET STRING DataHash
function expectedHeader(integerContent: number[], prev = PREV, data = DATA): number[] {
  const body = [
    0x02, integerContent.length, ...integerContent,
    0x04, prev.length, ...prev,
    0x04, data.length, ...data,
  ];
  return [0x30, body.length, ...body];
}

describe('blockHeaderBytes (known answers)', () => {
  const vectors: [bigint | number, number[]][] = [
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x00, 0x80]],
    [255, [0x00, 0xff]],
    [256, [0x01, 0x00]],
    [2n ** 40n, [0x01, 0x00, 0x00, 0x00, 0x00, 0x00]],
    [2n ** 64n - 1n, [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ];
  for (const [number, integerContent] of vectors) {
    it(`encodes block number ${number}`, () => {
      const bytes = blockHeaderBytes({ number, previousHash: PREV, dataHash: DATA });
      expect([...bytes]).toEqual(expectedHeader(integerContent));
    });
  }

  it('encodes number 1 as 30 47 02 01 01 04 20 … 04 20 …', () => {
    const bytes = blockHeaderBytes({ number: 1n, previousHash: PREV, dataHash: DATA });
    expect(Buffer.from(bytes).toString('hex')).toBe(`3047020101` + `0420${'11'.repeat(32)}` + `0420${'22'.repeat(32)}`);
  });

  it('encodes an empty previous hash (the genesis block) as an empty OCTET STRING', () => {
    const bytes = blockHeaderBytes({ number: 0, previousHash: new Uint8Array(0), dataHash: DATA });
    expect(Buffer.from(bytes).toString('hex')).toBe(`3027020100` + `0400` + `0420${'22'.repeat(32)}`);
  });

  it('uses DER long-form lengths for long fields', () => {
    const prev = new Uint8Array(200).fill(0x33);
    const bytes = blockHeaderBytes({ number: 2, previousHash: prev, dataHash: DATA });
    // body = 3 (INTEGER) + 3 + 200 (OCTET STRING, length 81 c8) + 34 = 240 → 30 81 f0
    expect(Buffer.from(bytes.subarray(0, 9)).toString('hex')).toBe('3081f0' + '020102' + '0481c8');
    expect(bytes.length).toBe(243);
  });

  it('hashes the header bytes with SHA-256', () => {
    const h = { number: 7n, previousHash: PREV, dataHash: DATA };
    const expected = createHash('sha256').update(blockHeaderBytes(h)).digest();
    expect(Buffer.from(blockHeaderHash(h))).toEqual(expected);
  });

  it('rejects numbers outside uint64', () => {
    expect(() => blockHeaderBytes({ number: -1, previousHash: PREV, dataHash: DATA })).toThrow(RangeError);
    expect(() => blockHeaderBytes({ number: 2n ** 64n, previousHash: PREV, dataHash: DATA })).toThrow(RangeError);
  });
});

describe('blockDataHash', () => {
  it('is SHA-256 over the concatenated entries (Fabric 2.x), so entry boundaries do not matter', () => {
    const a = Uint8Array.of(1, 2, 3);
    const b = Uint8Array.of(4, 5);
    const expected = createHash('sha256').update(Uint8Array.of(1, 2, 3, 4, 5)).digest();
    expect(Buffer.from(blockDataHash([a, b]))).toEqual(expected);
    expect(Buffer.from(blockDataHash([Uint8Array.of(1), Uint8Array.of(2, 3, 4, 5)]))).toEqual(expected);
  });

  it('of no entries is SHA-256 of the empty string', () => {
    expect(Buffer.from(blockDataHash([])).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('verifyBlockChain', () => {
  it('passes a chain built with the protos, from an iterable and an async iterable', async () => {
    const chain = buildChain(5);
    expect(await verifyBlockChain(chain)).toEqual({ ok: true, height: 5 });
    async function* stream(): AsyncIterable<Uint8Array> {
      for (const b of chain) {
        await Promise.resolve();
        yield b;
      }
    }
    expect(await verifyBlockChain(stream())).toEqual({ ok: true, height: 5 });
    expect(await verifyBlockChain([])).toEqual({ ok: true, height: 0 });
    expect(await verifyBlockChain(chain.slice(2), { firstNumber: 2 })).toEqual({ ok: true, height: 5 });
  });

  it('fails at block k when any byte of its header or data changes', async () => {
    const chain = buildChain(4);
    for (let k = 0; k < chain.length; k++) {
      const original = chain[k]!;
      const covered = hashedPrefixLength(original);
      for (let i = 0; i < covered; i++) {
        const tampered = flipByte(original, i);
        const result = await verifyBlockChain(chain.map((b, j) => (j === k ? tampered : b)));
        expect(result.ok, `block ${k}, byte ${i}`).toBe(false);
        if (!result.ok) expect(result.blockNumber, `block ${k}, byte ${i}: ${result.reason}`).toBe(k);
      }
    }
  });

  it('names the cause of the failure', async () => {
    const chain = buildChain(3);
    const block = common.Block.deserializeBinary(chain[1]!);
    block.getHeader()!.setPreviousHash(new Uint8Array(32));
    const result = await verifyBlockChain([chain[0]!, block.serializeBinary(), chain[2]!]);
    expect(result).toMatchObject({ ok: false, blockNumber: 1 });
    if (!result.ok) expect(result.reason).toMatch(/previous hash .* is not the header hash of block 0/);

    const wrongData = common.Block.deserializeBinary(chain[2]!);
    wrongData.getData()!.addData(Uint8Array.of(1));
    const r2 = await verifyBlockChain([chain[0]!, chain[1]!, wrongData.serializeBinary()]);
    expect(r2).toMatchObject({ ok: false, blockNumber: 2 });
    if (!r2.ok) expect(r2.reason).toMatch(/data hash .* does not match the data/);
  });

  it('fails where a block is missing, repeated or not a block', async () => {
    const chain = buildChain(4);
    expect(await verifyBlockChain([chain[0]!, chain[1]!, chain[3]!])).toMatchObject({ ok: false, blockNumber: 2 });
    expect(await verifyBlockChain([chain[0]!, chain[1]!, chain[1]!])).toMatchObject({ ok: false, blockNumber: 2 });
    expect(await verifyBlockChain(chain.slice(1))).toMatchObject({ ok: false, blockNumber: 0 });
    expect(await verifyBlockChain([chain[0]!, Uint8Array.of(0xff, 0xff)])).toMatchObject({ ok: false, blockNumber: 1 });
  });

  it('does not cover block metadata, as in Fabric (signatures and filters live there)', async () => {
    const chain = buildChain(2);
    const block = common.Block.deserializeBinary(chain[1]!);
    block.getMetadata()!.setMetadataList([Uint8Array.of(7), new Uint8Array(0), new Uint8Array(0), Uint8Array.of(0), new Uint8Array(0)]);
    expect(await verifyBlockChain([chain[0]!, block.serializeBinary()])).toEqual({ ok: true, height: 2 });
  });
});
