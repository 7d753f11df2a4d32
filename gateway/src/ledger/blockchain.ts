/**
 * The ledger check: every block's data hash matches its data, and every block's previous-hash
 * is the hash of the block before it, from genesis to the current height — with @credex/core's
 * Fabric block hashing (the same code node-sim and the CLI use), over blocks decoded with the
 * fabric-protos the gateway's Fabric client uses.
 */
import { verifyHeaderChain, type DecodedBlock } from '@credex/core';
import { common } from '@hyperledger/fabric-protos';

export { blockHeaderHash, blockDataHash } from '@credex/core';

/** The outcome of a block hash chain check. */
export type ChainCheck =
  | { ok: true; height: number; currentBlockHash: string }
  | { ok: false; height: number; blockNumber: number; reason: string };

/** The validation code of each transaction of a block (its TRANSACTIONS_FILTER metadata; 0 = VALID). */
export function transactionCodes(blockBytes: Uint8Array): number[] {
  const metadata = common.Block.deserializeBinary(blockBytes).getMetadata()?.getMetadataList_asU8() ?? [];
  return [...(metadata[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? [])];
}

function decodeBlock(bytes: Uint8Array): DecodedBlock | string {
  let block: common.Block;
  try {
    block = common.Block.deserializeBinary(bytes);
  } catch (e) {
    return `cannot be read: ${(e as Error).message}`;
  }
  const header = block.getHeader();
  if (header === undefined) return 'has no header';
  return {
    header: { number: header.getNumber(), previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() },
    data: block.getData()?.getDataList_asU8() ?? [],
  };
}

async function* blocksUpTo(height: number, getBlock: (n: number) => Promise<Uint8Array>): AsyncGenerator<Uint8Array> {
  for (let n = 0; n < height; n++) yield await getBlock(n);
}

/**
 * Checks the hash chain of blocks `0 … height-1` as returned by `getBlock`.
 *
 * @param getBlock - common.Block bytes of block n
 */
export async function verifyBlockChain(height: number, getBlock: (n: number) => Promise<Uint8Array>): Promise<ChainCheck> {
  const result = await verifyHeaderChain(blocksUpTo(height, getBlock), decodeBlock);
  if (!result.ok) return { ok: false, height, blockNumber: result.blockNumber, reason: `block ${result.blockNumber}: ${result.reason}` };
  return { ok: true, height, currentBlockHash: result.lastHeaderHash === undefined ? '' : Buffer.from(result.lastHeaderHash).toString('hex') };
}

/** A ledger check as an auditor reads it: the chain check and the peer's own current block hash. */
export type LedgerCheck = ChainCheck & { peerCurrentBlockHash: string };

/**
 * The auditor's ledger check through a peer: its height and current block hash (qscc
 * GetChainInfo), the hash chain of every block up to that height, and that the peer's current
 * block hash is the hash of its last block.
 *
 * @param onBlock - called before block n is read (progress)
 */
export async function checkLedger(
  ledger: { chainInfo(): Promise<{ height: number; currentBlockHash: string }>; block(n: number): Promise<Uint8Array> },
  onBlock?: (n: number, height: number) => void,
): Promise<LedgerCheck> {
  const info = await ledger.chainInfo();
  const check = await verifyBlockChain(info.height, (n) => {
    onBlock?.(n, info.height);
    return ledger.block(n);
  });
  if (check.ok && check.currentBlockHash !== info.currentBlockHash) {
    return { ok: false, height: info.height, blockNumber: info.height - 1, reason: 'the peer\'s current block hash is not the hash of its last block', peerCurrentBlockHash: info.currentBlockHash };
  }
  return { ...check, peerCurrentBlockHash: info.currentBlockHash };
}
