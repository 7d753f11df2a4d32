/**
 * Block hashes exactly as Fabric's `protoutil` computes them, from @credex/core (one piece of
 * code for node-sim, the gateways and the CLI), and the chain check over `common.Block` bytes.
 */
import { common } from '@hyperledger/fabric-protos';
import { verifyHeaderChain, type DecodedBlock } from '@credex/core';

export { blockHeaderBytes, blockHeaderHash, blockDataHash } from '@credex/core';
export type { BlockHeaderFields } from '@credex/core';

/** The result of {@link verifyBlockChain}: the height reached, or the first bad block. */
export type ChainVerification = { ok: true; height: number } | { ok: false; blockNumber: number; reason: string };

function parseBlock(bytes: Uint8Array): DecodedBlock | string {
  let block: common.Block;
  try {
    block = common.Block.deserializeBinary(bytes);
  } catch (e) {
    return `not a common.Block: ${e instanceof Error ? e.message : String(e)}`;
  }
  const header = block.getHeader();
  if (header === undefined) return 'block has no header';
  return {
    header: { number: header.getNumber(), previousHash: header.getPreviousHash_asU8(), dataHash: header.getDataHash_asU8() },
    data: block.getData()?.getDataList_asU8() ?? [],
  };
}

/**
 * Walks a chain of `common.Block` bytes in order and checks, like a peer joining a channel:
 * consecutive numbers from `opts.firstNumber` (default 0, the genesis block), each block's data
 * hash against its data, and each previous hash against the header hash of the block before.
 * Block metadata is not covered by the hash chain (as in Fabric) and is not checked.
 *
 * @returns the height (last number + 1), or the first bad block and why
 */
export async function verifyBlockChain(
  blocks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { firstNumber?: number } = {},
): Promise<ChainVerification> {
  const result = await verifyHeaderChain(blocks, parseBlock, opts);
  return result.ok ? { ok: true, height: result.height } : result;
}
