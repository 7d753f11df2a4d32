/**
 * The ledger check: every block's data hash matches its data, and every block's previous-hash
 * is the hash of the block before it, from genesis to the current height — computed as
 * Fabric's protoutil does (SHA-256 of the ASN.1 DER header `SEQUENCE{number, previousHash,
 * dataHash}`, data hash = SHA-256 of the concatenated envelopes).
 */
import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';

/** The outcome of a block hash chain check. */
export type ChainCheck =
  | { ok: true; height: number; currentBlockHash: string }
  | { ok: false; height: number; blockNumber: number; reason: string };

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function derTlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

function derUnsignedInteger(n: bigint): Buffer {
  let hex = n.toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  let body = Buffer.from(hex, 'hex');
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return derTlv(0x02, body);
}

/** SHA-256 of a block header's ASN.1 DER encoding: Fabric's block hash. */
export function blockHeaderHash(h: { number: bigint; previousHash: Uint8Array; dataHash: Uint8Array }): Buffer {
  const der = derTlv(0x30, Buffer.concat([derUnsignedInteger(h.number), derTlv(0x04, Buffer.from(h.previousHash)), derTlv(0x04, Buffer.from(h.dataHash))]));
  return createHash('sha256').update(der).digest();
}

/** SHA-256 over a block's envelopes, concatenated. */
export function blockDataHash(data: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const d of data) hash.update(d);
  return hash.digest();
}

/** The validation code of each transaction of a block (its TRANSACTIONS_FILTER metadata; 0 = VALID). */
export function transactionCodes(blockBytes: Uint8Array): number[] {
  const metadata = common.Block.deserializeBinary(blockBytes).getMetadata()?.getMetadataList_asU8() ?? [];
  return [...(metadata[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])];
}

/**
 * Checks the hash chain of blocks `0 … height-1` as returned by `getBlock`.
 *
 * @param getBlock - common.Block bytes of block n
 */
export async function verifyBlockChain(height: number, getBlock: (n: number) => Promise<Uint8Array>): Promise<ChainCheck> {
  let previous: Buffer | undefined;
  for (let n = 0; n < height; n++) {
    let block: common.Block;
    try {
      block = common.Block.deserializeBinary(await getBlock(n));
    } catch (e) {
      return { ok: false, height, blockNumber: n, reason: `block ${n} cannot be read: ${(e as Error).message}` };
    }
    const header = block.getHeader();
    if (header === undefined) return { ok: false, height, blockNumber: n, reason: `block ${n} has no header` };
    if (header.getNumber() !== n) return { ok: false, height, blockNumber: n, reason: `block ${n} says it is number ${header.getNumber()}` };
    const dataHash = blockDataHash(block.getData()?.getDataList_asU8() ?? []);
    if (!dataHash.equals(Buffer.from(header.getDataHash_asU8()))) {
      return { ok: false, height, blockNumber: n, reason: `block ${n}: data hash does not match its data` };
    }
    if (previous !== undefined && !previous.equals(Buffer.from(header.getPreviousHash_asU8()))) {
      return { ok: false, height, blockNumber: n, reason: `block ${n}: previous hash is not the hash of block ${n - 1}` };
    }
    previous = blockHeaderHash({ number: BigInt(n), previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() });
  }
  return { ok: true, height, currentBlockHash: previous?.toString('hex') ?? '' };
}
