import { describe, expect, it } from 'vitest';
import { blockDataHash, blockHeaderBytes, blockHeaderHash, verifyHeaderChain, type DecodedBlock } from '../src/fabric-block';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A chain of decoded blocks, linked as Fabric links them. */
function chain(n: number): DecodedBlock[] {
  const blocks: DecodedBlock[] = [];
  let previousHash: Uint8Array = new Uint8Array();
  for (let i = 0; i < n; i++) {
    const data = [enc(`tx ${i}`), enc(`tx ${i}'`)];
    const header = { number: i, previousHash, dataHash: blockDataHash(data) };
    blocks.push({ header, data });
    previousHash = blockHeaderHash(header);
  }
  return blocks;
}

describe('Fabric block hashing', () => {
  it('encodes the header as DER SEQUENCE { INTEGER, OCTET STRING, OCTET STRING }', () => {
    const der = blockHeaderBytes({ number: 128, previousHash: Uint8Array.of(1), dataHash: Uint8Array.of(2, 3) });
    // 30 len | 02 02 00 80 (128 needs a leading zero) | 04 01 01 | 04 02 02 03
    expect(Buffer.from(der).toString('hex')).toBe('300b' + '02020080' + '040101' + '04020203');
  });

  it('hashes the data entries as one concatenation', () => {
    expect(Buffer.from(blockDataHash([enc('ab'), enc('c')])).equals(Buffer.from(blockDataHash([enc('abc')])))).toBe(true);
  });
});

describe('verifyHeaderChain', () => {
  it('accepts an intact chain and returns the last header hash', async () => {
    const blocks = chain(5);
    const result = await verifyHeaderChain(blocks, (b) => b);
    expect(result).toMatchObject({ ok: true, height: 5 });
    expect(result.ok && Buffer.from(result.lastHeaderHash!).equals(blockHeaderHash(blocks[4]!.header))).toBe(true);
  });

  it('names the first block whose data, link or number is wrong', async () => {
    const tampered = chain(4);
    tampered[2] = { ...tampered[2]!, data: [enc('forged')] };
    expect(await verifyHeaderChain(tampered, (b) => b)).toMatchObject({ ok: false, blockNumber: 2, reason: expect.stringContaining('data hash') as string });

    const relinked = chain(4);
    const forgedData = [enc('forged')];
    relinked[1] = { header: { ...relinked[1]!.header, dataHash: blockDataHash(forgedData) }, data: forgedData };
    expect(await verifyHeaderChain(relinked, (b) => b)).toMatchObject({ ok: false, blockNumber: 2, reason: expect.stringContaining('previous hash') as string });

    const skipped = chain(4);
    skipped.splice(1, 1);
    expect(await verifyHeaderChain(skipped, (b) => b)).toMatchObject({ ok: false, blockNumber: 1 });
  });

  it('reports a block its decoder cannot read', async () => {
    const result = await verifyHeaderChain(['ok', 'bad'], (s) => (s === 'ok' ? chain(1)[0]! : 'not a block'));
    expect(result).toEqual({ ok: false, blockNumber: 1, reason: 'not a block' });
  });
});
